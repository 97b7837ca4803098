import Directory
import Foundation
import Identity
import Storage

/// A registry change refused, with its French reason.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case invalid, notFound, conflict }
    public let kind: Kind
    public let message: String
    public var description: String { message }
}

/// The LRM origins allowed to open the contextual search (INT_L01, `/sas/recherche?origin=…`): one per SAMU's
/// regulation software, its territory, and a switch that cuts the flow of one SAMU at once.
public struct LRMOriginStore: Sendable {
    public struct Origin: Sendable, Codable, Equatable {
        /// The value the LRM sends as `origin` (the live platform's `affectation_authority`).
        public var code: String
        public var label: String
        /// Department code of the SAMU.
        public var territory: String?
        public var enabled: Bool
        public var createdAt: Date
        public var updatedAt: Date
    }

    let database: any Database
    public init(database: any Database) { self.database = database }

    static func validate(code: String, label: String, territory: String?) throws -> (String, String, String?) {
        let code = code.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
            throw RegistryError(kind: .invalid, message: "Code d'origine « \(code) » invalide : 1 à 100 caractères parmi lettres, chiffres, - _ . :")
        }
        let label = label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(label.count) else {
            throw RegistryError(kind: .invalid, message: "Le libellé est obligatoire (200 caractères au plus).")
        }
        var department: String?
        if let territory, !territory.trimmingCharacters(in: .whitespaces).isEmpty {
            do { department = try AccountStore.territories([territory]).first } catch {
                throw RegistryError(kind: .invalid, message: "Territoire inconnu « \(territory) » (code de département attendu).")
            }
        }
        return (code, label, department)
    }

    public func all() async throws -> [Origin] {
        try await database.query("SELECT * FROM lrm_origins ORDER BY code").map(Self.decode)
    }

    public func get(_ code: String) async throws -> Origin? {
        try await database.query("SELECT * FROM lrm_origins WHERE code = ?", [.text(code)]).first.map(Self.decode)
    }

    /// The origin when it is registered and enabled (what INT_L01 accepts).
    public func active(_ code: String) async throws -> Origin? {
        guard let origin = try await get(code), origin.enabled else { return nil }
        return origin
    }

    public func add(code: String, label: String, territory: String?, enabled: Bool = true, actor: String) async throws -> Origin {
        let (code, label, territory) = try Self.validate(code: code, label: label, territory: territory)
        let now = Date()
        try await database.transaction { tx in
            guard try await tx.query("SELECT code FROM lrm_origins WHERE code = ?", [.text(code)]).isEmpty else {
                throw RegistryError(kind: .conflict, message: "L'origine « \(code) » existe déjà.")
            }
            try await tx.query("INSERT INTO lrm_origins (code, label, territory, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                               [.text(code), .text(label), .optional(territory), .bool(enabled), .date(now), .date(now)])
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "lrm_origin.add", target: code,
                                                     detail: "\(label) \(territory ?? "-") \(enabled ? "active" : "inactive")"))
        }
        return Origin(code: code, label: label, territory: territory, enabled: enabled, createdAt: now, updatedAt: now)
    }

    public func update(code: String, label: String, territory: String?, enabled: Bool, actor: String) async throws -> Origin {
        let (code, label, territory) = try Self.validate(code: code, label: label, territory: territory)
        try await database.transaction { tx in
            let rows = try await tx.query("UPDATE lrm_origins SET label = ?, territory = ?, enabled = ?, updated_at = ? WHERE code = ? RETURNING code",
                                          [.text(label), .optional(territory), .bool(enabled), .date(Date()), .text(code)])
            guard !rows.isEmpty else { throw RegistryError(kind: .notFound, message: "Origine « \(code) » introuvable.") }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: enabled ? "lrm_origin.update" : "lrm_origin.disable", target: code,
                                                     detail: "\(label) \(territory ?? "-") \(enabled ? "active" : "inactive")"))
        }
        return try await get(code)!
    }

    public func remove(_ code: String, actor: String) async throws {
        try await database.transaction { tx in
            let rows = try await tx.query("DELETE FROM lrm_origins WHERE code = ? RETURNING code", [.text(code)])
            guard !rows.isEmpty else { throw RegistryError(kind: .notFound, message: "Origine « \(code) » introuvable.") }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "lrm_origin.remove", target: code))
        }
    }

    static func decode(_ row: SQLRow) throws -> Origin {
        Origin(code: try row.string("code"), label: try row.string("label"), territory: row.optionalString("territory"),
               enabled: row.bool("enabled"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}

/// The SAS territories: the departments of the reference table, each with its SAMU's Hub Santé client id (where
/// INT_L02 messages go, `fr.health.samuXXX`), whether the SAS is open there, and the regulators attached.
public struct TerritoryStore: Sendable {
    public struct Territory: Sendable, Codable, Equatable {
        public var code: String
        public var name: String
        public var region: String
        public var samuClientID: String?
        public var active: Bool
        /// Active regulator and IOA accounts attached to the territory.
        public var regulators: Int
    }

    let database: any Database
    let departments: Departments

    public init(database: any Database, departments: Departments) {
        self.database = database
        self.departments = departments
    }

    static func validClientID(_ text: String) -> Bool {
        text.hasPrefix("fr.health.") && text.count <= 64 && text.count > "fr.health.".count
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    public func all() async throws -> [Territory] {
        var settings: [String: (String?, Bool)] = [:]
        for row in try await database.query("SELECT code, samu_client_id, active FROM sas_territories") {
            settings[try row.string("code")] = (row.optionalString("samu_client_id"), row.bool("active"))
        }
        var counts: [String: Int] = [:]
        for row in try await database.query("""
            SELECT t.territory AS territory, COUNT(DISTINCT a.id) AS n FROM account_territories t
            JOIN accounts a ON a.id = t.account_id JOIN account_roles r ON r.account_id = a.id
            WHERE a.status = 'active' AND r.role IN ('regulator', 'ioa') GROUP BY t.territory
            """) {
            counts[try row.string("territory")] = row["n"].intValue ?? 0
        }
        return departments.all.map { department in
            let setting = settings[department.code]
            return Territory(code: department.code, name: department.name, region: department.region,
                             samuClientID: setting?.0 ?? nil, active: setting?.1 ?? true, regulators: counts[department.code] ?? 0)
        }
    }

    public func get(_ code: String) async throws -> Territory? {
        try await all().first { $0.code == code.uppercased() }
    }

    /// Sets a territory's SAMU client id (nil clears it) and whether the SAS is open there.
    public func update(_ code: String, samuClientID: String?, active: Bool, actor: String) async throws -> Territory {
        let code = code.uppercased()
        guard departments.all.contains(where: { $0.code == code }) else {
            throw RegistryError(kind: .notFound, message: "Territoire « \(code) » inconnu.")
        }
        let clientID = samuClientID?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if let clientID, !Self.validClientID(clientID) {
            throw RegistryError(kind: .invalid,
                                message: "Identifiant Hub Santé « \(clientID) » invalide : fr.health.samuXXX attendu (XXX : code du CRRA).")
        }
        try await database.transaction { tx in
            if let clientID {
                let clash = try await tx.query("SELECT code FROM sas_territories WHERE samu_client_id = ? AND code <> ?", [.text(clientID), .text(code)])
                if let other = clash.first {
                    throw RegistryError(kind: .conflict, message: "\(clientID) est déjà le SAMU du territoire \(try other.string("code")).")
                }
            }
            try await tx.query("""
                INSERT INTO sas_territories (code, samu_client_id, active, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (code) DO UPDATE SET samu_client_id = excluded.samu_client_id, active = excluded.active,
                    updated_at = excluded.updated_at
                """, [.text(code), .optional(clientID), .bool(active), .date(Date())])
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "territory.update", target: code,
                                                     detail: "samu=\(clientID ?? "-") \(active ? "ouvert" : "fermé")"))
        }
        return try await get(code)!
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
