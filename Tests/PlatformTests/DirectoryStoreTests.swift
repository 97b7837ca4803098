@testable import Directory
import Foundation
import Logging
import SASDomain
import Storage
import Testing

@Suite("Directory storage, RPPS import and index")
struct DirectoryStoreTests {
    static let geocoder: OfflineGeocoder = try! OfflineGeocoder(places: .load(), departments: .load())
    static let specialties: Specialties = try! .load()

    static func tempFile(_ name: String) -> URL {
        TestScratch.url("sas-\(UUID().uuidString)-\(name)")
    }

    /// A synthetic RPPS extraction of `count` practitioners; returns its URL and distinct IDNPS.
    static func rppsFile(count: Int, seed: UInt64 = 7) throws -> (URL, Set<String>) {
        let france = try SyntheticFrance.bundled(.init(practitioners: count, seed: seed))
        let url = tempFile("rpps.txt")
        _ = try france.writeRPPSExtract(to: url)
        var ids = Set<String>()
        france.forEachRecord { ids.insert($0.practitioner.idnps.value) }
        return (url, ids)
    }

    @Test("an RPPS import creates, a re-import updates without duplicates; broken lines are listed and skipped",
          arguments: TestDatabases.engines)
    func importIsIdempotent(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let (url, ids) = try Self.rppsFile(count: 300)
            // Break two lines: one truncated, one with a bad IDNPS.
            var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
            lines[10] = String(lines[10].prefix(40))
            var fields = lines[20].components(separatedBy: "|")
            fields[2] = "8999"
            lines[20] = fields.joined(separator: "|")
            try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)

