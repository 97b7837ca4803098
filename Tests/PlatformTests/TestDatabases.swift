import Foundation
import Logging
import Storage

/// The databases every storage test runs against: SQLite always, PostgreSQL when `SAS_TEST_POSTGRES_URL` points
/// to a server (the test script starts a throw-away one).
enum TestDatabases {
    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["SAS_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }()

    /// The engines available in this run.
    static var engines: [SQLDialect] {
        ProcessInfo.processInfo.environment["SAS_TEST_POSTGRES_URL"] == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    /// The PostgreSQL server URL, if any.
    static var postgresURL: String? { ProcessInfo.processInfo.environment["SAS_TEST_POSTGRES_URL"] }

    /// A fresh, empty database URL of the given engine, and a cleanup closure.
    static func freshURL(_ dialect: SQLDialect) async throws -> (url: String, cleanup: @Sendable () async -> Void) {
        switch dialect {
        case .sqlite:
            let dir = TestScratch.url("sas-test-\(UUID().uuidString)")
            let url = "sqlite:\(dir.appendingPathComponent("test.sqlite").path)"
            return (url, { try? FileManager.default.removeItem(at: dir) })
        case .postgres:
            guard let base = postgresURL else { throw StorageError.unavailable("SAS_TEST_POSTGRES_URL not set") }
            let name = "sas_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
            let admin = try await openDatabase(url: base, maxConnections: 1, logger: logger)
            try await admin.query("CREATE DATABASE \(name)")
            try await admin.close()
            var components = URLComponents(string: base)!
            components.path = "/\(name)"
            let url = components.string!
            return (url, {
                if let admin = try? await openDatabase(url: base, maxConnections: 1, logger: logger) {
                    _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                    try? await admin.close()
                }
            })
        }
    }

    /// Runs `body` with a fresh, migrated database of the given engine.
    static func withDatabase(
        _ dialect: SQLDialect, migrate: Bool = true, _ body: (any Database, String) async throws -> Void
    ) async throws {
        let (url, cleanup) = try await freshURL(dialect)
        let database = try await openDatabase(url: url, maxConnections: 4, logger: logger)
        do {
            if migrate { try await Migrator(logger: logger).migrate(database) }
            try await body(database, url)
            try await database.close()
        } catch {
            try? await database.close()
            await cleanup()
            throw error
        }
        await cleanup()
    }
}
