import Foundation
import Storage

/// The editor registry in storage, shared by every node.
public struct EditorStore: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// A registration refused, with French reasons.
    public struct InvalidEditor: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String { "Éditeur invalide : " + problems.joined(separator: " ; ") }
    }

    /// Errors of the registry.
    public enum RegistryError: Error, CustomStringConvertible, Equatable {
        case notFound(String)
        case alreadyExists(String)
        public var description: String {
            switch self {
            case .notFound(let id): return "Éditeur « \(id) » introuvable."
            case .alreadyExists(let id): return "L'éditeur « \(id) » existe déjà."
            }
        }
    }

    /// Every registered editor, by id.
    public func all() async throws -> [Editor] {
        try await database.query("SELECT * FROM editors ORDER BY id").map(Self.decode)
    }

    /// Enabled editors having `flow`.
    public func enabled(for flow: Editor.Flow) async throws -> [Editor] {
        try await all().filter { $0.enabled && $0.flows.contains(flow) }
    }

    /// One editor.
    public func get(_ id: String) async throws -> Editor {
        guard let row = try await database.query("SELECT * FROM editors WHERE id = ?", [.text(id)]).first else {
            throw RegistryError.notFound(id)
        }
        return try Self.decode(row)
    }

    /// Registers a new editor; refuses an invalid one or an existing id.
    public func add(_ editor: Editor, actor: String) async throws {
        let problems = editor.problems()
        guard problems.isEmpty else { throw InvalidEditor(problems: problems) }
        try await database.transaction { tx in
            guard try await tx.query("SELECT id FROM editors WHERE id = ?", [.text(editor.id)]).isEmpty else {
                throw RegistryError.alreadyExists(editor.id)
            }
            try await tx.query("""
                INSERT INTO editors (id, name, environment, base_url, flows, client_certificate_path, client_key_path,
                    server_ca_path, inbound_cn, inbound_ou, timeout_ms, enabled, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, Self.binds(editor))
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.add", target: editor.id,
                                                     detail: "\(editor.name) \(editor.baseURL) \(Self.flowList(editor.flows))"))
        }
    }

    /// Updates an existing editor (every field but id and creation date).
    public func update(_ editor: Editor, actor: String) async throws {
        let problems = editor.problems()
        guard problems.isEmpty else { throw InvalidEditor(problems: problems) }
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE editors SET name = ?, environment = ?, base_url = ?, flows = ?, client_certificate_path = ?,
                    client_key_path = ?, server_ca_path = ?, inbound_cn = ?, inbound_ou = ?, timeout_ms = ?, enabled = ?,
                    updated_at = ?
                WHERE id = ? RETURNING id
                """, Array(Self.binds(editor).dropFirst().dropLast(2)) + [.date(Date()), .text(editor.id)])
            guard !rows.isEmpty else { throw RegistryError.notFound(editor.id) }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.update", target: editor.id))
        }
    }

    /// Enables or disables an editor at once (every node reads the registry).
    public func setEnabled(_ id: String, _ enabled: Bool, actor: String) async throws {
        try await database.transaction { tx in
            let rows = try await tx.query("UPDATE editors SET enabled = ?, updated_at = ? WHERE id = ? RETURNING id",
                                          [.bool(enabled), .date(Date()), .text(id)])
            guard !rows.isEmpty else { throw RegistryError.notFound(id) }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: enabled ? "editor.enable" : "editor.disable", target: id))
        }
    }

    /// Removes an editor and the practitioner links learned for it.
    public func remove(_ id: String, actor: String) async throws {
        try await database.transaction { tx in
            try await tx.query("DELETE FROM editor_links WHERE editor_id = ?", [.text(id)])
            let rows = try await tx.query("DELETE FROM editors WHERE id = ? RETURNING id", [.text(id)])
            guard !rows.isEmpty else { throw RegistryError.notFound(id) }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.remove", target: id))
        }
    }

    static func flowList(_ flows: Set<Editor.Flow>) -> String { flows.sorted().map(\.rawValue).joined(separator: ",") }

    static func binds(_ e: Editor) -> [SQLValue] {
        [.text(e.id), .text(e.name), .text(e.environment.rawValue), .text(e.baseURL), .text(flowList(e.flows)),
         .optional(e.clientCertificatePath), .optional(e.clientKeyPath), .optional(e.serverCAPath),
         .optional(e.inboundCommonName), .optional(e.inboundOrganizationalUnit),
         e.timeoutMilliseconds.map { .int($0) } ?? .null, .bool(e.enabled), .date(e.createdAt), .date(e.updatedAt)]
    }

    static func decode(_ row: SQLRow) throws -> Editor {
        Editor(
            id: try row.string("id"), name: try row.string("name"),
            environment: Editor.Environment(rawValue: try row.string("environment")) ?? .production,
            baseURL: try row.string("base_url"),
            flows: Set(try row.string("flows").split(separator: ",").compactMap { Editor.Flow(rawValue: String($0)) }),
            clientCertificatePath: row.optionalString("client_certificate_path"),
            clientKeyPath: row.optionalString("client_key_path"), serverCAPath: row.optionalString("server_ca_path"),
            inboundCommonName: row.optionalString("inbound_cn"), inboundOrganizationalUnit: row.optionalString("inbound_ou"),
            timeoutMilliseconds: row["timeout_ms"].intValue, enabled: row.bool("enabled"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
