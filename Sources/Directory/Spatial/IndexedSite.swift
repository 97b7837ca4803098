import Foundation

/// Great-circle distance on a spherical Earth.
public enum Haversine {
    /// Mean Earth radius (IUGG), km.
    public static let earthRadiusKm = 6371.0088

    /// Distance in km between two WGS84 points given in degrees.
    @inline(__always)
    public static func distanceKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let rad = Double.pi / 180
        let dLat = (lat2 - lat1) * rad
        let dLon = (lon2 - lon1) * rad
        let s1 = sin(dLat / 2), s2 = sin(dLon / 2)
        let a = s1 * s1 + cos(lat1 * rad) * cos(lat2 * rad) * s2 * s2
        return 2 * earthRadiusKm * asin(min(1, sqrt(a)))
    }
}

/// SAS participation facts of a site's practitioner, packed in one byte for the spatial index.
public struct ParticipationFlags: OptionSet, Sendable, Hashable, Codable {
    /// Raw bits.
    public let rawValue: UInt8
    /// Creates flags from raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Participates in the SAS.
    public static let participates = ParticipationFlags(rawValue: 1 << 0)
    /// Participates individually.
    public static let viaIndividual = ParticipationFlags(rawValue: 1 << 1)
    /// Participates through a CPTS.
    public static let viaCPTS = ParticipationFlags(rawValue: 1 << 2)
    /// Participates through an MSP.
    public static let viaMSP = ParticipationFlags(rawValue: 1 << 3)
    /// Participates through SOS Médecins.
    public static let viaSOS = ParticipationFlags(rawValue: 1 << 4)
    /// Accepts patients "en sus" of published availability.
    public static let acceptsExtra = ParticipationFlags(rawValue: 1 << 5)
    /// "Forfait de réorientation des urgences".
    public static let forfaitReorientation = ParticipationFlags(rawValue: 1 << 6)
    /// The agenda is held by a connected vendor (otherwise the SAS agenda).
    public static let vendorAgenda = ParticipationFlags(rawValue: 1 << 7)
}

/// The small value the spatial index is built from: one practice site of one practitioner.
public struct IndexedSite: Sendable, Hashable {
    /// Site identifier in the directory store.
    public var siteID: Int64
    /// Practitioner identifier (or index) in the directory store.
    public var practitionerID: Int64
    /// WGS84 latitude.
    public var latitude: Float
    /// WGS84 longitude.
    public var longitude: Float
    /// Specialty code indices (``Specialties/index(of:)``).
    public var specialties: [UInt16]
    /// TRE_G15 profession code as a number (10 médecin, 60 infirmier, 70 kiné…).
    public var profession: UInt8
    /// SAS participation flags.
    public var flags: ParticipationFlags

    /// Memberwise initialiser.
    public init(siteID: Int64, practitionerID: Int64, latitude: Float, longitude: Float, specialties: [UInt16],
                profession: UInt8, flags: ParticipationFlags) {
        self.siteID = siteID
        self.practitionerID = practitionerID
        self.latitude = latitude
        self.longitude = longitude
        self.specialties = specialties
        self.profession = profession
        self.flags = flags
    }
}

/// Which sites a radius query keeps.
public struct SiteFilter: Sendable, Hashable {
    /// Any of these specialty indices; empty = any specialty.
    public var specialties: [UInt16]
    /// Any of these professions; empty = any profession.
    public var professions: [UInt8]
    /// Flags that must all be set.
    public var requiredFlags: ParticipationFlags
    /// Flags that must all be clear.
    public var excludedFlags: ParticipationFlags
    /// At least one of these flags must be set (ignored when empty).
    public var anyOfFlags: ParticipationFlags

    /// Creates a filter; the default keeps every site.
    public init(specialties: [UInt16] = [], professions: [UInt8] = [], requiredFlags: ParticipationFlags = [],
                excludedFlags: ParticipationFlags = [], anyOfFlags: ParticipationFlags = []) {
        self.specialties = specialties
        self.professions = professions
        self.requiredFlags = requiredFlags
        self.excludedFlags = excludedFlags
        self.anyOfFlags = anyOfFlags
    }

    /// Whether a site's non-specialty attributes pass.
    @inline(__always)
    func accepts(profession: UInt8, flags: UInt8) -> Bool {
        if flags & requiredFlags.rawValue != requiredFlags.rawValue { return false }
        if flags & excludedFlags.rawValue != 0 { return false }
        if anyOfFlags.rawValue != 0, flags & anyOfFlags.rawValue == 0 { return false }
        return professions.isEmpty || professions.contains(profession)
    }
}

/// One site returned by a radius query.
public struct SpatialHit: Sendable, Hashable {
    /// Site identifier.
    public let siteID: Int64
    /// Practitioner identifier.
    public let practitionerID: Int64
    /// Haversine distance from the query point, km.
    public let distanceKm: Double
    /// Site latitude.
    public let latitude: Float
    /// Site longitude.
    public let longitude: Float
}
