import Foundation

/// FHIR `Extension` with the `value[x]` choice types SAS meets; other value types are kept as raw JSON.
public struct Extension: Hashable, Sendable, Codable {
    /// The extension URL.
    public var url: String
    /// `value[x]`.
    public var value: ExtensionValue?
    /// Nested extensions (complex extensions).
    public var extension_: [Extension]?

    public init(url: String, value: ExtensionValue? = nil, extensions: [Extension]? = nil) {
        self.url = url
        self.value = value
        self.extension_ = extensions
    }

    /// The `valueReference`, if that is the value type.
    public var valueReference: Reference? {
        if case .reference(let r)? = value { return r }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case url, extension_ = "extension"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        extension_ = try c.decodeIfPresent([Extension].self, forKey: .extension_)
        let raw = try decoder.container(keyedBy: AnyKey.self)
        value = nil
        for key in raw.allKeys where key.stringValue.hasPrefix("value") {
            value = try ExtensionValue.decode(key.stringValue, from: raw, key: key)
            break
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(url, forKey: .url)
        try c.encodeIfPresent(extension_, forKey: .extension_)
        if let value {
            var raw = encoder.container(keyedBy: AnyKey.self)
            try value.encode(into: &raw)
        }
    }
}

/// The `value[x]` of an extension.
public enum ExtensionValue: Hashable, Sendable {
    case reference(Reference)
    case codeableConcept(CodeableConcept)
    case coding(Coding)
    case identifier(Identifier)
    case string(String)
    case code(String)
    case uri(String)
    case boolean(Bool)
    case integer(Int)
    case dateTime(FHIRInstant)
    case period(Period)
    /// Any other value type, kept verbatim: (`valueXxx` element name, JSON).
    case other(name: String, json: JSONValue)

    /// The JSON element name (`valueReference`, …).
    public var elementName: String {
        switch self {
        case .reference: return "valueReference"
        case .codeableConcept: return "valueCodeableConcept"
        case .coding: return "valueCoding"
        case .identifier: return "valueIdentifier"
        case .string: return "valueString"
        case .code: return "valueCode"
        case .uri: return "valueUri"
        case .boolean: return "valueBoolean"
        case .integer: return "valueInteger"
        case .dateTime: return "valueDateTime"
        case .period: return "valuePeriod"
        case .other(let name, _): return name
        }
    }

    static func decode(_ name: String, from c: KeyedDecodingContainer<AnyKey>, key: AnyKey) throws -> ExtensionValue {
        switch name {
        case "valueReference": return .reference(try c.decode(Reference.self, forKey: key))
        case "valueCodeableConcept": return .codeableConcept(try c.decode(CodeableConcept.self, forKey: key))
        case "valueCoding": return .coding(try c.decode(Coding.self, forKey: key))
        case "valueIdentifier": return .identifier(try c.decode(Identifier.self, forKey: key))
        case "valueString": return .string(try c.decode(String.self, forKey: key))
        case "valueCode": return .code(try c.decode(String.self, forKey: key))
        case "valueUri", "valueUrl", "valueCanonical": return .uri(try c.decode(String.self, forKey: key))
        case "valueBoolean": return .boolean(try c.decode(Bool.self, forKey: key))
        case "valueInteger": return .integer(try c.decode(Int.self, forKey: key))
        case "valueDateTime", "valueInstant", "valueDate": return .dateTime(try c.decode(FHIRInstant.self, forKey: key))
        case "valuePeriod": return .period(try c.decode(Period.self, forKey: key))
        default: return .other(name: name, json: try c.decode(JSONValue.self, forKey: key))
        }
    }

    func encode(into c: inout KeyedEncodingContainer<AnyKey>) throws {
        let key = AnyKey(elementName)
        switch self {
        case .reference(let v): try c.encode(v, forKey: key)
        case .codeableConcept(let v): try c.encode(v, forKey: key)
        case .coding(let v): try c.encode(v, forKey: key)
        case .identifier(let v): try c.encode(v, forKey: key)
        case .string(let v), .code(let v), .uri(let v): try c.encode(v, forKey: key)
        case .boolean(let v): try c.encode(v, forKey: key)
        case .integer(let v): try c.encode(v, forKey: key)
        case .dateTime(let v): try c.encode(v, forKey: key)
        case .period(let v): try c.encode(v, forKey: key)
        case .other(_, let json): try c.encode(json, forKey: key)
        }
    }
}
