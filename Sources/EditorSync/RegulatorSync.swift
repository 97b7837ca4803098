import Aggregator
import FHIR
import Foundation
import Identity
import Logging
import SASDomain
import Storage

/// The synchronisation state of one regulator's account at one vendor (`regulator_sync`), as administrators see it.
public struct RegulatorSyncState: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// The vendor holds what the platform last sent.
        case synced
        /// The last attempt failed: retried at `nextAttemptAt`.
        case failed
        /// Being sent (or never attempted yet).
        case pending
    }

    public var accountID: String
    public var editorID: String
    public var state: State
    /// The `system|value` token the vendor knows the account by (nil: never created there).
    public var remoteIdentifier: String?
    public var remoteActive: Bool
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastStatus: Int?
    /// Why the last attempt failed (French).
    public var lastError: String?
    public var syncedAt: Date?
    public var updatedAt: Date

    /// French label for the console.
    public var label: String {
        switch state {
        case .synced: remoteActive ? "Synchronisé" : "Désactivé chez l'éditeur"
        case .failed: "Échec — nouvel essai prévu"
        case .pending: "En attente d'envoi"
        }
    }
}

/// What one reconciliation did at one vendor.
public enum RegulatorSyncAction: String, Sendable, Equatable {
    /// Nothing to send: the vendor is up to date (or the account never needed to exist there).
    case none
    /// `POST Practitioner` accepted.
    case created
    /// Conditional `PUT` accepted (an update, possibly an identifier change).
    case updated
    /// Conditional `PUT` with `active = false` accepted.
    case deactivated
    /// The vendor refused or could not be reached: retried later.
    case failed
    /// Another node holds this account's lease at this vendor right now.
    case busy
}

/// Keeps regulator accounts in sync in vendors' software (INT_R02), per (regulator, vendor):
/// - at the regulator's login, creation (`POST`) or update (conditional `PUT ?identifier=<what the vendor knows>`)
///   is sent to the vendors that need it, in the background (a vendor down never delays a login);
/// - when the platform's national id replaces the SAS technical id, the old identifier is in the query and the new
///   one in the body;
/// - deactivation (account disabled, regulating role removed) is sent at once: ``runDue()`` finds it on every node
///   within seconds, whichever process made the change (web, `sas accounts`, the inactivity sweep);
/// - failures are retried with exponential backoff (30 s doubling up to 1 h, or the vendor's `Retry-After`) and shown
///   to administrators with the vendor's answer.
/// A per-row lease in storage keeps two nodes from sending the same change together.
public final class RegulatorSync: Sendable {
    /// The roles whose holders need accounts at vendors (they book on vendors' pages).
    public static let regulatingRoles: Set<Role> = Permission.orient.roles

    let database: any Database
    let editors: EditorStore
    let client: RegulatorAccountClient
    let logger: Logger
    let clock: @Sendable () -> Date
    let lease: TimeInterval = 60
    let maxBackoff: TimeInterval = 3_600
    let firstBackoff: TimeInterval = 30

    let logins: (stream: AsyncStream<String>, continuation: AsyncStream<String>.Continuation)

    public init(database: any Database, client: RegulatorAccountClient, logger: Logger,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.logins = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        self.database = database
        self.editors = EditorStore(database: database)
        self.client = client
        self.logger = logger
        self.clock = clock
    }

    /// Called at every login: the account is reconciled in the background by ``processLogins(maxConcurrent:)``
    /// (never on the login's path).
    public func loggedIn(_ account: Account) {
        logins.continuation.yield(account.id)
    }

