import Foundation
import SASDomain

/// Deterministic, realistic INT_R01 searchsets for benchmarks, tests and sandbox editors.
public enum SyntheticBundles {
    /// Shape of a generated INT_R01 response.
    public struct Shape: Hashable, Sendable {
        public var practitioners: Int
        public var days: Int
        public var slotsPerDay: Int
        /// Share of practitioners with a second consultation site (second role and schedule).
        public var secondSiteRatio: Double

        public init(practitioners: Int = 25, days: Int = 3, slotsPerDay: Int = 8, secondSiteRatio: Double = 0.2) {
            self.practitioners = practitioners
            self.days = days
            self.slotsPerDay = slotsPerDay
            self.secondSiteRatio = secondSiteRatio
        }
    }

    /// The practitioners of a shape (Luhn-valid RPPS, deterministic for `seed`).
    public static func practitioners(count: Int, seed: UInt64) -> [IDNPS] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let first10 = "1" + String(format: "%09llu", rng.next() % 1_000_000_000)
            return try! IDNPS.rpps(RPPS.withCheckDigit(first10)) // swiftlint:disable:this force_try
        }
    }

    /// An INT_R01 searchset: per practitioner one Practitioner, one or two PractitionerRoles (contained Location,
    /// organization IDNST) with one Schedule each, and `slotsPerDay` free slots per day from `start` (Paris days).
    public static func individualSearchset(shape: Shape = Shape(), seed: UInt64 = 42, start: Date,
                                           baseURL: String = "https://agenda.example.fr/fhir") -> FHIRBundle {
        var rng = SplitMix64(seed: seed ^ 0x5A5)
        let ids = practitioners(count: shape.practitioners, seed: seed)
        let window = start...start.addingTimeInterval(Double(shape.days) * 86_400)
        let selfLink = (try? SearchURLBuilder.individualSlots(base: URL(string: baseURL)!, practitioners: Array(ids.prefix(25)),
                                                              window: window))?.absoluteString ?? baseURL
        var builder = SearchsetBuilder(baseURL: baseURL, selfLink: selfLink)
        var included: [Resource] = []
        let families = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT"]
        let givens = ["Pierre", "Marie", "Jean", "Sophie", "Luc", "Claire", "Paul", "Julie", "Marc", "Anne"]
        let cities = [("31000", "Toulouse"), ("47000", "Agen"), ("35000", "Rennes"), ("56100", "Lorient"), ("95000", "Cergy")]
        let startDay = floorDiv(Int64(start.timeIntervalSince1970) + 7200, 86_400)

        for (p, idnps) in ids.enumerated() {
            let pid = "pract-\(idnps.value)"
            var practitioner = Practitioner(id: pid)
            practitioner.meta = Meta(profile: [FHIRSystems.Profile.practitioner])
            practitioner.identifier = [Identifier(system: IdentifierSystem.idnps, value: idnps.value,
                                                  typeSystem: IdentifierSystem.frV20203, typeCode: IdentifierSystem.codeIDNPS)]
            practitioner.name = [HumanName(family: families[p % families.count], given: [givens[Int(rng.next() % 10)]])]
            included.append(.practitioner(practitioner))
            let sites = rng.unit() < shape.secondSiteRatio ? 2 : 1
            for s in 0..<sites {
                let roleID = "role-\(idnps.value)-\(s)", scheduleID = "sched-\(idnps.value)-\(s)", locID = "loc-\(s)"
                let (postalCode, city) = cities[Int(rng.next() % UInt64(cities.count))]
                var location = Location(id: locID)
                location.meta = Meta(profile: [FHIRSystems.Profile.location])
                location.identifier = [Identifier(system: "https://editeur.com", value: "L\(p)-\(s)",
                                                  typeSystem: IdentifierSystem.frLocationIdentifierType, typeCode: IdentifierSystem.codeINTRN)]
                location.address = Address(line: ["\(1 + rng.next() % 120) rue de la République"], city: city, postalCode: postalCode)
                var role = PractitionerRole(id: roleID)
                role.meta = Meta(profile: [FHIRSystems.Profile.practitionerRole])
                role.contained = [.location(location)]
                role.practitioner = .to("Practitioner", pid)
                role.organization = Reference(identifier: Identifier(
                    system: IdentifierSystem.idnst, value: "1" + String(format: "%09llu", rng.next() % 1_000_000_000),
                    typeSystem: IdentifierSystem.frV20203, typeCode: IdentifierSystem.codeIDNST))
                role.location = [.contained(locID)]
                role.telecom = [ContactPoint(system: "phone", value: "+335" + String(format: "%08llu", rng.next() % 100_000_000))]
                included.append(.practitionerRole(role))
                var schedule = Schedule(id: scheduleID)
                schedule.meta = Meta(profile: [FHIRSystems.Profile.schedule])
                schedule.actor = [.to("Practitioner", pid), .to("PractitionerRole", roleID)]
                included.append(.schedule(schedule))

                let perDay = sites == 2 ? (shape.slotsPerDay + s) / 2 : shape.slotsPerDay
                for day in 0..<shape.days {
                    for k in 0..<perDay {
                        let localMinutes = Int64(8 * 60 + (k * 600 / max(perDay, 1)) + Int(rng.next() % 3) * 5)
                        let local = (startDay + Int64(day)) * 86_400 + localMinutes * 60
                        let (utc, offset) = ParisTime.utcSeconds(fromLocal: local)
                        let begin = Date(timeIntervalSince1970: TimeInterval(utc))
                        builder.add(.slot(makeSlot(id: "slot-\(idnps.value)-\(s)-\(day)-\(k)", scheduleID: scheduleID,
                                                   start: begin, offset: offset, rng: &rng, bookingBase: baseURL, idnps: idnps)))
                    }
                }
            }
        }
        for resource in included { builder.add(resource, mode: .include) }
        return builder.build()
    }

    /// The encoded form of ``individualSearchset(shape:seed:start:baseURL:)``.
    public static func individualSearchsetData(shape: Shape = Shape(), seed: UInt64 = 42, start: Date) -> Data {
        (try? FHIRJSON.encode(individualSearchset(shape: shape, seed: seed, start: start))) ?? Data()
    }

    private static func makeSlot(id: String, scheduleID: String, start: Date, offset: Int, rng: inout SplitMix64,
                                 bookingBase: String, idnps: IDNPS) -> Slot {
        var slot = Slot(id: id)
        let kinds: [SlotKind] = [[.public], [.public, .pro], [.pro, .snp], [.snp], [.public, .pro, .snp]][Int(rng.next() % 5)]
        slot.meta = Meta(profile: [FHIRSystems.Profile.slot],
                         security: kinds.map { Coding(system: SlotKind.system, code: $0.code) })
        var types: [CodeableConcept] = [CodeableConcept(coding: [Coding(system: ConsultationType.system, code: "AMB")])]
        if rng.next() % 4 == 0 { types[0].coding?.append(Coding(system: ConsultationType.system, code: "VR")) }
        if rng.next() % 3 == 0 { types.append(CodeableConcept(text: "Consultation de suivi")) }
        slot.serviceType = types
        slot.specialty = [CodeableConcept(coding: [Coding(system: FHIRSystems.specialtyR38, code: "SM54", display: "Médecine générale")])]
        slot.appointmentType = CodeableConcept(coding: [Coding(system: BookingMode.system, code: rng.next() % 10 == 0 ? "WALKIN" : "ROUTINE")])
        slot.schedule = .to("Schedule", scheduleID)
        slot.status = "free"
        slot.start = FHIRInstant(date: start, utcOffsetSeconds: offset, assumedLocalTime: false, isDateOnly: false)
        let end = start.addingTimeInterval(20 * 60)
        slot.end = FHIRInstant(date: end, utcOffsetSeconds: offset, assumedLocalTime: false, isDateOnly: false)
        slot.comment = bookingBase.replacingOccurrences(of: "/fhir", with: "") + "/rdv/" + idnps.value
        return slot
    }
}
