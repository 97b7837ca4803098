import Foundation
import SASDomain

/// One bookable time shown on a card.
public struct OfferSlot: Sendable, Hashable, Codable {
    /// Start instant.
    public var start: Date
    /// End instant.
    public var end: Date
    /// `AMB`, `HH`, `VR`.
    public var consultationTypes: [String]
    /// `sas` (SAS agenda) or the vendor id.
    public var source: String
    /// Vendor booking page (without `origin`), for vendor slots.
    public var bookingURL: String?
    /// SAS-agenda occurrence id, for SAS slots.
    public var agendaSlotID: String?
    /// Places left in a SAS range ("plage"); nil for single slots.
    public var remaining: Int?
    /// Where the consultation takes place, when the vendor said.
    public var address: [String]?
    /// TRE_R314 slot kinds (`PUBLIC`, `PRO`, `SNP`, `CPTS`) when declared.
    public var kinds: [String]? = nil
}

/// What a card stands for.
public enum OfferKind: String, Sendable, Hashable, Codable {
    /// A practitioner at one practice site.
    case practitioner
    /// A CPTS covering the searched place, with its members.
    case cpts
    /// A fixed consultation place of an SOS Médecins association.
    case sos
}

/// One result card ("offre de soins").
public struct OfferCard: Sendable, Hashable, Codable {
    public var id: String
    public var kind: OfferKind
    /// Practitioner IDNPS (practitioner cards).
    public var idnps: String?
    /// Structure IDNST (CPTS, SOS, or the practitioner's participation structure).
    public var idnst: String?
    public var name: String
    public var specialties: [String]
    public var address: [String]
    public var phone: String?
    /// What the practitioner tells regulators (plain text, ≤ 1,000 characters).
    public var additionalInfo: String? = nil
    public var latitude: Double
    public var longitude: Double
    public var distanceKm: Double
    public var participates: Bool
    /// `individuel`, `cpts`, `msp`, `sos-medecins`.
    public var participationVia: String?
    public var acceptsExtraPatients: Bool
    public var forfaitReorientation: Bool
    /// The médecin traitant given by the LRM / the caller.
    public var preferredDoctor: Bool
    public var firstSlot: Date?
    /// Slots in the window (all of them; `slots` may be truncated).
    public var slotCount: Int
    public var slots: [OfferSlot]
    /// Short French explanation of the rank.
    public var pourquoi: String
    /// CPTS members (CPTS cards), in rank order.
    public var members: [OfferCard]?
    /// The rank key (for clients that merge pages; also what the cursor holds).
    public var rank: RankKey
}

/// How one source fared.
public struct SourceStatus: Sendable, Hashable, Codable {
    /// `sas` or the vendor id.
    public var source: String
    public var name: String
    /// `ok`, `timeout`, `error`, `circuit-open`.
    public var status: String
    /// Finer category (`empty`, `httpError`, `tlsError`…).
    public var detail: String
    /// French description.
    public var message: String
    /// Technical reason for operators (connection or TLS error text), when the source failed.
    public var technicalDetail: String? = nil
    public var slotCount: Int
    public var elapsedMs: Int
}

/// One ring tried.
public struct RingOutcome: Sendable, Hashable, Codable {
    public var km: Double
    /// Practitioners and SOS associations asked in this ring (new ones only).
    public var newCandidates: Int
    /// Cards with at least one slot once this ring was done.
    public var offersWithSlots: Int
}

/// The radius used and why.
public struct RadiusOutcome: Sendable, Hashable, Codable {
    public var km: Double
    public var defaultKm: Double
    public var widened: Bool
    public var rings: [RingOutcome]
    public var reason: String
}

/// A non-blocking remark (médecin traitant not identified, defaults applied…).
public struct SearchWarning: Sendable, Hashable, Codable {
    public var code: String
    public var message: String
}

