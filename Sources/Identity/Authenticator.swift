import Crypto
import Foundation
import Logging
import NIOPosix
import Storage

/// The current time, injectable so that lock-outs, expiries and inactivity are tested without waiting.
public typealias IdentityClock = @Sendable () -> Date

/// Lock-out, reset and inactivity rules.
public struct LoginPolicy: Sendable {
    /// Consecutive failures that lock an account.
    public var maxFailures = 5
    /// First lock-out; each further lock-out without a successful login doubles it, up to ``maximumLockout``.
    public var baseLockout: TimeInterval = 60
    public var maximumLockout: TimeInterval = 3_600
    /// Delay added to every refused attempt, growing with the failures (× failures, at most × 8): slows a script.
    public var failureDelay: Duration = .milliseconds(250)
    /// Life of a reset link.
    public var resetLinkLifetime: TimeInterval = 3_600
    /// Inactivity before the warning, and before the account is disabled (the live platform: 8 and 9 months).
    public var inactivityWarning: TimeInterval = 8 * 30.4375 * 86_400
    public var inactivityDisable: TimeInterval = 9 * 30.4375 * 86_400

    public init() {}

    /// The lock-out after `lockouts` previous ones.
    func lockout(after lockouts: Int) -> TimeInterval {
        min(maximumLockout, baseLockout * pow(2, Double(min(lockouts, 20))))
    }
}

/// Where e-mails go: the log in the demo; an SMTP relay implements this protocol in production.
public protocol Mailer: Sendable {
    func send(to: String, subject: String, body: String) async throws
}

/// Writes e-mails to the log (demo, tests).
public struct LogMailer: Mailer {
    let logger: Logger
    public init(logger: Logger) { self.logger = logger }
    public func send(to: String, subject: String, body: String) async throws {
        logger.notice("e-mail (not sent: log mailer)", metadata: ["to": "\(to)", "subject": "\(subject)", "body": "\(body)"])
    }
}

/// The outcome of a password login.
public enum LoginOutcome: Sendable, Equatable {
    case success(Account)
    /// Wrong e-mail or password (one message for both).
    case refused(delay: Duration)
    /// Too many failures: refused without checking the password until `until`.
    case locked(until: Date, delay: Duration)
    /// The account is disabled (`reason` shown to the user).
    case disabled(reason: String)

    /// The French message for the login page.
    public var message: String {
        switch self {
        case .success: "Connexion réussie."
        case .refused: "Adresse e-mail ou mot de passe incorrect."
        case .locked(let until, _):
            "Trop de tentatives : compte verrouillé jusqu'à \(Self.time(until)). Réessayez plus tard ou réinitialisez votre mot de passe."
        case .disabled(let reason): "Ce compte est désactivé (\(reason)). Contactez votre gestionnaire de comptes."
        }
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "fr_FR")
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date)
    }
}

/// Password logins with lock-out, password changes and resets, and the inactivity sweep.
public struct Authenticator: Sendable {
    let database: any Database
    let hasher: PasswordHasher
    let policy: LoginPolicy
    let passwordPolicy = PasswordPolicy()
    let mailer: any Mailer
    let clock: IdentityClock
    let logger: Logger

    public init(database: any Database, hasher: PasswordHasher = .standard, policy: LoginPolicy = LoginPolicy(),
                mailer: any Mailer, clock: @escaping IdentityClock = { Date() }, logger: Logger) {
        self.database = database
        self.hasher = hasher
        self.policy = policy
        self.mailer = mailer
        self.clock = clock
        self.logger = logger
    }

    public var accounts: AccountStore { AccountStore(database: database) }

