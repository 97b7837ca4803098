import Crypto
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Storage

/// A programmatic client's token: only its SHA-256 is stored; the secret is shown once, at creation.
public struct APIToken: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var scopes: [String]
    public var createdAt: Date
    public var createdBy: String
    public var lastUsedAt: Date?
    public var revokedAt: Date?
}

/// Scopes a token may carry.
public enum APIScope {
    /// `GET /api/v1/search*` as a regulator.
    public static let search = "search"
    /// Every known scope.
    public static let all = [search]
}

/// API tokens in storage (`api_tokens`), with a short in-memory cache so that a search does not cost a database
/// round trip for authentication; a revocation is immediate on the node that made it and reaches the others within
/// ``cacheSeconds``.
public final class APITokenStore: Sendable {
    let database: any Database
    private let cache = NIOLockedValueBox<[String: (token: APIToken?, expires: Date)]>([:])
    private let lastUseWritten = NIOLockedValueBox<[String: Date]>([:])
    /// How long a verification is remembered.
    public static let cacheSeconds: TimeInterval = 30

    public init(database: any Database) { self.database = database }

    static func hash(_ secret: String) -> String {
        // Lower-case hex by table (this runs for every API request; `String(format:)` per byte cost 2 % of the
        // search bench).
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Creates a token; returns it with its secret (`sas_` + 43 characters), which is never stored.
    public func create(name: String, scopes: [String], actor: String, now: Date = Date()) async throws -> (APIToken, String) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw AppError(.unprocessableContent, code: "invalid_name", message: "Le nom du jeton est obligatoire (100 caractères au plus).")
        }
        let unknown = scopes.filter { !APIScope.all.contains($0) }
        guard !scopes.isEmpty, unknown.isEmpty else {
            throw AppError(.unprocessableContent, code: "invalid_scope",
                           message: "Portée inconnue : \(unknown.joined(separator: ", ")). Portées possibles : \(APIScope.all.joined(separator: ", ")).")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        let secret = "sas_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let token = APIToken(id: RandomID.uuid(), name: trimmed, scopes: scopes.sorted(), createdAt: now,
                             createdBy: actor, lastUsedAt: nil, revokedAt: nil)
        try await database.transaction { tx in
            _ = try await tx.query("""
                INSERT INTO api_tokens (id, name, scopes, token_sha256, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(token.id), .text(token.name), .text(token.scopes.joined(separator: ",")),
                      .text(Self.hash(secret)), .date(now), .text(actor)])
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "api_token.create", target: token.id,
                                                     detail: "\(token.name) [\(token.scopes.joined(separator: ","))]"))
        }
        return (token, secret)
    }

    /// Revokes a token; false when it does not exist or was already revoked.
    @discardableResult
    public func revoke(id: String, actor: String, now: Date = Date()) async throws -> Bool {
        let done = try await database.transaction { tx -> Bool in
            let rows = try await tx.query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
                                          [.date(now), .text(id)])
            if !rows.isEmpty {
                try await AuditLog(tx).record(AuditEntry(actor: actor, action: "api_token.revoke", target: id))
            }
            return !rows.isEmpty
        }
        cache.withLockedValue { $0 = $0.filter { $0.value.token?.id != id } }
        return done
    }

    /// Every token, newest first.
    public func all() async throws -> [APIToken] {
        try await database.query("SELECT * FROM api_tokens ORDER BY created_at DESC, id").map(Self.token)
    }

    /// The live token with this secret, or nil.
    public func authenticate(_ secret: String, now: Date = Date()) async throws -> APIToken? {
        let digest = Self.hash(secret)
        if let hit = cache.withLockedValue({ $0[digest] }), hit.expires > now { return hit.token }
        let token = try await database.query("SELECT * FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                                             [.text(digest)]).first.map(Self.token)
        cache.withLockedValue {
            if $0.count > 10_000 { $0.removeAll() }
            $0[digest] = (token, now.addingTimeInterval(Self.cacheSeconds))
        }
        if let token {
            let due = lastUseWritten.withLockedValue { written -> Bool in
                if let last = written[token.id], now.timeIntervalSince(last) < 60 { return false }
                written[token.id] = now
                return true
            }
            if due { _ = try? await database.query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [.date(now), .text(token.id)]) }
        }
        return token
    }

    static func token(_ row: SQLRow) -> APIToken {
        func date(_ key: String) -> Date? { row[key].intValue.map { Date(timeIntervalSince1970: Double($0) / 1000) } }
        return APIToken(id: row.optionalString("id") ?? "", name: row.optionalString("name") ?? "",
                        scopes: (row.optionalString("scopes") ?? "").split(separator: ",").map(String.init),
                        createdAt: date("created_at") ?? .distantPast, createdBy: row.optionalString("created_by") ?? "",
                        lastUsedAt: date("last_used_at"), revokedAt: date("revoked_at"))
    }
}

/// Requires `Authorization: Bearer <API token>` carrying `scope`; the token's name becomes the request's actor.
struct APITokenMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let store: APITokenStore
    let scope: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw AppError(.unauthorized, code: "unauthenticated",
                           message: "Authentification requise : jeton d'API (Authorization: Bearer …).")
        }
        guard let token = try await store.authenticate(String(header.dropFirst("Bearer ".count))) else {
            throw AppError(.unauthorized, code: "unauthenticated", message: "Jeton d'API invalide ou révoqué.")
        }
        guard token.scopes.contains(scope) else {
            throw AppError(.forbidden, code: "forbidden", message: "Ce jeton ne permet pas cette opération (portée « \(scope) » requise).")
        }
        var context = context
        context.actor = "api-token:\(token.name)"
        return try await next(request, context)
    }
}
