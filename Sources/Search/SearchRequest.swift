import Directory
import Foundation
import SASDomain

/// Which offers a search lists.
public enum SearchMode: String, Sendable, Codable, CaseIterable {
    /// Offers with free slots first, then participants accepting patients "en sus" (the default).
    case slots = "creneaux"
    /// Only participants accepting patients "en sus des disponibilités" (slots shown when they have some).
    case extra = "en-sus"
}

/// The role the search runs for; it decides which slot kinds (TRE_R314) are visible.
public enum SearchRole: String, Sendable, Codable, CaseIterable {
    /// Regulator (OSNP, ARM, médecin régulateur).
    case regulator = "regulateur"
    /// Infirmier organisateur de l'accueil.
    case ioa
    /// Health professional.
    case healthProfessional = "professionnel"
    /// Structure manager (CPTS, MSP, CDS, SOS Médecins).
    case structureManager = "gestionnaire-structure"
    /// Administrator.
    case administrator = "administrateur"

    /// Slot kinds this role may see (a slot without a declared kind is visible to all).
    public var visibleSlotKinds: SlotKinds {
        switch self {
        case .regulator, .ioa: [.public, .pro, .snp]
        case .healthProfessional: [.public, .pro]
        case .structureManager: [.public, .pro, .cpts]
        case .administrator: [.public, .pro, .snp, .cpts]
        }
    }
}

/// What a client asks for, before resolution (every field optional but the place).
public struct SearchRequest: Sendable, Hashable {
    /// Specialty code (`SM54`, `urn:oid:…|SM54`) or free text ("pédiatre", "SOS", "CPTS"); nil = general practice.
    public var what: String?
    /// Address, city, postcode, INSEE code or department.
    public var place: String?
    /// Latitude/longitude instead of `place`.
    public var latitude: Double?
    /// See `latitude`.
    public var longitude: Double?
    /// Window start (default now).
    public var from: Date?
    /// Window end (default end of day D+2, Europe/Paris).
    public var to: Date?
    /// Consultation types to keep; empty = all.
    public var consultationTypes: ConsultationTypes
    /// Listing mode.
    public var mode: SearchMode
    /// Médecin traitant: IDNPS (`8…`, RPPS, `urn:oid:1.2.250.1.71.4.2.1|8…`) or a name.
    public var preferredDoctor: String?
    /// Role of the caller.
    public var role: SearchRole
    /// Cards per page (1…50).
    public var pageSize: Int
    /// Cursor of the next page, from a previous response.
    public var cursor: String?
    /// Offers with slots to find before ring widening stops (1…50).
    public var minimumOffers: Int

    /// Creates a request.
    public init(what: String? = nil, place: String? = nil, latitude: Double? = nil, longitude: Double? = nil,
                from: Date? = nil, to: Date? = nil, consultationTypes: ConsultationTypes = [], mode: SearchMode = .slots,
                preferredDoctor: String? = nil, role: SearchRole = .regulator, pageSize: Int = 5, cursor: String? = nil,
                minimumOffers: Int = 5) {
        self.what = what
        self.place = place
        self.latitude = latitude
        self.longitude = longitude
        self.from = from
        self.to = to
        self.consultationTypes = consultationTypes
        self.mode = mode
        self.preferredDoctor = preferredDoctor
        self.role = role
        self.pageSize = pageSize
        self.cursor = cursor
        self.minimumOffers = minimumOffers
    }
}

/// A request the engine refuses, with a French message and what to try instead.
public struct SearchInputError: Error, Sendable, Hashable, LocalizedError {
    /// Stable machine codes.
    public enum Code: String, Sendable, Codable {
        case unknownSpecialty = "unknown_specialty"
        case unknownPlace = "unknown_place"
        case missingPlace = "missing_place"
        case invalidWindow = "invalid_window"
        case invalidParameter = "invalid_parameter"
        case invalidCursor = "invalid_cursor"
    }

    /// Code.
    public let code: Code
    /// French message for the regulator.
    public let message: String
    /// The parameter at fault.
    public let parameter: String
    /// Things to try instead (labels).
    public let suggestions: [String]

    /// Creates an error.
    public init(_ code: Code, parameter: String, message: String, suggestions: [String] = []) {
        self.code = code
        self.parameter = parameter
        self.message = message
        self.suggestions = suggestions
    }

    public var errorDescription: String? { message }
}

/// A resolved "where".
public struct SearchPlace: Sendable, Hashable, Codable {
    /// Label ("Lyon 03 (69)").
    public let label: String
    /// Centre latitude.
    public let latitude: Double
    /// Centre longitude.
    public let longitude: Double
    /// Department code.
    public let departmentCode: String
    /// `address`, `city`, `department` or `coordinates`.
    public let precision: String
    /// The `places.csv` place, if any (CPTS coverage is expressed in places).
    public let placeID: Int?
}

/// A resolved query: what the engine runs.
public struct ResolvedQuery: Sendable {
    /// What was asked, resolved.
    public let target: SearchTarget
    /// True when `what` was absent (general practice, as the live platform does for LRM calls without specialty).
    public let targetDefaulted: Bool
    /// Where.
    public let place: SearchPlace
    /// The radius rings.
    public let radius: RadiusPlan
    /// Slot start window.
    public let window: ClosedRange<Date>
    /// Consultation types to keep (empty = all).
    public let consultationTypes: ConsultationTypes
    /// Listing mode.
    public let mode: SearchMode
    /// Role.
    public let role: SearchRole
    /// Médecin traitant text, as given.
    public let preferredDoctor: String?
    /// Page size.
    public let pageSize: Int
    /// K.
    public let minimumOffers: Int
    /// Decoded cursor (next pages).
    public let cursor: SearchCursor?
    /// The instant the search was evaluated at.
    public let now: Date

    /// Fingerprint of what defines the result list (the cursor must match it).
    var fingerprint: String {
        let parts = [target.label, target.specialtyCodes.joined(separator: ","), place.label,
                     "\(Int((place.latitude * 100_000).rounded())),\(Int((place.longitude * 100_000).rounded()))", String(consultationTypes.rawValue),
                     mode.rawValue, role.rawValue, preferredDoctor ?? ""]
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in parts.joined(separator: "|").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return String(hash, radix: 36)
    }
}
