import Crypto
import Foundation
import Hummingbird
import JWTKit
import NIOCore

extension PSCStandIn {
    func register(on router: Router<BasicRequestContext>) {
        let realm = Self.realm
        router.get("\(realm)/.well-known/wallet-openid-configuration") { _, _ in self.discovery() }
        router.get("\(realm)/.well-known/openid-configuration") { _, _ in self.discovery() }
        router.get(".well-known/openid-configuration") { _, _ in self.discovery() }
        router.get("auth") { request, _ in try self.authorize(request) }
        router.get("\(realm)/protocol/openid-connect/auth") { request, _ in try self.authorize(request) }
        router.post("auth/login") { request, _ in try await self.login(request) }
        router.post("\(realm)/protocol/openid-connect/token") { request, _ in try await self.token(request) }
        router.get("\(realm)/protocol/openid-connect/userinfo") { request, _ in try await self.userinfo(request) }
        router.post("\(realm)/protocol/openid-connect/userinfo") { request, _ in try await self.userinfo(request) }
        router.get("\(realm)/protocol/openid-connect/certs") { _, _ in self.jwks() }
        router.get("\(realm)/protocol/openid-connect/logout") { request, _ in self.logout(request) }
        router.get("_sandbox/psc") { _, _ in Self.json(200, try JSONEncoder().encode(self.faults)) }
        router.put("_sandbox/psc") { request, _ in
            let body = try await request.body.collect(upTo: 16 * 1024)
            guard let faults = try? JSONDecoder().decode(PSCFaults.self, from: Data(buffer: body)) else {
                return Self.oauthError(400, "invalid_request", "corps JSON PSCFaults attendu")
            }
            self.faults = faults
            return Self.json(200, try JSONEncoder().encode(faults))
        }
        router.post("_sandbox/psc/rotate") { _, _ in
            Self.json(200, Data("{\"kid\":\"\(self.rotateKeys())\"}".utf8))
        }
    }

    func discovery() -> Response {
        let issuer = self.issuer
        let document: [String: Any] = [
            "issuer": issuer,
            "authorization_endpoint": origin + "/auth",
            "token_endpoint": issuer + "/protocol/openid-connect/token",
            "userinfo_endpoint": issuer + "/protocol/openid-connect/userinfo",
            "end_session_endpoint": issuer + "/protocol/openid-connect/logout",
            "jwks_uri": issuer + "/protocol/openid-connect/certs",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "HS256"],
            "userinfo_signing_alg_values_supported": ["ES256", "HS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": ["eidas1"],
            "scopes_supported": ["openid", "scope_all"],
            "claims_parameter_supported": false,
            "request_parameter_supported": true,
        ]
        return Self.json(200, (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data())
    }

    /// The authorization request: checked like PSC; answered at once when the browser already has a PSC session
    /// (SSO), otherwise with the login page listing the test professionals.
    func authorize(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        let clientID = q.get("client_id") ?? ""
        let redirectURI = q.get("redirect_uri") ?? ""
        guard let client = state.withLockedValue({ $0.clients[clientID] }) else {
            return Self.page(400, "Client inconnu", "<p>Le client « \(Self.escape(clientID)) » n'est pas enregistré.</p>")
        }
        guard client.redirectURIs.contains(redirectURI) else {
            return Self.page(400, "Adresse de retour refusée",
                             "<p>« \(Self.escape(redirectURI)) » n'est pas une adresse de retour enregistrée pour ce client.</p>")
        }
        let stateParameter = q.get("state")
        func fail(_ error: String, _ description: String) -> Response {
            Self.redirect(redirectURI, ["error": error, "error_description": description, "state": stateParameter])
        }
        let faults = self.faults
        guard q.get("response_type") == "code" else { return fail("unsupported_response_type", "response_type=code attendu") }
        let scopes = (q.get("scope") ?? "").split(separator: " ").map(String.init)
        guard scopes.contains("openid") else { return fail("invalid_scope", "le scope openid est obligatoire") }
        if faults.strict {
            guard q.get("acr_values") == "eidas1" else { return fail("invalid_request", "acr_values=eidas1 attendu") }
            guard q.get("code_challenge_method") == "S256", let challenge = q.get("code_challenge"), challenge.count >= 43 else {
                return fail("invalid_request", "PKCE S256 obligatoire")
            }
        }
        guard let stateParameter, !stateParameter.isEmpty else { return fail("invalid_request", "state obligatoire") }
        if let cookie = Self.cookie(request, "psc_session"),
           let session = state.withLockedValue({ $0.browserSessions[cookie] }) {
            return issueCode(client: client, redirectURI: redirectURI, query: q, professional: session.professional,
                             authTime: session.authTime, browserSession: nil)
        }
        var hidden = ""
        for name in ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "acr_values",
                     "code_challenge", "code_challenge_method"] {
            if let value = q.get(name) {
                hidden += "<input type=\"hidden\" name=\"\(name)\" value=\"\(Self.escape(value))\">"
            }
        }
        var rows = ""
        for professional in configuration.professionals {
            let profession = professional.exercices.first.map { $0.profession == "10" ? "Médecin" : "Profession \($0.profession)" } ?? ""
            rows += """
                <li><button name="professionnel" value="\(professional.idnps)">\(Self.escape(professional.civilite)) \
                \(Self.escape(professional.givenName)) \(Self.escape(professional.familyName)) — \(profession) — \
                IDNPS \(professional.idnps)</button></li>
                """
        }
        return Self.page(200, "Pro Santé Connect (bac à sable)", """
            <p>Choisissez la carte CPS de test avec laquelle vous connecter à <strong>\(Self.escape(clientID))</strong>.</p>
            <form method="post" action="/auth/login">\(hidden)<ul class="cartes">\(rows)</ul></form>
            """)
    }

