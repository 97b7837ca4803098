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
        /// Further CPTS he belongs to (the conformance kit's 4.8: one practitioner, two CPTS).
        public var additionalCPTS: [Structure] = []
        /// A regular agenda (hourly slots cycling through every slot kind and consultation type) instead of the
        /// random one: the vendor's test practitioners for the conformance kit.
        public var regularAgenda = false

        /// Every CPTS, first the main one.
        public var allCPTS: [Structure] { (cpts.map { [$0] } ?? []) + additionalCPTS }

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
    /// The test practitioners answering the conformance kit (added to every sandbox vendor).
    public private(set) var conformance: ConformanceFixture?

    /// The RPPS a vendor gives the national conformance kit, and what its solution declares (kit inputs §1.4).
    public struct ConformanceFixture: Sendable, Codable, Equatable {
        /// One place of consultation, one CPTS (4.2, 4.3, 4.6, 4.7, 4.9, 6.1).
        public var rpps: String
        /// Two places, two CPTS (4.4, 4.8).
        public var rpps2: String
        /// Two practitioners found by one search (4.5).
        public var rpps3: String
        public var rpps4: String
        public var slotTypes: [String]
        public var cptsSlotTypes: [String]
        public var consultationTypes: [String]
    }

    /// Adds the conformance kit's test practitioners (fixed RPPS derived from `vendorID`), once.
    public mutating func addConformanceFixture(vendorID: String) {
        guard conformance == nil else { return }
        var hash: UInt64 = 0xcbf29ce484222325
        for b in vendorID.utf8 { hash = (hash ^ UInt64(b)) &* 0x100000001b3 }
        let base = Int(hash % 1_000) * 4
        func idnps(_ k: Int) -> IDNPS {
            let digits = "199999" + String(format: "%04d", base + k)
            return try! IDNPS(parsing: "8" + RPPS.withCheckDigit(digits))
        }
        func finess(_ k: Int) -> IDNST { try! IDNST(parsing: "1" + String(format: "%09d", 759_990_000 + base + k)) }
        let cptsA = Structure(idnst: finess(0), name: "CPTS de test A (\(vendorID))", phone: "+33140000001")
        let cptsB = Structure(idnst: finess(1), name: "CPTS de test B (\(vendorID))", phone: "+33140000002")
        func site(_ n: Int) -> Site {
            Site(line: "\(10 + n) rue du Contrôle", postalCode: "75012", city: "Paris", phone: "+3314000010\(n)",
                 latitude: 48.84, longitude: 2.39, organization: finess(2 + n))
        }
        var single = Practitioner(idnps: idnps(0), familyName: "CONFORME", givenName: "Un-Lieu", specialties: ["SM54"],
                                  sites: [site(0)], cpts: cptsA)
        var double = Practitioner(idnps: idnps(1), familyName: "CONFORME", givenName: "Deux-Lieux", specialties: ["SM54"],
                                  sites: [site(1), site(2)], cpts: cptsA)
        double.additionalCPTS = [cptsB]
        var third = Practitioner(idnps: idnps(2), familyName: "CONFORME", givenName: "Trois", specialties: ["SM54"], sites: [site(3)])
        var fourth = Practitioner(idnps: idnps(3), familyName: "CONFORME", givenName: "Quatre", specialties: ["SM54"], sites: [site(4)])
        single.regularAgenda = true
        double.regularAgenda = true
        third.regularAgenda = true
        fourth.regularAgenda = true
        for practitioner in [single, double, third, fourth] { practitioners[practitioner.idnps] = practitioner }
        conformance = ConformanceFixture(rpps: single.idnps.value, rpps2: double.idnps.value, rpps3: third.idnps.value,
                                         rpps4: fourth.idnps.value, slotTypes: ["PUBLIC", "PRO", "SNP"], cptsSlotTypes: ["CPTS"],
                                         consultationTypes: ["AMB", "VR", "HH"])
    }

    public init(practitioners: [Practitioner] = [], associations: [Association] = []) {
        self.practitioners = Dictionary(practitioners.map { ($0.idnps, $0) }, uniquingKeysWith: { first, _ in first })
        self.associations = Dictionary(associations.map { ($0.structure.idnst, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
