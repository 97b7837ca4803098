import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// The production store: a pooled PostgreSQL client shared by every node of the platform.
///
/// The pool reconnects by itself when the server comes back; callers see errors meanwhile, and `ping` bounds the
/// wait so that `/readyz` answers quickly.
public final class PostgresDatabase: Database {
    public let dialect: SQLDialect = .postgres
    public let safeDescription: String
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Advisory-lock key for schema migrations ("SAS" in ASCII).
    static let migrationLockKey: Int64 = 0x534153

    /// Creates the client and starts its pool in the background; no connection is made until the first query.
    public init(location: PostgresLocation, maxConnections: Int, logger: Logger) {
        let tls: PostgresClient.Configuration.TLS
        switch location.tlsMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username,
            password: location.password, database: location.database, tls: tls)
        configuration.options.maximumConnections = max(1, maxConnections)
        configuration.options.connectTimeout = .seconds(5)
        // The pool logs every failed reconnection attempt at info level; keep those out of the platform's log
        // unless it is being debugged (the platform logs its own retries).
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        self.client = client
        self.logger = logger
        self.safeDescription = location.safeDescription
        self.runner = Task { await client.run() }
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let query = try Self.makeQuery(sql, binds)
        do {
            let rows = try await client.query(query, logger: logger)
            return try await Self.collect(rows)
        } catch let error as PSQLError {
            throw Self.translate(error, sql: sql)
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let executor = ConnectionExecutor(connection: connection, logger: logger)
            _ = try await executor.query("BEGIN", [])
            do {
                let result = try await body(executor)
                _ = try await executor.query("COMMIT", [])
                return result
            } catch {
                do { _ = try await executor.query("ROLLBACK", []) } catch {
                    logger.error("rollback failed", metadata: ["error": "\(error)"])
                }
                throw error
            }
        }
    }

    public func withMigrationLock<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let executor = ConnectionExecutor(connection: connection, logger: logger)
            _ = try await executor.query("SELECT pg_advisory_lock(\(Self.migrationLockKey))", [])
            do {
                let result = try await body(executor)
                _ = try await executor.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", [])
                return result
            } catch {
                _ = try? await executor.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", [])
                throw error
            }
        }
    }

    public func ping(timeout: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await self.query("SELECT 1", []) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw StorageError.unavailable("PostgreSQL did not answer within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    public func close() async throws {
        runner.cancel()
        _ = await runner.value
    }

    /// Rewrites `?` placeholders (outside quotes) to `$n` and binds the values.
    static func makeQuery(_ sql: String, _ binds: [SQLValue]) throws -> PostgresQuery {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 8)
        var index = 0
        var inString = false
        for character in sql {
            if character == "'" { inString.toggle() }
            if character == "?" && !inString {
                index += 1
                out += "$\(index)"
            } else {
                out.append(character)
            }
        }
        guard index == binds.count else {
            throw StorageError.queryFailed("\(index) placeholders but \(binds.count) values — in: \(sql.prefix(200))")
        }
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let i): bindings.append(i)
            case .real(let d): bindings.append(d)
            case .text(let s): bindings.append(s)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: out, binds: bindings)
    }

    static func collect(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var result: [SQLRow] = []
        for try await row in rows {
            var columns: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                values.append(try decode(cell))
            }
            result.append(SQLRow(columns: columns, values: values))
        }
        return result
    }

    private static func decode(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return .integer(try cell.decode(Int64.self))
        case .bool:
            return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8:
            return .real(try cell.decode(Double.self))
        case .numeric:
            let text = try cell.decode(String.self)
            return Double(text).map(SQLValue.real) ?? .text(text)
        case .bytea:
            let buffer = try cell.decode(ByteBuffer.self)
            return .blob(Array(buffer.readableBytesView))
        default:
            return .text(try cell.decode(String.self))
        }
    }

    static func translate(_ error: PSQLError, sql: String) -> StorageError {
        if let state = error.serverInfo?[.sqlState], state.hasPrefix("23") {
            return .constraintViolation(error.serverInfo?[.message] ?? state)
        }
        if let message = error.serverInfo?[.message] {
            return .queryFailed("\(message) — in: \(sql.prefix(200))")
        }
        return .unavailable("\(error.code)")
    }

    /// Runs statements on one leased connection (transactions, migration lock).
    private struct ConnectionExecutor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            let query = try PostgresDatabase.makeQuery(sql, binds)
            do {
                let rows = try await connection.query(query, logger: logger)
                return try await PostgresDatabase.collect(rows)
            } catch let error as PSQLError {
                throw PostgresDatabase.translate(error, sql: sql)
            }
        }
    }
}
