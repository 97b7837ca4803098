import Foundation
import SASDomain

/// Builds the slot-search URLs the platform sends to editors (INT_R01, INT_R04, SOS), digest §2.1–2.3.
///
/// Values are percent-encoded (`+` → `%2B`, `|` → `%7C`; `:` `,` `/` stay literal), lists are comma-separated without
/// blanks, instants are `yyyy-MM-ddTHH:mm:ss.SSS±hh:mm` in Paris time, and `_count=1000` is appended.
public enum SearchURLBuilder {
    /// Most practitioners per INT_R01/R04 request.
    public static let maxPractitioners = 25
    /// Most SOS associations per request (functional spec; the parameter table says 25, digest §8.4).
    public static let maxAssociations = 10
    /// Page size the platform asks for.
    public static let pageSize = 1000

    /// INT_R01 `GET [base]/Slot?…` for 1–25 practitioners.
    public static func individualSlots(base: URL, practitioners: [IDNPS], window: ClosedRange<Date>,
                                       timeZone: FHIRTimeZone = .paris) throws(SearchQueryError) -> URL {
        try slots(base: base, practitioners: practitioners, window: window, timeZone: timeZone, cpts: false)
    }

    /// INT_R04 `GET [base]/Slot?…` (INT_R01 plus the HealthcareService/Organization includes).
    public static func cptsSlots(base: URL, practitioners: [IDNPS], window: ClosedRange<Date>,
                                 timeZone: FHIRTimeZone = .paris) throws(SearchQueryError) -> URL {
        try slots(base: base, practitioners: practitioners, window: window, timeZone: timeZone, cpts: true)
    }

    /// SOS `GET [base]/Schedule?…` for 1–10 associations identified by SIRET.
    public static func sosSchedules(base: URL, associations: [IDNST], window: ClosedRange<Date>,
                                    timeZone: FHIRTimeZone = .paris) throws(SearchQueryError) -> URL {
        let ids = unique(associations)
        guard !ids.isEmpty else { throw .noIdentifiers }
        guard ids.count <= maxAssociations else { throw .tooManyIdentifiers(count: ids.count, limit: maxAssociations) }
        if let wrong = ids.first(where: { $0.kind != .siret }) { throw .notASIRET(wrong.value) }
        try checkWindow(window)
        let list = ids.map { encode($0.token) }.joined(separator: ",")
        let query = [
            "_revinclude=Slot:schedule",
            "_include=Schedule:actor:Location",
            "_include:iterate=Location:organization",
            "_has:Slot:schedule:start=ge" + encode(FHIRInstant.format(window.lowerBound, timeZone: timeZone)),
            "_has:Slot:schedule:start=le" + encode(FHIRInstant.format(window.upperBound, timeZone: timeZone)),
            "_has:Slot:schedule:status=free",
            "actor:Location.organization.identifier=" + list,
            "_count=\(pageSize)",
        ]
        return try url(base, "Schedule", query)
    }

    private static func slots(base: URL, practitioners: [IDNPS], window: ClosedRange<Date>, timeZone: FHIRTimeZone,
                              cpts: Bool) throws(SearchQueryError) -> URL {
        let ids = unique(practitioners)
        guard !ids.isEmpty else { throw .noIdentifiers }
        guard ids.count <= maxPractitioners else { throw .tooManyIdentifiers(count: ids.count, limit: maxPractitioners) }
        try checkWindow(window)
        var query = ["_include=Slot:schedule", "_include:iterate=Schedule:actor"]
        if cpts { query += ["_include=Slot:service-type-reference", "_include:iterate=HealthcareService:organization"] }
        query += [
            "status=free",
            "start=ge" + encode(FHIRInstant.format(window.lowerBound, timeZone: timeZone)),
            "start=le" + encode(FHIRInstant.format(window.upperBound, timeZone: timeZone)),
            "schedule.actor:Practitioner.identifier=" + ids.map { encode($0.token) }.joined(separator: ","),
            "_count=\(pageSize)",
        ]
        return try url(base, "Slot", query)
    }

    /// Percent-encodes a query value: unreserved characters plus `:` `,` `/` stay literal.
    public static func encode(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"),
                 UInt8(ascii: ","), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }

    private static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }

    private static func checkWindow(_ window: ClosedRange<Date>) throws(SearchQueryError) {
        guard window.upperBound > window.lowerBound else { throw .emptyWindow }
    }

    private static func url(_ base: URL, _ type: String, _ query: [String]) throws(SearchQueryError) -> URL {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text + "/" + type + "?" + query.joined(separator: "&")) else {
            throw .invalidBaseURL(base.absoluteString)
        }
        return url
    }
}

/// Why a search URL cannot be built.
public enum SearchQueryError: Error, Hashable, Sendable, LocalizedError, CustomStringConvertible {
    /// No identifier given.
    case noIdentifiers
    /// More identifiers than one request may carry.
    case tooManyIdentifiers(count: Int, limit: Int)
    /// An SOS search needs SIRET identifiers.
    case notASIRET(String)
    /// The window's end is not after its start.
    case emptyWindow
    /// The editor base URL is unusable.
    case invalidBaseURL(String)

    public var description: String {
        switch self {
        case .noIdentifiers: return "search needs at least one identifier"
        case .tooManyIdentifiers(let count, let limit): return "\(count) identifiers in one search, at most \(limit) allowed"
        case .notASIRET(let value): return "SOS search needs SIRET identifiers, got \(value)"
        case .emptyWindow: return "search window end must be after its start"
        case .invalidBaseURL(let base): return "invalid editor base URL \(base)"
        }
    }

    /// French message.
    public var message: String {
        switch self {
        case .noIdentifiers: return "La recherche nécessite au moins un identifiant."
        case .tooManyIdentifiers(let count, let limit):
            return "La recherche contient \(count) identifiants ; \(limit) au maximum sont autorisés par requête."
        case .notASIRET(let value): return "La recherche SOS Médecins attend des SIRET ; « \(value) » n'en est pas un."
        case .emptyWindow: return "La fin de la période de recherche doit être postérieure à son début."
        case .invalidBaseURL(let base): return "L'adresse du serveur de l'éditeur est invalide (« \(base) »)."
        }
    }

    public var errorDescription: String? { message }
}
