import AsyncHTTPClient
import Foundation
import Identity
import Sandbox
import ServiceLifecycle
import Storage
import Testing
import TLS
import Web

/// A platform with accounts, a hand-moved clock, a capturing mailer and (optionally) the Pro Santé Connect stand-in.
struct IdentityEnvironment {
    let platform: RunningPlatform
    let clock: TestClock
    let mailer: CapturingMailer
    let psc: PSCStandIn?
    let pki: DevPKIFiles
    let browser: TestBrowser
    let passwords: [String: String]

    var base: String { platform.baseURL }
    static let hasher = PasswordHasher(memoryKiB: 1024, iterations: 2)

    /// Demo-like accounts: a regulator (PSC fixture 0), a health professional, an administrator, and a second
    /// regulator used to show that a lock-out stays on one account.
    static let accounts: [(email: String, roles: Set<Role>, idnps: String?)] = [
        ("regul@test.sas", [.regulator], PSCProfessional.fixtures[0].idnps),
        ("regul2@test.sas", [.regulator], nil),
        ("medecin@test.sas", [.healthProfessional], PSCProfessional.fixtures[4].idnps),
        ("admin@test.sas", [.administrator], nil),
    ]

    static func with(psc withPSC: Bool = false, settings extra: [String: String] = [:],
                     _ body: (IdentityEnvironment) async throws -> Void) async throws {
        let clock = TestClock()
        let mailer = CapturingMailer()
        let directory = TestScratch.url("sas-id-\(UUID().uuidString)")
        let pki = DevPKIFiles(directory: directory)
        let ca = try pki.initialise()
        try pki.issue("psc-sandbox", with: ca, profile: .server, commonName: "localhost", organizationalUnit: "PSC TEST",
                      hostNames: ["localhost", "127.0.0.1"])
        var pscStandIn: PSCStandIn?
        var pscGroup: ServiceGroup?
        var pscRunner: Task<Void, any Error>?
        var settings = ["password.memory_kib": "1024", "http.secure_cookies": "false", "editors.accounts_poll_seconds": "1"]
        settings.merge(extra) { $1 }
        let httpPort = try freeLoopbackPort()
        settings["http.port"] = String(httpPort)
        if withPSC {
            let standIn = PSCStandIn(configuration: .init(certificatePath: pki.certificatePath("psc-sandbox"),
                                                          keyPath: pki.keyPath("psc-sandbox")),
                                     logger: TestDatabases.logger)
            var groupConfiguration = ServiceGroupConfiguration(services: [.init(service: try standIn.application())],
                                                               logger: TestDatabases.logger)
            // Never wait forever for a client's idle keep-alive connection at the end of a test.
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(3)
            groupConfiguration.maximumCancellationDuration = .seconds(3)
            let group = ServiceGroup(configuration: groupConfiguration)
            pscRunner = Task { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(120)
            while standIn.port == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            guard standIn.port != nil else { throw CancellationError() }
            standIn.register(PSCClientRegistration(
                clientID: "sas-test", secret: "secret-de-test-de-la-plateforme-sas-2026",
                redirectURIs: ["http://127.0.0.1:\(httpPort)/connexion/psc/retour"],
                postLogoutRedirectURIs: ["http://127.0.0.1:\(httpPort)/deconnexion/retour"]))
            settings["psc.discovery_url"] = standIn.discoveryURL
            settings["psc.client_id"] = "sas-test"
            settings["psc.client_secret"] = "secret-de-test-de-la-plateforme-sas-2026"
            settings["psc.ca"] = pki.caChainPath
            pscStandIn = standIn
            pscGroup = group
        }
        let platform = try await RunningPlatform.start(settings: settings, pkiDirectory: directory) { configuration, database in
            try IdentityServices(configuration: configuration, database: database, logger: TestDatabases.logger,
                                 mailer: mailer, clock: clock.function, failureDelay: .milliseconds(1))
        }
        var passwords: [String: String] = [:]
        for account in accounts {
            let password = "Mot-de-passe-\(account.email.prefix(5))-2026"
            passwords[account.email] = password
            try await platform.app.identity.accounts.create(
                email: account.email, displayName: account.email, idnps: account.idnps, roles: account.roles,
                territories: ["69"], passwordHash: hasher.hash(password), actor: "test", now: clock.date)
        }
        let browser = TestBrowser(caPath: pki.caChainPath)
        let environment = IdentityEnvironment(platform: platform, clock: clock, mailer: mailer, psc: pscStandIn, pki: pki,
                                              browser: browser, passwords: passwords)
        var failure: (any Error)?
        do { try await body(environment) } catch { failure = error }
        try? await browser.shutdown()
        try? await platform.stop()
        await pscGroup?.triggerGracefulShutdown()
        _ = try? await pscRunner?.value
        try? FileManager.default.removeItem(at: directory)
        if let failure { throw failure }
    }

    /// Creates a national administrator (not among the default accounts, whose counts some tests check) and logs
    /// him in with a browser of his own.
    func nationalAdministrator() async throws -> TestBrowser {
        let email = "national@test.sas", password = "Mot-de-passe-national-2026"
        if try await platform.app.identity.accounts.find(email: email) == nil {
            try await platform.app.identity.accounts.create(
                email: email, displayName: "Administration nationale", roles: [.nationalAdministrator], territories: [],
                passwordHash: Self.hasher.hash(password), actor: "test", now: clock.date)
        }
        let browser = TestBrowser(caPath: nil)
        _ = try await login(email, password: password, browser: browser)
        return browser
    }

    /// Logs in through the form; returns the POST's answer.
    @discardableResult
    func login(_ email: String, password: String? = nil, browser: TestBrowser? = nil) async throws -> TestBrowser.Page {
        let browser = browser ?? self.browser
        let page = try await browser.request(base + "/connexion")
        let csrf = try #require(page.hidden("_csrf"))
        return try await browser.request(base + "/connexion", method: .POST, form: [
            "_csrf": csrf, "email": email, "password": password ?? passwords[email]!, "retour": "",
        ])
    }
}

@Suite("Identity: password logins, lock-out, sessions, CSRF, roles, resets, inactivity")
struct PasswordLoginTests {
    @Test("Login form: CSRF required, French refusal, session cookie rotated at login, roles per route, logout")
    func loginAndRoles() async throws {
        try await IdentityEnvironment.with { env in
            let browser = env.browser
            let noCSRF = try await browser.request(env.base + "/connexion", method: .POST,
                                                   form: ["email": "regul@test.sas", "password": env.passwords["regul@test.sas"]!])
            #expect(noCSRF.status == 403)
            #expect(noCSRF.body.contains("CSRF"))

            let wrong = try await env.login("regul@test.sas", password: "pas-le-bon")
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("Adresse e-mail ou mot de passe incorrect"))
            let unknown = try await env.login("personne@test.sas", password: "pas-le-bon")
            #expect(unknown.status == 401)
            #expect(unknown.body.contains("Adresse e-mail ou mot de passe incorrect"), "same answer for unknown accounts")

            browser.setCookie("sas_session", "fixe-par-un-attaquant")
            let loginPage = try await browser.request(env.base + "/connexion?retour=/%09/evil.example")
            let ok = try await browser.request(env.base + "/connexion", method: .POST, form: [
                "_csrf": try #require(loginPage.hidden("_csrf")), "email": "regul@test.sas",
                "password": env.passwords["regul@test.sas"]!, "retour": "/\t/evil.example"])
            #expect(ok.status == 303)
            #expect(ok.location == env.base + "/", "a return path with a control character is dropped: \(ok.location ?? "")")
            let session = try #require(browser.cookie("sas_session"))
            #expect(session != "fixe-par-un-attaquant")
            let me = try await browser.request(env.base + "/api/v1/me")
            #expect(me.status == 200)
            #expect(me.body.contains("\"roles\":[\"regulator\"]"))
            #expect(me.body.contains("\"territories\":[\"69\"]"))

            // A regulator may search (422: the test directory is empty, but authentication and role passed) …
            let search = try await browser.request(env.base + "/api/v1/search?what=generaliste&where=Lyon")
            #expect(search.status != 401 && search.status != 403)
            // … but not read the audit trail.
            #expect(try await browser.request(env.base + "/admin/journal").status == 403)

            // Logout needs the session's CSRF token.
            let home = try await browser.request(env.base + "/")
            let token = try #require(home.hidden("_csrf"))
            #expect(try await browser.request(env.base + "/deconnexion", method: .POST, form: ["_csrf": "faux"]).status == 403)
            let out = try await browser.request(env.base + "/deconnexion", method: .POST, form: ["_csrf": token])
            #expect(out.status == 303)
            #expect(try await browser.request(env.base + "/api/v1/me").status == 401)
            browser.setCookie("sas_session", session)
            #expect(try await browser.request(env.base + "/api/v1/me").status == 401, "a closed session stays closed")

            // A health professional cannot search; an administrator reads the journal, which lists the logins.
            let other = TestBrowser(caPath: nil)
            defer { Task { try? await other.shutdown() } }
            try await env.login("medecin@test.sas", browser: other)
            let refused = try await other.request(env.base + "/api/v1/search?what=generaliste&where=Lyon")
            #expect(refused.status == 403)
            #expect(refused.body.contains("rôle"))
            let admin = TestBrowser(caPath: nil)
            defer { Task { try? await admin.shutdown() } }
            try await env.login("admin@test.sas", browser: admin)
            let journal = try await admin.request(env.base + "/admin/journal")
            #expect(journal.status == 200)
            #expect(journal.body.contains("login.success"))
            #expect(journal.body.contains("login.failure"))
            // An anonymous visitor of a protected page is sent to the login page and back.
            let visitor = TestBrowser(caPath: nil)
            defer { Task { try? await visitor.shutdown() } }
            let anonymous = try await visitor.request(env.base + "/admin/journal?acteur=x")
            #expect(anonymous.status == 303)
            #expect(anonymous.location?.contains("/connexion?retour=/admin/journal") == true)
        }
    }

