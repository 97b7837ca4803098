import Aggregator
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Storage

/// Whether the node can serve: migrations applied and the database answering.
public final class Readiness: Sendable {
    private struct State {
        var migrated = false
        var schemaVersion = 0
        var lastError: String?
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// True once migrations have been applied by this process.
    public var migrated: Bool { state.withLockedValue { $0.migrated } }
    /// The schema version reached at start.
    public var schemaVersion: Int { state.withLockedValue { $0.schemaVersion } }
    /// The last start-up error, for `/readyz`.
    public var lastError: String? { state.withLockedValue { $0.lastError } }

    func markMigrated(version: Int) {
        state.withLockedValue { $0.migrated = true; $0.schemaVersion = version; $0.lastError = nil }
    }

    func recordError(_ message: String) { state.withLockedValue { $0.lastError = message } }
}

/// Applies migrations at start, retrying with exponential backoff while the database is unreachable, then keeps
/// the database open until shutdown and closes it last.
public struct DatabaseService: Service {
    let database: any Database
    let readiness: Readiness
    let logger: Logger
    let migrator: Migrator

    public init(database: any Database, readiness: Readiness, logger: Logger, migrations: [Migration] = SchemaMigrations.all) {
        self.database = database
        self.readiness = readiness
        self.logger = logger
        self.migrator = Migrator(migrations: migrations, logger: logger)
    }

    public func run() async throws {
        var delay = Duration.milliseconds(250)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                // Bounded: the PostgreSQL pool waits for a connection as long as the server is down.
                try await database.ping(timeout: .seconds(5))
                let report = try await migrator.migrate(database)
                readiness.markMigrated(version: report.currentVersion)
                logger.info("database ready", metadata: [
                    "database": "\(database.safeDescription)", "schema_version": "\(report.currentVersion)",
                    "applied": "\(report.applied.count)"])
                break
            } catch {
                readiness.recordError("\(error)")
                logger.warning("database not ready, retrying", metadata: [
                    "database": "\(database.safeDescription)", "error": "\(error)", "retry_in": "\(delay)"])
                let pause = delay
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { break }
                delay = min(delay * 2, .seconds(15))
            }
        }
        // Stay up until shutdown: the servers are stopped before us (reverse start order), then we close.
        try? await gracefulShutdown()
        // Close outside this task's cancellation: an unclosed connection must never be left behind.
        let database = self.database
        do { try await Task.detached { try await database.close() }.value } catch {
            logger.warning("closing the database failed", metadata: ["error": "\(error)"])
        }
        logger.info("database closed")
    }
}


/// Closes the vendors' HTTP client pools once the listeners have stopped (started right after the database, so it
/// stops just before it).
public struct EditorTransportService: Service {
    let transport: HTTPEditorTransport

    public init(transport: HTTPEditorTransport) { self.transport = transport }

    public func run() async throws {
        try? await gracefulShutdown()
        let transport = self.transport
        await Task.detached { await transport.shutdown() }.value
    }
}
