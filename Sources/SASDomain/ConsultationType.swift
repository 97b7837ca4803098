/// Where the consultation takes place (v3-ActCode, carried in coded `Slot.serviceType`).
public enum ConsultationType: String, Hashable, Sendable, Codable, CaseIterable {
    /// At the practice.
    case ambulatory = "AMB"
    /// At the patient's home.
    case homeVisit = "HH"
    /// Teleconsultation.
    case teleconsultation = "VR"

    /// v3-ActCode code system URL.
    public static let system = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

    /// v3-ActCode code.
    public var code: String { rawValue }

    /// French label.
    public var label: String {
        switch self {
        case .ambulatory: return "Consultation au cabinet"
        case .homeVisit: return "Consultation à domicile"
        case .teleconsultation: return "Téléconsultation"
        }
    }

    /// Reads a code case-insensitively.
    public init?(code: String) {
        switch code.uppercased() {
        case "AMB": self = .ambulatory
        case "HH": self = .homeVisit
        case "VR": self = .teleconsultation
        default: return nil
        }
    }

    var bit: UInt8 {
        switch self {
        case .ambulatory: return 1
        case .homeVisit: return 2
        case .teleconsultation: return 4
        }
    }
}

/// A set of consultation types, allocation-free (combinations are allowed).
public struct ConsultationTypes: OptionSet, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// At the practice.
    public static let ambulatory = ConsultationTypes(.ambulatory)
    /// Home visit.
    public static let homeVisit = ConsultationTypes(.homeVisit)
    /// Teleconsultation.
    public static let teleconsultation = ConsultationTypes(.teleconsultation)

    /// A set holding one type.
    public init(_ type: ConsultationType) { rawValue = type.bit }

    /// A set holding the given types.
    public init(_ types: some Sequence<ConsultationType>) { rawValue = types.reduce(0) { $0 | $1.bit } }

    /// Whether `type` is in the set.
    public func contains(_ type: ConsultationType) -> Bool { rawValue & type.bit != 0 }

    /// Adds `type`.
    public mutating func insert(_ type: ConsultationType) { formUnion(ConsultationTypes(type)) }

    /// Members in a stable order (AMB, HH, VR).
    public var types: [ConsultationType] { ConsultationType.allCases.filter(contains) }

    public var description: String { types.map(\.rawValue).joined(separator: ",") }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([ConsultationType].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(types)
    }
}

/// Whether a slot can be booked or is walk-in only (v2-0276, carried in `Slot.appointmentType`).
public enum BookingMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// Booking possible ("Créneau avec prise de RDV possible").
    case routine = "ROUTINE"
    /// Walk-in, no booking ("Créneau sans prise de RDV possible").
    case walkIn = "WALKIN"

    /// v2-0276 code system URL.
    public static let system = "http://terminology.hl7.org/CodeSystem/v2-0276"

    /// v2-0276 code.
    public var code: String { rawValue }

    /// French label (the value set's "à domicile" suffix on WALKIN is a known typo, digest §8.21).
    public var label: String {
        switch self {
        case .routine: return "Créneau avec prise de RDV possible"
        case .walkIn: return "Créneau sans prise de RDV possible"
        }
    }

    /// Reads a code case-insensitively.
    public init?(code: String) {
        switch code.uppercased() {
        case "ROUTINE": self = .routine
        case "WALKIN": self = .walkIn
        default: return nil
        }
    }
}
