import AsyncHTTPClient
import Foundation
import Hummingbird
import HTTPTypes
import EditorSync
import Identity
import Logging
import NIOSSL
import Storage
import ServiceLifecycle
import TLS

/// The identity side of one node: password logins, sessions, Pro Santé Connect, and the rules of cookies.
public final class IdentityServices: Sendable {
    public let authenticator: Authenticator
    public let sessions: SessionStore
    public let accounts: AccountStore
    /// Nil when Pro Santé Connect is not configured.
    public let psc: ProSanteConnectClient?
    let pscHTTP: HTTPClient?
    let secureCookies: Bool
    let publicURL: String
    let sessionAbsolute: TimeInterval

    static let sessionCookie = "sas_session"
    static let pscStateCookieName = "sas_psc"
    static let loginCSRFCookie = "sas_csrf"

    /// Builds the services from the configuration; `clock` and `mailer` are injectable for tests.
    public init(configuration: PlatformConfiguration, database: any Database, logger: Logger,
                mailer: (any Mailer)? = nil, clock: @escaping IdentityClock = { Date() },
                failureDelay: Duration = .milliseconds(250)) throws {
        var policy = LoginPolicy()
        policy.maxFailures = configuration.loginMaxFailures
        policy.baseLockout = TimeInterval(configuration.loginLockoutSeconds)
        policy.failureDelay = failureDelay
        var sessionPolicy = SessionPolicy()
        sessionPolicy.idle = TimeInterval(configuration.sessionIdleMinutes * 60)
        sessionPolicy.absolute = TimeInterval(configuration.sessionAbsoluteHours * 3_600)
        let configuredMailer: any Mailer
        if let mailer {
            configuredMailer = mailer
        } else if let smtp = configuration.mailSMTP {
            configuredMailer = try SMTPMailer(configuration: smtp)
        } else {
            if configuration.environment == .production {
                logger.warning("no SMTP relay configured (mail.smtp_host): reset links and inactivity warnings go to the log only")
            }
            configuredMailer = LogMailer(logger: logger)
        }
        authenticator = Authenticator(
            database: database, hasher: PasswordHasher(memoryKiB: configuration.passwordMemoryKiB, iterations: 2),
            policy: policy, mailer: configuredMailer, clock: clock, logger: logger)
        sessions = SessionStore(database: database, policy: sessionPolicy, clock: clock)
        accounts = AccountStore(database: database)
        secureCookies = configuration.secureCookies
        publicURL = configuration.publicURL
        sessionAbsolute = sessionPolicy.absolute
        if let discovery = configuration.pscDiscoveryURL, let clientID = configuration.pscClientID,
           let secret = configuration.pscClientSecret {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let ca = configuration.pscCAPath {
                tls.additionalTrustRoots = [.file(ca)]
            }
            var httpConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
            httpConfiguration.redirectConfiguration = .disallow
            httpConfiguration.timeout = .init(connect: .seconds(5), read: .seconds(10))
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            pscHTTP = http
            psc = ProSanteConnectClient(
                configuration: PSCConfiguration(
                    discoveryURL: discovery, clientID: clientID, clientSecret: secret,
                    redirectURI: configuration.publicURL + "/connexion/psc/retour",
                    postLogoutRedirectURI: configuration.publicURL + "/deconnexion/retour"),
                pending: DatabaseOIDCLoginStore(database: database), http: http, logger: logger, clock: clock)
        } else {
            pscHTTP = nil
            psc = nil
        }
    }

    /// Closes the outbound HTTP client.
    public func shutdown() async {
        try? await pscHTTP?.shutdown()
    }

    /// The `Set-Cookie` value of a session cookie (or its deletion when `secret` is nil).
    func sessionCookie(_ secret: String?) -> String {
        let secure = secureCookies ? "; Secure" : ""
        guard let secret else { return "\(Self.sessionCookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax\(secure)" }
        return "\(Self.sessionCookie)=\(secret); Path=/; Max-Age=\(Int(sessionAbsolute)); HttpOnly; SameSite=Lax\(secure)"
    }

    /// The cookie binding a started Pro Santé Connect login to this browser (SHA-256 of its `state`), or its deletion.
    func pscStateCookie(_ digest: String?) -> String {
        let secure = secureCookies ? "; Secure" : ""
        guard let digest else { return "\(Self.pscStateCookieName)=; Path=/connexion/psc; Max-Age=0; HttpOnly; SameSite=Lax\(secure)" }
        return "\(Self.pscStateCookieName)=\(digest); Path=/connexion/psc; Max-Age=600; HttpOnly; SameSite=Lax\(secure)"
    }

    /// The `Set-Cookie` value of the anonymous forms' CSRF cookie (double submit).
    func loginCSRFCookie(_ token: String) -> String {
        "\(Self.loginCSRFCookie)=\(token); Path=/; HttpOnly; SameSite=Strict\(secureCookies ? "; Secure" : "")"
    }

    static func cookie(_ request: Request, _ name: String) -> String? {
        guard let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == name { return String(kv[1]) }
        }
        return nil
    }
}

