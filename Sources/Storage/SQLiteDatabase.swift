import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

/// The embedded SQLite store: one file, WAL journal, foreign keys on.
///
/// All statements go through one connection serialised by an `AsyncLock`, which gives transactions exclusivity;
/// WAL lets other processes (CLI commands) read while the server writes, and `busy_timeout` makes them wait
/// for each other instead of failing.
public final class SQLiteDatabase: Database {
    public let dialect: SQLDialect = .sqlite
    public let safeDescription: String
    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    private let lock = AsyncLock()
    private let logger: Logger

    private init(connection: SQLiteConnection, threadPool: NIOThreadPool, description: String, logger: Logger) {
        self.connection = connection
        self.threadPool = threadPool
        self.safeDescription = description
        self.logger = logger
    }

    /// Opens (creating if needed) the SQLite database at `path`, or an in-memory one when `path` is nil.
    public static func open(path: String?, logger: Logger) async throws -> SQLiteDatabase {
        let storage: SQLiteConnection.Storage
        let description: String
        if let path {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            storage = .file(path: url.path)
            description = "sqlite:\(url.path)"
        } else {
            storage = .memory
            description = "sqlite::memory:"
        }
        // A thread of its own: a statement waiting on another process's lock (busy_timeout) blocks this thread
        // only, never the shared pools other databases or the event loops rely on.
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: storage, threadPool: threadPool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await threadPool.shutdownGracefully()
            throw StorageError.unavailable("cannot open \(description): \(error)")
        }
        let db = SQLiteDatabase(connection: connection, threadPool: threadPool, description: description, logger: logger)
        _ = try await connection.query("PRAGMA busy_timeout = 10000", [])
        if path != nil {
            _ = try await connection.query("PRAGMA journal_mode = WAL", [])
            _ = try await connection.query("PRAGMA synchronous = NORMAL", [])
        }
        _ = try await connection.query("PRAGMA foreign_keys = ON", [])
        return db
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await lock.withLock { try await self.run(sql, binds) }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await lock.withLock {
            try await self.runTransaction(body)
        }
    }

    public func withMigrationLock<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        // One connection per process, and BEGIN IMMEDIATE inside each migration takes SQLite's write lock,
        // which other processes on the same file wait for (busy_timeout).
        try await lock.withLock {
            try await body(Unlocked(database: self))
        }
    }

    public func ping(timeout: Duration) async throws {
        _ = try await query("SELECT 1", [])
    }

    public func close() async throws {
        try await lock.withLock { try await self.connection.close() }
        try await threadPool.shutdownGracefully()
    }

    fileprivate func runTransaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        _ = try await run("BEGIN IMMEDIATE", [])
        do {
            let result = try await body(Unlocked(database: self))
            _ = try await run("COMMIT", [])
            return result
        } catch {
            do { _ = try await run("ROLLBACK", []) } catch {
                logger.error("rollback failed", metadata: ["error": "\(error)"])
            }
            throw error
        }
    }

    fileprivate func run(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let rows: [SQLiteRow]
        do {
            rows = try await connection.query(sql, binds.map(Self.encode))
        } catch let error as SQLiteError {
            if error.reason == .constraint || error.reason == .constraintUniqueFailed
                || error.reason == .constraintPrimaryKeyFailed || error.reason == .constraintForeignKeyFailed
                || error.reason == .constraintNotNullFailed || error.reason == .constraintCheckFailed {
                throw StorageError.constraintViolation(error.message)
            }
            throw StorageError.queryFailed("\(error.message) — in: \(sql.prefix(200))")
        }
        return rows.map { row in
            let columns = row.columns
            return SQLRow(columns: columns.map(\.name), values: columns.map { Self.decode($0.data) })
        }
    }

    private static func encode(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: return .null
        case .integer(let i): return .integer(Int(i))
        case .real(let d): return .float(d)
        case .text(let s): return .text(s)
        case .blob(let bytes): return .blob(ByteBuffer(bytes: bytes))
        }
    }

    private static func decode(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .null: return .null
        case .integer(let i): return .integer(Int64(i))
        case .float(let d): return .real(d)
        case .text(let s): return .text(s)
        case .blob(let buffer): return .blob(Array(buffer.readableBytesView))
        }
    }

    /// The executor handed to transaction bodies: the lock is already held, so it runs statements directly.
    private struct Unlocked: SQLExecutor {
        let database: SQLiteDatabase
        var dialect: SQLDialect { .sqlite }
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await database.run(sql, binds)
        }
    }
}