            let importer = RPPSImporter(database: db, geocoder: Self.geocoder, specialties: Self.specialties)
            let first = try await importer.importFile(at: url)
            #expect(first.rejectedCount == 2)
            #expect(first.rejections.map(\.line) == [11, 21])
            #expect(first.rejections[1].reason.contains("8999"))
            let store = DirectoryStore(database: db)
            let stored = try await store.existingIDNPS()
            #expect(stored.isSubset(of: ids))
            #expect(first.created == stored.count)
            #expect(stored.count >= ids.count - 2 && stored.count <= ids.count)
            #expect(first.updated == 0)
            let counts = try await store.counts()
            let second = try await importer.importFile(at: url)
            #expect(second.created == 0)
            #expect(second.updated == first.created)
            let again = try await store.counts()
            #expect(again.practitioners == counts.practitioners && again.sites == counts.sites)
            #expect(try await store.version() == 2)
        }
    }

    @Test("a file without the required columns is refused and writes nothing", arguments: TestDatabases.engines)
    func badHeader(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let url = Self.tempFile("bad.txt")
            try "Nom|Prénom|\nDupont|Jean|\n".write(to: url, atomically: true, encoding: .utf8)
            let importer = RPPSImporter(database: db, geocoder: Self.geocoder, specialties: Self.specialties)
            await #expect(throws: ImportFileError.self) { _ = try await importer.importFile(at: url) }
            #expect(try await DirectoryStore(database: db).counts().practitioners == 0)
        }
    }

    @Test("Latin-1 files are read, accents intact, and SAS participation survives a re-import")
    func latin1AndParticipation() async throws {
        try await TestDatabases.withDatabase(.sqlite) { db, _ in
            let header = "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité|Nom d'exercice|Prénom d'exercice|Code profession|Code type savoir-faire|Code savoir-faire|Code postal (coord. structure)|Libellé commune (coord. structure)|Téléphone (coord. structure)|"
            let idnps = "8" + RPPS.withCheckDigit("1000000001")
            let row = "8|\(idnps.dropFirst())|\(idnps)|MME|HÉLÈNE-ÉPÉE|Zoé|10|S|SM54|69003|LYON|0478000000|"
            let url = Self.tempFile("latin1.txt")
            try Data((header + "\n" + row + "\n").unicodeScalars.map { UInt8($0.value) }).write(to: url)
            let importer = RPPSImporter(database: db, geocoder: Self.geocoder, specialties: Self.specialties)
            let summary = try await importer.importFile(at: url)
            #expect(summary.encoding == "Latin-1")
            #expect(summary.created == 1 && summary.sites == 1)
            let stored = try #require(try await db.query("SELECT * FROM dir_practitioners").first)
            #expect(try stored.string("family_name") == "HÉLÈNE-ÉPÉE")
            #expect(try stored.string("given_name") == "Zoé")
            #expect(try stored.string("specialties") == "SM54")
            let site = try #require(try await db.query("SELECT * FROM dir_sites").first)
            #expect(try site.string("department") == "69")
            #expect(try site.string("phone") == "+33478000000")
            #expect(abs((site["latitude"].doubleValue ?? 0) - 45.76) < 0.1)
            // SAS participation set by the enrichment file is not reset by the next national import.
            let participation = SASParticipation(participates: true, mode: .individual, structure: nil,
                                                 acceptsExtraPatients: true, forfaitReorientation: false, vacations: [])
            let unknown = try await db.transaction { tx in
                try await DirectoryStore.updateParticipation([(try IDNPS(parsing: idnps), participation)], on: tx)
            }
            #expect(unknown.isEmpty)
            _ = try await importer.importFile(at: url)
            let after = try #require(try await db.query("SELECT participates, accepts_extra FROM dir_practitioners").first)
            #expect(after.bool("participates") && after.bool("accepts_extra"))
        }
    }

    @Test("the index is built from storage, answers radius queries, and rebuilds when the version moves",
          arguments: TestDatabases.engines)
    func indexFromStorage(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let france = try SyntheticFrance.bundled(.init(practitioners: 2_000, seed: 3))
            let report = try await DirectorySeeder.seed(france, into: db)
            #expect(report.practitioners == 2_000)
            let loader = DirectoryIndexLoader(database: db, specialties: Self.specialties, logger: TestDatabases.logger)
            #expect(try await loader.refreshIfNeeded())
            #expect(loader.catalog.index.count == report.sites)
            #expect(try await !loader.refreshIfNeeded())
            // Lyon: the nearest general practitioners, nearest first, all within the radius.
            let gp = Self.specialties.index(of: "SM54")!
            let hits = loader.catalog.index.sites(within: 10, ofLatitude: 45.764, longitude: 4.8357,
                                                  matching: SiteFilter(specialties: [gp]), limit: 50)
            #expect(!hits.isEmpty)
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distanceKm <= $1.distanceKm })
            #expect(hits.allSatisfy { $0.distanceKm <= 10 })
            // A change elsewhere (another node) bumps the version: this node notices and rebuilds.
            try await db.transaction { tx in try await DirectoryStore.bumpVersion(on: tx) }
            #expect(try await loader.refreshIfNeeded())
            #expect(loader.catalog.version == 2)
        }
    }

    @Test("a batch naming a key twice (structures, sites, practitioners: here a CPTS) is written on both engines, the later row winning",
          arguments: TestDatabases.engines)
    func repeatedKeysInOneBatch(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let id = try IDNST.finess("690000123")
            func cpts(_ name: String) -> Structure {
                Structure(idnst: id, kind: .cpts, name: name, departmentCode: "69", latitude: 45.76, longitude: 4.84,
                          phone: "+33400000000", interventionArea: .radius(latitude: 45.76, longitude: 4.84, km: 10))
            }
            let batch = [cpts("CPTS A"), cpts("CPTS B")]
            try await db.transaction { tx in try await DirectoryStore.upsert(batch, on: tx) }
            let rows = try await db.query("SELECT name FROM dir_structures")
            #expect(try rows.map { try $0.string("name") } == ["CPTS B"])
            #expect(DirectoryStore.lastOccurrences([1, 2, 1, 3, 2], by: { $0 }) == [1, 3, 2])
        }
    }

    @Test("the incremental patch reads the latest changes through the updated_at indexes, not by scanning the tables",
          arguments: TestDatabases.engines)
    func patchQueriesUseTheIndexes(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            _ = try await DirectorySeeder.seed(try SyntheticFrance.bundled(.init(practitioners: 500, seed: 5)), into: db)
            func plan(_ sql: String, _ binds: [SQLValue]) async throws -> String {
                try await db.transaction { tx in
                    switch engine {
                    case .sqlite:
                        return try await tx.query("EXPLAIN QUERY PLAN " + sql, binds).map { try $0.string("detail") }.joined(separator: "\n")
                    case .postgres:
                        // A small table is cheaper to scan: forbid that to see whether an index can serve the query.
                        _ = try await tx.query("SET LOCAL enable_seqscan = off")
                        return try await tx.query("EXPLAIN " + sql, binds).map { try $0.string("QUERY PLAN") }.joined(separator: "\n")
                    }
                }
            }
            let changed = try await plan(DirectoryIndexLoader.changedPractitionersSQL, [.integer(0)])
            #expect(changed.contains("dir_practitioners_updated"), "\(changed)")
            let shape = try await plan(DirectoryIndexLoader.storageShapeSQL, [])
            #expect(shape.contains("dir_practitioners_updated") && shape.contains("dir_sites_updated"), "\(shape)")
            // The loader still patches: a changed practitioner is read back and the catalog moves to the new version.
            let loader = DirectoryIndexLoader(database: db, specialties: Self.specialties, logger: TestDatabases.logger)
            #expect(try await loader.refreshIfNeeded())
            let someone = try #require(try await db.query("SELECT idnps FROM dir_practitioners WHERE participates = 0 LIMIT 1").first)
                .string("idnps")
            let idnps = try IDNPS(parsing: someone)
            let unknown = try await db.transaction { tx in
                let unknown = try await DirectoryStore.updateParticipation(
                    [(idnps, SASParticipation(participates: true, mode: .individual, structure: nil, acceptsExtraPatients: true,
                                              forfaitReorientation: false, vacations: []))], on: tx)
                try await DirectoryStore.bumpVersion(on: tx)
                return unknown
            }
            #expect(unknown.isEmpty)
            // The patch itself (not a rebuild): it applies the change and publishes the version it is given.
            let next = loader.catalog.version + 1
            #expect(try await loader.patch(version: next))
            #expect(loader.catalog.version == next)
            let number = try #require(loader.catalog.idnps.firstIndex(of: idnps.value))
            #expect(loader.catalog.practitioners[number].flags.contains(.participates))
            #expect(loader.catalog.practitioners[number].flags.contains(.acceptsExtra))
        }
    }
}
