import Foundation

/// Encodes a searchset Bundle from resources, for the platform's and the sandbox editors' FHIR endpoints.
///
/// Every entry gets `fullUrl` (`base/Type/id`) and `search.mode`; the bundle gets `total` (match count unless
/// overridden) and a `self` link. ``encoded()`` refuses output that would carry empty elements.
public struct SearchsetBuilder: Sendable {
    /// `search.mode`.
    public enum Mode: String, Sendable { case match, include, outcome }

    private let baseURL: String
    private let selfLink: String
    private var entries: [BundleEntry] = []
    /// Overrides `total` (e.g. SOS counts Slots although Schedules are the matches, digest §8.6).
    public var totalOverride: Int?

    /// `baseURL` is the server's FHIR base; `selfLink` the request URL as received.
    public init(baseURL: String, selfLink: String) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.selfLink = selfLink
    }

    /// Adds a resource (it must have an id).
    public mutating func add(_ resource: Resource, mode: Mode = .match) {
        let fullUrl = resource.id.map { baseURL + "/" + resource.resourceType + "/" + $0 } ?? "urn:uuid:" + UUID().uuidString.lowercased()
        entries.append(BundleEntry(fullUrl: fullUrl, resource: resource, search: .init(mode: mode.rawValue)))
    }

    /// The Bundle.
    public func build() -> FHIRBundle {
        var bundle = FHIRBundle(type: "searchset")
        bundle.total = totalOverride ?? entries.filter { $0.search?.mode == Mode.match.rawValue }.count
        bundle.link = [FHIRBundle.Link(relation: "self", url: selfLink)]
        bundle.entry = entries.isEmpty ? nil : entries
        return bundle
    }

    /// The encoded Bundle; throws when some resource carries an empty string, array or object.
    public func encoded(pretty: Bool = false) throws -> Data {
        let data = try FHIRJSON.encode(build(), pretty: pretty)
        if let path = try Self.firstEmptyElement(in: data) { throw SearchsetBuilderError.emptyElement(path: path) }
        return data
    }

    /// Path of the first empty element (`""`, `[]`, `{}`) of a JSON document, or nil.
    public static func firstEmptyElement(in data: Data) throws -> String? {
        let value: JSONValue = try data.withUnsafeBytes { buffer in
            var reader = JSONReader(buffer)
            return try reader.readJSONValue()
        }
        return firstEmpty(value, path: "")
    }

    private static func firstEmpty(_ value: JSONValue, path: String) -> String? {
        switch value {
        case .string(let s): return s.isEmpty ? path : nil
        case .array(let values):
            if values.isEmpty { return path }
            for (i, v) in values.enumerated() { if let p = firstEmpty(v, path: "\(path)[\(i)]") { return p } }
        case .object(let members):
            if members.isEmpty { return path }
            for (k, v) in members.sorted(by: { $0.key < $1.key }) {
                if let p = firstEmpty(v, path: path.isEmpty ? k : path + "." + k) { return p }
            }
        case .null: return path
        case .bool, .number: return nil
        }
        return nil
    }
}

/// Why a searchset could not be encoded.
public enum SearchsetBuilderError: Error, Hashable, Sendable {
    /// A resource would be sent with an empty element at `path` (forbidden by the IG FAQ).
    case emptyElement(path: String)
}