/// Resumes the browser session from its cookie (if any) and makes its account the request's actor. A session whose
/// password must be changed only reaches the password page and the logout.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let identity: IdentityServices

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let secret = IdentityServices.cookie(request, IdentityServices.sessionCookie) else {
            return try await next(request, context)
        }
        var context = context
        guard let session = try await identity.sessions.resume(secret) else {
            var response = try await next(request, context)
            response.headers.append(HTTPField(name: .setCookie, value: identity.sessionCookie(nil)))
            return response
        }
        context.session = session
        context.sessionSecret = secret
        context.actor = session.account.email
        let path = request.uri.path
        if session.account.mustChangePassword, !path.hasPrefix("/mot-de-passe"), path != "/deconnexion",
           path != "/api/v1/me", !["/healthz", "/readyz", "/metrics"].contains(path), !path.hasPrefix("/static/") {
            // Nothing else until the temporary password is replaced: pages go to the form, everything else is refused.
            if request.method == .get && !path.hasPrefix("/api/") {
                return Response(status: .seeOther, headers: [.location: "/mot-de-passe?force=1"])
            }
            throw AppError(.forbidden, code: "password_change_required",
                           message: "Changez d'abord votre mot de passe provisoire (page « Changer de mot de passe »).")
        }
        return try await next(request, context)
    }
}

/// Admits only requests whose session (or, when `apiTokens` is set, whose API token) grants `permission`.
/// Pages send anonymous users to the login page and back; APIs answer 401/403 in JSON.
struct RequirePermission: RouterMiddleware {
    typealias Context = AppRequestContext
    let permission: Permission
    /// API tokens admitted instead of a session, with the scope they need.
    var apiTokens: (store: APITokenStore, scope: String)?
    /// Also accept the CSRF token as a `_csrf` field of a urlencoded form (pages that work without JavaScript).
    var formCSRF = false

    init(permission: Permission, apiTokens: (store: APITokenStore, scope: String)? = nil, formCSRF: Bool = false) {
        self.permission = permission
        self.apiTokens = apiTokens
        self.formCSRF = formCSRF
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let session = context.session {
            guard session.account.has(permission) else {
                throw AppError(.forbidden, code: "forbidden",
                               message: "Votre rôle ne permet pas cette action. Rôles autorisés : \(permission.roles.map(\.label).sorted().joined(separator: ", ")).")
            }
            var request = request
            if ![.get, .head, .options].contains(request.method) {
                var submitted = request.headers[.csrfToken]
                if submitted == nil, formCSRF,
                   request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
                    let body = try await request.collectBody(upTo: 64 * 1024)
                    submitted = FormData.parse(String(buffer: body))["_csrf"]
                }
                guard SessionStore.csrfMatches(submitted, session.csrfToken) else {
                    throw AppError(.forbidden, code: "csrf", message: "Jeton anti-falsification (CSRF) absent ou invalide : rechargez la page.")
                }
            }
            return try await next(request, context)
        }
        if let apiTokens, request.headers[.authorization] != nil {
            return try await APITokenMiddleware(store: apiTokens.store, scope: apiTokens.scope)
                .handle(request, context: context, next: next)
        }
        if request.uri.path.hasPrefix("/api/") {
            throw AppError(.unauthorized, code: "unauthenticated",
                           message: apiTokens == nil ? "Authentification requise : connectez-vous."
                               : "Authentification requise : session ou jeton d'API (Authorization: Bearer …).")
        }
        let back = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        return Response(status: .seeOther, headers: [.location: "/connexion?retour=" + Self.encode(back)])
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Percent-encodes everything but unreserved characters (a whole path and query as one parameter value).
    static func encodeComponent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension HTTPField.Name {
    /// `X-CSRF-Token`, on state-changing API calls made with a session cookie.
    public static let csrfToken = HTTPField.Name("X-CSRF-Token")!
}

/// Hourly upkeep of identities: the inactivity sweep (warning at 8 months, disabled at 9) and expired sessions;
/// closes the Pro Santé Connect client at shutdown.
public struct IdentityMaintenanceService: Service {
    let identity: IdentityServices
    let readiness: Readiness
    let logger: Logger

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if readiness.migrated {
                do {
                    let swept = try await identity.authenticator.sweepInactive()
                    let purged = try await identity.sessions.purge()
                    if swept.warned + swept.disabled + purged > 0 {
                        logger.info("identity upkeep", metadata: ["warned": "\(swept.warned)", "disabled": "\(swept.disabled)",
                                                                  "sessions_purged": "\(purged)"])
                    }
                } catch {
                    logger.warning("identity upkeep failed", metadata: ["error": "\(error)"])
                }
            }
            let pause: Duration = readiness.migrated ? .seconds(3_600) : .milliseconds(200)
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { break }
        }
        await identity.shutdown()
    }
}

/// Runs INT_R02 on this node: logins queued by the identity routes are reconciled in the background, and every
/// `pollInterval` the deactivations and retries that are due are sent.
public struct RegulatorSyncService: Service {
    let sync: RegulatorSync
    let readiness: Readiness
    let logger: Logger
    let pollInterval: Duration

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await sync.processLogins() }
            group.addTask {
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    if readiness.migrated {
                        do {
                            let sent = try await sync.runDue()
                            if sent > 0 { logger.info("INT_R02 deactivations and retries", metadata: ["sent": "\(sent)"]) }
                        } catch {
                            logger.warning("INT_R02 upkeep failed", metadata: ["error": "\(error)"])
                        }
                    }
                    let pause: Duration = readiness.migrated ? pollInterval : .milliseconds(200)
                    do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { break }
                }
                sync.finish()
            }
        }
    }
}
