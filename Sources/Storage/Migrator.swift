import Foundation
import Logging

/// One numbered schema change.
public struct Migration: Sendable {
    /// Strictly increasing version number; never reused, never edited once released.
    public let version: Int
    /// A short name for operators.
    public let name: String
    /// The statements to run, per dialect.
    public let statements: @Sendable (SQLDialect) -> [String]

    /// Creates a migration whose statements are the same on both engines.
    public init(_ version: Int, _ name: String, _ statements: [String]) {
        self.version = version
        self.name = name
        self.statements = { _ in statements }
    }

    /// Creates a migration whose statements depend on the dialect.
    public init(_ version: Int, _ name: String, perDialect: @escaping @Sendable (SQLDialect) -> [String]) {
        self.version = version
        self.name = name
        self.statements = perDialect
    }
}

/// What `migrate` did.
public struct MigrationReport: Sendable {
    /// Versions applied by this run, in order.
    public var applied: [Int] = []
    /// The schema version after the run.
    public var currentVersion: Int = 0
}

/// Applies numbered migrations once, in order, recording them in `schema_migrations`.
///
/// Several nodes may start at the same time: the migration lock (a PostgreSQL advisory lock) makes them take
/// turns, and each re-reads the applied versions once it holds the lock.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    private let logger: Logger

    /// Creates a migrator for the given list (checked: versions strictly increasing).
    public init(migrations: [Migration] = SchemaMigrations.all, logger: Logger) {
        precondition(zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
                     "migration versions must be strictly increasing")
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies every pending migration.
    @discardableResult
    public func migrate(_ database: any Database) async throws -> MigrationReport {
        let migrations = self.migrations
        let logger = self.logger
        return try await database.withMigrationLock { executor in
            try await executor.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """)
            let done = Set(try await executor.query("SELECT version FROM schema_migrations")
                .compactMap { $0["version"].intValue })
            var report = MigrationReport()
            for migration in migrations where !done.contains(migration.version) {
                let begin = executor.dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
                try await executor.query(begin)
                // Re-check inside the transaction: another process sharing an SQLite file may have applied it
                // between our read and our write lock (PostgreSQL nodes are already serialised by the advisory lock).
                let already = try await executor.query(
                    "SELECT version FROM schema_migrations WHERE version = ?", [.int(migration.version)])
                if !already.isEmpty {
                    try await executor.query("COMMIT")
                    continue
                }
                do {
                    for statement in migration.statements(executor.dialect) {
                        try await executor.query(statement)
                    }
                    try await executor.query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        [.int(migration.version), .text(migration.name), .date(Date())])
                    try await executor.query("COMMIT")
                } catch {
                    _ = try? await executor.query("ROLLBACK")
                    throw StorageError.migrationFailed(
                        version: migration.version, name: migration.name, underlying: "\(error)")
                }
                logger.info("applied migration", metadata: [
                    "version": "\(migration.version)", "name": "\(migration.name)"])
                report.applied.append(migration.version)
            }
            report.currentVersion = try await executor.query("SELECT MAX(version) AS v FROM schema_migrations").first?["v"].intValue ?? 0
            return report
        }
    }

    /// The highest applied version, or 0 for an empty database.
    public func currentVersion(_ database: any Database) async throws -> Int {
        let rows = try await database.query("SELECT MAX(version) AS v FROM schema_migrations")
        return rows.first?["v"].intValue ?? 0
    }

    /// The versions not yet applied.
    public func pending(_ database: any Database) async throws -> [Migration] {
        let exists: Bool
        switch database.dialect {
        case .sqlite:
            exists = !(try await database.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")).isEmpty
        case .postgres:
            exists = !(try await database.query(
                "SELECT tablename FROM pg_tables WHERE tablename = 'schema_migrations'")).isEmpty
        }
        guard exists else { return migrations }
        let done = Set(try await database.query("SELECT version FROM schema_migrations").compactMap { $0["version"].intValue })
        return migrations.filter { !done.contains($0.version) }
    }
}