    /// Checks `email` and `password`.
    ///
    /// Each attempt is reserved in storage before the password is hashed (`failed_attempts + 1`, only while the
    /// account is not locked and has attempts left), so a burst of parallel guesses gets no more than the allowed
    /// number of checks; attempts refused that way or during a lock-out never look at the password and do not extend
    /// the lock. A success clears the counters. Hashing runs on NIO's thread pool, never on the cooperative pool.
    public func login(email: String, password: String, from address: String?) async throws -> LoginOutcome {
        let now = clock()
        let email = AccountStore.normalisedEmail(email)
        guard let row = try await database.query(
            "SELECT id, password_hash, status, status_reason, locked_until, last_login_at, created_at FROM accounts WHERE email = ?",
            [.text(email)]).first else {
            _ = try await hashing { $0.dummyVerify(password) }
            try await audit("login.failure", actor: String(email.prefix(254)), detail: "compte inconnu", address: address, now: now)
            return .refused(delay: policy.failureDelay)
        }
        let id = try row.string("id")
        // The last allowed attempt also sets a provisional lock, so that parallel attempts are refused while its
        // password is checked; its outcome then clears the lock (success) or makes it the real one (failure). If the
        // node dies meanwhile, the provisional lock simply expires.
        let reserved = try await database.query("""
            UPDATE accounts SET failed_attempts = failed_attempts + 1,
                locked_until = CASE WHEN failed_attempts + 1 >= ? THEN ? ELSE locked_until END
            WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)
            RETURNING failed_attempts, lockouts
            """, [.int(policy.maxFailures), .date(now.addingTimeInterval(policy.baseLockout)), .text(id), .date(now)])
        guard let attempt = reserved.first else {
            let current = try await database.query("SELECT locked_until FROM accounts WHERE id = ?", [.text(id)])
            let until = current.first?.optionalDate("locked_until").flatMap { $0 > now ? $0 : nil } ?? now.addingTimeInterval(policy.baseLockout)
            try await audit("login.locked", actor: email, target: id, detail: "tentative pendant le verrouillage",
                            address: address, now: now)
            return .locked(until: until, delay: policy.failureDelay * 8)
        }
        let failures = try attempt.int("failed_attempts")
        let encoded = row.optionalString("password_hash")
        let matches = try await hashing { hasher in
            guard let encoded else { hasher.dummyVerify(password); return false }
            return hasher.verify(password, against: encoded)
        }
        guard matches, let encoded else {
            return try await recordFailure(id: id, email: email, failures: failures, lockouts: try attempt.int("lockouts"),
                                           address: address, now: now)
        }
        // Whether the account is disabled is only said to whoever knows its password (no enumeration).
        if row.optionalString("status") != Account.Status.active.rawValue {
            try await database.query("UPDATE accounts SET failed_attempts = 0 WHERE id = ?", [.text(id)])
            try await audit("login.refused", actor: email, target: id, detail: "compte désactivé", address: address, now: now)
            return .disabled(reason: row.optionalString("status_reason") ?? "désactivé")
        }
        let created = try row.date("created_at")
        let lastActivity = row.optionalDate("last_login_at") ?? created
        if now.timeIntervalSince(lastActivity) >= policy.inactivityDisable {
            try await accounts.disable(id, reason: "inactivité de plus de 9 mois", actor: "système", now: now)
            return .disabled(reason: "inactivité de plus de 9 mois")
        }
        let rehash = hasher.needsRehash(encoded) ? try await hashing { $0.hash(password) } : nil
        try await database.transaction { tx in
            try await tx.query("""
                UPDATE accounts SET failed_attempts = 0, lockouts = 0, locked_until = NULL, last_login_at = ?,
                    inactivity_warned_at = NULL, password_hash = COALESCE(?, password_hash)
                WHERE id = ?
                """, [.date(now), .optional(rehash), .text(id)])
            try await AuditLog(tx).record(AuditEntry(actor: email, action: "login.success", target: id,
                                                     detail: "mot de passe", sourceAddress: address, occurredAt: now))
        }
        guard let account = try await accounts.find(id: id) else { return .refused(delay: policy.failureDelay) }
        return .success(account)
    }

    /// Runs password hashing on NIO's blocking thread pool (a few threads), so that a flood of logins cannot stall
    /// the cooperative pool that serves searches, and its memory stays bounded by the pool's size.
    func hashing<T: Sendable>(_ work: @escaping @Sendable (PasswordHasher) -> T) async throws -> T {
        let hasher = self.hasher
        return try await NIOThreadPool.singleton.runIfActive { work(hasher) }
    }

    private func recordFailure(id: String, email: String, failures: Int, lockouts: Int, address: String?,
                               now: Date) async throws -> LoginOutcome {
        let policy = self.policy
        return try await database.transaction { tx -> LoginOutcome in
            if failures >= policy.maxFailures {
                let until = now.addingTimeInterval(policy.lockout(after: lockouts))
                try await tx.query("""
                    UPDATE accounts SET failed_attempts = 0, lockouts = lockouts + 1, locked_until = ? WHERE id = ?
                    """, [.date(until), .text(id)])
                try await AuditLog(tx).record(AuditEntry(
                    actor: email, action: "account.locked", target: id,
                    detail: "\(failures) échecs consécutifs, verrouillé \(Int(policy.lockout(after: lockouts))) s",
                    sourceAddress: address, occurredAt: now))
                return .locked(until: until, delay: policy.failureDelay * 8)
            }
            try await AuditLog(tx).record(AuditEntry(actor: email, action: "login.failure", target: id,
                                                     detail: "mot de passe incorrect (\(failures))",
                                                     sourceAddress: address, occurredAt: now))
            return .refused(delay: policy.failureDelay * max(1, min(failures, 8)))
        }
    }

