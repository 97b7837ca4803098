import Foundation

/// FHIR `Location` (contained practice site, or SOS fixed consultation point).
public struct Location: Hashable, Sendable, Codable {
    public var resourceType: String = "Location"
    public var id: String?
    public var meta: Meta?
    public var identifier: [Identifier]?
    public var status: String?
    public var name: String?
    public var description: String?
    public var telecom: [ContactPoint]?
    public var address: Address?
    public var position: Position?
    public var managingOrganization: Reference?
    public var partOf: Reference?
    public var hoursOfOperation: [HoursOfOperation]?

    public init(id: String? = nil) { self.id = id }

    /// `Location.position` (WGS84).
    public struct Position: Hashable, Sendable, Codable {
        public var longitude: Double
        public var latitude: Double
        public var altitude: Double?

        public init(longitude: Double, latitude: Double, altitude: Double? = nil) {
            self.longitude = longitude
            self.latitude = latitude
            self.altitude = altitude
        }
    }

    /// `Location.hoursOfOperation`.
    public struct HoursOfOperation: Hashable, Sendable, Codable {
        public var daysOfWeek: [String]?
        public var allDay: Bool?
        public var openingTime: String?
        public var closingTime: String?

        public init(daysOfWeek: [String]? = nil, allDay: Bool? = nil, openingTime: String? = nil, closingTime: String? = nil) {
            self.daysOfWeek = daysOfWeek
            self.allDay = allDay
            self.openingTime = openingTime
            self.closingTime = closingTime
        }
    }
}

/// FHIR `HealthcareService` (one per CPTS, pointing at its Organization).
public struct HealthcareService: Hashable, Sendable, Codable {
    public var resourceType: String = "HealthcareService"
    public var id: String?
    public var meta: Meta?
    public var identifier: [Identifier]?
    public var active: Bool?
    public var providedBy: Reference?
    public var type: [CodeableConcept]?
    public var specialty: [CodeableConcept]?
    public var location: [Reference]?
    public var name: String?
    public var telecom: [ContactPoint]?

    public init(id: String? = nil) { self.id = id }
}

/// FHIR `Organization` (CPTS identified by FINESS, SOS association by SIRET).
public struct Organization: Hashable, Sendable, Codable {
    public var resourceType: String = "Organization"
    public var id: String?
    public var meta: Meta?
    public var identifier: [Identifier]?
    public var active: Bool?
    public var type: [CodeableConcept]?
    public var name: String?
    public var telecom: [ContactPoint]?
    public var address: [Address]?
    public var partOf: Reference?

    public init(id: String? = nil) { self.id = id }
}
