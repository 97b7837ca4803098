import Foundation
import Logging

/// The SQL dialect of a database, for the few statements that differ.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// Something that runs SQL: a database, or a connection inside a transaction.
///
/// Statements use `?` placeholders on both engines; the PostgreSQL implementation rewrites them to `$n`.
public protocol SQLExecutor: Sendable {
    /// The dialect of the engine behind this executor.
    var dialect: SQLDialect { get }
    /// Runs one statement and returns its rows (empty for statements without results).
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

extension SQLExecutor {
    /// Runs one statement without binds.
    @discardableResult
    public func query(_ sql: String) async throws -> [SQLRow] {
        try await query(sql, [])
    }
}

/// The platform's one store API, implemented by SQLite (embedded default) and PostgreSQL (production).
public protocol Database: SQLExecutor {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// Runs `body` while holding the cluster-wide migration lock (an advisory lock on PostgreSQL), so that several
    /// nodes starting together apply each migration once.
    func withMigrationLock<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// Checks that the database answers, within `timeout`.
    func ping(timeout: Duration) async throws
    /// Closes every connection. The database must not be used afterwards.
    func close() async throws
    /// A description safe to log (never contains a password).
    var safeDescription: String { get }
}

/// Where the database is, parsed from `database.url`.
public enum DatabaseLocation: Sendable, Equatable {
    case sqliteFile(path: String)
    case sqliteMemory
    case postgres(PostgresLocation)

    /// Parses `sqlite:PATH`, `sqlite::memory:`, `sqlite:///abs/path` or `postgres://user:pass@host:port/db?sslmode=…`.
    public static func parse(_ url: String) throws -> DatabaseLocation {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" { return .sqliteMemory }
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw StorageError.invalidURL(url, reason: "the SQLite file path is empty") }
            return .sqliteFile(path: path)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return .postgres(try PostgresLocation(url: url))
        }
        throw StorageError.invalidURL(url, reason: "expected sqlite:PATH or postgres://user:password@host:port/database")
    }
}

/// Connection parameters of a PostgreSQL database.
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode

    /// How TLS is used towards PostgreSQL.
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    /// Parses a `postgres://` URL.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw StorageError.invalidURL(redact(url), reason: "no host")
        }
        self.host = host
        self.port = components.port ?? 5432
        guard let user = components.user, !user.isEmpty else {
            throw StorageError.invalidURL(redact(url), reason: "no user name")
        }
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let db = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard !db.isEmpty else { throw StorageError.invalidURL(redact(url), reason: "no database name") }
        self.database = db
        let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        guard let tls = TLSMode(rawValue: mode) else {
            throw StorageError.invalidURL(redact(url), reason: "sslmode must be disable, prefer or require")
        }
        self.tlsMode = tls
    }

    /// The URL without its password.
    public var safeDescription: String { "postgres://\(username)@\(host):\(port)/\(database)" }
}

/// Removes the password from a database URL, for messages.
public func redact(_ url: String) -> String {
    guard var components = URLComponents(string: url), components.password != nil else { return url }
    components.password = "***"
    return components.string ?? url
}

/// Opens the database at `url`.
public func openDatabase(url: String, maxConnections: Int = 10, logger: Logger) async throws -> any Database {
    switch try DatabaseLocation.parse(url) {
    case .sqliteMemory:
        return try await SQLiteDatabase.open(path: nil, logger: logger)
    case .sqliteFile(let path):
        return try await SQLiteDatabase.open(path: path, logger: logger)
    case .postgres(let location):
        return PostgresDatabase(location: location, maxConnections: maxConnections, logger: logger)
    }
}
