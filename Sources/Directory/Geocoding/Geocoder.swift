import Foundation

/// How precise a geocoded position is.
public enum GeocodePrecision: String, Sendable, Codable, Hashable {
    /// A street address (only an online backend such as the national address API can give this).
    case address
    /// A city, arrondissement or quarter centre.
    case city
    /// A department barycentre.
    case department
}

/// One autocomplete or "did you mean" candidate.
public struct Suggestion: Sendable, Hashable, Codable {
    /// What the candidate is.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A place (city, arrondissement, quarter).
        case place
        /// A department.
        case department
    }

    /// Place or department.
    public let kind: Kind
    /// Text to show, e.g. "Lyon (69)" or "Rhône (69)".
    public let label: String
    /// Department code.
    public let departmentCode: String
    /// The place id when `kind == .place`.
    public let placeID: Int?
    /// Latitude.
    public let latitude: Double
    /// Longitude.
    public let longitude: Double
    /// Population used for ranking (department: sum of its places).
    public let population: Int

    /// Memberwise initialiser.
    public init(kind: Kind, label: String, departmentCode: String, placeID: Int?, latitude: Double,
                longitude: Double, population: Int) {
        self.kind = kind
        self.label = label
        self.departmentCode = departmentCode
        self.placeID = placeID
        self.latitude = latitude
        self.longitude = longitude
        self.population = population
    }
}

/// The outcome of geocoding what a regulator typed.
public struct GeocodeResult: Sendable, Hashable, Codable {
    /// WGS84 latitude.
    public let latitude: Double
    /// WGS84 longitude.
    public let longitude: Double
    /// Department code of the position.
    public let departmentCode: String
    /// Precision of the coordinates.
    public let precision: GeocodePrecision
    /// Label to display ("Lyon 03 (69)", "Rhône (69)").
    public let label: String
    /// The matched place, if any.
    public let place: Place?
    /// The street part typed before the city ("12 rue de la République"), kept for display; offline,
    /// coordinates remain those of the city (`precision == .city`).
    public let streetLine: String?
    /// A postcode found in the query, if any.
    public let postcode: String?
    /// An INSEE commune code found in the query, if any.
    public let inseeCode: String?
    /// Match quality in 0…1 (1 = exact).
    public let score: Double
    /// Other plausible readings of an ambiguous query ("Vienne": the department and the city in Isère).
    public let alternatives: [Suggestion]

    /// True when the regulator typed a street address (the SAS sorts such searches by distance).
    public var isAddressQuery: Bool { streetLine != nil }

    /// Memberwise initialiser.
    public init(latitude: Double, longitude: Double, departmentCode: String, precision: GeocodePrecision,
                label: String, place: Place? = nil, streetLine: String? = nil, postcode: String? = nil,
                inseeCode: String? = nil, score: Double = 1, alternatives: [Suggestion] = []) {
        self.latitude = latitude
        self.longitude = longitude
        self.departmentCode = departmentCode
        self.precision = precision
        self.label = label
        self.place = place
        self.streetLine = streetLine
        self.postcode = postcode
        self.inseeCode = inseeCode
        self.score = score
        self.alternatives = alternatives
    }
}

/// Geocoding failures.
public enum GeocodeError: Error, LocalizedError, Sendable, Hashable {
    /// Nothing matched; `suggestions` may help the regulator rephrase.
    case notFound(query: String, suggestions: [Suggestion])

    public var errorDescription: String? {
        switch self {
        case .notFound(let query, let suggestions):
            let head = query.trimmingCharacters(in: .whitespaces).isEmpty
                ? "Aucune localisation saisie."
                : "Localisation introuvable : « \(query) »."
            guard !suggestions.isEmpty else { return head }
            return head + " Vouliez-vous dire : " + suggestions.prefix(3).map(\.label).joined(separator: ", ") + " ?"
        }
    }
}

/// Turns what a regulator types into a position; the offline implementation is ``OfflineGeocoder``,
/// a production deployment can plug the national address API (Géoplateforme) behind the same protocol.
public protocol Geocoder: Sendable {
    /// Resolves free text ("12 rue X, Lyon", "69003", "Lyon 3e", "2A004", "Rhône") or throws ``GeocodeError/notFound(query:suggestions:)``.
    func geocode(_ query: String) async throws -> GeocodeResult
    /// Autocomplete candidates for a typed prefix, best first.
    func suggest(_ prefix: String, limit: Int) -> [Suggestion]
}
