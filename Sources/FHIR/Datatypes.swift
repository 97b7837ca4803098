import Foundation

/// FHIR `Coding`.
public struct Coding: Hashable, Sendable, Codable {
    public var system: String?
    public var version: String?
    public var code: String?
    public var display: String?

    public init(system: String? = nil, code: String? = nil, display: String? = nil, version: String? = nil) {
        self.system = system
        self.code = code
        self.display = display
        self.version = version
    }
}

/// FHIR `CodeableConcept`.
public struct CodeableConcept: Hashable, Sendable, Codable {
    public var extension_: [Extension]?
    public var coding: [Coding]?
    public var text: String?

    public init(coding: [Coding]? = nil, text: String? = nil, extensions: [Extension]? = nil) {
        self.coding = coding
        self.text = text
        self.extension_ = extensions
    }

    /// Whether one of the codings has `code` (and `system`, when given).
    public func hasCoding(system: String? = nil, code: String) -> Bool {
        coding?.contains { $0.code == code && (system == nil || $0.system == system) } ?? false
    }

    enum CodingKeys: String, CodingKey {
        case extension_ = "extension", coding, text
    }
}

/// FHIR `Identifier`.
public struct Identifier: Hashable, Sendable, Codable {
    public var use: String?
    public var type: CodeableConcept?
    public var system: String?
    public var value: String?

    public init(system: String? = nil, value: String? = nil, type: CodeableConcept? = nil, use: String? = nil) {
        self.system = system
        self.value = value
        self.type = type
        self.use = use
    }

    /// An identifier typed with a single coding (`system#code`).
    public init(system: String, value: String, typeSystem: String, typeCode: String) {
        self.init(system: system, value: value, type: CodeableConcept(coding: [Coding(system: typeSystem, code: typeCode)]))
    }

    /// Whether the identifier type carries `code` (any code system).
    public func isTyped(_ code: String) -> Bool { type?.coding?.contains { $0.code == code } ?? false }

    /// `system|value` when both are present.
    public var token: String? {
        guard let value else { return nil }
        return (system ?? "") + "|" + value
    }
}

/// FHIR `Reference`: literal (`Type/id`, absolute URL, contained `#id`) or logical (identifier only).
public struct Reference: Hashable, Sendable, Codable {
    public var reference: String?
    public var type: String?
    public var identifier: Identifier?
    public var display: String?

    public init(reference: String? = nil, type: String? = nil, identifier: Identifier? = nil, display: String? = nil) {
        self.reference = reference
        self.type = type
        self.identifier = identifier
        self.display = display
    }

    /// A relative literal reference `Type/id`.
    public static func to(_ type: String, _ id: String) -> Reference { Reference(reference: type + "/" + id) }

    /// A reference to a contained resource `#id`.
    public static func contained(_ id: String) -> Reference { Reference(reference: "#" + id) }
}

/// FHIR `HumanName`.
public struct HumanName: Hashable, Sendable, Codable {
    public var use: String?
    public var text: String?
    public var family: String?
    public var given: [String]?
    public var prefix: [String]?
    public var suffix: [String]?

    public init(family: String? = nil, given: [String]? = nil, use: String? = nil, text: String? = nil,
                prefix: [String]? = nil, suffix: [String]? = nil) {
        self.family = family
        self.given = given
        self.use = use
        self.text = text
        self.prefix = prefix
        self.suffix = suffix
    }
}

/// FHIR `ContactPoint`.
public struct ContactPoint: Hashable, Sendable, Codable {
    public var system: String?
    public var value: String?
    public var use: String?
    public var rank: Int?

    public init(system: String? = nil, value: String? = nil, use: String? = nil, rank: Int? = nil) {
        self.system = system
        self.value = value
        self.use = use
        self.rank = rank
    }
}

/// FHIR `Address`.
public struct Address: Hashable, Sendable, Codable {
    public var use: String?
    public var type: String?
    public var text: String?
    public var line: [String]?
    public var city: String?
    public var district: String?
    public var state: String?
    public var postalCode: String?
    public var country: String?

    public init(line: [String]? = nil, city: String? = nil, postalCode: String? = nil, country: String? = nil,
                use: String? = nil, type: String? = nil, text: String? = nil, district: String? = nil, state: String? = nil) {
        self.line = line
        self.city = city
        self.postalCode = postalCode
        self.country = country
        self.use = use
        self.type = type
        self.text = text
        self.district = district
        self.state = state
    }
}

/// FHIR `Period`.
public struct Period: Hashable, Sendable, Codable {
    public var start: FHIRInstant?
    public var end: FHIRInstant?

    public init(start: FHIRInstant? = nil, end: FHIRInstant? = nil) {
        self.start = start
        self.end = end
    }
}

/// FHIR `Meta` (profile, security labels, source).
public struct Meta: Hashable, Sendable, Codable {
    public var versionId: String?
    public var lastUpdated: FHIRInstant?
    public var source: String?
    public var profile: [String]?
    public var security: [Coding]?
    public var tag: [Coding]?

    public init(profile: [String]? = nil, security: [Coding]? = nil, source: String? = nil, tag: [Coding]? = nil,
                versionId: String? = nil, lastUpdated: FHIRInstant? = nil) {
        self.profile = profile
        self.security = security
        self.source = source
        self.tag = tag
        self.versionId = versionId
        self.lastUpdated = lastUpdated
    }
}
