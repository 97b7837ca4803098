import Foundation
import Storage
import Testing

@Suite("Storage (SQLite and PostgreSQL)")
struct StorageTests {
    @Test("migrations apply once, record versions, and re-running is a no-op", arguments: TestDatabases.engines)
    func migrationsAreIdempotent(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine, migrate: false) { db, _ in
            let migrator = Migrator(logger: TestDatabases.logger)
            #expect(try await migrator.pending(db).count == SchemaMigrations.all.count)
            let first = try await migrator.migrate(db)
            #expect(first.applied == SchemaMigrations.all.map(\.version))
            let second = try await migrator.migrate(db)
            #expect(second.applied.isEmpty)
            #expect(second.currentVersion == SchemaMigrations.all.last!.version)
            #expect(try await migrator.pending(db).isEmpty)
            let rows = try await db.query("SELECT version, name FROM schema_migrations ORDER BY version")
            #expect(rows.count == SchemaMigrations.all.count)
        }
    }

    @Test("a failing migration is rolled back whole and reported with its version", arguments: TestDatabases.engines)
    func failingMigrationRollsBack(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let broken = SchemaMigrations.all + [
                Migration(9001, "half broken", [
                    "CREATE TABLE half_done (id TEXT PRIMARY KEY)",
                    "INSERT INTO table_that_does_not_exist VALUES (1)",
                ]),
            ]
            await #expect(throws: StorageError.self) {
                try await Migrator(migrations: broken, logger: TestDatabases.logger).migrate(db)
            }
            // Neither the table of the failed migration nor its version row exist.
            let versions = try await db.query("SELECT version FROM schema_migrations").compactMap { $0["version"].intValue }
            #expect(!versions.contains(9001))
            await #expect(throws: StorageError.self) { try await db.query("SELECT * FROM half_done") }
        }
    }

    @Test("concurrent nodes migrating the same database apply each version exactly once", arguments: TestDatabases.engines)
    func concurrentMigrations(engine: SQLDialect) async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(engine)
        defer { Task { await cleanup() } }
        // Several independent connections (as several `sas serve` processes would have).
        var nodes: [any Database] = []
        for _ in 0..<4 { nodes.append(try await openDatabase(url: url, maxConnections: 2, logger: TestDatabases.logger)) }
        let migrations = SchemaMigrations.all + [
            Migration(9100, "counter", ["CREATE TABLE migration_counter (n INTEGER)", "INSERT INTO migration_counter VALUES (1)"]),
        ]
        try await withThrowingTaskGroup(of: MigrationReport.self) { group in
            for node in nodes {
                group.addTask { try await Migrator(migrations: migrations, logger: TestDatabases.logger).migrate(node) }
            }
            var appliedTotal = 0
            for try await report in group { appliedTotal += report.applied.count }
            #expect(appliedTotal == migrations.count)
        }
        let count = try await nodes[0].query("SELECT COUNT(*) AS c FROM migration_counter").first?["c"].intValue
        #expect(count == 1)
        for node in nodes { try await node.close() }
        await cleanup()
    }

    @Test("a transaction that throws leaves nothing behind", arguments: TestDatabases.engines)
    func transactionRollback(engine: SQLDialect) async throws {
        struct Boom: Error {}
        try await TestDatabases.withDatabase(engine) { db, _ in
            await #expect(throws: Boom.self) {
                try await db.transaction { tx in
                    try await AuditLog(tx).record(AuditEntry(actor: "alice", action: "test.write"))
                    throw Boom()
                }
            }
            #expect(try await AuditLog(db).recent().isEmpty)
            try await db.transaction { tx in
                try await AuditLog(tx).record(AuditEntry(actor: "alice", action: "test.write"))
            }
            #expect(try await AuditLog(db).recent().count == 1)
        }
    }

    @Test("constraint violations surface as typed errors and keep existing data", arguments: TestDatabases.engines)
    func constraintViolation(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            var entry = AuditEntry(actor: "bob", action: "first", detail: "kept")
            entry.id = "fixed-id"
            try await AuditLog(db).record(entry)
            var duplicate = AuditEntry(actor: "mallory", action: "second")
            duplicate.id = "fixed-id"
            do {
                try await AuditLog(db).record(duplicate)
                Issue.record("a duplicate primary key was accepted")
            } catch StorageError.constraintViolation {
            } catch {
                Issue.record("unexpected error \(error)")
            }
            let rows = try await AuditLog(db).recent()
            #expect(rows.count == 1)
            #expect(rows.first?.actor == "bob" && rows.first?.detail == "kept")
        }
    }

    @Test("values round-trip: text with quotes and question marks, integers, reals, NULL, blobs, instants", arguments: TestDatabases.engines)
    func valuesRoundTrip(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            try await db.query("CREATE TABLE roundtrip (t TEXT, i BIGINT, r DOUBLE PRECISION, n TEXT, b BYTEA_OR_BLOB)"
                .replacingOccurrences(of: "BYTEA_OR_BLOB", with: engine == .postgres ? "BYTEA" : "BLOB"))
            let when = Date(timeIntervalSince1970: 1_790_000_000.123)
            try await db.query("INSERT INTO roundtrip VALUES (?, ?, ?, ?, ?)",
                               [.text("l'hôpital ? « oui »"), .date(when), .real(3.25), .null, .blob([0, 1, 254, 255])])
            let row = try #require(try await db.query("SELECT * FROM roundtrip WHERE t = 'l''hôpital ? « oui »'").first)
            #expect(try row.string("t") == "l'hôpital ? « oui »")
            #expect(abs(try row.date("i").timeIntervalSince(when)) < 0.001)
            #expect(row["r"].doubleValue == 3.25)
            #expect(row["n"].isNull)
            #expect(row["b"] == .blob([0, 1, 254, 255]))
        }
    }

    @Test("settings upsert and the audit trail lists newest first", arguments: TestDatabases.engines)
    func settingsAndAudit(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let settings = PlatformSettings(db)
            #expect(try await settings.get("k") == nil)
            try await settings.set("k", "1")
            try await settings.set("k", "2")
            #expect(try await settings.get("k") == "2")
            let log = AuditLog(db)
            try await log.record(AuditEntry(actor: "a", action: "one", occurredAt: Date(timeIntervalSince1970: 100)))
            try await log.record(AuditEntry(actor: "b", action: "two", occurredAt: Date(timeIntervalSince1970: 200)))
            #expect(try await log.recent().map(\.action) == ["two", "one"])
            #expect(try await log.recent(actor: "a").map(\.action) == ["one"])
        }
    }

    @Test("database URLs are parsed and bad ones explained")
    func urlParsing() throws {
        #expect(try DatabaseLocation.parse("sqlite:./x/y.sqlite") == .sqliteFile(path: "./x/y.sqlite"))
        #expect(try DatabaseLocation.parse("sqlite::memory:") == .sqliteMemory)
        guard case .postgres(let pg) = try DatabaseLocation.parse("postgres://sas:s%40cret@db.local:5433/sas?sslmode=require")
        else { Issue.record("not postgres"); return }
        #expect(pg.host == "db.local" && pg.port == 5433 && pg.username == "sas" && pg.password == "s@cret")
        #expect(pg.database == "sas" && pg.tlsMode == .require)
        #expect(!pg.safeDescription.contains("cret"))
        #expect(throws: StorageError.self) { try DatabaseLocation.parse("mysql://x") }
        #expect(throws: StorageError.self) { try DatabaseLocation.parse("postgres://host/db") }
        #expect(throws: StorageError.self) { try DatabaseLocation.parse("postgres://u@host/db?sslmode=maybe") }
        #expect(redact("postgres://u:pw@h/db").contains("***"))
    }
}

@Suite("Random identifiers")
struct RandomIDTests {
    @Test("Version-4 UUIDs in lower case, all different, readable by Foundation; hexadecimal suffixes of the asked length")
    func uuids() throws {
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let id = RandomID.uuid()
            #expect(id.count == 36)
            #expect(id == id.lowercased())
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            let characters = Array(id)
            #expect(characters[14] == "4", "version 4: \(id)")
            #expect("89ab".contains(characters[19]), "RFC 4122 variant: \(id)")
            seen.insert(id)
        }
        #expect(seen.count == 2_000)
        #expect(RandomID.hex(8).count == 8)
        #expect(RandomID.hex(8).allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }
}
