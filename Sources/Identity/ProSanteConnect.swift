import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import Storage

/// How the platform is registered with Pro Santé Connect.
public struct PSCConfiguration: Sendable, Equatable {
    /// PSC's discovery document (`…/auth/realms/esante-wallet/.well-known/wallet-openid-configuration`).
    public var discoveryURL: String
    public var clientID: String
    public var clientSecret: String
    /// The platform's callback (`https://…/connexion/psc/retour`).
    public var redirectURI: String
    /// Where PSC sends the browser back after logout.
    public var postLogoutRedirectURI: String
    public var scopes = "openid scope_all"
    public var acr = "eidas1"
    /// Clock skew tolerated on `exp`/`iat`.
    public var leeway: TimeInterval = 30
    /// How long a started login may take.
    public var loginLifetime: TimeInterval = 600

    public init(discoveryURL: String, clientID: String, clientSecret: String, redirectURI: String,
                postLogoutRedirectURI: String) {
        self.discoveryURL = discoveryURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.postLogoutRedirectURI = postLogoutRedirectURI
    }
}

/// A refused Pro Santé Connect login: `message` is for the user (French), `detail` for the log and the audit trail.
public struct PSCError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var detail: String
    public init(_ message: String, detail: String) {
        self.message = message
        self.detail = detail
    }
    public var description: String { "\(message) (\(detail))" }

    static func rejected(_ detail: String) -> PSCError {
        PSCError("La connexion Pro Santé Connect a été refusée : la réponse du fournisseur d'identité n'est pas valide.",
                 detail: detail)
    }
}

/// What Pro Santé Connect says about the professional who logged in.
public struct PSCIdentity: Sendable, Equatable {
    public var subject: String
    /// IDNPS from `SubjectNameID` (or `preferred_username`).
    public var idnps: String
    public var givenName: String?
    public var familyName: String?
    /// `SubjectRefPro.exercices[]`: profession and specialty codes with their activities' structure ids.
    public var practices: [Practice]
    /// The id_token, kept for the logout's `id_token_hint`.
    public var idToken: String

    public struct Practice: Sendable, Equatable {
        public var profession: String
        public var specialty: String
        public var structureIDs: [String]
    }
}

/// The OpenID Connect client of Pro Santé Connect: authorization code with PKCE S256, `state` and `nonce` kept in
/// storage (single use), `acr_values=eidas1`, id_token checked (signature by HS256 client secret or JWKS key with
/// reload on an unknown `kid`; issuer, audience, expiry, nonce, acr), userinfo as JSON or signed JWT.
public final class ProSanteConnectClient: Sendable {
    public let configuration: PSCConfiguration
    let pending: any OIDCLoginStore
    let http: HTTPClient
    let logger: Logger
    let clock: IdentityClock

