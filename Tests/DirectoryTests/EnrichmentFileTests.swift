@testable import Directory
import Foundation
import SASDomain
import Testing

/// The SAS enrichment file: good entries are mapped onto the model, bad ones reported with their JSON path.
@Suite struct EnrichmentFileTests {
    static let json = #"""
    {
      "version": 1,
      "structures": [
        { "idnst": "1690000001", "kind": "CPTS", "name": "CPTS Lyon Est", "department": "69",
          "latitude": 45.75, "longitude": 4.87, "phone": "04 78 00 00 00",
          "interventionArea": { "inseeCodes": ["69383", "69388", "2A004"] } },
        { "idnst": "31234567800012", "kind": "sos", "name": "SOS Médecins Lyon", "department": "69",
          "latitude": 45.76, "longitude": 4.84,
          "interventionArea": { "centre": { "latitude": 45.76, "longitude": 4.84 }, "radiusKm": 15 },
          "consultationPlaces": [ { "name": "Centre Lyon 7", "latitude": 45.74, "longitude": 4.84,
            "address": { "number": "12", "streetType": "Rue", "streetName": "de Marseille",
                         "postcode": "69007", "city": "Lyon" } } ] },
        { "idnst": "31234567800020", "kind": "MSP", "name": "MSP avec un SIRET", "department": "69",
          "latitude": 45.7, "longitude": 4.8 },
        { "idnst": "1690000004", "kind": "CDS", "name": "CDS", "department": "69", "latitude": 45.7, "longitude": 4.8,
          "interventionArea": { "inseeCodes": ["69383"], "centre": { "latitude": 45.7, "longitude": 4.8 }, "radiusKm": 5 } },
        { "idnst": "1690000005", "kind": "MSP", "name": "MSP", "department": "69", "latitude": "45.7", "longitude": 4.8 },
        { "idnst": "1690000006", "kind": "MSP", "name": "MSP", "department": "69", "latitude": 45.7, "longitude": 4.8,
          "consultationPlaces": [ { "name": "X", "latitude": 45.7, "longitude": 4.8,
                                    "address": { "postcode": "69001", "city": "Lyon" } } ] },
        { "idnst": "1690000007", "kind": "EHPAD", "name": "EHPAD", "department": "69", "latitude": 45.7, "longitude": 4.8 },
        { "idnst": "1690000001", "kind": "MSP", "name": "Doublon", "department": "69", "latitude": 45.7, "longitude": 4.8 }
      ],
      "participation": [
        { "idnps": "810100050075", "participates": true, "mode": "cpts", "structure": "1690000001",
          "acceptsExtraPatients": true, "forfaitReorientation": true,
          "vacations": [ { "start": "2026-07-01", "end": "2026-07-15" }, { "start": "2026-12-24", "end": "2026-12-26" } ] },
        { "idnps": "810100050083", "participates": true, "mode": "individual", "acceptsExtraPatients": true },
        { "idnps": "12345", "participates": true, "mode": "individual" },
        { "idnps": "810100050091", "participates": true, "mode": "hopital" },
        { "idnps": "810100050109", "participates": true, "mode": "msp", "structure": "1690000006",
          "acceptsExtraPatients": true },
        { "idnps": "810100050117", "participates": true, "mode": "individual",
          "vacations": [ { "start": "2026-08-10", "end": "2026-08-01" } ] },
        { "idnps": "810100050125", "participates": true, "mode": "individual",
          "vacations": [ { "start": "2026-02-30", "end": "2026-03-02" } ] },
        { "idnps": "810100050133", "participates": "oui" },
        { "idnps": "810100050141" },
        { "idnps": "810100050075", "participates": false },
        { "idnps": "810100050158", "participates": true, "mode": "cpts", "structure": "31234567800012" },
        { "idnps": "810100050166", "participates": false, "vacations": [] },
        { "idnps": "810100050174", "participates": true, "mode": "sos", "structure": "31234567800012" }
      ],
      "vendorLinks": [
        { "idnps": "810100050075", "vendor": "editeur-a" },
        { "idnps": "810100050083", "vendor": "  " },
        { "idnps": "810100050075", "vendor": "editeur-a" },
        { "idnps": "ABC", "vendor": "editeur-b" },
        { "idnps": "810100050083", "vendor": "editeur-b" }
      ],
      "comment": "unknown keys are ignored"
    }
    """#

    static func load(_ text: String, resolve: @escaping (String) -> Int? = { ["69383": 10, "69388": 11][$0] })
        throws -> (EnrichmentData, [EnrichmentProblem]) {
        var problems: [EnrichmentProblem] = []
        let data = try EnrichmentFile.load(data: Data(text.utf8), resolvingINSEE: resolve) { problems.append($0) }
        return (data, problems)
    }

    static func instant(_ iso: String) -> Date { ISO8601DateFormatter().date(from: iso)! }

    @Test func keepsGoodEntries() throws {
        let (data, _) = try Self.load(Self.json)
        #expect(data.structures.map(\.structure.idnst.value) == ["1690000001", "331234567800012"])
        let cpts = data.structures[0]
        #expect(cpts.structure.kind == .cpts && cpts.structure.departmentCode == "69")
        #expect(cpts.structure.phone == "+33478000000")
        #expect(cpts.structure.interventionArea == .places([10, 11]))
        #expect(cpts.inseeCodes == ["69383", "69388", "2A004"])
        let sos = data.structures[1].structure
        #expect(sos.kind == .sosMedecins && sos.siret == "31234567800012")
        #expect(sos.interventionArea == .radius(latitude: 45.76, longitude: 4.84, km: 15))
        #expect(sos.consultationPlaces == [ConsultationPlace(
            name: "Centre Lyon 7",
            address: PostalAddress(number: "12", streetType: "Rue", streetName: "de Marseille", postcode: "69007",
                                   city: "Lyon"),
            latitude: 45.74, longitude: 4.84)])

        #expect(data.participations.map(\.idnps.value)
            == ["810100050075", "810100050083", "810100050166", "810100050174"])
        let first = data.participations[0].participation
        #expect(first.participates && first.mode == .cpts && first.structure?.value == "1690000001")
        #expect(first.acceptsExtraPatients && first.forfaitReorientation)
        // Paris days: summer (UTC+2) and winter (UTC+1); the last day is inclusive.
        #expect(first.vacations == [
            VacationPeriod(start: Self.instant("2026-06-30T22:00:00Z"), end: Self.instant("2026-07-15T22:00:00Z")),
            VacationPeriod(start: Self.instant("2026-12-23T23:00:00Z"), end: Self.instant("2026-12-26T23:00:00Z")),
        ])
        #expect(first.vacations[0].contains(Self.instant("2026-07-15T21:59:00Z")))
        #expect(!first.vacations[0].contains(Self.instant("2026-07-15T22:00:00Z")))
        let individual = data.participations[1].participation
        #expect(individual.mode == .individual && individual.structure == nil && individual.acceptsExtraPatients)
        #expect(!individual.forfaitReorientation && individual.vacations.isEmpty)
        #expect(data.participations[2].participation == .none)
        #expect(data.participations[3].participation.mode == .sosMedecins)

        #expect(data.vendorLinks == [
            VendorLink(practitioner: try IDNPS(parsing: "810100050075"), vendorID: "editeur-a"),
            VendorLink(practitioner: try IDNPS(parsing: "810100050083"), vendorID: "editeur-b"),
        ])
    }

    @Test func reportsBadEntriesWithTheirPath() throws {
        let (_, problems) = try Self.load(Self.json)
        let expected: [(String, String)] = [
            ("structures[0].interventionArea.inseeCodes", "codes INSEE sans lieu connu, laissés hors de la zone : 2A004"),
            ("structures[2].idnst", "identifiée par son FINESS"),
            ("structures[3].interventionArea", "pas les deux"),
            ("structures[4].latitude", "type inattendu (nombre attendu)"),
            ("structures[5].consultationPlaces", "réservés à SOS Médecins"),
            ("structures[6].kind", "type de structure « EHPAD » inconnu"),
            ("structures[7]", "déjà décrite plus haut"),
            ("participation[2].idnps", "L'identifiant « 12345 »"),
            ("participation[3].mode", "mode « hopital » inconnu"),
            ("participation[4].acceptsExtraPatients", "patients en sus"),
            ("participation[5].vacations[0]", "la fin (2026-08-01) précède le début (2026-08-10)"),
            ("participation[6].vacations[0].start", "date « 2026-02-30 » invalide"),
            ("participation[7].participates", "type inattendu (booléen attendu)"),
            ("participation[8]", "champ obligatoire « participates » absent"),
            ("participation[9]", "déjà donnée plus haut"),
            ("participation[10].structure", "identifiée par son FINESS"),
            ("vendorLinks[1].vendor", "identifiant d'éditeur vide"),
            ("vendorLinks[2]", "lien en double"),
            ("vendorLinks[3].idnps", "L'identifiant « ABC »"),
        ]
        #expect(problems.map(\.path) == expected.map(\.0))
        for (problem, (path, text)) in zip(problems, expected) {
            #expect(problem.reason.contains(text), "\(path): \(problem.reason)")
        }
    }

    @Test func participationThroughAStructureOfAnotherKindIsRejected() throws {
        let text = #"""
        { "structures": [ { "idnst": "1690000006", "kind": "MSP", "name": "MSP", "department": "69",
                            "latitude": 45.7, "longitude": 4.8 } ],
          "participation": [ { "idnps": "810100050075", "participates": true, "mode": "cpts",
                               "structure": "1690000006" } ] }
        """#
        let (data, problems) = try Self.load(text)
        #expect(data.participations.isEmpty && data.structures.count == 1)
        #expect(problems.map(\.path) == ["participation[0].structure"])
        #expect(problems.first?.reason.contains("incompatible avec le mode cpts") == true)
    }

    @Test func unreadableFilesThrow() {
        #expect(throws: EnrichmentFileError.self) { try Self.load("{ not json") }
        #expect(throws: EnrichmentFileError.self) { try Self.load(#"{ "participation": { "idnps": "810100050075" } }"#) }
        #expect(throws: EnrichmentFileError.self) { try Self.load("[]") }
    }

    @Test func encodedFilesLoadBack() throws {
        let file = EnrichmentFile(
            participation: [.init(idnps: "810100050075", participates: true, mode: .msp, structure: "1690000006",
                                  vacations: [.init(start: "2026-03-28", end: "2026-03-29")])],
            structures: [.init(idnst: "1690000006", kind: .msp, name: "MSP", department: "2A", latitude: 41.92,
                               longitude: 8.73, interventionArea: .init(inseeCodes: ["2A004"]))],
            vendorLinks: [.init(idnps: "810100050075", vendor: "editeur-a")])
        let data = try JSONEncoder().encode(file)
        #expect(try JSONDecoder().decode(EnrichmentFile.self, from: data) == file)
        var problems: [EnrichmentProblem] = []
        let loaded = try EnrichmentFile.load(data: data, resolvingINSEE: { $0 == "2A004" ? 7 : nil }) {
            problems.append($0)
        }
        #expect(problems.isEmpty)
        #expect(loaded.structures.first?.structure.interventionArea == .places([7]))
        #expect(loaded.structures.first?.structure.departmentCode == "2A")
        // 28 March 2026 is the day before the switch to summer time: 00:00 CET → 00:00 CEST two days later.
        #expect(loaded.participations.first?.participation.vacations
            == [VacationPeriod(start: Self.instant("2026-03-27T23:00:00Z"), end: Self.instant("2026-03-29T22:00:00Z"))])
        #expect(loaded.vendorLinks.count == 1)
    }
}