    @Test("Brute force: 1,000 wrong passwords lock the account and slow down; the right one works after the lock; others unaffected")
    func bruteForce() async throws {
        try await IdentityEnvironment.with { env in
            let page = try await env.browser.request(env.base + "/connexion")
            let csrf = try #require(page.hidden("_csrf"))
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for worker in 0..<10 {
                    group.addTask {
                        var seen: [(Int, String?)] = []
                        for attempt in 0..<100 {
                            let answer = try await env.browser.request(env.base + "/connexion", method: .POST, form: [
                                "_csrf": csrf, "email": "regul@test.sas", "password": "essai-\(worker)-\(attempt)",
                            ])
                            seen.append((answer.status, answer.header("Retry-After")))
                        }
                        return seen.last!
                    }
                }
                var all: [(Int, String?)] = []
                for try await last in group { all.append(last) }
                return all
            }
            #expect(statuses.allSatisfy { $0.0 == 429 && $0.1 != nil }, "every script ends on a lock-out with Retry-After")
            let account = try #require(try await env.platform.app.identity.accounts.find(email: "regul@test.sas"))
            #expect(account.lockedUntil.map { $0 > env.clock.date } == true)
            let locks = try await env.platform.app.database.query(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'account.locked'")
            #expect(try locks.first!.int("n") >= 1)
            let probes = try await env.platform.app.database.query(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'login.locked'")
            #expect(try probes.first!.int("n") > 900, "attempts during the lock-out are refused without checking the password")

            // The right password is refused during the lock-out; another account is not affected.
            #expect(try await env.login("regul@test.sas").status == 429)
            let other = TestBrowser(caPath: nil)
            defer { Task { try? await other.shutdown() } }
            #expect(try await env.login("regul2@test.sas", browser: other).status == 303)

            // After the lock-out period (at most one hour), the right password works and resets the counters.
            env.clock.advance(3_601)
            #expect(try await env.login("regul@test.sas").status == 303)
            let after = try #require(try await env.platform.app.identity.accounts.find(email: "regul@test.sas"))
            #expect(after.failedAttempts == 0 && after.lockedUntil == nil)
        }
    }

    @Test("The vendor registry API opens to a national administrator's session (CSRF on changes), not to other roles")
    func adminAPIBySession() async throws {
        try await IdentityEnvironment.with { env in
            try await env.platform.app.identity.accounts.create(
                email: "national@test.sas", displayName: "National", roles: [.nationalAdministrator],
                passwordHash: IdentityEnvironment.hasher.hash("Administration-Nationale-1"), actor: "test")
            let national = TestBrowser(caPath: nil)
            defer { Task { try? await national.shutdown() } }
            #expect(try await env.login("national@test.sas", password: "Administration-Nationale-1", browser: national).status == 303)
            #expect(try await national.request(env.base + "/api/v1/admin/editors").status == 200)
            let body = ["name": "Éditeur test", "baseURL": "https://editeur.example/fhir"]
            let noCSRF = try await national.request(env.base + "/api/v1/admin/editors", method: .POST,
                                                    headers: [("Content-Type", "application/json")], json: body)
            #expect(noCSRF.status == 403)
            let me = try JSONSerialization.jsonObject(with: Data(try await national.request(env.base + "/api/v1/me").body.utf8)) as? [String: Any]
            let csrf = try #require(me?["csrf_token"] as? String)
            let created = try await national.request(env.base + "/api/v1/admin/editors", method: .POST,
                                                     headers: [("Content-Type", "application/json"), ("X-CSRF-Token", csrf)],
                                                     json: ["id": "test", "name": "Éditeur test", "baseURL": "https://editeur.example/fhir"])
            #expect(created.status != 401 && created.status != 403, "\(created.status) \(created.body)")
            try await env.login("regul@test.sas")
            #expect(try await env.browser.request(env.base + "/api/v1/admin/editors").status == 403)
        }
    }

    @Test("Lock-out grows: each further lock-out without success lasts twice as long")
    func growingLockout() async throws {
        try await IdentityEnvironment.with { env in
            for _ in 0..<5 { try await env.login("regul2@test.sas", password: "faux") }
            let first = try #require(try await env.platform.app.identity.accounts.find(email: "regul2@test.sas")?.lockedUntil)
            #expect(abs(first.timeIntervalSince(env.clock.date) - 60) < 2)
            env.clock.advance(61)
            for _ in 0..<5 { try await env.login("regul2@test.sas", password: "faux") }
            let second = try #require(try await env.platform.app.identity.accounts.find(email: "regul2@test.sas")?.lockedUntil)
            #expect(abs(second.timeIntervalSince(env.clock.date) - 120) < 2)
        }
    }

    @Test("Administrator reset forces a new password; rules explained in French; other sessions closed")
    func forcedChange() async throws {
        try await IdentityEnvironment.with { env in
            let account = try #require(try await env.platform.app.identity.accounts.find(email: "regul@test.sas"))
            let temporary = try await env.platform.app.identity.authenticator.adminReset(accountID: account.id, actor: "admin@test.sas")
            let login = try await env.login("regul@test.sas", password: temporary)
            #expect(login.status == 303)
            #expect(login.location?.hasSuffix("/mot-de-passe?force=1") == true)
            let home = try await env.browser.request(env.base + "/")
            #expect(home.status == 303 && home.location?.contains("/mot-de-passe") == true, "nothing else until the change")
            let api = try await env.browser.request(env.base + "/api/v1/search?what=generaliste&where=Lyon")
            #expect(api.status == 403 && api.body.contains("password_change_required"), "APIs too")
            let form = try await env.browser.request(env.base + "/mot-de-passe?force=1")
            #expect(form.body.contains("réinitialisé par un administrateur"))
            let csrf = try #require(form.hidden("_csrf"))
            let weak = try await env.browser.request(env.base + "/mot-de-passe", method: .POST, form: [
                "_csrf": csrf, "current": temporary, "password": "court", "confirmation": "court"])
            #expect(weak.status == 422)
            #expect(weak.body.contains("au moins 12 caractères"))
            let good = try await env.browser.request(env.base + "/mot-de-passe", method: .POST, form: [
                "_csrf": csrf, "current": temporary, "password": "Nouveau-secret-2027", "confirmation": "Nouveau-secret-2027"])
            #expect(good.status == 303)
            #expect(try await env.browser.request(env.base + "/").status == 200)
            let fresh = TestBrowser(caPath: nil)
            defer { Task { try? await fresh.shutdown() } }
            #expect(try await env.login("regul@test.sas", password: "Nouveau-secret-2027", browser: fresh).status == 303)
            let old = try await env.login("regul@test.sas", password: temporary, browser: fresh)
            #expect(old.status == 401, "\(old.status) \(old.body.prefix(600))")
        }
    }

    @Test("Reset link: one use, one hour, nothing revealed about unknown addresses")
    func resetLink() async throws {
        try await IdentityEnvironment.with { env in
            func request(_ email: String) async throws -> TestBrowser.Page {
                let page = try await env.browser.request(env.base + "/mot-de-passe/oubli")
                return try await env.browser.request(env.base + "/mot-de-passe/oubli", method: .POST,
                                                     form: ["_csrf": try #require(page.hidden("_csrf")), "email": email])
            }
            let unknown = try await request("personne@test.sas")
            let known = try await request("regul@test.sas")
            #expect(unknown.status == 200 && known.status == 200)
            #expect(unknown.body.contains("Si un compte actif correspond"))
            #expect(known.body.contains("Si un compte actif correspond"))
            try await env.mailer.waitFor(count: 1)
            let mails = env.mailer.sent.withLockedValue { $0 }
            #expect(mails.count == 1)
            let link = try #require(mails.first?.body.split(separator: " ").last.map(String.init))
            let token = try #require(link.components(separatedBy: "jeton=").last)

            func complete(_ password: String) async throws -> TestBrowser.Page {
                let page = try await env.browser.request(env.base + "/mot-de-passe/reinitialiser?jeton=\(token)")
                #expect(page.hidden("jeton") == token)
                return try await env.browser.request(env.base + "/mot-de-passe/reinitialiser", method: .POST, form: [
                    "_csrf": try #require(page.hidden("_csrf")), "jeton": token, "password": password, "confirmation": password])
            }
            #expect(try await complete("faible").status == 422)
            #expect(try await complete("Réinitialisé-2026!").status == 303)
            let reused = try await complete("Encore-un-autre-2026")
            #expect(reused.status == 400)
            #expect(reused.body.contains("déjà utilisé"))
            #expect(try await env.login("regul@test.sas", password: "Réinitialisé-2026!").status == 303)

            _ = try await request("regul2@test.sas")
            try await env.mailer.waitFor(count: 2)
            let second = try #require(env.mailer.sent.withLockedValue { $0.last?.body.components(separatedBy: "jeton=").last })
            env.clock.advance(3_601)
            let page = try await env.browser.request(env.base + "/mot-de-passe/reinitialiser?jeton=\(second)")
            let expired = try await env.browser.request(env.base + "/mot-de-passe/reinitialiser", method: .POST, form: [
                "_csrf": try #require(page.hidden("_csrf")), "jeton": second, "password": "Trop-tard-2026!", "confirmation": "Trop-tard-2026!"])
            #expect(expired.status == 400)
            #expect(expired.body.contains("expiré"))
        }
    }

    @Test("Sessions end after 30 minutes idle and 12 hours in all")
    func sessionTimeouts() async throws {
        try await IdentityEnvironment.with { env in
            try await env.login("regul@test.sas")
            env.clock.advance(29 * 60)
            #expect(try await env.browser.request(env.base + "/api/v1/me").status == 200)
            env.clock.advance(29 * 60)
            #expect(try await env.browser.request(env.base + "/api/v1/me").status == 200, "activity keeps it alive")
            env.clock.advance(31 * 60)
            #expect(try await env.browser.request(env.base + "/api/v1/me").status == 401, "idle too long")

            try await env.login("regul@test.sas")
            for _ in 0..<25 {
                env.clock.advance(29 * 60)
                _ = try await env.browser.request(env.base + "/api/v1/me")
            }
            #expect(try await env.browser.request(env.base + "/api/v1/me").status == 401, "absolute end after 12 hours")
        }
    }

    @Test("Inactivity: warned at 8 months, disabled at 9, then refused with the reason")
    func inactivity() async throws {
        try await IdentityEnvironment.with { env in
            let authenticator = env.platform.app.identity.authenticator
            env.clock.advance(8.2 * 30.4375 * 86_400)
            // The node's hourly upkeep may run its first sweep at the same time: accounts are claimed one by one, so
            // between the two sweeps each account is warned exactly once.
            let first = try await authenticator.sweepInactive()
            #expect(first.disabled == 0)
            try await env.mailer.waitFor(count: 4)
            let warnings = env.mailer.sent.withLockedValue { $0.filter { $0.subject.contains("désactivé") } }
            #expect(warnings.count == 4 && Set(warnings.map(\.to)).count == 4, "\(warnings.map(\.to))")
            #expect(try await authenticator.sweepInactive().warned == 0, "warned once")
            #expect(try await env.login("regul2@test.sas").status == 303, "logging in clears the warning")
            env.clock.advance(1 * 30.4375 * 86_400)
            _ = try await authenticator.sweepInactive()
            let disabled = try await env.platform.app.database.query(
                "SELECT COUNT(*) AS n FROM accounts WHERE status = 'disabled'")
            #expect(try disabled.first?.int("n") == 3)
            let refused = try await env.login("regul@test.sas")
            #expect(refused.status == 403)
            #expect(refused.body.contains("inactivité"))
            let other = TestBrowser(caPath: nil)
            defer { Task { try? await other.shutdown() } }
            #expect(try await env.login("regul2@test.sas", browser: other).status == 303)
        }
    }
}