    struct Discovery: Decodable, Sendable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var userinfo_endpoint: String
        var jwks_uri: String
        var end_session_endpoint: String?
    }

    private let cached = NIOLockedValueBox<(discovery: Discovery, at: Date)?>(nil)
    private let jwks = NIOLockedValueBox<String?>(nil)

    /// A client using `http` (whose TLS configuration trusts PSC's CA).
    public init(configuration: PSCConfiguration, pending: any OIDCLoginStore, http: HTTPClient, logger: Logger,
                clock: @escaping IdentityClock = { Date() }) {
        self.configuration = configuration
        self.pending = pending
        self.http = http
        self.logger = logger
        self.clock = clock
    }

    /// Starts a login: stores `state`, `nonce` and the PKCE verifier, and returns PSC's authorization URL.
    /// `returnTo` is a local path to go back to after the login.
    public func startLogin(returnTo: String?) async throws -> (url: URL, state: String) {
        let discovery = try await discover()
        let state = Authenticator.randomToken(bytes: 32)
        let nonce = Authenticator.randomToken(bytes: 32)
        let verifier = Authenticator.randomToken(bytes: 48)
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        try await pending.save(PendingOIDCLogin(state: state, nonce: nonce, codeVerifier: verifier, returnTo: returnTo,
                                                createdAt: clock()), olderThan: clock().addingTimeInterval(-configuration.loginLifetime))
        guard var components = URLComponents(string: discovery.authorization_endpoint) else {
            throw PSCError("Pro Santé Connect est mal configuré.", detail: "authorization_endpoint invalide")
        }
        components.queryItems = (components.queryItems ?? []) + [
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "client_id", value: configuration.clientID),
            URLQueryItem(name: "redirect_uri", value: configuration.redirectURI),
            URLQueryItem(name: "scope", value: configuration.scopes),
            URLQueryItem(name: "acr_values", value: configuration.acr),
            URLQueryItem(name: "state", value: state),
            URLQueryItem(name: "nonce", value: nonce),
            URLQueryItem(name: "code_challenge", value: challenge),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        guard let url = components.url else {
            throw PSCError("Pro Santé Connect est mal configuré.", detail: "URL d'autorisation invalide")
        }
        return (url, state)
    }

    /// Completes a login from the callback's `code` and `state` (the state is consumed, so a replay fails).
    public func completeLogin(code: String, state: String) async throws -> (identity: PSCIdentity, returnTo: String?) {
        let now = clock()
        guard let login = try await pending.take(state: state) else {
            throw PSCError("La connexion Pro Santé Connect a expiré ou a déjà été utilisée. Recommencez la connexion.",
                           detail: "state inconnu ou déjà consommé")
        }
        guard now.timeIntervalSince(login.createdAt) <= configuration.loginLifetime else {
            throw PSCError("La connexion Pro Santé Connect a expiré. Recommencez la connexion.", detail: "state expiré")
        }
        let nonce = login.nonce
        let discovery = try await discover()
        let tokens = try await exchange(code: code, verifier: login.codeVerifier, discovery: discovery)
        let claims = try await verifyIDToken(tokens.idToken, nonce: nonce, discovery: discovery)
        let userinfo = try await fetchUserinfo(accessToken: tokens.accessToken, discovery: discovery)
        guard case .string(let sub)? = claims["sub"], userinfo["sub"] == .string(sub) else {
            throw PSCError.rejected("sub de userinfo absent ou différent de celui de l'id_token")
        }
        let idnps = userinfo.string("SubjectNameID") ?? userinfo.string("preferred_username")
            ?? claims.string("SubjectNameID") ?? claims.string("preferred_username")
        guard let idnps, !idnps.isEmpty else { throw PSCError.rejected("ni SubjectNameID ni preferred_username") }
        var practices: [PSCIdentity.Practice] = []
        if case .object(let refPro)? = userinfo["SubjectRefPro"], case .array(let exercices)? = refPro["exercices"] {
            for case .object(let exercice) in exercices {
                var structures: [String] = []
                if case .array(let activities)? = exercice["activities"] {
                    for case .object(let activity) in activities {
                        if let id = activity.string("identifiantTechniqueDeLaStructure"), !id.isEmpty { structures.append(id) }
                    }
                }
                practices.append(.init(profession: exercice.string("codeProfession") ?? "",
                                       specialty: exercice.string("codeSavoirFaire") ?? "", structureIDs: structures))
            }
        }
        let identity = PSCIdentity(subject: sub, idnps: idnps, givenName: userinfo.string("given_name"),
                                   familyName: userinfo.string("family_name"), practices: practices,
                                   idToken: tokens.idToken)
        return (identity, login.returnTo)
    }

    /// PSC's logout URL with `id_token_hint`, `state` and the registered return address.
    public func logoutURL(idTokenHint: String?, state: String) async throws -> URL? {
        guard let endpoint = try await discover().end_session_endpoint, var components = URLComponents(string: endpoint) else {
            return nil
        }
        var items = components.queryItems ?? []
        if let idTokenHint { items.append(URLQueryItem(name: "id_token_hint", value: idTokenHint)) }
        items.append(URLQueryItem(name: "post_logout_redirect_uri", value: configuration.postLogoutRedirectURI))
        items.append(URLQueryItem(name: "state", value: state))
        components.queryItems = items
        return components.url
    }

    // MARK: protocol steps

    func discover() async throws -> Discovery {
        if let hit = cached.withLockedValue({ $0 }), clock().timeIntervalSince(hit.at) < 3_600 { return hit.discovery }
        let data = try await get(configuration.discoveryURL, accept: "application/json")
        guard let discovery = try? JSONDecoder().decode(Discovery.self, from: data.body) else {
            throw PSCError("Pro Santé Connect est indisponible.", detail: "document de découverte illisible")
        }
        cached.withLockedValue { $0 = (discovery, clock()) }
        return discovery
    }

    struct Tokens { var idToken: String; var accessToken: String }

    func exchange(code: String, verifier: String, discovery: Discovery) async throws -> Tokens {
        var request = HTTPClientRequest(url: discovery.token_endpoint)
        request.method = .POST
        let credentials = "\(Self.formEncode(configuration.clientID)):\(Self.formEncode(configuration.clientSecret))"
        request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", configuration.redirectURI),
                    ("code_verifier", verifier)]
            .map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await send(request)
        guard response.status == 200,
              let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
              let idToken = object["id_token"] as? String, let accessToken = object["access_token"] as? String else {
            let error = (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["error"] as? String
            throw PSCError.rejected("échange du code refusé (HTTP \(response.status)\(error.map { ", \($0)" } ?? ""))")
        }
        return Tokens(idToken: idToken, accessToken: accessToken)
    }

    /// Verifies a JWT from PSC (id_token or signed userinfo) and returns its claims.
    func verifySigned(_ token: String, discovery: Discovery) async throws -> [String: Claim] {
        let header = try Self.header(of: token)
        let keys = JWTKeyCollection()
        switch header.alg {
        case "HS256":
            // A shorter key would make HS256 guessable (and JWTKit refuses it).
            guard configuration.clientSecret.utf8.count >= 32 else {
                throw PSCError.rejected("jeton HS256 alors que le secret du client fait moins de 32 octets")
            }
            await keys.add(hmac: HMACKey(from: configuration.clientSecret), digestAlgorithm: .sha256)
        case "ES256", "RS256", "PS256", "ES384", "RS384", "ES512", "RS512":
            guard let kid = header.kid else { throw PSCError.rejected("jeton signé sans kid") }
            var json = try await jwksJSON(discovery: discovery, refresh: false)
            if !Self.jwks(json, contains: kid) {
                logger.info("unknown kid from Pro Santé Connect: reloading the JWKS", metadata: ["kid": "\(kid)"])
                json = try await jwksJSON(discovery: discovery, refresh: true)
                guard Self.jwks(json, contains: kid) else { throw PSCError.rejected("clé \(kid) absente du JWKS") }
            }
            do {
                try await keys.add(jwksJSON: json)
            } catch {
                throw PSCError.rejected("JWKS illisible : \(error)")
            }
        default:
            throw PSCError.rejected("algorithme de signature refusé : \(header.alg ?? "aucun")")
        }
        do {
            return try await keys.verify(token, as: ClaimSet.self).claims
        } catch {
            throw PSCError.rejected("signature invalide (\(error))")
        }
    }

    func verifyIDToken(_ token: String, nonce: String, discovery: Discovery) async throws -> [String: Claim] {
        let claims = try await verifySigned(token, discovery: discovery)
        let now = clock().timeIntervalSince1970
        guard claims.string("iss") == discovery.issuer else {
            throw PSCError.rejected("émetteur inattendu : \(claims.string("iss") ?? "absent")")
        }
        let audiences: [String]
        switch claims["aud"] {
        case .string(let one)?: audiences = [one]
        case .array(let many)?: audiences = many.compactMap { if case .string(let s) = $0 { s } else { nil } }
        default: audiences = []
        }
        guard audiences.contains(configuration.clientID) else { throw PSCError.rejected("audience inattendue") }
        if (audiences.count > 1 || claims["azp"] != nil), claims.string("azp") != configuration.clientID {
            throw PSCError.rejected("azp différent du client")
        }
        guard let exp = claims.number("exp"), exp + configuration.leeway > now else {
            throw PSCError("Votre connexion Pro Santé Connect a expiré. Recommencez la connexion.", detail: "id_token expiré")
        }
        if let iat = claims.number("iat"), iat > now + configuration.leeway {
            throw PSCError.rejected("id_token émis dans le futur")
        }
        guard claims.string("nonce") == nonce else { throw PSCError.rejected("nonce différent de celui de la demande") }
        guard claims.string("acr") == configuration.acr else {
            throw PSCError("Niveau d'authentification non accepté (\(claims.string("acr") ?? "absent")) : la plateforme SAS exige eIDAS 1.",
                           detail: "acr \(claims.string("acr") ?? "absent") au lieu de \(configuration.acr)")
        }
        return claims
    }

    func fetchUserinfo(accessToken: String, discovery: Discovery) async throws -> [String: Claim] {
        var request = HTTPClientRequest(url: discovery.userinfo_endpoint)
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        let response = try await send(request)
        guard response.status == 200 else { throw PSCError.rejected("userinfo refusé (HTTP \(response.status))") }
        let type = (response.contentType ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        switch type {
        case "application/json":
            guard let claims = try? JSONDecoder().decode([String: Claim].self, from: response.body) else {
                throw PSCError.rejected("userinfo JSON illisible")
            }
            return claims
        case "application/jwt":
            let claims = try await verifySigned(String(decoding: response.body, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines), discovery: discovery)
            if let iss = claims.string("iss"), iss != discovery.issuer { throw PSCError.rejected("émetteur userinfo inattendu") }
            if let aud = claims["aud"] {
                let audiences: [Claim] = if case .array(let many) = aud { many } else { [aud] }
                guard audiences.contains(.string(configuration.clientID)) else { throw PSCError.rejected("audience userinfo inattendue") }
            }
            return claims
        default:
            throw PSCError.rejected("type de réponse userinfo refusé : \(type)")
        }
    }

    func jwksJSON(discovery: Discovery, refresh: Bool) async throws -> String {
        if !refresh, let json = jwks.withLockedValue({ $0 }) { return json }
        let response = try await get(discovery.jwks_uri, accept: "application/json")
        let json = String(decoding: response.body, as: UTF8.self)
        jwks.withLockedValue { $0 = json }
        return json
    }

    static func jwks(_ json: String, contains kid: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let keys = object["keys"] as? [[String: Any]] else { return false }
        return keys.contains { $0["kid"] as? String == kid }
    }

    struct Header: Decodable { var alg: String?; var kid: String? }

    static func header(of token: String) throws -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw PSCError.rejected("jeton mal formé") }
        var base64 = parts[0].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw PSCError.rejected("en-tête de jeton illisible")
        }
        return header
    }

    struct HTTPAnswer { var status: Int; var body: Data; var contentType: String? }

    func get(_ url: String, accept: String) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: accept)
        let answer = try await send(request)
        guard answer.status == 200 else {
            throw PSCError("Pro Santé Connect est indisponible. Réessayez ou connectez-vous par mot de passe.",
                           detail: "HTTP \(answer.status) sur \(url)")
        }
        return answer
    }

    func send(_ request: HTTPClientRequest) async throws -> HTTPAnswer {
        do {
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            return HTTPAnswer(status: Int(response.status.code), body: Data(buffer: body),
                              contentType: response.headers.first(name: "Content-Type"))
        } catch let error as PSCError {
            throw error
        } catch {
            throw PSCError("Pro Santé Connect est injoignable. Réessayez ou connectez-vous par mot de passe.",
                           detail: "\(error)")
        }
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A login started and not yet completed: what the callback must find again (single use).
public struct PendingOIDCLogin: Sendable, Equatable {
    public var state: String
    public var nonce: String
    public var codeVerifier: String
    public var returnTo: String?
    public var createdAt: Date

    public init(state: String, nonce: String, codeVerifier: String, returnTo: String?, createdAt: Date) {
        self.state = state
        self.nonce = nonce
        self.codeVerifier = codeVerifier
        self.returnTo = returnTo
        self.createdAt = createdAt
    }
}

/// Where started logins wait for their callback.
public protocol OIDCLoginStore: Sendable {
    /// Saves `login` and forgets logins created before `olderThan`.
    func save(_ login: PendingOIDCLogin, olderThan: Date) async throws
    /// Removes and returns the login with this `state` (nil when unknown or already taken).
    func take(state: String) async throws -> PendingOIDCLogin?
}

/// Started logins in storage (`oidc_logins`), so that any node can complete a login another node started.
public struct DatabaseOIDCLoginStore: OIDCLoginStore {
    let database: any Database
    public init(database: any Database) { self.database = database }

    public func save(_ login: PendingOIDCLogin, olderThan: Date) async throws {
        try await database.query("DELETE FROM oidc_logins WHERE created_at < ?", [.date(olderThan)])
        try await database.query(
            "INSERT INTO oidc_logins (state, nonce, code_verifier, return_to, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(login.state), .text(login.nonce), .text(login.codeVerifier), .optional(login.returnTo),
             .date(login.createdAt)])
    }

    public func take(state: String) async throws -> PendingOIDCLogin? {
        guard let row = try await database.query(
            "DELETE FROM oidc_logins WHERE state = ? RETURNING nonce, code_verifier, return_to, created_at",
            [.text(state)]).first else { return nil }
        return PendingOIDCLogin(state: state, nonce: try row.string("nonce"), codeVerifier: try row.string("code_verifier"),
                                returnTo: row.optionalString("return_to"), createdAt: try row.date("created_at"))
    }
}

