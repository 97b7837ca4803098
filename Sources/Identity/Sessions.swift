import Crypto
import Foundation
import Storage

/// A logged-in browser session. The cookie carries a random secret; storage keeps only its SHA-256.
public struct Session: Sendable, Equatable {
    /// SHA-256 of the cookie secret: the session's id in storage and in logs.
    public var id: String
    public var account: Account
    /// The per-session CSRF token every form and state-changing API call must carry.
    public var csrfToken: String
    /// `password` or `psc`.
    public var method: String
    /// Pro Santé Connect's id_token, for the logout's `id_token_hint`.
    public var idToken: String?
    public var createdAt: Date
    public var expiresAt: Date
}

/// Session lifetimes.
public struct SessionPolicy: Sendable {
    /// Idle timeout: a session unused this long ends.
    public var idle: TimeInterval = 30 * 60
    /// Absolute timeout, whatever the activity (a regulator's shift).
    public var absolute: TimeInterval = 12 * 3_600
    /// `last_seen_at` is written at most this often.
    public var touchEvery: TimeInterval = 60
    public init() {}
}

/// Sessions in storage (`sessions`).
public struct SessionStore: Sendable {
    let database: any Database
    let policy: SessionPolicy
    let clock: IdentityClock

    public init(database: any Database, policy: SessionPolicy = SessionPolicy(), clock: @escaping IdentityClock = { Date() }) {
        self.database = database
        self.policy = policy
        self.clock = clock
    }

    /// Opens a session for `account` (a new secret each login: the session id rotates) and returns the cookie secret.
    /// `replacing` (the pre-login session, if any) is deleted.
    public func open(for account: Account, method: String, idToken: String? = nil, remoteAddress: String?,
                     replacing old: String? = nil) async throws -> (secret: String, session: Session) {
        let now = clock()
        let secret = Authenticator.randomToken(bytes: 32)
        let session = Session(id: Authenticator.sha256(secret), account: account,
                              csrfToken: Authenticator.randomToken(bytes: 24), method: method, idToken: idToken,
                              createdAt: now, expiresAt: now.addingTimeInterval(policy.absolute))
        try await database.transaction { tx in
            if let old { try await tx.query("DELETE FROM sessions WHERE id_sha256 = ?", [.text(Authenticator.sha256(old))]) }
            try await tx.query("""
                INSERT INTO sessions (id_sha256, account_id, csrf_token, method, id_token, created_at, last_seen_at,
                                      expires_at, remote_address)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(session.id), .text(account.id), .text(session.csrfToken), .text(method), .optional(idToken),
                      .date(now), .date(now), .date(session.expiresAt), .optional(remoteAddress)])
        }
        return (secret, session)
    }

    /// The live session for a cookie secret (nil when unknown, idle too long, past its absolute end, or its account
    /// disabled); refreshes its idle timer.
    public func resume(_ secret: String) async throws -> Session? {
        let now = clock()
        let digest = Authenticator.sha256(secret)
        guard let row = try await database.query("SELECT * FROM sessions WHERE id_sha256 = ?", [.text(digest)]).first else {
            return nil
        }
        let lastSeen = try row.date("last_seen_at")
        let expires = try row.date("expires_at")
        if expires <= now || now.timeIntervalSince(lastSeen) >= policy.idle {
            try await database.query("DELETE FROM sessions WHERE id_sha256 = ?", [.text(digest)])
            return nil
        }
        guard let account = try await AccountStore(database: database).find(id: try row.string("account_id")),
              account.status == .active else {
            try await database.query("DELETE FROM sessions WHERE id_sha256 = ?", [.text(digest)])
            return nil
        }
        if now.timeIntervalSince(lastSeen) >= policy.touchEvery {
            try await database.query("UPDATE sessions SET last_seen_at = ? WHERE id_sha256 = ?", [.date(now), .text(digest)])
        }
        return Session(id: digest, account: account, csrfToken: try row.string("csrf_token"),
                       method: try row.string("method"), idToken: row.optionalString("id_token"),
                       createdAt: try row.date("created_at"), expiresAt: expires)
    }

    /// Ends the session with this cookie secret.
    public func close(_ secret: String) async throws {
        try await database.query("DELETE FROM sessions WHERE id_sha256 = ?", [.text(Authenticator.sha256(secret))])
    }

    /// Deletes expired sessions; returns how many.
    @discardableResult
    public func purge() async throws -> Int {
        let now = clock()
        return try await database.query("""
            DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ? RETURNING id_sha256
            """, [.date(now), .date(now.addingTimeInterval(-policy.idle))]).count
    }

    /// Constant-time comparison of a submitted CSRF token with the session's.
    public static func csrfMatches(_ submitted: String?, _ expected: String) -> Bool {
        guard let submitted else { return false }
        let a = Array(submitted.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