/// The query as understood.
public struct QuerySummary: Sendable, Hashable, Codable {
    public struct What: Sendable, Hashable, Codable {
        public var label: String
        public var specialtyCodes: [String]
        public var professionCodes: [String]
        public var structureKinds: [String]
        public var defaulted: Bool
    }

    public var what: What
    public var place: SearchPlace
    public var windowStart: Date
    public var windowEnd: Date
    public var consultationTypes: [String]
    public var mode: SearchMode
    public var role: SearchRole
    public var radiusPlan: RadiusPlan
}

/// Counters.
public struct SearchCounts: Sendable, Hashable, Codable {
    /// Practitioners whose slots were asked.
    public var practitionersAsked: Int
    /// SOS associations asked.
    public var associationsAsked: Int
    /// Cards with a slot.
    public var offersWithSlots: Int
    /// Slots kept (window, types, visibility).
    public var slots: Int
}

/// The answer of `GET /api/v1/search`.
public struct SearchResponse: Sendable, Codable {
    public var query: QuerySummary
    public var radius: RadiusOutcome
    public var total: Int
    public var results: [OfferCard]
    public var nextCursor: String?
    public var counts: SearchCounts
    public var sources: [SourceStatus]
    public var warnings: [SearchWarning]
    /// False when a source timed out or the deadline stopped the widening.
    public var complete: Bool
    public var elapsedMs: Int
}

/// A candidate announced by the directory, before slots.
public struct CandidateSummary: Sendable, Hashable, Codable {
    public var id: String
    public var kind: OfferKind
    public var idnps: String?
    public var idnst: String?
    public var distanceKm: Double
    public var latitude: Double
    public var longitude: Double
}

/// Slots that arrived from one source for one ring.
public struct SlotsArrival: Sendable, Hashable, Codable {
    public var source: String
    public var ringKm: Double
    /// Slots by practitioner IDNPS (or SOS association IDNST).
    public var slots: [String: [OfferSlot]]
    public var elapsedMs: Int
    public var fromCache: Bool
}

/// What the streaming endpoint sends, in order: `query`, then per ring `directory` and `slots` events as sources
/// answer, `ring` when a ring is done, then `final`.
public enum SearchEvent: Sendable {
    case query(QuerySummary)
    case directory(ringKm: Double, candidates: [CandidateSummary])
    case slots(SlotsArrival)
    case ring(RingOutcome)
    case final(SearchResponse)

    /// SSE event name.
    public var name: String {
        switch self {
        case .query: "query"
        case .directory: "directory"
        case .slots: "slots"
        case .ring: "ring"
        case .final: "final"
        }
    }
}

/// UTC instants as `yyyy-MM-ddTHH:mm:ssZ`, written with integer arithmetic: Foundation's ISO 8601 formatter costs tens
/// of microseconds per date on Linux, and a search answer holds hundreds of them.
public enum FastISO8601 {
    /// The text of `date` (whole seconds, rounded down).
    public static func string(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text of `date` (`yyyy-MM-ddTHH:mm:ssZ`, 20 bytes for years 0–9999) to `bytes`.
    public static func append(_ date: Date, to bytes: inout [UInt8]) {
        let seconds = Int64((date.timeIntervalSince1970).rounded(.down))
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        @inline(__always) func put2(_ v: Int64) {
            bytes.append(UInt8(truncatingIfNeeded: 48 + v / 10 % 10))
            bytes.append(UInt8(truncatingIfNeeded: 48 + v % 10))
        }
        put2(year / 100 % 100); put2(year % 100); bytes.append(45); put2(month); bytes.append(45); put2(day)
        bytes.append(84)
        put2(secondOfDay / 3600); bytes.append(58); put2(secondOfDay / 60 % 60); bytes.append(58); put2(secondOfDay % 60)
        bytes.append(90)
    }

    /// A JSON date strategy using ``string(_:)``.
    public static let encodingStrategy: JSONEncoder.DateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(string(date))
    }
}