    func login(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard let client = state.withLockedValue({ $0.clients[form["client_id"] ?? ""] }),
              let redirectURI = form["redirect_uri"], client.redirectURIs.contains(redirectURI) else {
            return Self.page(400, "Demande invalide", "<p>Client ou adresse de retour inconnus.</p>")
        }
        guard let professional = configuration.professionals.first(where: { $0.idnps == form["professionnel"] }) else {
            return Self.page(400, "Carte inconnue", "<p>Aucune carte de test ne porte cet identifiant.</p>")
        }
        let session = Self.random(24)
        let now = Date()
        state.withLockedValue { $0.browserSessions[session] = (professional, now) }
        return issueCode(client: client, redirectURI: redirectURI, query: form, professional: professional,
                         authTime: now, browserSession: session)
    }

    func issueCode(client: PSCClientRegistration, redirectURI: String, query: some ParameterLookup,
                   professional: PSCProfessional, authTime: Date, browserSession: String?) -> Response {
        let code = Self.random(32)
        let pending = PendingCode(clientID: client.clientID, redirectURI: redirectURI, challenge: query.get("code_challenge"),
                                  nonce: query.get("nonce"), professional: professional,
                                  expires: Date().addingTimeInterval(configuration.codeLifetime), authTime: authTime)
        state.withLockedValue { $0.codes[code] = pending }
        var response = Self.redirect(redirectURI, ["code": code, "state": query.get("state")])
        if let browserSession {
            response.headers[.setCookie] = "psc_session=\(browserSession); Path=/; HttpOnly; Secure; SameSite=Lax"
        }
        return response
    }

