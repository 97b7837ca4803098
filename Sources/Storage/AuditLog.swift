import Foundation
import NIOConcurrencyHelpers

/// One entry of the append-only audit trail: who did what, when, from where.
public struct AuditEntry: Sendable, Equatable {
    public var id: String
    public var occurredAt: Date
    public var actor: String
    public var action: String
    public var target: String?
    public var detail: String?
    public var sourceAddress: String?
    public var requestID: String?

    /// Creates an entry with a fresh id.
    public init(
        actor: String, action: String, target: String? = nil, detail: String? = nil,
        sourceAddress: String? = nil, requestID: String? = nil, occurredAt: Date = Date()
    ) {
        self.id = AuditEntry.orderedID(occurredAt)
        self.occurredAt = occurredAt
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
        self.sourceAddress = sourceAddress
        self.requestID = requestID
    }
}

extension AuditEntry {
    private static let sequence = NIOLockedValueBox<UInt64>(0)

    /// Ids sort like the entries were written (milliseconds, then a per-process sequence, then randomness to stay
    /// unique across nodes), so that listing by id keeps the order of events recorded within one millisecond.
    static func orderedID(_ date: Date) -> String {
        let ms = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded()))
        let n = sequence.withLockedValue { value -> UInt64 in
            value &+= 1
            return value
        }
        func padded(_ value: UInt64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(ms, 13) + "-" + padded(n % 10_000_000_000, 10) + "-" + RandomID.hex(8)
    }
}

/// The audit trail. Entries are only ever inserted; there is no update or delete.
public struct AuditLog: Sendable {
    private let executor: any SQLExecutor

    /// An audit log writing through `executor` (a database, or a transaction so that the entry commits with the
    /// change it records).
    public init(_ executor: any SQLExecutor) { self.executor = executor }

    /// Appends an entry.
    public func record(_ entry: AuditEntry) async throws {
        try await executor.query("""
            INSERT INTO audit_log (id, occurred_at, actor, action, target, detail, source_address, request_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(entry.id), .date(entry.occurredAt), .text(entry.actor), .text(entry.action),
             .optional(entry.target), .optional(entry.detail), .optional(entry.sourceAddress),
             .optional(entry.requestID)])
    }

    /// The most recent entries, newest first.
    public func recent(limit: Int = 100, actor: String? = nil) async throws -> [AuditEntry] {
        var sql = "SELECT * FROM audit_log"
        var binds: [SQLValue] = []
        if let actor {
            sql += " WHERE actor = ?"
            binds.append(.text(actor))
        }
        sql += " ORDER BY occurred_at DESC, id DESC LIMIT ?"
        binds.append(.int(limit))
        return try await executor.query(sql, binds).map { row in
            var entry = AuditEntry(
                actor: try row.string("actor"), action: try row.string("action"),
                target: row.optionalString("target"), detail: row.optionalString("detail"),
                sourceAddress: row.optionalString("source_address"), requestID: row.optionalString("request_id"),
                occurredAt: try row.date("occurred_at"))
            entry.id = try row.string("id")
            return entry
        }
    }
}

/// Small key/value settings stored with the data (e.g. when the demo was seeded).
public struct PlatformSettings: Sendable {
    private let executor: any SQLExecutor

    /// Settings read and written through `executor`.
    public init(_ executor: any SQLExecutor) { self.executor = executor }

    /// The value of `key`, if set.
    public func get(_ key: String) async throws -> String? {
        try await executor.query("SELECT value FROM platform_settings WHERE key = ?", [.text(key)])
            .first?.optionalString("value")
    }

    /// Adds one to the integer held by `key` (1 when absent) in one statement, so that concurrent writers never lose
    /// an increment (the row is locked by the upsert on PostgreSQL; SQLite serialises writers).
    public func increment(_ key: String) async throws {
        try await executor.query("""
            INSERT INTO platform_settings (key, value, updated_at) VALUES (?, '1', ?)
            ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(platform_settings.value AS BIGINT) + 1 AS TEXT),
                updated_at = excluded.updated_at
            """, [.text(key), .date(Date())])
    }

    /// Sets `key` to `value` (insert or update).
    public func set(_ key: String, _ value: String) async throws {
        try await executor.query("""
            INSERT INTO platform_settings (key, value, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, [.text(key), .text(value), .date(Date())])
    }
}
