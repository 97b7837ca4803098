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
                    server_ca_path, inbound_cn, inbound_ou, timeout_ms, enabled, onboarding_state, server_name, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, Self.binds(editor))
            try await Self.recordEvent(tx, editor.id, editor.onboardingState, note: "Enregistrement", actor: actor)
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.add", target: editor.id,
                                                     detail: "\(editor.name) \(editor.baseURL) \(Self.flowList(editor.flows)) \(editor.onboardingState.rawValue)"))
        }
    }

    /// Updates an existing editor (every field but id and creation date).
    public func update(_ editor: Editor, actor: String) async throws {
        let problems = editor.problems()
        guard problems.isEmpty else { throw InvalidEditor(problems: problems) }
        try await database.transaction { tx in
            guard let before = try await tx.query("SELECT onboarding_state FROM editors WHERE id = ?", [.text(editor.id)]).first else {
                throw RegistryError.notFound(editor.id)
            }
            try await tx.query("""
                UPDATE editors SET name = ?, environment = ?, base_url = ?, flows = ?, client_certificate_path = ?,
                    client_key_path = ?, server_ca_path = ?, inbound_cn = ?, inbound_ou = ?, timeout_ms = ?, enabled = ?,
                    onboarding_state = ?, server_name = ?, updated_at = ?
                WHERE id = ?
                """, Array(Self.binds(editor).dropFirst().dropLast(2)) + [.date(Date()), .text(editor.id)])
            if try before.string("onboarding_state") != editor.onboardingState.rawValue {
                try await Self.recordEvent(tx, editor.id, editor.onboardingState, note: nil, actor: actor)
            }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.update", target: editor.id))
        }
    }

    /// Suspends (disabled) or reactivates (enabled, back to the state it had before the suspension) an editor at
    /// once: every node reads the registry.
    public func setEnabled(_ id: String, _ enabled: Bool, actor: String, note: String? = nil) async throws {
        if enabled {
            let current = try await get(id)
            if current.enabled && current.onboardingState != .suspendu { return }
            let back = try await history(id).first { $0.state != .suspendu }?.state ?? .enService
            try await changeState(id, to: current.onboardingState == .suspendu ? back : current.onboardingState,
                                  note: note ?? "Réactivation", actor: actor, enable: true)
        } else {
            try await changeState(id, to: .suspendu, note: note ?? "Suspension", actor: actor)
        }
    }

    /// A dated step of a vendor's onboarding.
    public struct OnboardingEvent: Sendable, Codable, Equatable {
        public var state: Editor.OnboardingState
        public var note: String?
        public var actor: String
        public var at: Date
    }

    /// Moves a vendor to `state` with a note, in one transaction with its history and the audit trail. Suspending
    /// disables it; leaving the suspension enables it again (as does `enable`).
    public func changeState(_ id: String, to state: Editor.OnboardingState, note: String?, actor: String,
                            enable: Bool = false) async throws {
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note, note.count > 2_000 { throw InvalidEditor(problems: ["la note dépasse 2 000 caractères"]) }
        try await database.transaction { tx in
            guard let row = try await tx.query("SELECT onboarding_state, enabled FROM editors WHERE id = ?", [.text(id)]).first else {
                throw RegistryError.notFound(id)
            }
            let wasSuspended = try row.string("onboarding_state") == Editor.OnboardingState.suspendu.rawValue
            let enabled = state == .suspendu ? false : ((wasSuspended || enable) ? true : row.bool("enabled"))
            try await tx.query("UPDATE editors SET onboarding_state = ?, enabled = ?, updated_at = ? WHERE id = ?",
                               [.text(state.rawValue), .bool(enabled), .date(Date()), .text(id)])
            try await Self.recordEvent(tx, id, state, note: note?.isEmpty == true ? nil : note, actor: actor)
            let action = state == .suspendu ? "editor.suspend" : (wasSuspended ? "editor.reactivate" : "editor.state")
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: action, target: id, detail: state.rawValue))
        }
    }

    /// The vendor's onboarding steps, latest first.
    public func history(_ id: String) async throws -> [OnboardingEvent] {
        try await database.query("""
            SELECT state, note, actor, occurred_at FROM editor_onboarding_events WHERE editor_id = ? ORDER BY sequence DESC
            """, [.text(id)]).map { row in
            OnboardingEvent(state: Editor.OnboardingState(rawValue: try row.string("state")) ?? .contact,
                            note: row.optionalString("note"), actor: try row.string("actor"), at: try row.date("occurred_at"))
        }
    }

    static func recordEvent(_ tx: any SQLExecutor, _ id: String, _ state: Editor.OnboardingState, note: String?, actor: String) async throws {
        // Numbered per vendor in the change's transaction: steps in the same millisecond keep their order.
        try await tx.query("""
            INSERT INTO editor_onboarding_events (id, editor_id, sequence, state, note, actor, occurred_at)
            SELECT ?, ?, COALESCE(MAX(sequence), 0) + 1, ?, ?, ?, ? FROM editor_onboarding_events WHERE editor_id = ?
            """, [.text(RandomID.uuid()), .text(id), .text(state.rawValue), .optional(note), .text(actor), .date(Date()), .text(id)])
    }

    /// Removes an editor and the practitioner links learned for it.
    public func remove(_ id: String, actor: String) async throws {
        try await database.transaction { tx in
            try await tx.query("DELETE FROM editor_links WHERE editor_id = ?", [.text(id)])
            try await tx.query("DELETE FROM editor_onboarding_events WHERE editor_id = ?", [.text(id)])
            try await tx.query("DELETE FROM conformance_inputs WHERE editor_id = ?", [.text(id)])
            try await tx.query("DELETE FROM conformance_runs WHERE editor_id = ?", [.text(id)])
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
         e.timeoutMilliseconds.map { .int($0) } ?? .null, .bool(e.enabled), .text(e.onboardingState.rawValue),
         .optional(e.serverName), .date(e.createdAt), .date(e.updatedAt)]
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
            onboardingState: Editor.OnboardingState(rawValue: row.optionalString("onboarding_state") ?? "") ?? .enService,
            serverName: row.optionalString("server_name"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
