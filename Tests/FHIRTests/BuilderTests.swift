import Foundation
@testable import FHIR
import SASDomain
import Testing

@Suite("Builders")
struct BuilderTests {
    let base = URL(string: "https://editeur.fr/fhir/")!
    let window = instant("2024-06-12T14:20:00Z")...instant("2024-06-15T14:20:00Z")

    @Test func individualSearchURL() throws {
        let ids = [try IDNPS(parsing: "810002909371"), try IDNPS(parsing: "10001288385"), try IDNPS(parsing: "810002909371")]
        let url = try SearchURLBuilder.individualSlots(base: base, practitioners: ids, window: window)
        #expect(url.absoluteString == "https://editeur.fr/fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor"
            + "&status=free&start=ge2024-06-12T16:20:00.000%2B02:00&start=le2024-06-15T16:20:00.000%2B02:00"
            + "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810002909371,urn:oid:1.2.250.1.71.4.2.1%7C810001288385"
            + "&_count=1000")
    }

    @Test func cptsSearchURLAddsTheIncludes() throws {
        let url = try SearchURLBuilder.cptsSlots(base: base, practitioners: [try IDNPS(parsing: "810002909371")], window: window)
        #expect(url.absoluteString == "https://editeur.fr/fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor"
            + "&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization"
            + "&status=free&start=ge2024-06-12T16:20:00.000%2B02:00&start=le2024-06-15T16:20:00.000%2B02:00"
            + "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810002909371&_count=1000")
    }

    @Test func sosSearchURL() throws {
        let sos = instant("2023-08-18T07:00:00Z")...instant("2023-08-20T06:00:00Z")
        let url = try SearchURLBuilder.sosSchedules(base: URL(string: "https://editeur.fr")!,
                                                    associations: [try IDNST.siret("34173748400020"), try IDNST(parsing: "392080466300010")],
                                                    window: sos)
        #expect(url.absoluteString == "https://editeur.fr/Schedule?_revinclude=Slot:schedule&_include=Schedule:actor:Location"
            + "&_include:iterate=Location:organization&_has:Slot:schedule:start=ge2023-08-18T09:00:00.000%2B02:00"
            + "&_has:Slot:schedule:start=le2023-08-20T08:00:00.000%2B02:00&_has:Slot:schedule:status=free"
            + "&actor:Location.organization.identifier=urn:oid:1.2.250.1.71.4.2.2%7C334173748400020,urn:oid:1.2.250.1.71.4.2.2%7C392080466300010"
            + "&_count=1000")
    }

    @Test func searchLimitsAreEnforced() throws {
        let many = SyntheticBundles.practitioners(count: 26, seed: 1)
        #expect(throws: SearchQueryError.tooManyIdentifiers(count: 26, limit: 25)) {
            try SearchURLBuilder.individualSlots(base: base, practitioners: many, window: window)
        }
        _ = try SearchURLBuilder.individualSlots(base: base, practitioners: Array(many.prefix(25)), window: window)
        #expect(throws: SearchQueryError.noIdentifiers) { try SearchURLBuilder.cptsSlots(base: base, practitioners: [], window: window) }
        #expect(throws: SearchQueryError.emptyWindow) {
            try SearchURLBuilder.individualSlots(base: base, practitioners: Array(many.prefix(1)), window: window.lowerBound...window.lowerBound)
        }
        let sirets = try (0..<11).map { try IDNST.siret(String(34_173_748_400_020 + $0)) }
        #expect(throws: SearchQueryError.tooManyIdentifiers(count: 11, limit: 10)) {
            try SearchURLBuilder.sosSchedules(base: base, associations: sirets, window: window)
        }
        #expect(throws: SearchQueryError.notASIRET("1810004421")) {
            try SearchURLBuilder.sosSchedules(base: base, associations: [try IDNST(parsing: "1810004421")], window: window)
        }
        #expect(SearchQueryError.tooManyIdentifiers(count: 26, limit: 25).message.contains("25 au maximum"))
    }

    @Test func regulatorBodiesMatchTheIGExamples() throws {
        let body = PractitionerRegul.body(identifier: .national(try IDNPS(parsing: "3456780581/11242343")), active: true,
                                          familyName: "Loridon", givenName: "Sébastien", email: "sebastien.loridon@test.com",
                                          id: "ExamplePractitionerRegul1")
        #expect(Resource.practitioner(body) == (try FHIRJSON.decodeResource(Fixture.data("regulator-1"))))
        let technical = PractitionerRegul.body(identifier: .technical(try SASTechnicalID(parsing: "1ef1c748-01a3-6180-b098-73283ce4e5b1")),
                                               active: true, familyName: "Loridon", givenName: "Sébastien",
                                               email: "sebastien.loridon@test.com", id: "ExamplePractitionerRegul4")
        #expect(Resource.practitioner(technical) == (try FHIRJSON.decodeResource(Fixture.data("regulator-4"))))
        #expect(PractitionerRegul.conditionalUpdatePath(identifier: .technical(try SASTechnicalID(parsing: "b6e39355-8a61-4556-b340-36f7b95fec6a")))
                == "Practitioner?identifier=urn:oid:1.2.250.1.213.3.6%7Cb6e39355-8a61-4556-b340-36f7b95fec6a")
        let encoded = String(decoding: try FHIRJSON.encode(body), as: UTF8.self)
        #expect(encoded.hasPrefix(#"{"resourceType":"Practitioner""#))
        #expect(encoded.contains(#""source":"urn:oid:1.2.250.1.213.3.6""#))
    }

    @Test func operationOutcomes() throws {
        let malformed = OperationOutcome.malformed(.truncated(offset: 12))
        #expect(malformed.httpStatus == 400)
        #expect(malformed.issue.first?.code == "structure")
        #expect(malformed.issue.first?.details?.text == "Le format de la requête FHIR transmise est incorrect : La réponse est incomplète (document JSON tronqué).")
        let rule = OperationOutcome.businessRule(french: "Régulateur inconnu.", diagnostics: "unknown operator 810000000000")
        #expect(rule.httpStatus == 422)
        #expect(OperationOutcome.notFound(french: "RDV inconnu.").httpStatus == 404)
        #expect(OperationOutcome.internalError(requestID: "r-1").issue.first?.severity == "fatal")
        let decoded = try FHIRJSON.decode(OperationOutcome.self, from: FHIRJSON.encode(rule))
        #expect(decoded == rule)
    }

    @Test func searchsetBuilderProducesConformantBundles() throws {
        let source = try Fixture.bundle("bundle-sos")
        var builder = SearchsetBuilder(baseURL: "https://sandbox.sas.local/fhir/", selfLink: "https://sandbox.sas.local/fhir/Schedule?x=1")
        for resource in source.resources {
            builder.add(resource, mode: resource.resourceType == "Schedule" ? .match : .include)
        }
        let data = try builder.encoded()
        #expect(try SearchsetBuilder.firstEmptyElement(in: data) == nil)
        let bundle = try FHIRJSON.decodeBundle(data)
        #expect(bundle.total == 3)
        #expect(bundle.selfLink == "https://sandbox.sas.local/fhir/Schedule?x=1")
        #expect(bundle.entry?.first?.fullUrl == "https://sandbox.sas.local/fhir/Schedule/ExampleScheduleSOS1")
        #expect(bundle.entry?.allSatisfy { $0.search?.mode != nil && $0.fullUrl != nil } == true)
        let sos = NormaliserTests.sosWindow
        #expect(BundleNormaliser.normalise(bundle: bundle, flow: .sos, window: sos, now: sos.lowerBound).slots.count == 4)

        var empty = SearchsetBuilder(baseURL: "https://x", selfLink: "https://x/Slot")
        var slot = Slot(id: "s")
        slot.serviceType = []
        empty.add(.slot(slot))
        #expect(throws: SearchsetBuilderError.emptyElement(path: "entry[0].resource.serviceType")) { try empty.encoded() }
    }
}
