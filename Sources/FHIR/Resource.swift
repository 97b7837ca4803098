import Foundation

/// Any resource SAS meets, dispatched on `resourceType`; unknown types are preserved verbatim, never fatal.
public indirect enum Resource: Hashable, Sendable, Codable {
    case slot(Slot)
    case schedule(Schedule)
    case practitioner(Practitioner)
    case practitionerRole(PractitionerRole)
    case location(Location)
    case healthcareService(HealthcareService)
    case organization(Organization)
    case appointment(Appointment)
    case operationOutcome(OperationOutcome)
    /// A resource type this module does not model, kept as raw JSON.
    case unknown(type: String, json: JSONValue)

    /// The `resourceType`.
    public var resourceType: String {
        switch self {
        case .slot: return "Slot"
        case .schedule: return "Schedule"
        case .practitioner: return "Practitioner"
        case .practitionerRole: return "PractitionerRole"
        case .location: return "Location"
        case .healthcareService: return "HealthcareService"
        case .organization: return "Organization"
        case .appointment: return "Appointment"
        case .operationOutcome: return "OperationOutcome"
        case .unknown(let type, _): return type
        }
    }

    /// The logical id.
    public var id: String? {
        switch self {
        case .slot(let r): return r.id
        case .schedule(let r): return r.id
        case .practitioner(let r): return r.id
        case .practitionerRole(let r): return r.id
        case .location(let r): return r.id
        case .healthcareService(let r): return r.id
        case .organization(let r): return r.id
        case .appointment(let r): return r.id
        case .operationOutcome(let r): return r.id
        case .unknown(_, let json): return json["id"]?.stringValue
        }
    }

    /// The business identifiers, for resources that have some.
    public var identifiers: [Identifier] {
        switch self {
        case .practitioner(let r): return r.identifier ?? []
        case .practitionerRole(let r): return r.identifier ?? []
        case .location(let r): return r.identifier ?? []
        case .healthcareService(let r): return r.identifier ?? []
        case .organization(let r): return r.identifier ?? []
        case .slot(let r): return r.identifier ?? []
        case .schedule(let r): return r.identifier ?? []
        case .appointment(let r): return r.identifier ?? []
        case .operationOutcome, .unknown: return []
        }
    }

    private enum TypeKey: String, CodingKey { case resourceType }

    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .resourceType)
        switch type {
        case "Slot": self = .slot(try Slot(from: decoder))
        case "Schedule": self = .schedule(try Schedule(from: decoder))
        case "Practitioner": self = .practitioner(try Practitioner(from: decoder))
        case "PractitionerRole": self = .practitionerRole(try PractitionerRole(from: decoder))
        case "Location": self = .location(try Location(from: decoder))
        case "HealthcareService": self = .healthcareService(try HealthcareService(from: decoder))
        case "Organization": self = .organization(try Organization(from: decoder))
        case "Appointment": self = .appointment(try Appointment(from: decoder))
        case "OperationOutcome": self = .operationOutcome(try OperationOutcome(from: decoder))
        default: self = .unknown(type: type, json: try JSONValue(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .slot(let r): try r.encode(to: encoder)
        case .schedule(let r): try r.encode(to: encoder)
        case .practitioner(let r): try r.encode(to: encoder)
        case .practitionerRole(let r): try r.encode(to: encoder)
        case .location(let r): try r.encode(to: encoder)
        case .healthcareService(let r): try r.encode(to: encoder)
        case .organization(let r): try r.encode(to: encoder)
        case .appointment(let r): try r.encode(to: encoder)
        case .operationOutcome(let r): try r.encode(to: encoder)
        case .unknown(_, let json): try json.encode(to: encoder)
        }
    }

    public var slot: Slot? { if case .slot(let r) = self { return r }; return nil }
    public var schedule: Schedule? { if case .schedule(let r) = self { return r }; return nil }
    public var practitioner: Practitioner? { if case .practitioner(let r) = self { return r }; return nil }
    public var practitionerRole: PractitionerRole? { if case .practitionerRole(let r) = self { return r }; return nil }
    public var location: Location? { if case .location(let r) = self { return r }; return nil }
    public var healthcareService: HealthcareService? { if case .healthcareService(let r) = self { return r }; return nil }
    public var organization: Organization? { if case .organization(let r) = self { return r }; return nil }
    public var appointment: Appointment? { if case .appointment(let r) = self { return r }; return nil }
    public var operationOutcome: OperationOutcome? { if case .operationOutcome(let r) = self { return r }; return nil }
}