    /// Sets a new password after checking the rules (and the current password unless `current` is nil, as after a
    /// reset link); clears the forced change; ends the account's other sessions.
    public func changePassword(accountID: String, current: String?, new password: String,
                               keepingSession session: String? = nil, address: String?) async throws {
        let now = clock()
        guard let row = try await database.query("SELECT email, password_hash FROM accounts WHERE id = ?",
                                                 [.text(accountID)]).first else {
            throw AccountError(.notFound, "Compte inconnu.")
        }
        let email = try row.string("email")
        if let current {
            let encoded = row.optionalString("password_hash")
            let matches = try await hashing { hasher in encoded.map { hasher.verify(current, against: $0) } ?? false }
            guard matches else { throw AccountError(.invalid, "Le mot de passe actuel est incorrect.") }
            if current == password { throw AccountError(.weakPassword, "Le nouveau mot de passe doit être différent de l'actuel.") }
        }
        let problems = passwordPolicy.problems(password, email: email)
        guard problems.isEmpty else { throw AccountError(.weakPassword, problems.joined(separator: " ")) }
        let encoded = try await hashing { $0.hash(password) }
        try await database.transaction { tx in
            try await tx.query("""
                UPDATE accounts SET password_hash = ?, must_change_password = 0, failed_attempts = 0, locked_until = NULL,
                    updated_at = ?, version = version + 1 WHERE id = ?
                """, [.text(encoded), .date(now), .text(accountID)])
            if let session {
                try await tx.query("DELETE FROM sessions WHERE account_id = ? AND id_sha256 <> ?",
                                   [.text(accountID), .text(session)])
            } else {
                try await tx.query("DELETE FROM sessions WHERE account_id = ?", [.text(accountID)])
            }
            try await AuditLog(tx).record(AuditEntry(actor: email, action: "password.change", target: accountID,
                                                     sourceAddress: address, occurredAt: now))
        }
    }

