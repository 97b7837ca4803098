import Foundation
import SASDomain
import Storage

/// A platform account. No patient data ever lives here: only professionals and staff.
public struct Account: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case active, disabled }

    public var id: String
    /// Lower-cased e-mail, the login identifier.
    public var email: String
    public var displayName: String
    /// The national professional identifier (IDNPS, `8`+RPPS or `0`+ADELI), used to link a Pro Santé Connect login.
    public var idnps: String?
    public var mustChangePassword: Bool
    public var status: Status
    /// Why the account is disabled (French, shown to administrators).
    public var statusReason: String?
    public var roles: Set<Role>
    /// SAS territories (department codes) the account acts on.
    public var territories: [String]
    public var failedAttempts: Int
    public var lockedUntil: Date?
    public var lastLoginAt: Date?
    public var createdAt: Date
    public var version: Int

    public init(id: String, email: String, displayName: String, idnps: String?, mustChangePassword: Bool, status: Status,
                statusReason: String?, roles: Set<Role>, territories: [String], failedAttempts: Int, lockedUntil: Date?,
                lastLoginAt: Date?, createdAt: Date, version: Int) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.idnps = idnps
        self.mustChangePassword = mustChangePassword
        self.status = status
        self.statusReason = statusReason
        self.roles = roles
        self.territories = territories
        self.failedAttempts = failedAttempts
        self.lockedUntil = lockedUntil
        self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
        self.version = version
    }

    /// True when the account holds at least one role granting `permission`.
    public func has(_ permission: Permission) -> Bool { !roles.isDisjoint(with: permission.roles) }
    /// True when the account holds one of `allowed`.
    public func hasAny(_ allowed: Set<Role>) -> Bool { !roles.isDisjoint(with: allowed) }
}

