import Foundation
import Hummingbird
import HTTPTypes
import Identity
import Storage

/// Login (password and Pro Santé Connect), logout, password change and reset, the current user, and the audit trail.
struct IdentityRoutes {
    let identity: IdentityServices
    let pages: Pages
    let database: any Database
    /// Told of every successful login (INT_R02: regulator accounts are brought up to date at vendors, in the
    /// background).
    var onLogin: @Sendable (Account) -> Void = { _ in }

    func register(on router: Router<AppRequestContext>) {
        router.get("connexion") { request, context in
            loginPage(request: request, context: context, message: request.uri.queryParameters.get("message"))
        }
        router.post("connexion") { request, context in try await passwordLogin(request, context) }
        router.post("deconnexion") { request, context in try await logout(request, context) }
        router.get("deconnexion/retour") { _, context in
            pages.response("message", title: "Déconnexion", values: [
                "heading": "Vous êtes déconnecté·e", "message": "Votre session SAS et votre session Pro Santé Connect sont fermées.",
                "backLink": true,
            ], context: context)
        }
        router.get("connexion/psc") { request, context in try await startPSC(request, context) }
        router.get("connexion/psc/retour") { request, context in try await completePSC(request, context) }
        router.get("mot-de-passe") { request, context in
            guard let session = context.session else { return redirectToLogin("/mot-de-passe") }
            return passwordPage(session: session, forced: session.account.mustChangePassword, message: nil, context: context)
        }
        router.post("mot-de-passe") { request, context in try await changePassword(request, context) }
        router.get("mot-de-passe/oubli") { request, context in
            anonymousForm("password-forgotten", title: "Mot de passe oublié", values: [:], context: context, request: request)
        }
        router.post("mot-de-passe/oubli") { request, context in
            let form = try await FormData.read(request)
            try checkAnonymousCSRF(request, form)
            try await identity.authenticator.requestReset(
                email: form["email"] ?? "", linkBase: identity.publicURL + "/mot-de-passe/reinitialiser",
                address: context.remoteAddress)
            return pages.response("message", title: "Mot de passe oublié", values: [
                "heading": "Demande enregistrée",
                "message": "Si un compte actif correspond à cette adresse, un lien de réinitialisation (valable une heure, une seule fois) vient d'y être envoyé.",
                "backLink": true,
            ], context: context)
        }
        router.get("mot-de-passe/reinitialiser") { request, context in
            anonymousForm("password-reset", title: "Nouveau mot de passe",
                          values: ["token": request.uri.queryParameters.get("jeton") ?? ""], context: context, request: request)
        }
        router.post("mot-de-passe/reinitialiser") { request, context in
            let form = try await FormData.read(request)
            try checkAnonymousCSRF(request, form)
            let token = form["jeton"] ?? ""
            guard form["password"] == form["confirmation"] else {
                return anonymousForm("password-reset", title: "Nouveau mot de passe",
                                     values: ["token": token, "message": "Les deux saisies du mot de passe diffèrent."],
                                     context: context, request: request, status: .unprocessableContent)
            }
            do {
                try await identity.authenticator.completeReset(token: token, newPassword: form["password"] ?? "",
                                                               address: context.remoteAddress)
            } catch let error as AccountError {
                return anonymousForm("password-reset", title: "Nouveau mot de passe",
                                     values: ["token": token, "message": error.message], context: context,
                                     request: request, status: error.kind == .weakPassword ? .unprocessableContent : .badRequest)
            }
            return Response(status: .seeOther, headers: [.location: "/connexion?message=" + RequirePermission.encode("Mot de passe modifié : connectez-vous.")])
        }
        router.get("api/v1/me") { _, context in
            guard let session = context.session else {
                throw AppError(.unauthorized, code: "unauthenticated", message: "Aucune session : connectez-vous.")
            }
            let account = session.account
            let body: [String: Any] = [
                "id": account.id, "email": account.email, "display_name": account.displayName,
                "idnps": account.idnps as Any, "roles": account.roles.map(\.rawValue).sorted(),
                "territories": account.territories, "csrf_token": session.csrfToken, "method": session.method,
                "session_expires_at": ISO8601DateFormatter().string(from: session.expiresAt),
            ]
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))))
        }
        router.group("admin/journal").add(middleware: RequirePermission(permission: .readAudit)).get { request, context in
            let actor = request.uri.queryParameters.get("acteur").flatMap { $0.isEmpty ? nil : $0 }
            let entries = try await AuditLog(database).recent(limit: 200, actor: actor)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "fr_FR")
            formatter.timeZone = TimeZone(identifier: "Europe/Paris")
            formatter.dateFormat = "dd/MM/yyyy HH:mm:ss"
            try await AuditLog(database).record(AuditEntry(actor: context.actor ?? "?", action: "audit.read",
                                                           detail: actor.map { "acteur=\($0)" }, sourceAddress: context.remoteAddress,
                                                           requestID: context.requestID))
            return pages.response("audit", title: "Journal d'audit", values: [
                "actor": actor ?? "",
                "entries": entries.map { entry -> [String: Any] in
                    ["when": formatter.string(from: entry.occurredAt), "actor": entry.actor, "action": entry.action,
                     "target": entry.target ?? "", "detail": entry.detail ?? "", "address": entry.sourceAddress ?? ""]
                },
            ], context: context)
        }
    }

    // MARK: password login

    func loginPage(request: Request, context: AppRequestContext, message: String?, email: String = "",
                   status: HTTPResponse.Status = .ok) -> Response {
        anonymousForm("login", title: "Connexion", values: [
            "message": message ?? "", "email": email, "retour": safeReturn(request.uri.queryParameters.get("retour")) ?? "",
            "retourURL": safeReturn(request.uri.queryParameters.get("retour")).map { "?retour=" + RequirePermission.encodeComponent($0) } ?? "",
            "psc": identity.psc != nil,
        ], context: context, request: request, status: status)
    }

    /// A form shown before login, protected by a double-submit CSRF cookie.
    func anonymousForm(_ template: String, title: String, values: [String: Any], context: AppRequestContext,
                       request: Request? = nil, status: HTTPResponse.Status = .ok) -> Response {
        // One token per browser (kept while its cookie lives), so that several tabs or retries stay valid.
        let existing = request.flatMap { IdentityServices.cookie($0, IdentityServices.loginCSRFCookie) }
        let token = existing.flatMap { $0.count == 32 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } ? $0 : nil }
            ?? Authenticator.randomToken(bytes: 24)
        var values = values
        values["csrf"] = token
        var response = pages.response(template, title: title, values: values, context: context, status: status)
        response.headers.append(HTTPField(name: .setCookie, value: identity.loginCSRFCookie(token)))
        return response
    }

    func checkAnonymousCSRF(_ request: Request, _ form: [String: String]) throws {
        guard let cookie = IdentityServices.cookie(request, IdentityServices.loginCSRFCookie),
              SessionStore.csrfMatches(form["_csrf"], cookie) else {
            throw AppError(.forbidden, code: "csrf", message: "Formulaire expiré ou invalide (protection CSRF) : rechargez la page et recommencez.")
        }
    }

    func passwordLogin(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        try checkAnonymousCSRF(request, form)
        let email = form["email"] ?? ""
        let outcome = try await identity.authenticator.login(email: email, password: form["password"] ?? "",
                                                             from: context.remoteAddress)
        switch outcome {
        case .success(let account):
            onLogin(account)
            let (secret, _) = try await identity.sessions.open(for: account, method: "password",
                                                               remoteAddress: context.remoteAddress,
                                                               replacing: context.sessionSecret)
            let target = account.mustChangePassword ? "/mot-de-passe?force=1" : (safeReturn(form["retour"]) ?? "/")
            return Response(status: .seeOther, headers: [.location: target, .setCookie: identity.sessionCookie(secret)])
        case .refused(let delay):
            try await Task.sleep(for: delay)
            return loginPage(request: request, context: context, message: outcome.message, email: email, status: .unauthorized)
        case .locked(let until, let delay):
            try await Task.sleep(for: delay)
            var response = loginPage(request: request, context: context, message: outcome.message, email: email,
                                     status: .tooManyRequests)
            response.headers[.retryAfter] = String(max(1, Int(until.timeIntervalSinceNow.rounded(.up))))
            return response
        case .disabled:
            return loginPage(request: request, context: context, message: outcome.message, email: email, status: .forbidden)
        }
    }

    func logout(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        guard let session = context.session, let secret = context.sessionSecret else {
            return Response(status: .seeOther, headers: [.location: "/connexion"])
        }
        guard SessionStore.csrfMatches(form["_csrf"], session.csrfToken) else {
            throw AppError(.forbidden, code: "csrf", message: "Formulaire expiré ou invalide (protection CSRF) : rechargez la page.")
        }
        try await identity.sessions.close(secret)
        try await AuditLog(database).record(AuditEntry(actor: session.account.email, action: "logout",
                                                       target: session.account.id, sourceAddress: context.remoteAddress,
                                                       requestID: context.requestID))
        var target = "/connexion?message=" + RequirePermission.encode("Vous êtes déconnecté·e.")
        if session.method == "psc", let psc = identity.psc,
           let url = try? await psc.logoutURL(idTokenHint: session.idToken, state: Authenticator.randomToken(bytes: 16)) {
            target = url.absoluteString
        }
        return Response(status: .seeOther, headers: [.location: target, .setCookie: identity.sessionCookie(nil)])
    }

    // MARK: Pro Santé Connect

    func startPSC(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let psc = identity.psc else {
            throw AppError(.notFound, code: "psc_disabled", message: "La connexion Pro Santé Connect n'est pas activée sur cette plateforme.")
        }
        do {
            let (url, state) = try await psc.startLogin(returnTo: safeReturn(request.uri.queryParameters.get("retour")))
            // The login is bound to this browser: the callback must come with the same cookie (login CSRF).
            var response = Response(status: .found, headers: [.location: url.absoluteString, .cacheControl: "no-store"])
            response.headers.append(HTTPField(name: .setCookie, value: identity.pscStateCookie(Authenticator.sha256(state))))
            return response
        } catch let error as PSCError {
            context.logger.warning("Pro Santé Connect unavailable", metadata: ["detail": "\(error.detail)"])
            return loginPage(request: request, context: context, message: error.message, status: .serviceUnavailable)
        }
    }

    func completePSC(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let psc = identity.psc else {
            throw AppError(.notFound, code: "psc_disabled", message: "La connexion Pro Santé Connect n'est pas activée sur cette plateforme.")
        }
        let query = request.uri.queryParameters
        func refuse(_ message: String, detail: String, status: HTTPResponse.Status) async throws -> Response {
            try await AuditLog(database).record(AuditEntry(actor: "psc", action: "login.failure", detail: "Pro Santé Connect : \(detail)",
                                                           sourceAddress: context.remoteAddress, requestID: context.requestID))
            return loginPage(request: request, context: context, message: message, status: status)
        }
        if let error = query.get("error") {
            return try await refuse("Connexion Pro Santé Connect annulée ou refusée (\(error)).", detail: error, status: .unauthorized)
        }
        guard let code = query.get("code"), let state = query.get("state") else {
            return try await refuse("Réponse de Pro Santé Connect incomplète : recommencez la connexion.",
                                    detail: "code ou state absent", status: .badRequest)
        }
        guard let bound = IdentityServices.cookie(request, IdentityServices.pscStateCookieName),
              SessionStore.csrfMatches(Authenticator.sha256(state), bound) else {
            return try await refuse("La connexion Pro Santé Connect a expiré ou a déjà été utilisée, ou a été commencée dans un autre navigateur. Recommencez la connexion.",
                                    detail: "state non lié à ce navigateur", status: .unauthorized)
        }
        let result: (identity: PSCIdentity, returnTo: String?)
        do {
            result = try await psc.completeLogin(code: code, state: state)
        } catch let error as PSCError {
            return try await refuse(error.message, detail: error.detail, status: .unauthorized)
        }
        guard let account = try await identity.accounts.find(idnps: result.identity.idnps) else {
            return try await refuse(
                "Aucun compte SAS n'est associé à votre identifiant national \(result.identity.idnps). Demandez à votre gestionnaire de comptes de créer ou de compléter votre compte.",
                detail: "IDNPS \(result.identity.idnps) sans compte", status: .forbidden)
        }
        guard account.status == .active else {
            return try await refuse("Ce compte est désactivé (\(account.statusReason ?? "désactivé")). Contactez votre gestionnaire de comptes.",
                                    detail: "compte désactivé \(account.id)", status: .forbidden)
        }
        try await database.transaction { tx in
            try await tx.query("UPDATE accounts SET last_login_at = ?, inactivity_warned_at = NULL, failed_attempts = 0 WHERE id = ?",
                               [.date(Date()), .text(account.id)])
            try await AuditLog(tx).record(AuditEntry(actor: account.email, action: "login.success", target: account.id,
                                                     detail: "Pro Santé Connect (IDNPS \(result.identity.idnps))",
                                                     sourceAddress: context.remoteAddress, requestID: context.requestID))
        }
        onLogin(account)
        let (secret, _) = try await identity.sessions.open(for: account, method: "psc", idToken: result.identity.idToken,
                                                           remoteAddress: context.remoteAddress,
                                                           replacing: context.sessionSecret)
        var response = Response(status: .seeOther, headers: [.location: safeReturn(result.returnTo) ?? "/",
                                                             .setCookie: identity.sessionCookie(secret)])
        response.headers.append(HTTPField(name: .setCookie, value: identity.pscStateCookie(nil)))
        return response
    }

    // MARK: password change

    func passwordPage(session: Session, forced: Bool, message: String?, context: AppRequestContext,
                      status: HTTPResponse.Status = .ok) -> Response {
        pages.response("password-change", title: "Changer de mot de passe", values: [
            "csrf": session.csrfToken, "forced": forced, "message": message ?? "",
            "askCurrent": session.method == "password",
        ], context: context, status: status)
    }

    func changePassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let session = context.session else { return redirectToLogin("/mot-de-passe") }
        let form = try await FormData.read(request)
        guard SessionStore.csrfMatches(form["_csrf"], session.csrfToken) else {
            throw AppError(.forbidden, code: "csrf", message: "Formulaire expiré ou invalide (protection CSRF) : rechargez la page.")
        }
        guard form["password"] == form["confirmation"] else {
            return passwordPage(session: session, forced: session.account.mustChangePassword,
                                message: "Les deux saisies du nouveau mot de passe diffèrent.", context: context,
                                status: .unprocessableContent)
        }
        do {
            try await identity.authenticator.changePassword(
                // Logged in through Pro Santé Connect (strong authentication), one may set a password without one.
                accountID: session.account.id, current: session.method == "psc" ? nil : (form["current"] ?? ""),
                new: form["password"] ?? "",
                keepingSession: session.id, address: context.remoteAddress)
        } catch let error as AccountError {
            return passwordPage(session: session, forced: session.account.mustChangePassword, message: error.message,
                                context: context, status: .unprocessableContent)
        }
        return Response(status: .seeOther, headers: [.location: "/?message=" + RequirePermission.encode("Mot de passe modifié.")])
    }

    func redirectToLogin(_ back: String) -> Response {
        Response(status: .seeOther, headers: [.location: "/connexion?retour=" + RequirePermission.encode(back)])
    }

    /// A local path to return to (never another site: no scheme, no `//`, no backslash).
    func safeReturn(_ value: String?) -> String? {
        // No control character or space at all: browsers drop tabs and newlines, which could turn "/\t/x" into "//x".
        guard let value, value.hasPrefix("/"), !value.hasPrefix("//"), !value.contains("\\"), value.count <= 2_000,
              value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f }) else { return nil }
        return value
    }
}

/// `application/x-www-form-urlencoded` bodies.
enum FormData {
    static func read(_ request: Request, limit: Int = 64 * 1024) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: limit)
        return parse(String(buffer: body))
    }

    static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if kv.count == 2, result[kv[0]] == nil { result[kv[0]] = kv[1] }
        }
        return result
    }
}
