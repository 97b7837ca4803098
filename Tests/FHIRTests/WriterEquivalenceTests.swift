import Foundation
@testable import FHIR
import SASDomain
import Testing

/// The hand-made writer must give exactly the bytes of the reference encoding (`JSONEncoder` + `resourceType`
/// hoisting) for every model it writes.
@Suite("FHIR JSON writer")
struct WriterEquivalenceTests {
    private func expectSameBytes(_ value: some Encodable & FHIRJSONWritable, _ label: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try FHIRJSON.encodeWithFoundation(value)
        let fast = try #require(FHIRJSONWriter.data(value), "writer declined \(label)", sourceLocation: sourceLocation)
        #expect(String(decoding: fast, as: UTF8.self) == String(decoding: reference, as: UTF8.self), "\(label)",
                sourceLocation: sourceLocation)
        #expect(try FHIRJSON.encode(value) == reference, sourceLocation: sourceLocation)
    }

    @Test func everyFixtureEncodesIdentically() throws {
        for name in Fixture.allNames {
            let data = try Fixture.data(name)
            let resource = try FHIRJSON.decodeResource(data)
            try expectSameBytes(resource, name)
            if case .unknown = resource { continue }
            if resource.resourceType == "Bundle" { try expectSameBytes(try FHIRJSON.decodeBundle(data), name + " (Bundle)") }
        }
    }

    @Test func syntheticSearchsetEncodesIdentically() throws {
        let bundle = SyntheticBundles.individualSearchset(shape: .init(practitioners: 6, days: 2, slotsPerDay: 4),
                                                          start: FHIRBenchmark.referenceStart)
        try expectSameBytes(bundle, "synthetic searchset")
        // And the writer's bytes decode back to the same model.
        let again = try FHIRJSON.decodeBundle(try #require(FHIRJSONWriter.data(bundle)))
        #expect(again.entry == bundle.entry)
    }

    @Test func everyElementAndEscape() throws {
        let tricky = "guillemet \" barre \\ / saut\nretour\rtab\tbs\u{8}ff\u{c} nul\u{0} us\u{1f} é 中 😀 \u{7f}"
        var location = Location(id: "loc-1")
        location.meta = Meta(profile: ["http://x/p"], security: [Coding(system: "s", code: "c", display: "d", version: "1")],
                             source: "src", tag: [Coding(code: "t")], versionId: "3",
                             lastUpdated: FHIRInstant(Date(timeIntervalSince1970: 1_765_180_800.25)))
        location.identifier = [Identifier(system: "s", value: tricky, type: CodeableConcept(text: "t"), use: "official")]
        location.status = "active"
        location.name = tricky
        location.description = "desc"
        location.telecom = [ContactPoint(system: "phone", value: "+33", use: "work", rank: 2)]
        location.address = Address(line: ["1 rue", ""], city: "Lyon", postalCode: "69001", country: "FR", use: "work",
                                   type: "physical", text: "t", district: "d", state: "s")
        location.position = Location.Position(longitude: 4.835659, latitude: 45.764043, altitude: 170)
        location.managingOrganization = Reference(reference: "Organization/1", type: "Organization",
                                                  identifier: Identifier(system: "s", value: "v"), display: "org")
        location.partOf = .to("Location", "2")
        location.hoursOfOperation = [Location.HoursOfOperation(daysOfWeek: ["mon", "tue"], allDay: false,
                                                               openingTime: "08:00:00", closingTime: "20:00:00")]
        try expectSameBytes(Resource.location(location), "location")

        for value in [0.0, -0.0, 1.0, 2.5, 1e-7, 123_456_789.125, 1e21, -45.75, 0.1 + 0.2] {
            var l = Location(id: "p")
            l.position = Location.Position(longitude: value, latitude: -value, altitude: nil)
            try expectSameBytes(l, "double \(value)")
        }

        var role = PractitionerRole(id: "r")
        role.contained = [.location(location), .organization(Organization(id: "o"))]
        role.active = true
        role.code = [CodeableConcept(coding: [Coding(system: "s", code: "c")], text: "x",
                                     extensions: [Extension(url: "u", value: .boolean(false))])]
        role.specialty = []
        role.healthcareService = [.to("HealthcareService", "h")]
        role.practitioner = .to("Practitioner", "p")
        try expectSameBytes(role, "role")

        var practitioner = Practitioner(id: "p")
        practitioner.active = false
        practitioner.gender = "female"
        practitioner.name = [HumanName(family: "Roux", given: ["Anne", "Marie"], use: "official", text: "Dr Anne Roux",
                                       prefix: ["Dr"], suffix: ["PhD"])]
        practitioner.address = [Address(city: "Paris")]
        try expectSameBytes(practitioner, "practitioner")

        var appointment = Appointment(id: "a")
        appointment.status = "booked"
        appointment.start = FHIRInstant(Date(timeIntervalSince1970: 1_765_180_800))
        appointment.end = FHIRInstant(Date(timeIntervalSince1970: 1_765_182_000))
        appointment.created = FHIRInstant(Date(timeIntervalSince1970: 1_765_100_000))
        appointment.description = "d"
        appointment.comment = "c"
        appointment.participant = [Appointment.Participant(actor: .to("Practitioner", "p"), status: "accepted",
                                                           type: [CodeableConcept(text: "t")], required: "required")]
        appointment.appointmentOperator = .to("Practitioner", "regul")
        appointment.extension_ = (appointment.extension_ ?? []) + [
            Extension(url: "x-int", value: .integer(-3)), Extension(url: "x-str", value: .string(tricky)),
            Extension(url: "x-code", value: .code("c")), Extension(url: "x-uri", value: .uri("urn:x")),
            Extension(url: "x-cc", value: .codeableConcept(CodeableConcept(text: "t"))),
            Extension(url: "x-coding", value: .coding(Coding(code: "c"))),
            Extension(url: "x-id", value: .identifier(Identifier(value: "v"))),
            Extension(url: "x-dt", value: .dateTime(FHIRInstant(Date(timeIntervalSince1970: 0)))),
            Extension(url: "x-period", value: .period(Period(start: FHIRInstant(Date(timeIntervalSince1970: 0))))),
            Extension(url: "x-nested", extensions: [Extension(url: "inner", value: .boolean(true))]),
            Extension(url: "x-other", value: .other(name: "valueQuantity", json: .object(["value": .number(2.5), "unit": .string("mg")]))),
        ]
        try expectSameBytes(appointment, "appointment")

        var schedule = Schedule(id: "s")
        schedule.active = true
        schedule.actor = [.to("Practitioner", "p")]
        schedule.planningHorizon = Period(start: FHIRInstant(Date(timeIntervalSince1970: 0)),
                                          end: FHIRInstant(Date(timeIntervalSince1970: 86_400)))
        schedule.comment = "c"
        schedule.serviceType = [CodeableConcept(text: "x")]
        var service = HealthcareService(id: "h")
        service.active = true
        service.providedBy = .to("Organization", "o")
        service.type = [CodeableConcept(text: "CPTS")]
        service.name = "Service"
        service.location = [.to("Location", "l")]
        var organization = Organization(id: "o")
        organization.type = [CodeableConcept(text: "CPTS")]
        organization.name = "CPTS du Rhône"
        organization.partOf = .to("Organization", "parent")
        organization.address = [Address(line: ["1 place"], city: "Lyon")]
        var slot = Slot(id: "slot")
        slot.overbooked = false
        slot.serviceCategory = [CodeableConcept(text: "c")]
        slot.identifier = [Identifier(value: "i")]
        slot.extension_ = [Extension(url: "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType",
                                     value: .reference(.to("HealthcareService", "h")))]
        let outcome = OperationOutcome(issue: [
            OperationOutcome.Issue(severity: "error", code: "invalid", details: CodeableConcept(text: "détails"),
                                   diagnostics: tricky, expression: ["Slot.start"]),
            OperationOutcome.Issue(severity: "warning", code: "processing"),
        ], id: "oo")
        let unknown = Resource.unknown(type: "Basic", json: .object([
            "resourceType": .string("Basic"), "id": .string("b"), "a10": .number(1), "a9": .bool(true), "B": .null,
            "a": .array([.number(1e300), .number(-4), .string("s"), .object(["z": .null, "Y": .number(0.5)])]),
        ]))
        var bundle = FHIRBundle(type: "searchset")
        bundle.id = "b"
        bundle.total = 7
        bundle.timestamp = FHIRInstant(Date(timeIntervalSince1970: 1_765_180_800))
        bundle.meta = Meta(lastUpdated: FHIRInstant(Date(timeIntervalSince1970: 1_765_180_800)))
        bundle.link = [FHIRBundle.Link(relation: "self", url: "https://e.fr/fhir/Slot?a=b|c")]
        bundle.entry = [
            BundleEntry(fullUrl: "https://e.fr/fhir/Slot/slot", resource: .slot(slot),
                        search: BundleEntry.Search(mode: "match", score: 0.75)),
            BundleEntry(resource: .schedule(schedule), search: BundleEntry.Search(mode: "include")),
            BundleEntry(resource: .healthcareService(service)), BundleEntry(resource: .organization(organization)),
            BundleEntry(resource: .operationOutcome(outcome)), BundleEntry(resource: unknown), BundleEntry(fullUrl: "only"),
        ]
        try expectSameBytes(bundle, "bundle")
        try expectSameBytes(outcome, "outcome")
    }

    @Test func nonFiniteNumbersFallBackToTheEncoderError() {
        var location = Location(id: "nan")
        location.position = Location.Position(longitude: .nan, latitude: 0, altitude: nil)
        #expect(FHIRJSONWriter.data(location) == nil)
        #expect(throws: (any Error).self) { try FHIRJSON.encode(location) }
    }
}