    /// An administrator's reset: a temporary password to change at the next login (returned once).
    public func adminReset(accountID: String, actor: String) async throws -> String {
        let now = clock()
        let temporary = "Sas-" + Self.randomToken(bytes: 12)
        let encoded = try await hashing { $0.hash(temporary) }
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE accounts SET password_hash = ?, must_change_password = 1, failed_attempts = 0, locked_until = NULL,
                    updated_at = ?, version = version + 1 WHERE id = ? RETURNING id
                """, [.text(encoded), .date(now), .text(accountID)])
            guard !rows.isEmpty else { throw AccountError(.notFound, "Compte inconnu.") }
            try await tx.query("DELETE FROM sessions WHERE account_id = ?", [.text(accountID)])
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "password.admin_reset", target: accountID,
                                                     occurredAt: now))
        }
        return temporary
    }

    /// Sends a one-time reset link when `email` is a known active account; says nothing either way to the caller.
    public func requestReset(email: String, linkBase: String, address: String?, waitForMail: Bool = false) async throws {
        let now = clock()
        let email = AccountStore.normalisedEmail(email)
        guard let account = try await accounts.find(email: email), account.status == .active else {
            try await audit("password.reset_request", actor: email, detail: "compte inconnu ou désactivé",
                            address: address, now: now)
            return
        }
        let token = Self.randomToken(bytes: 32)
        try await database.transaction { tx in
            try await tx.query("""
                INSERT INTO password_resets (token_sha256, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)
                """, [.text(Self.sha256(token)), .text(account.id), .date(now),
                      .date(now.addingTimeInterval(policy.resetLinkLifetime))])
            try await AuditLog(tx).record(AuditEntry(actor: email, action: "password.reset_request", target: account.id,
                                                     sourceAddress: address, occurredAt: now))
        }
        let mailer = self.mailer, logger = self.logger, minutes = Int(policy.resetLinkLifetime / 60)
        let send = Task {
            do {
                try await mailer.send(
                    to: email, subject: "Réinitialisation de votre mot de passe SAS",
                    body: "Pour choisir un nouveau mot de passe, ouvrez ce lien (valable \(minutes) minutes, une seule fois) : \(linkBase)?jeton=\(token)")
            } catch {
                logger.error("reset e-mail not sent", metadata: ["error": "\(error)"])
            }
        }
        // The answer does not wait for the relay (an unknown address answers at once too) unless asked to, in tests.
        if waitForMail { await send.value }
    }

    /// Uses a reset link: sets the new password if the token is live, unused and the password acceptable.
    public func completeReset(token: String, newPassword: String, address: String?) async throws {
        let now = clock()
        let digest = Self.sha256(token)
        guard let row = try await database.query(
            "SELECT account_id, expires_at, used_at FROM password_resets WHERE token_sha256 = ?", [.text(digest)]).first,
              row.optionalDate("used_at") == nil, let expires = row.optionalDate("expires_at"), expires > now else {
            throw AccountError(.invalid, "Ce lien de réinitialisation est invalide, expiré ou déjà utilisé. Demandez-en un nouveau.")
        }
        let accountID = try row.string("account_id")
        guard let account = try await accounts.find(id: accountID) else { throw AccountError(.notFound, "Compte inconnu.") }
        let problems = passwordPolicy.problems(newPassword, email: account.email)
        guard problems.isEmpty else { throw AccountError(.weakPassword, problems.joined(separator: " ")) }
        let used = try await database.query(
            "UPDATE password_resets SET used_at = ? WHERE token_sha256 = ? AND used_at IS NULL RETURNING token_sha256",
            [.date(now), .text(digest)])
        guard !used.isEmpty else {
            throw AccountError(.invalid, "Ce lien de réinitialisation est invalide, expiré ou déjà utilisé. Demandez-en un nouveau.")
        }
        try await changePassword(accountID: accountID, current: nil, new: newPassword, address: address)
        try await database.query("UPDATE accounts SET lockouts = 0 WHERE id = ?", [.text(accountID)])
    }

    /// Warns accounts inactive for 8 months (once) and disables those inactive for 9; returns (warned, disabled).
    /// Each account is claimed by a conditional update first, so that nodes running the sweep together warn once;
    /// a failure on one account (e.g. the relay refusing an address) is logged and does not stop the others.
    @discardableResult
    public func sweepInactive() async throws -> (warned: Int, disabled: Int) {
        let now = clock()
        let rows = try await database.query(
            "SELECT id, email, last_login_at, created_at, inactivity_warned_at FROM accounts WHERE status = 'active'")
        var warned = 0, disabled = 0
        for row in rows {
            do {
                let id = try row.string("id")
                let created = try row.date("created_at")
                let last = row.optionalDate("last_login_at") ?? created
                let idle = now.timeIntervalSince(last)
                if idle >= policy.inactivityDisable {
                    try await accounts.disable(id, reason: "inactivité de plus de 9 mois", actor: "système", now: now)
                    disabled += 1
                } else if idle >= policy.inactivityWarning, row.optionalDate("inactivity_warned_at") == nil {
                    let claimed = try await database.query(
                        "UPDATE accounts SET inactivity_warned_at = ? WHERE id = ? AND inactivity_warned_at IS NULL RETURNING id",
                        [.date(now), .text(id)])
                    guard !claimed.isEmpty else { continue }
                    let email = try row.string("email")
                    try await mailer.send(
                        to: email, subject: "Votre compte SAS sera désactivé faute d'utilisation",
                        body: "Vous ne vous êtes pas connecté depuis 8 mois. Sans connexion d'ici un mois, votre compte sera désactivé.")
                    try await audit("account.inactivity_warning", actor: "système", target: id, detail: email, address: nil, now: now)
                    warned += 1
                }
            } catch {
                logger.warning("inactivity sweep: one account skipped", metadata: ["error": "\(error)"])
            }
        }
        return (warned, disabled)
    }

    func audit(_ action: String, actor: String, target: String? = nil, detail: String? = nil, address: String?,
               now: Date) async throws {
        try await AuditLog(database).record(AuditEntry(actor: actor, action: action, target: target, detail: detail,
                                                       sourceAddress: address, occurredAt: now))
    }

    /// A random URL-safe token.
    public static func randomToken(bytes count: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Hex SHA-256, for tokens stored at rest.
    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
