import Directory
import Foundation
import SASDomain
import Storage
import Testing

@Suite("FINESS and SAS enrichment imports into storage")
struct StructureImportTests {
    static func row(_ finess: String, name: String, category: String, label: String) -> String {
        ["structureet", finess, "690000000", name, "", "", "", "12", "R", "DE LA REPUBLIQUE", "", "", "383", "69", "RHONE",
         "69003 LYON", "0478000000", "", category, label, "1101", "Agrégat", "", "8610Z", "03", "ARS", "1", "X",
         "2019-02-13", "2019-02-13", "2024-02-04", ""].joined(separator: ";")
    }

    @Test("FINESS: CPTS, MSP and CDS become structures, other categories are counted, bad lines listed",
          arguments: TestDatabases.engines)
    func finess(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let lines = [
                "finess;etalab;111;2026-05-12",
                Self.row("690011111", name: "CPTS LYON CENTRE", category: "604", label: "CPTS"),
                Self.row("690022222", name: "EHPAD DES LILAS", category: "500", label: "EHPAD"),
                "structureet;69;cassé",
                // Lambert-93 origin: 46.5° N, 3° E.
                "geolocalisation;690011111;700000.0;6600000.0;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-05-04",
                "geolocalisation;690022222;842000.0;6519000.0;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-05-04",
            ]
            let url = TestScratch.url("finess-\(UUID().uuidString).csv")
            try Data(lines.joined(separator: "\n").unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }).write(to: url)
            let summary = try await StructureImporters(database: db).importFINESS(at: url)
            #expect(summary.created == 1)
            #expect(summary.rejectedCount >= 1)
            let row = try #require(try await db.query("SELECT * FROM dir_structures").first)
            #expect(try row.string("idnst") == "1690011111")
            #expect(try row.string("kind") == StructureKind.cpts.rawValue)
            #expect(abs((row["latitude"].doubleValue ?? 0) - 46.5) < 1e-6)
            #expect(abs((row["longitude"].doubleValue ?? 0) - 3.0) < 1e-6)
            let again = try await StructureImporters(database: db).importFINESS(at: url)
            #expect(again.created == 0 && again.updated == 1)
        }
    }

    @Test("enrichment: participation for known practitioners, unknown ones reported, bad entries skipped",
          arguments: TestDatabases.engines)
    func enrichment(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let france = try SyntheticFrance.bundled(.init(practitioners: 50, seed: 11))
            _ = try await DirectorySeeder.seed(france, into: db)
            let known = france.record(at: 0).practitioner.idnps.value
            let unknown = "8" + RPPS.withCheckDigit("1999999999")
            let json = """
                { "participation": [
                    { "idnps": "\(known)", "participates": true, "mode": "individual", "acceptsExtraPatients": true },
                    { "idnps": "\(unknown)", "participates": true, "mode": "individual" },
                    { "idnps": "12", "participates": true, "mode": "individual" } ],
                  "vendorLinks": [ { "idnps": "\(known)", "vendor": "agendaplus" } ] }
                """
            let url = TestScratch.url("enrich-\(UUID().uuidString).json")
            try Data(json.utf8).write(to: url)
            let summary = try await StructureImporters(database: db).importEnrichment(at: url)
            #expect(summary.updated == 1)
            #expect(summary.rejections.contains { $0.reason.contains(unknown) })
            #expect(summary.rejections.contains { $0.reason.contains("participation[2]") })
            let row = try #require(try await db.query("SELECT participates, accepts_extra FROM dir_practitioners WHERE idnps = ?", [.text(known)]).first)
            #expect(row.bool("participates") && row.bool("accepts_extra"))
            let links = try await db.query("SELECT vendor FROM dir_vendor_links WHERE idnps = ?", [.text(known)]).compactMap { $0.optionalString("vendor") }
            #expect(links.contains("agendaplus"))
        }
    }
}
