/// Who may see a slot (TRE_R314 "TypeCreneau", carried in `Slot.meta.security`).
public enum SlotKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// Visible to the general public.
    case `public` = "PUBLIC"
    /// Visible to all health professionals.
    case pro = "PRO"
    /// Reserved to regulators and unscheduled-care organisers (soins non programmés).
    case snp = "SNP"
    /// Visible to CPTS-type structures.
    case cpts = "CPTS"

    /// TRE_R314 code system URL.
    public static let system = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"

    /// TRE_R314 code.
    public var code: String { rawValue }

    /// French label (JDV_J165).
    public var label: String {
        switch self {
        case .public: return "Créneau accessible par le grand public"
        case .pro: return "Créneau accessible par l'ensemble des professionnels de santé"
        case .snp: return "Créneau accessible par les Régulateurs et Organisateurs de Soins Non Programmés"
        case .cpts: return "Créneau accessible par les communautés professionnelles territoriales de santé"
        }
    }

    /// Reads a code case-insensitively (vendors are not always careful with case).
    public init?(code: String) {
        switch code.uppercased() {
        case "PUBLIC": self = .public
        case "PRO": self = .pro
        case "SNP": self = .snp
        case "CPTS": self = .cpts
        default: return nil
        }
    }

    var bit: UInt8 {
        switch self {
        case .public: return 1
        case .pro: return 2
        case .snp: return 4
        case .cpts: return 8
        }
    }
}

/// A set of slot kinds, allocation-free (a slot may carry several kinds).
public struct SlotKinds: OptionSet, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// General public.
    public static let `public` = SlotKinds(.public)
    /// Health professionals.
    public static let pro = SlotKinds(.pro)
    /// Regulators / OSNP.
    public static let snp = SlotKinds(.snp)
    /// CPTS structures.
    public static let cpts = SlotKinds(.cpts)

    /// A set holding one kind.
    public init(_ kind: SlotKind) { rawValue = kind.bit }

    /// A set holding the given kinds.
    public init(_ kinds: some Sequence<SlotKind>) {
        rawValue = kinds.reduce(0) { $0 | $1.bit }
    }

    /// Whether `kind` is in the set.
    public func contains(_ kind: SlotKind) -> Bool { rawValue & kind.bit != 0 }

    /// Adds `kind`.
    public mutating func insert(_ kind: SlotKind) { self.formUnion(SlotKinds(kind)) }

    /// Members in TRE_R314 order.
    public var kinds: [SlotKind] { SlotKind.allCases.filter(contains) }

    public var description: String { kinds.map(\.rawValue).joined(separator: ",") }

    public init(from decoder: any Decoder) throws {
        let codes = try decoder.singleValueContainer().decode([SlotKind].self)
        self.init(codes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(kinds)
    }
}