/// Errors of account management, with French messages for the UI and the API.
public struct AccountError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case invalid, conflict, notFound = "not_found", weakPassword = "weak_password" }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// Accounts in storage (`accounts`, `account_roles`, `account_territories`).
public struct AccountStore: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    static func normalisedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Validates and creates an account; `password` is hashed (nil: the account can only log in through Pro Santé
    /// Connect until a reset).
    @discardableResult
    public func create(
        email: String, displayName: String, idnps: String? = nil, roles: Set<Role>, territories: [String] = [],
        passwordHash: String?, mustChangePassword: Bool = false, actor: String, now: Date = Date()
    ) async throws -> Account {
        let (email, name, normalisedIDNPS) = try Self.validIdentity(email: email, displayName: displayName, idnps: idnps)
        guard !roles.isEmpty else { throw AccountError(.invalid, "Un compte doit avoir au moins un rôle.") }
        let territories = try Self.validTerritories(territories)
        let account = Account(
            id: RandomID.uuid(), email: email, displayName: name, idnps: normalisedIDNPS,
            mustChangePassword: mustChangePassword, status: .active, statusReason: nil, roles: roles,
            territories: territories, failedAttempts: 0, lockedUntil: nil, lastLoginAt: nil, createdAt: now, version: 1)
        try await database.transaction { tx in
            try await Self.checkUnique(tx, email: email, idnps: normalisedIDNPS, except: nil)
            try await tx.query("""
                INSERT INTO accounts (id, email, display_name, idnps, password_hash, must_change_password, status,
                                      created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)
                """, [.text(account.id), .text(email), .text(name), .optional(normalisedIDNPS), .optional(passwordHash),
                      .bool(mustChangePassword), .date(now), .date(now)])
            for role in roles.sorted(by: { $0.rawValue < $1.rawValue }) {
                try await tx.query("INSERT INTO account_roles (account_id, role) VALUES (?, ?)",
                                   [.text(account.id), .text(role.rawValue)])
            }
            for territory in territories {
                try await tx.query("INSERT INTO account_territories (account_id, territory) VALUES (?, ?)",
                                   [.text(account.id), .text(territory)])
            }
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "account.create", target: account.id,
                detail: "\(email) rôles=\(roles.map(\.rawValue).sorted().joined(separator: ",")) territoires=\(territories.joined(separator: ","))",
                occurredAt: now))
        }
        return account
    }

    /// Changes the e-mail (login), display name and IDNPS of an account (nil or empty: none), with the same checks as at
    /// creation; returns the account as it was. A new e-mail voids the reset links not used yet (they went to the
    /// old address). Audited with what changed; nothing to change writes nothing. Vendors get the new identity at the
    /// regulator's next login (INT_R02 update keyed by what they know).
    @discardableResult
    public func updateIdentity(_ id: String, email: String, displayName: String, idnps: String?, actor: String,
                               now: Date = Date()) async throws -> Account {
        let (email, name, normalisedIDNPS) = try Self.validIdentity(email: email, displayName: displayName, idnps: idnps)
        return try await database.transaction { tx in
            guard let current = try await Self.load(tx, where: "a.id = ?", [.text(id)]) else {
                throw AccountError(.notFound, "Compte inconnu.")
            }
            var changes: [String] = []
            if current.email != email { changes.append("e-mail \(current.email) → \(email)") }
            if current.displayName != name { changes.append("nom « \(current.displayName) » → « \(name) »") }
            if current.idnps != normalisedIDNPS { changes.append("IDNPS \(current.idnps ?? "aucun") → \(normalisedIDNPS ?? "aucun")") }
            guard !changes.isEmpty else { return current }
            try await Self.checkUnique(tx, email: current.email == email ? nil : email,
                                       idnps: current.idnps == normalisedIDNPS ? nil : normalisedIDNPS, except: id)
            try await tx.query("""
                UPDATE accounts SET email = ?, display_name = ?, idnps = ?, updated_at = ?, version = version + 1 WHERE id = ?
                """, [.text(email), .text(name), .optional(normalisedIDNPS), .date(now), .text(id)])
            if current.email != email {
                try await tx.query("DELETE FROM password_resets WHERE account_id = ? AND used_at IS NULL", [.text(id)])
            }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "account.identity", target: id,
                                                     detail: changes.joined(separator: " ; "), occurredAt: now))
            return current
        }
    }

    /// Refuses an e-mail or IDNPS already held by another account (`except`: the account being changed).
    static func checkUnique(_ tx: any SQLExecutor, email: String?, idnps: String?, except id: String?) async throws {
        guard email != nil || idnps != nil else { return }
        let clash = try await tx.query(
            "SELECT email, idnps FROM accounts WHERE (email = ? OR (idnps IS NOT NULL AND idnps = ?)) AND id <> ?",
            [.optional(email), .optional(idnps), .text(id ?? "")])
        if let row = clash.first {
            if let email, row.optionalString("email") == email {
                throw AccountError(.conflict, "Un compte existe déjà avec l'adresse \(email).")
            }
            throw AccountError(.conflict, "Un compte existe déjà pour l'identifiant national \(idnps ?? "").")
        }
    }

    /// The normalised e-mail, display name and IDNPS of an account, or why they are refused.
    static func validIdentity(email: String, displayName: String, idnps: String?) throws -> (String, String, String?) {
        let email = normalisedEmail(email)
        guard isPlausibleEmail(email), SMTPMailer.isSafeAddress(email) else {
            throw AccountError(.invalid, "Adresse e-mail invalide : « \(email) ».")
        }
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw AccountError(.invalid, "Le nom affiché est obligatoire (200 caractères au plus).")
        }
        return (email, name, try validIDNPS(idnps?.trimmingCharacters(in: .whitespaces)))
    }

    /// Replaces the roles of an account (audited: each role added or removed).
    public func setRoles(_ id: String, roles: Set<Role>, actor: String, now: Date = Date()) async throws {
        guard !roles.isEmpty else { throw AccountError(.invalid, "Un compte doit avoir au moins un rôle.") }
        try await database.transaction { tx in
            guard let current = try await Self.load(tx, where: "a.id = ?", [.text(id)]) else {
                throw AccountError(.notFound, "Compte inconnu.")
            }
            try await tx.query("DELETE FROM account_roles WHERE account_id = ?", [.text(id)])
            for role in roles {
                try await tx.query("INSERT INTO account_roles (account_id, role) VALUES (?, ?)", [.text(id), .text(role.rawValue)])
            }
            try await tx.query("UPDATE accounts SET updated_at = ?, version = version + 1 WHERE id = ?", [.date(now), .text(id)])
            let added = roles.subtracting(current.roles).map(\.rawValue).sorted()
            let removed = current.roles.subtracting(roles).map(\.rawValue).sorted()
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "account.roles", target: id,
                detail: "ajoutés=\(added.joined(separator: ",")) retirés=\(removed.joined(separator: ","))", occurredAt: now))
        }
    }

    /// Replaces the territories of an account (audited).
    public func setTerritories(_ id: String, territories: [String], actor: String, now: Date = Date()) async throws {
        let territories = try Self.validTerritories(territories)
        try await database.transaction { tx in
            guard let current = try await Self.load(tx, where: "a.id = ?", [.text(id)]) else {
                throw AccountError(.notFound, "Compte inconnu.")
            }
            try await tx.query("DELETE FROM account_territories WHERE account_id = ?", [.text(id)])
            for territory in territories {
                try await tx.query("INSERT INTO account_territories (account_id, territory) VALUES (?, ?)", [.text(id), .text(territory)])
            }
            try await tx.query("UPDATE accounts SET updated_at = ?, version = version + 1 WHERE id = ?", [.date(now), .text(id)])
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "account.territories", target: id,
                detail: "\(current.territories.joined(separator: ",")) → \(territories.joined(separator: ","))", occurredAt: now))
        }
    }

    /// Checks department codes (01–95 but 20, 2A, 2B, 971–976); returns them upper-cased, sorted, without repeats.
    public static func territories(_ codes: [String]) throws -> [String] { try validTerritories(codes) }

    /// Disables an account and ends its sessions (audited).
    public func disable(_ id: String, reason: String, actor: String, now: Date = Date()) async throws {
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE accounts SET status = 'disabled', status_reason = ?, updated_at = ?, version = version + 1
                WHERE id = ? RETURNING id
                """, [.text(reason), .date(now), .text(id)])
            guard !rows.isEmpty else { throw AccountError(.notFound, "Compte inconnu.") }
            try await tx.query("DELETE FROM sessions WHERE account_id = ?", [.text(id)])
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "account.disable", target: id, detail: reason,
                                                     occurredAt: now))
        }
    }

    /// Re-enables an account, clearing its lock-out (audited).
    public func enable(_ id: String, actor: String, now: Date = Date()) async throws {
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE accounts SET status = 'active', status_reason = NULL, failed_attempts = 0, lockouts = 0,
                    locked_until = NULL, inactivity_warned_at = NULL, last_login_at = ?, updated_at = ?,
                    version = version + 1
                WHERE id = ? RETURNING id
                """, [.date(now), .date(now), .text(id)])
            guard !rows.isEmpty else { throw AccountError(.notFound, "Compte inconnu.") }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "account.enable", target: id, occurredAt: now))
        }
    }

    public func find(id: String) async throws -> Account? {
        try await Self.load(database, where: "a.id = ?", [.text(id)])
    }

    public func find(email: String) async throws -> Account? {
        try await Self.load(database, where: "a.email = ?", [.text(Self.normalisedEmail(email))])
    }

    public func find(idnps: String) async throws -> Account? {
        try await Self.load(database, where: "a.idnps = ?", [.text(idnps)])
    }

    /// Every account, by e-mail.
    public func all() async throws -> [Account] {
        let rows = try await database.query("SELECT a.* FROM accounts a ORDER BY a.email")
        var accounts: [Account] = []
        for row in rows { accounts.append(try await Self.account(row, database)) }
        return accounts
    }

    static func load(_ executor: any SQLExecutor, where condition: String, _ binds: [SQLValue]) async throws -> Account? {
        guard let row = try await executor.query("SELECT a.* FROM accounts a WHERE \(condition)", binds).first else {
            return nil
        }
        return try await account(row, executor)
    }

    static func account(_ row: SQLRow, _ executor: any SQLExecutor) async throws -> Account {
        let id = try row.string("id")
        let roles = try await executor.query("SELECT role FROM account_roles WHERE account_id = ?", [.text(id)])
            .compactMap { $0.optionalString("role").flatMap(Role.init(rawValue:)) }
        let territories = try await executor.query(
            "SELECT territory FROM account_territories WHERE account_id = ? ORDER BY territory", [.text(id)])
            .compactMap { $0.optionalString("territory") }
        return Account(
            id: id, email: try row.string("email"), displayName: try row.string("display_name"),
            idnps: row.optionalString("idnps"), mustChangePassword: row.bool("must_change_password"),
            status: Account.Status(rawValue: try row.string("status")) ?? .disabled,
            statusReason: row.optionalString("status_reason"), roles: Set(roles), territories: territories,
            failedAttempts: try row.int("failed_attempts"), lockedUntil: row.optionalDate("locked_until"),
            lastLoginAt: row.optionalDate("last_login_at"), createdAt: try row.date("created_at"),
            version: try row.int("version"))
    }

    static func validIDNPS(_ idnps: String?) throws -> String? {
        guard let idnps, !idnps.isEmpty else { return nil }
        do {
            return try IDNPS(parsing: idnps).value
        } catch {
            let why = (error as? NationalIdentifierError)?.message ?? "\(error)"
            throw AccountError(.invalid, "Identifiant national (IDNPS) invalide : « \(idnps) ». \(why)")
        }
    }

    static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), email.count <= 254,
              !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
        return !email.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "\"" })
    }

    static func validTerritories(_ territories: [String]) throws -> [String] {
        var result: [String] = []
        for raw in territories {
            let code = raw.trimmingCharacters(in: .whitespaces).uppercased()
            // Metropolitan departments 01–95 (20 became 2A and 2B), overseas 971–976.
            let number = Int(code) ?? -1
            let valid = (code.count == 2 && ((1...95).contains(number) && number != 20 || code == "2A" || code == "2B"))
                || (code.count == 3 && (971...976).contains(number))
            guard valid else { throw AccountError(.invalid, "Territoire inconnu : « \(raw) » (code de département attendu).") }
            if !result.contains(code) { result.append(code) }
        }
        return result.sorted()
    }
}