    /// Consumes the logins queued by ``loggedIn(_:)`` until cancelled, a few accounts at a time; only accounts with
    /// something to send to some vendor cause requests.
    public func processLogins(maxConcurrent: Int = 8) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await accountID in logins.stream {
                if running >= maxConcurrent {
                    await group.next()
                    running -= 1
                }
                group.addTask {
                    do {
                        guard let account = try await AccountStore(database: self.database).find(id: accountID),
                              try await self.needsSync(account) else { return }
                        try await self.reconcile(accountID: accountID, reason: "connexion")
                    } catch {
                        self.logger.warning("INT_R02 reconciliation failed", metadata: ["account": "\(accountID)", "error": "\(error)"])
                    }
                }
                running += 1
            }
        }
    }

    /// Stops ``processLogins(maxConcurrent:)`` after the queued logins.
    public func finish() { logins.continuation.finish() }

    /// The desired state of `account` at vendors: its national id, else its id as the SAS technical id (accounts
    /// get UUID ids; nil for an account whose id is not one, which cannot be sent).
    public static func profile(of account: Account) -> RegulatorProfile? {
        let identifier: RegulatorIdentifier
        if let idnps = account.idnps, let national = try? IDNPS(parsing: idnps) {
            identifier = .national(national)
        } else if let technical = try? SASTechnicalID(parsing: account.id) {
            identifier = .technical(technical)
        } else {
            return nil
        }
        let names = RegulatorProfile.names(from: account.displayName)
        return RegulatorProfile(identifier: identifier,
                                active: account.status == .active && account.hasAny(regulatingRoles),
                                familyName: names.family, givenName: names.given, email: account.email)
    }

    /// The vendors with INT_R02 enabled.
    func accountEditors() async throws -> [Editor] { try await editors.enabled(for: .r02) }

    /// True when `account` has something to send to at least one vendor (the check made at login).
    public func needsSync(_ account: Account) async throws -> Bool {
        guard let desired = Self.profile(of: account) else { return false }
        let rows = try await stateRows(accountID: account.id)
        for editor in try await accountEditors() {
            if Self.action(desired: desired, row: rows[editor.id]) != nil { return true }
        }
        return false
    }

    /// Reconciles `accountID` with every INT_R02 vendor, in parallel; returns what was done per vendor.
    @discardableResult
    public func reconcile(accountID: String, reason: String) async throws -> [String: RegulatorSyncAction] {
        let editors = try await accountEditors()
        return try await withThrowingTaskGroup(of: (String, RegulatorSyncAction).self) { group in
            for editor in editors {
                group.addTask { (editor.id, try await self.reconcile(accountID: accountID, editor: editor, reason: reason)) }
            }
            var actions: [String: RegulatorSyncAction] = [:]
            for try await (id, action) in group { actions[id] = action }
            return actions
        }
    }

    /// Sends the deactivations and retries that are due (called every few seconds by ``RegulatorSyncService``).
    @discardableResult
    public func runDue() async throws -> Int {
        let now = clock()
        let regulating = Self.regulatingRoles.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        let rows = try await database.query("""
            SELECT s.account_id, s.editor_id FROM regulator_sync s LEFT JOIN accounts a ON a.id = s.account_id
            WHERE (s.lease_until IS NULL OR s.lease_until < ?)
              AND ((s.state = 'failed' AND s.next_attempt_at <= ?)
                OR (s.state = 'synced' AND s.remote_active = 1 AND (a.id IS NULL OR a.status <> 'active'
                    OR NOT EXISTS (SELECT 1 FROM account_roles r WHERE r.account_id = s.account_id AND r.role IN (\(regulating))))))
            ORDER BY s.next_attempt_at LIMIT 200
            """, [.date(now), .date(now)])
        guard !rows.isEmpty else { return 0 }
        let editors = Dictionary(uniqueKeysWithValues: try await accountEditors().map { ($0.id, $0) })
        var done = 0
        for row in rows {
            let accountID = try row.string("account_id")
            guard let editor = editors[try row.string("editor_id")] else { continue }
            _ = try await reconcile(accountID: accountID, editor: editor, reason: "relance")
            done += 1
        }
        return done
    }

    /// Every row, or those of one account, for the console.
    public func states(accountID: String? = nil) async throws -> [RegulatorSyncState] {
        let rows: [SQLRow]
        if let accountID {
            rows = try await database.query("SELECT * FROM regulator_sync WHERE account_id = ? ORDER BY editor_id", [.text(accountID)])
        } else {
            rows = try await database.query("SELECT * FROM regulator_sync ORDER BY state, updated_at DESC LIMIT 1000")
        }
        return try rows.map(Self.state)
    }

    /// Makes a failed row due now (an administrator's "relancer").
    public func retryNow(accountID: String, editorID: String, actor: String) async throws -> Bool {
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE regulator_sync SET next_attempt_at = ?, updated_at = ? WHERE account_id = ? AND editor_id = ?
                    AND state = 'failed' RETURNING account_id
                """, [.date(self.clock()), .date(self.clock()), .text(accountID), .text(editorID)])
            guard !rows.isEmpty else { return false }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "regulator_sync.retry", target: accountID,
                                                     detail: "INT_R02 relancé vers \(editorID)", occurredAt: self.clock()))
            return true
        }
    }

    // MARK: one (account, vendor)

    /// What must be sent for `desired` given the vendor's known state (nil: nothing).
    static func action(desired: RegulatorProfile, row: Row?) -> Planned? {
        guard let row, let remote = row.remoteIdentifier else {
            // Never created there: only an active regulator needs an account.
            return desired.active ? .create : nil
        }
        if row.state == .synced, row.profile == desired { return nil }
        if row.state == .synced, !row.remoteActive, !desired.active { return nil }
        return .update(query: remote)
    }

    enum Planned: Equatable {
        case create
        case update(query: String)
    }

    struct Row {
        var state: RegulatorSyncState.State
        var remoteIdentifier: String?
        var remoteActive: Bool
        var profile: RegulatorProfile?
        var attempts: Int
    }

    func stateRows(accountID: String) async throws -> [String: Row] {
        var rows: [String: Row] = [:]
        for row in try await database.query("SELECT * FROM regulator_sync WHERE account_id = ?", [.text(accountID)]) {
            rows[try row.string("editor_id")] = Self.row(row)
        }
        return rows
    }

    static func row(_ row: SQLRow) -> Row {
        Row(state: RegulatorSyncState.State(rawValue: row.optionalString("state") ?? "") ?? .pending,
            remoteIdentifier: row.optionalString("remote_identifier"), remoteActive: row.bool("remote_active"),
            profile: row.optionalString("synced_profile").flatMap { try? JSONDecoder().decode(RegulatorProfile.self, from: Data($0.utf8)) },
            attempts: row["attempts"].intValue ?? 0)
    }

    static func state(_ row: SQLRow) throws -> RegulatorSyncState {
        RegulatorSyncState(
            accountID: try row.string("account_id"), editorID: try row.string("editor_id"),
            state: RegulatorSyncState.State(rawValue: try row.string("state")) ?? .pending,
            remoteIdentifier: row.optionalString("remote_identifier"), remoteActive: row.bool("remote_active"),
            attempts: row["attempts"].intValue ?? 0, nextAttemptAt: row.optionalDate("next_attempt_at"),
            lastStatus: row["last_status"].intValue, lastError: row.optionalString("last_error"),
            syncedAt: row.optionalDate("synced_at"), updatedAt: try row.date("updated_at"))
    }

    func reconcile(accountID: String, editor: Editor, reason: String) async throws -> RegulatorSyncAction {
        let now = clock()
        let account = try await AccountStore(database: database).find(id: accountID)
        // Take the lease (creating the row if needed); another node holding it is doing this work already.
        try await database.query("""
            INSERT INTO regulator_sync (account_id, editor_id, state, updated_at) VALUES (?, ?, 'pending', ?)
            ON CONFLICT (account_id, editor_id) DO NOTHING
            """, [.text(accountID), .text(editor.id), .date(now)])
        let leased = try await database.query("""
            UPDATE regulator_sync SET lease_until = ? WHERE account_id = ? AND editor_id = ?
                AND (lease_until IS NULL OR lease_until < ?) RETURNING *
            """, [.date(now.addingTimeInterval(lease)), .text(accountID), .text(editor.id), .date(now)])
        guard let leasedRow = leased.first else { return .busy }
        let row = Self.row(leasedRow)
        let desired: RegulatorProfile
        if let account {
            guard let profile = Self.profile(of: account) else {
                try await fail(accountID, editor.id, attempts: row.attempts, status: nil,
                               error: "Identifiant du compte inutilisable comme identifiant technique SAS (UUID attendu).",
                               retryAfter: nil, now: now)
                return .failed
            }
            desired = profile
        } else if var last = row.profile {
            last.active = false  // the account is gone: withdraw it with what the vendor last received
            desired = last
        } else {
            try await database.query("DELETE FROM regulator_sync WHERE account_id = ? AND editor_id = ?",
                                     [.text(accountID), .text(editor.id)])
            return .none
        }
        guard let planned = Self.action(desired: desired, row: row) else {
            if row.remoteIdentifier == nil {
                // Never needed there (e.g. a disabled account that never logged in): no row to keep.
                try await database.query("DELETE FROM regulator_sync WHERE account_id = ? AND editor_id = ?",
                                         [.text(accountID), .text(editor.id)])
            } else {
                try await release(accountID, editor.id, state: .synced, now: now)
            }
            return .none
        }
        let body: Data
        do { body = try desired.body() } catch {
            try await fail(accountID, editor.id, attempts: row.attempts, status: nil,
                           error: "Profil du compte invalide : \(error)", retryAfter: nil, now: now)
            return .failed
        }
        var answer: RegulatorAccountAnswer
        do {
            switch planned {
            case .create:
                answer = try await client.create(body, at: editor)
                if answer.status == 409 {
                    // The vendor already holds this identifier (state lost on our side): update it in place.
                    answer = try await client.update(identifiedBy: desired.token, body, at: editor)
                }
            case .update(let query):
                answer = try await client.update(identifiedBy: query, body, at: editor)
            }
        } catch {
            let text = (error as? TransportError).map(Self.describe) ?? "\(error)"
            try await fail(accountID, editor.id, attempts: row.attempts, status: nil, error: text, retryAfter: nil, now: clock())
            logger.warning("INT_R02 failed", metadata: ["editor": "\(editor.id)", "account": "\(accountID)", "error": "\(text)"])
            return .failed
        }
        guard answer.isSuccess else {
            let text = "Refusé par l'éditeur (HTTP \(answer.status))" + (answer.message.map { " : \($0)" } ?? "")
            try await fail(accountID, editor.id, attempts: row.attempts, status: answer.status, error: text,
                           retryAfter: answer.retryAfter, now: clock())
            logger.warning("INT_R02 refused", metadata: ["editor": "\(editor.id)", "account": "\(accountID)", "status": "\(answer.status)"])
            return .failed
        }
        let action: RegulatorSyncAction = planned == .create ? .created : (desired.active ? .updated : .deactivated)
        let done = clock()
        let profileJSON = String(decoding: try JSONEncoder().encode(desired), as: UTF8.self)
        let status = answer.status
        try await database.transaction { tx in
            try await tx.query("""
                UPDATE regulator_sync SET state = 'synced', remote_identifier = ?, remote_active = ?, synced_profile = ?,
                    attempts = 0, next_attempt_at = NULL, last_status = ?, last_error = NULL, lease_until = NULL,
                    synced_at = ?, updated_at = ?
                WHERE account_id = ? AND editor_id = ?
                """, [.text(desired.token), .bool(desired.active), .text(profileJSON), .int(status), .date(done),
                      .date(done), .text(accountID), .text(editor.id)])
            var detail = "\(action.rawValue) chez \(editor.id) (\(reason), HTTP \(status))"
            if case .update(let query) = planned, query != desired.token { detail += " ; identifiant \(query) → \(desired.token)" }
            try await AuditLog(tx).record(AuditEntry(actor: "plateforme", action: "regulator_sync.\(action.rawValue)",
                                                     target: accountID, detail: detail, occurredAt: done))
        }
        return action
    }

    func release(_ accountID: String, _ editorID: String, state: RegulatorSyncState.State, now: Date) async throws {
        try await database.query("""
            UPDATE regulator_sync SET state = ?, lease_until = NULL, attempts = 0, next_attempt_at = NULL, last_error = NULL,
                updated_at = ? WHERE account_id = ? AND editor_id = ?
            """, [.text(state.rawValue), .date(now), .text(accountID), .text(editorID)])
    }

    func fail(_ accountID: String, _ editorID: String, attempts: Int, status: Int?, error: String,
              retryAfter: Duration?, now: Date) async throws {
        let attempt = attempts + 1
        var delay = min(maxBackoff, firstBackoff * pow(2, Double(min(attempt - 1, 20))))
        if let retryAfter { delay = max(delay, min(maxBackoff, Double(retryAfter.components.seconds))) }
        try await database.query("""
            UPDATE regulator_sync SET state = 'failed', attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?,
                lease_until = NULL, updated_at = ? WHERE account_id = ? AND editor_id = ?
            """, [.int(attempt), .date(now.addingTimeInterval(delay)), status.map(SQLValue.int) ?? .null,
                  .text(String(error.prefix(500))), .date(now), .text(accountID), .text(editorID)])
    }

    static func describe(_ error: TransportError) -> String {
        switch error {
        case .connectionRefused: "Éditeur injoignable (connexion refusée)"
        case .connectionReset: "Connexion coupée par l'éditeur"
        case .tlsFailure(let detail): "Échec TLS : \(detail.prefix(200))"
        case .timeout: "Pas de réponse de l'éditeur dans le délai"
        case .responseTooLarge: "Réponse trop volumineuse"
        case .other(let detail): "Erreur : \(detail.prefix(200))"
        }
    }
}
