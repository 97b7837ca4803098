import Foundation

/// A value bound to or read from SQL, portable between SQLite and PostgreSQL.
///
/// Booleans are stored as integers 0/1 and instants as epoch milliseconds so that the same schema and queries run
/// on both engines.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// An integer value.
    public static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }
    /// A boolean stored as 0/1.
    public static func bool(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
    /// An instant stored as milliseconds since 1970 (UTC).
    public static func date(_ value: Date) -> SQLValue { .integer(Int64((value.timeIntervalSince1970 * 1000).rounded())) }
    /// A text value, or NULL when nil.
    public static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }

    /// The value as a string, when it is text (or a number rendered as text).
    public var stringValue: String? {
        switch self {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .null, .blob: return nil
        }
    }

    /// The value as an integer, when it is one (or numeric text).
    public var intValue: Int? {
        switch self {
        case .integer(let i): return Int(i)
        case .real(let d): return Int(d)
        case .text(let s): return Int(s)
        case .null, .blob: return nil
        }
    }

    /// The value as a double, when numeric.
    public var doubleValue: Double? {
        switch self {
        case .real(let d): return d
        case .integer(let i): return Double(i)
        case .text(let s): return Double(s)
        case .null, .blob: return nil
        }
    }

    /// True for SQL NULL.
    public var isNull: Bool { if case .null = self { return true } else { return false } }
}

/// One result row: column names and values, in select order.
public struct SQLRow: Sendable {
    /// Column names, in order.
    public let columns: [String]
    /// Values, in column order.
    public let values: [SQLValue]

    /// Creates a row.
    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of a column by name (case-insensitive), or `.null` when absent.
    public subscript(_ name: String) -> SQLValue {
        if let index = columns.firstIndex(of: name) { return values[index] }
        let lowered = name.lowercased()
        if let index = columns.firstIndex(where: { $0.lowercased() == lowered }) { return values[index] }
        return .null
    }

    /// A required text column.
    public func string(_ name: String) throws -> String {
        guard let value = self[name].stringValue else { throw StorageError.missingColumn(name) }
        return value
    }

    /// An optional text column.
    public func optionalString(_ name: String) -> String? { self[name].stringValue }

    /// A required integer column.
    public func int(_ name: String) throws -> Int {
        guard let value = self[name].intValue else { throw StorageError.missingColumn(name) }
        return value
    }

    /// A boolean column stored as 0/1.
    public func bool(_ name: String) -> Bool { (self[name].intValue ?? 0) != 0 }

    /// An instant column stored as epoch milliseconds.
    public func date(_ name: String) throws -> Date {
        guard let ms = self[name].intValue else { throw StorageError.missingColumn(name) }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// An optional instant column.
    public func optionalDate(_ name: String) -> Date? {
        self[name].intValue.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }
}

/// Errors raised by the storage layer.
public enum StorageError: Error, CustomStringConvertible, Sendable {
    case invalidURL(String, reason: String)
    case missingColumn(String)
    case unavailable(String)
    case migrationFailed(version: Int, name: String, underlying: String)
    case constraintViolation(String)
    case queryFailed(String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): return "invalid database URL '\(url)': \(reason)"
        case .missingColumn(let name): return "missing or NULL column '\(name)'"
        case .unavailable(let detail): return "database unavailable: \(detail)"
        case .migrationFailed(let version, let name, let underlying):
            return "migration \(version) (\(name)) failed: \(underlying)"
        case .constraintViolation(let detail): return "constraint violation: \(detail)"
        case .queryFailed(let detail): return "query failed: \(detail)"
        }
    }
}
