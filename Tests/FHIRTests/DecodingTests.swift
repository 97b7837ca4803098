import Foundation
@testable import FHIR
import SASDomain
import Testing

@Suite("FHIR decoding")
struct DecodingTests {
    @Test(arguments: Fixture.allNames)
    func fastDecoderAgreesWithJSONDecoder(name: String) throws {
        let data = try Fixture.data(name)
        if name.hasPrefix("bundle") || name.hasPrefix("quirk") {
            let fast = try FHIRJSON.decodeBundle(data)
            let reference = try JSONDecoder().decode(FHIRBundle.self, from: data)
            #expect(fast == reference)
            #expect(fast.entry?.allSatisfy { $0.decodingIssue == nil && $0.resource != nil } == true)
        } else {
            #expect(try FHIRJSON.decodeResource(data) == JSONDecoder().decode(Resource.self, from: data))
        }
    }

    @Test(arguments: Fixture.allNames)
    func encodingRoundTrips(name: String) throws {
        let data = try Fixture.data(name)
        let resource = try FHIRJSON.decodeResource(data)
        let encoded = try FHIRJSON.encode(resource)
        #expect(try FHIRJSON.decodeResource(encoded) == resource)
        #expect(encoded.starts(with: Data(#"{"resourceType":"#.utf8)))
    }

    @Test func psBundleShape() throws {
        let bundle = try Fixture.bundle("bundle-psindiv")
        #expect(bundle.type == "searchset")
        #expect(bundle.total == 4)
        #expect(bundle.selfLink?.contains("%7C810002673899") == true)
        let types = bundle.resources.map(\.resourceType)
        #expect(types.filter { $0 == "Slot" }.count == 4)
        #expect(types.filter { $0 == "Schedule" }.count == 3)
        #expect(types.filter { $0 == "Practitioner" }.count == 2)
        #expect(types.filter { $0 == "PractitionerRole" }.count == 3)
        #expect(bundle.entry?[7].search == nil) // Practitioner2 has no search.mode
        let role = try #require(bundle.resources.compactMap(\.practitionerRole).first)
        #expect(role.contained?.first?.location?.address?.city == "Aussonne")
        #expect(role.organization?.identifier?.value == "412345678912345")
    }

    @Test func appointmentsCarryTheOperator() throws {
        let booked = try FHIRJSON.decode(Appointment.self, from: Fixture.data("appointment-booked"))
        #expect(booked.knownStatus == .booked)
        #expect(booked.appointmentOperator?.identifier?.value == "3456780581/11242343")
        #expect(booked.identifier?.first?.value == "b6e39355-8a61-4556-b340-36f7b95fec6a")
        #expect(booked.start?.date == instant("2022-09-04T13:00:00Z"))
        #expect(booked.participant?.first?.actor?.identifier?.value == "810100050075")
        #expect(booked.participant?.first?.status == "accepted")

        let cancelled = try FHIRJSON.decode(Appointment.self, from: Fixture.data("appointment-cancelled"))
        #expect(cancelled.knownStatus == .cancelled)
        #expect(cancelled.identifier == booked.identifier)

        let sos = try FHIRJSON.decode(Appointment.self, from: Fixture.data("appointment-sos-pending"))
        #expect(sos.knownStatus == .pending)
        #expect(sos.participant?.first?.actor == nil)
        #expect(sos.participant?.first?.status == "needs-action")
        let op = try #require(sos.appointmentOperator?.identifier)
        #expect(try RegulatorIdentifier(system: op.system, value: op.value ?? "") ==
                .technical(try SASTechnicalID(parsing: "1ef1c748-01a3-6180-b098-73283ce4e5b1")))

        var edited = booked
        edited.appointmentOperator = Reference(identifier: Identifier(system: IdentifierSystem.idnps, value: "810002673899"))
        #expect(edited.extension_?.count == 1)
        #expect(edited.appointmentOperator?.identifier?.value == "810002673899")
    }

    @Test func regulatorsDecode() throws {
        let r1 = try FHIRJSON.decode(Practitioner.self, from: Fixture.data("regulator-1"))
        #expect(PractitionerRegul.regulatorIdentifier(of: r1) == .national(try IDNPS(parsing: "3456780581/11242343")))
        #expect(r1.meta?.source == IdentifierSystem.sasTechnical)
        let r3 = try FHIRJSON.decode(Practitioner.self, from: Fixture.data("regulator-3"))
        #expect(r3.active == false)
        let r4 = try FHIRJSON.decode(Practitioner.self, from: Fixture.data("regulator-4"))
        #expect(PractitionerRegul.regulatorIdentifier(of: r4)?.typeCode == "INTRN")
        #expect(throws: FHIRDecodingError.self) { try FHIRJSON.decode(Slot.self, from: Fixture.data("regulator-4")) }
    }

    @Test func unknownResourceTypesArePreservedVerbatim() throws {
        let json = #"{"resourceType":"Basic","id":"b1","code":{"text":"x"},"extra":[1,true,null,"s",{"k":2.5}]}"#
        let resource = try FHIRJSON.decodeResource(Data(json.utf8))
        guard case .unknown(let type, let raw) = resource else { Issue.record("not unknown"); return }
        #expect(type == "Basic")
        #expect(resource.id == "b1")
        #expect(raw["extra"] == .array([.number(1), .bool(true), .null, .string("s"), .object(["k": .number(2.5)])]))
        let back = try FHIRJSON.decodeResource(FHIRJSON.encode(resource))
        #expect(back == resource)
    }

    @Test func unknownElementsAreIgnoredAndEscapesDecoded() throws {
        let json = #"{"resourceType":"Slot","id":"s\u00e9","futureElement":{"deep":[[[{"a":"\"}"}]]]},"status":"fr\u0065e","comment":"a\/b\nc","start":"2021-11-05T09:00:00Z","end":"2021-11-05T09:30:00Z","schedule":{"reference":"Schedule/1"}}"#
        let slot = try FHIRJSON.decode(Slot.self, from: Data(json.utf8))
        #expect(slot.id == "sé")
        #expect(slot.status == "free")
        #expect(slot.comment == "a/b\nc")
    }

    @Test func operationOutcomeInsteadOfABundleIsTyped() throws {
        let oo = OperationOutcome.issue(.exception, french: "Erreur", diagnostics: "boom")
        let data = try FHIRJSON.encode(oo)
        do {
            _ = try FHIRJSON.decodeBundle(data)
            Issue.record("expected an error")
        } catch {
            guard case .unexpectedResourceType(let expected, let found, let outcome) = error else {
                Issue.record("wrong error \(error)"); return
            }
            #expect(expected == "Bundle")
            #expect(found == "OperationOutcome")
            #expect(outcome?.issue.first?.diagnostics == "boom")
        }
    }
}
