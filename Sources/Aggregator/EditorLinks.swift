import Foundation
import Storage

/// Which editors hold which practitioners' agendas, learned from answers (as the live aggregator does): a
/// practitioner with known editors is asked only there; an unknown one is asked to every editor of the flow.
public struct EditorLinks: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Known editors per practitioner (IDNPS), for the given practitioners.
    public func editors(for idnps: [String]) async throws -> [String: Set<String>] {
        guard !idnps.isEmpty else { return [:] }
        var result: [String: Set<String>] = [:]
        // Chunked to stay far below both engines' bind-parameter limits.
        for chunk in stride(from: 0, to: idnps.count, by: 500).map({ Array(idnps[$0..<min($0 + 500, idnps.count)]) }) {
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try await database.query(
                "SELECT editor_id, idnps FROM editor_links WHERE idnps IN (\(placeholders))", chunk.map(SQLValue.text))
            for row in rows {
                result[try row.string("idnps"), default: []].insert(try row.string("editor_id"))
            }
        }
        return result
    }

    /// Records that `editorID` returned slots for these practitioners.
    public func record(editorID: String, idnps: Set<String>, at date: Date = Date()) async throws {
        guard !idnps.isEmpty else { return }
        try await database.transaction { tx in
            for value in idnps.sorted() {
                try await tx.query("""
                    INSERT INTO editor_links (editor_id, idnps, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (editor_id, idnps) DO UPDATE SET last_seen_at = excluded.last_seen_at
                    """, [.text(editorID), .text(value), .date(date), .date(date)])
            }
        }
    }

    /// Declares a link explicitly (from the directory's vendor data or the practitioner's own settings).
    public func declare(editorID: String, idnps: String, at date: Date = Date()) async throws {
        try await record(editorID: editorID, idnps: [idnps], at: date)
    }
}