    func token(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        var clientID = form["client_id"]
        var secret = form["client_secret"]
        if let header = request.headers[.authorization], header.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
           let colon = decoded.firstIndex(of: ":") {
            clientID = String(decoded[..<colon]).removingPercentEncoding
            secret = String(decoded[decoded.index(after: colon)...]).removingPercentEncoding
        }
        guard let clientID, let client = state.withLockedValue({ $0.clients[clientID] }), client.secret == secret else {
            return Self.oauthError(401, "invalid_client", "authentification du client refusée")
        }
        guard form["grant_type"] == "authorization_code", let code = form["code"] else {
            return Self.oauthError(400, "unsupported_grant_type", "grant_type=authorization_code attendu")
        }
        let pending = state.withLockedValue { state -> PendingCode? in
            if state.usedCodes.contains(code) { return nil }
            state.usedCodes.insert(code)
            return state.codes.removeValue(forKey: code)
        }
        guard let pending, pending.expires > Date(), pending.clientID == clientID else {
            return Self.oauthError(400, "invalid_grant", "code inconnu, expiré ou déjà utilisé")
        }
        guard pending.redirectURI == form["redirect_uri"] else {
            return Self.oauthError(400, "invalid_grant", "redirect_uri différente de celle de la demande")
        }
        if let challenge = pending.challenge {
            let verifier = form["code_verifier"] ?? ""
            let computed = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            guard computed == challenge else { return Self.oauthError(400, "invalid_grant", "code_verifier PKCE incorrect") }
        }
        let faults = self.faults
        let now = Date()
        var claims: [String: JSONClaim] = [
            "iss": .string(faults.issuer ?? issuer), "sub": .string(pending.professional.subject),
            "aud": .string(faults.audience ?? clientID), "azp": .string(clientID),
            "exp": .int(Int(now.timeIntervalSince1970) + faults.idTokenSeconds), "iat": .int(Int(now.timeIntervalSince1970)),
            "auth_time": .int(Int(pending.authTime.timeIntervalSince1970)), "acr": .string(faults.acr),
            "preferred_username": .string(pending.professional.idnps),
            "SubjectNameID": .string(pending.professional.idnps), "typ": .string("ID"),
        ]
        if let nonce = faults.nonce ?? pending.nonce { claims["nonce"] = .string(nonce) }
        var idToken = try await sign(claims, clientSecret: client.secret, faults: faults)
        if faults.badSignature, let dot = idToken.lastIndex(of: "."), idToken.index(after: dot) < idToken.endIndex {
            // Change the signature's first character: it carries real bits (the last one may be padding only).
            let first = idToken.index(after: dot)
            idToken.replaceSubrange(first...first, with: idToken[first] == "A" ? "Q" : "A")
        }
        let accessToken = Self.random(32)
        state.withLockedValue { $0.accessTokens[accessToken] = (pending.professional, clientID) }
        let body: [String: Any] = [
            "access_token": accessToken, "token_type": "Bearer", "expires_in": 300, "id_token": idToken,
            "refresh_token": Self.random(32), "scope": "openid scope_all",
        ]
        var response = Self.json(200, try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func sign(_ claims: [String: JSONClaim], clientSecret: String, faults: PSCFaults) async throws -> String {
        let keys = JWTKeyCollection()
        if faults.signing == "HS256", clientSecret.utf8.count >= 32 {
            await keys.add(hmac: HMACKey(from: clientSecret), digestAlgorithm: .sha256)
            return try await keys.sign(FreeClaims(claims))
        }
        let current = state.withLockedValue { $0.keys[0] }
        await keys.add(ecdsa: current.key, kid: JWKIdentifier(string: current.kid))
        return try await keys.sign(FreeClaims(claims), kid: JWKIdentifier(string: current.kid))
    }

    func userinfo(_ request: Request) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let entry = state.withLockedValue({ $0.accessTokens[String(header.dropFirst(7))] }) else {
            var response = Self.oauthError(401, "invalid_token", "jeton d'accès inconnu")
            response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            return response
        }
        let faults = self.faults
        var claims = entry.professional.userinfo()
        if faults.userinfo == "jwt" {
            claims["iss"] = .string(issuer)
            claims["aud"] = .string(entry.clientID)
            let secret = state.withLockedValue { $0.clients[entry.clientID]?.secret } ?? ""
            let jwt = try await sign(claims, clientSecret: secret, faults: faults)
            return Response(status: .ok, headers: [.contentType: "application/jwt"],
                            body: .init(byteBuffer: ByteBuffer(string: jwt)))
        }
        return Self.json(200, try JSONEncoder().encode(claims))
    }

    func jwks() -> Response {
        let keys = state.withLockedValue { $0.keys }
        var entries: [[String: String]] = []
        for (kid, key) in keys {
            guard let parameters = key.publicKey.parameters else { continue }
            entries.append(["kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                            "x": parameters.x, "y": parameters.y])
        }
        return Self.json(200, (try? JSONSerialization.data(withJSONObject: ["keys": entries], options: [.sortedKeys])) ?? Data())
    }

    func logout(_ request: Request) -> Response {
        let q = request.uri.queryParameters
        if let cookie = Self.cookie(request, "psc_session") {
            _ = state.withLockedValue { $0.browserSessions.removeValue(forKey: cookie) }
        }
        let clients = state.withLockedValue { Array($0.clients.values) }
        var response: Response
        if let target = q.get("post_logout_redirect_uri"), clients.contains(where: { $0.postLogoutRedirectURIs.contains(target) }) {
            response = Self.redirect(target, ["state": q.get("state")])
        } else {
            response = Self.page(200, "Déconnecté de Pro Santé Connect", "<p>Vous êtes déconnecté.</p>")
        }
        response.headers[.setCookie] = "psc_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
        return response
    }

    // MARK: helpers

    static func redirect(_ base: String, _ parameters: [String: String?]) -> Response {
        var components = URLComponents(string: base)
        var items = components?.queryItems ?? []
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        components?.queryItems = items
        return Response(status: .found, headers: [.location: components?.string ?? base, .cacheControl: "no-store"])
    }

    static func json(_ status: Int, _ data: Data) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func oauthError(_ status: Int, _ error: String, _ description: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["error": error, "error_description": description])) ?? Data()
        return json(status, body)
    }

    static func cookie(_ request: Request, _ name: String) -> String? {
        guard let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == name { return String(kv[1]) }
        }
        return nil
    }

    static func form(_ request: Request) async throws -> [String: String] {
        try await SandboxBookingRoutes.form(request)
    }

    static func escape(_ text: String) -> String { SandboxBookingRoutes.escape(text) }

    static func page(_ status: Int, _ title: String, _ body: String) -> Response {
        SandboxBookingRoutes.page(status, title, body)
    }
}

/// Read access to request parameters, from a query string or a posted form.
protocol ParameterLookup {
    func get(_ name: String) -> String?
}

extension Dictionary: ParameterLookup where Key == String, Value == String {
    func get(_ name: String) -> String? { self[name] }
}

extension Parameters: ParameterLookup {}