/// Started logins in memory (one process: the sandbox vendors).
public final class MemoryOIDCLoginStore: OIDCLoginStore {
    private let logins = NIOLockedValueBox<[String: PendingOIDCLogin]>([:])
    public init() {}

    public func save(_ login: PendingOIDCLogin, olderThan: Date) async throws {
        logins.withLockedValue {
            $0 = $0.filter { $0.value.createdAt >= olderThan }
            $0[login.state] = login
        }
    }

    public func take(state: String) async throws -> PendingOIDCLogin? {
        logins.withLockedValue { $0.removeValue(forKey: state) }
    }
}

/// A JSON claim value.
public enum Claim: Sendable, Codable, Equatable {
    case string(String), number(Double), bool(Bool), array([Claim]), object([String: Claim]), null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([Claim].self) { self = .array(a) }
        else { self = .object(try container.decode([String: Claim].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .number(let n): try container.encode(n)
        case .bool(let b): try container.encode(b)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        case .null: try container.encodeNil()
        }
    }
}

extension Dictionary where Key == String, Value == Claim {
    func string(_ key: String) -> String? { if case .string(let s)? = self[key] { s } else { nil } }
    func number(_ key: String) -> Double? { if case .number(let n)? = self[key] { n } else { nil } }
}

/// A JWT payload of free claims; the checks are made by the caller, who knows the expected values.
struct ClaimSet: JWTPayload {
    var claims: [String: Claim]
    init(from decoder: any Decoder) throws { claims = try [String: Claim](from: decoder) }
    func encode(to encoder: any Encoder) throws { try claims.encode(to: encoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
