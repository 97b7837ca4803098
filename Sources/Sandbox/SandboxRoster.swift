import Foundation
import SASDomain

/// What a sandbox vendor holds: the practitioners whose agendas it manages, their consultation places, the CPTS
/// they belong to, and the SOS Médecins associations whose fixed places it schedules.
public struct SandboxRoster: Sendable {
    /// A practitioner's agenda in the vendor.
    public struct Practitioner: Sendable {
        public var idnps: IDNPS
        public var familyName: String
        public var givenName: String
        public var specialties: [String]
        public var sites: [Site]
        /// The CPTS (FINESS IDNST and name) the practitioner offers CPTS slots for, if any.
        public var cpts: Structure?

        public init(idnps: IDNPS, familyName: String, givenName: String, specialties: [String], sites: [Site], cpts: Structure? = nil) {
            self.idnps = idnps
            self.familyName = familyName
            self.givenName = givenName
            self.specialties = specialties
            self.sites = sites
            self.cpts = cpts
        }
    }

    /// A consultation place.
    public struct Site: Sendable {
        public var line: String
        public var postalCode: String
        public var city: String
        public var phone: String?
        public var latitude: Double?
        public var longitude: Double?
        /// The structure identifier of the place (IDNST), when known.
        public var organization: IDNST?

        public init(line: String, postalCode: String, city: String, phone: String? = nil, latitude: Double? = nil,
                    longitude: Double? = nil, organization: IDNST? = nil) {
            self.line = line
            self.postalCode = postalCode
            self.city = city
            self.phone = phone
            self.latitude = latitude
            self.longitude = longitude
            self.organization = organization
        }
    }

    /// A CPTS or an SOS Médecins association.
    public struct Structure: Sendable, Hashable {
        public var idnst: IDNST
        public var name: String
        public var phone: String?
        public init(idnst: IDNST, name: String, phone: String? = nil) {
            self.idnst = idnst
            self.name = name
            self.phone = phone
        }
    }

    /// An SOS Médecins association and its fixed consultation places.
    public struct Association: Sendable {
        public var structure: Structure
        public var places: [Site]
        public init(structure: Structure, places: [Site]) {
            self.structure = structure
            self.places = places
        }
    }

    public var practitioners: [IDNPS: Practitioner]
    public var associations: [IDNST: Association]

    public init(practitioners: [Practitioner] = [], associations: [Association] = []) {
        self.practitioners = Dictionary(practitioners.map { ($0.idnps, $0) }, uniquingKeysWith: { first, _ in first })
        self.associations = Dictionary(associations.map { ($0.structure.idnst, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
