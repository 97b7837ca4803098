import Foundation
import Identity
import Sandbox
import SASDomain
import ServiceLifecycle
import Storage
import Testing
import TLS
import Web

@Suite("Pro Santé Connect: the full OIDC flow against the stand-in over real HTTPS")
struct ProSanteConnectTests {
    /// Runs a PSC login in `browser`: platform → PSC (login page, test card chosen) → callback. Returns the
    /// callback URL (not yet visited) and the platform's answer to it.
    @discardableResult
    static func login(_ env: IdentityEnvironment, card: String = PSCProfessional.fixtures[0].idnps,
                      browser: TestBrowser? = nil) async throws -> (callback: String, answer: TestBrowser.Page) {
        let browser = browser ?? env.browser
        let start = try await browser.request(env.base + "/connexion/psc?retour=/api/v1/me")
        #expect(start.status == 302)
        let authorize = try #require(start.location)
        #expect(authorize.contains("acr_values=eidas1"))
        #expect(authorize.contains("code_challenge_method=S256"))
        #expect(authorize.contains("scope=openid%20scope_all"))
        let page = try await browser.request(authorize)
        let callback: String
        if page.status == 200 {
            var form = page.hiddenFields
            form["professionnel"] = card
            let chosen = try await browser.request(env.psc!.origin + "/auth/login", method: .POST, form: form)
            callback = try #require(chosen.location)
        } else {
            callback = try #require(page.location, "SSO: PSC answers at once")
        }
        return (callback, try await browser.request(callback))
    }

    @Test("Success: PKCE, state, nonce, ES256 id_token, userinfo JSON; the account is found by IDNPS; logout with id_token_hint")
    func success() async throws {
        try await IdentityEnvironment.with(psc: true) { env in
            let (_, answer) = try await Self.login(env)
            #expect(answer.status == 303)
            #expect(answer.location?.hasSuffix("/api/v1/me") == true, "back to where the login started")
            let me = try await env.browser.request(env.base + "/api/v1/me")
            #expect(me.status == 200)
            #expect(me.body.contains("\"email\":\"regul@test.sas\""))
            #expect(me.body.contains("\"method\":\"psc\""))
            let journal = try await env.platform.app.database.query(
                "SELECT detail FROM audit_log WHERE action = 'login.success' AND actor = 'regul@test.sas'")
            #expect(journal.contains { $0.optionalString("detail")?.contains("Pro Santé Connect") == true })

            let home = try await env.browser.request(env.base + "/")
            let out = try await env.browser.request(env.base + "/deconnexion", method: .POST,
                                                    form: ["_csrf": try #require(home.hidden("_csrf"))])
            let logout = try #require(out.location)
            #expect(logout.hasPrefix(env.psc!.issuer + "/protocol/openid-connect/logout"))
            #expect(logout.contains("id_token_hint="))
            let back = try await env.browser.request(logout)
            #expect(back.location?.hasPrefix(env.base + "/deconnexion/retour") == true)
            #expect(env.browser.cookie("psc_session") == nil, "the PSC session is closed too")
        }
    }

    @Test("Refusals: wrong state, replayed code, wrong nonce, eidas2, expired token, bad signature, unknown IDNPS")
    func refusals() async throws {
        try await IdentityEnvironment.with(psc: true) { env in
            let psc = try #require(env.psc)
            // A callback opened in another browser than the one that started the login (login CSRF) is refused.
            let attacker = TestBrowser(caPath: env.pki.caChainPath)
            defer { Task { try? await attacker.shutdown() } }
            let started = try await attacker.request(env.base + "/connexion/psc")
            var cardForm = try await attacker.request(try #require(started.location)).hiddenFields
            cardForm["professionnel"] = PSCProfessional.fixtures[0].idnps
            let planted = try #require(try await attacker.request(psc.origin + "/auth/login", method: .POST, form: cardForm).location)
            let victim = try await env.browser.request(planted)
            #expect(victim.status == 401)
            #expect(victim.body.contains("autre navigateur"))
            #expect(try await env.browser.request(env.base + "/api/v1/me").status == 401)
            // Wrong state: the callback with a state the platform never issued.
            let (callback, first) = try await Self.login(env)
            #expect(first.status == 303)
            let code = try #require(URLComponents(string: callback)?.queryItems?.first { $0.name == "code" }?.value)
            let forged = try await env.browser.request(env.base + "/connexion/psc/retour?code=\(code)&state=inconnu")
            #expect(forged.status == 401)
            #expect(forged.body.contains("expiré ou a déjà été utilisée"), "\(forged.body.prefix(1500))")
            // Replayed callback: its state was consumed.
            #expect(try await env.browser.request(callback).status == 401)
            // Replayed code with a fresh state: PSC refuses the code a second time.
            let restart = try await env.browser.request(env.base + "/connexion/psc")
            let state = try #require(URLComponents(string: restart.location!)?.queryItems?.first { $0.name == "state" }?.value)
            let replay = try await env.browser.request(env.base + "/connexion/psc/retour?code=\(code)&state=\(state)")
            #expect(replay.status == 401)
            #expect(replay.body.contains("refusée"))

            func refused(_ faults: PSCFaults, _ expected: String, card: String = PSCProfessional.fixtures[0].idnps,
                         status: Int = 401) async throws {
                psc.faults = faults
                let browser = TestBrowser(caPath: env.pki.caChainPath)
                defer { Task { try? await browser.shutdown() } }
                let (_, answer) = try await Self.login(env, card: card, browser: browser)
                #expect(answer.status == status, "\(faults)")
                #expect(answer.body.contains(expected), "\(faults): \(answer.body.prefix(2000))")
                #expect(try await browser.request(env.base + "/api/v1/me").status == 401)
            }
            var faults = PSCFaults()
            faults.nonce = "un-autre-nonce"
            try await refused(faults, "la réponse du fournisseur d")
            faults = PSCFaults()
            faults.acr = "eidas2"
            try await refused(faults, "exige eIDAS 1")
            faults = PSCFaults()
            faults.idTokenSeconds = -120
            try await refused(faults, "a expiré")
            faults = PSCFaults()
            faults.badSignature = true
            try await refused(faults, "la réponse du fournisseur d")
            faults = PSCFaults()
            faults.issuer = "https://faux.example/auth/realms/esante-wallet"
            try await refused(faults, "la réponse du fournisseur d")
            faults = PSCFaults()
            faults.audience = "un-autre-client"
            try await refused(faults, "la réponse du fournisseur d")
            try await refused(PSCFaults(), "Aucun compte SAS n&#39;est associé", card: PSCProfessional.fixtures[1].idnps, status: 403)

            let reasons = try await env.platform.app.database.query(
                "SELECT detail FROM audit_log WHERE action = 'login.failure' AND actor = 'psc'").compactMap { $0.optionalString("detail") }
            for reason in ["nonce", "acr eidas2", "expiré", "signature", "émetteur", "audience", "sans compte"] {
                #expect(reasons.contains { $0.contains(reason) }, "audit names the reason: \(reason) in \(reasons)")
            }
        }
    }

    @Test("Keys: unknown kid reloads the JWKS after a rotation; HS256 with the client secret; userinfo as a signed JWT")
    func keysAndFormats() async throws {
        try await IdentityEnvironment.with(psc: true) { env in
            let psc = try #require(env.psc)
            func loginWorks(_ label: String) async throws {
                let browser = TestBrowser(caPath: env.pki.caChainPath)
                defer { Task { try? await browser.shutdown() } }
                let (_, answer) = try await Self.login(env, browser: browser)
                #expect(answer.status == 303, "\(label): \(answer.body.prefix(1000))")
                #expect(try await browser.request(env.base + "/api/v1/me").status == 200, "\(label)")
            }
            try await loginWorks("first login (JWKS fetched)")
            psc.rotateKeys()
            try await loginWorks("after rotation (unknown kid → JWKS reloaded)")
            var faults = PSCFaults()
            faults.signing = "HS256"
            psc.faults = faults
            try await loginWorks("HS256 id_token")
            faults = PSCFaults()
            faults.userinfo = "jwt"
            psc.faults = faults
            try await loginWorks("userinfo as application/jwt")
        }
    }

    @Test("A disabled account is refused even through Pro Santé Connect")
    func disabledAccount() async throws {
        try await IdentityEnvironment.with(psc: true) { env in
            let account = try #require(try await env.platform.app.identity.accounts.find(email: "regul@test.sas"))
            try await env.platform.app.identity.accounts.disable(account.id, reason: "départ du SAS", actor: "admin@test.sas")
            let (_, answer) = try await Self.login(env)
            #expect(answer.status == 403)
            #expect(answer.body.contains("départ du SAS"))
        }
    }

    @Test("SSO to a vendor: logged in through PSC, the regulator lands on the sandbox vendor's booking page without a second login")
    func ssoToVendor() async throws {
        try await IdentityEnvironment.with(psc: true) { env in
            let psc = try #require(env.psc)
            let ca = try env.pki.loadCA()
            try env.pki.issue("sandbox-sso", with: ca, profile: .serverAndClient, commonName: "sso.sandbox.localhost",
                              organizationalUnit: "EDITEUR SSO", hostNames: ["localhost", "127.0.0.1"])
            let idnps = try IDNPSFixture.practitioner()
            var configuration = SandboxEditorConfiguration(
                id: "sso", name: "Éditeur SSO", certificatePath: env.pki.certificatePath("sandbox-sso"),
                keyPath: env.pki.keyPath("sandbox-sso"), clientCAPath: env.pki.caChainPath,
                roster: SandboxRoster(practitioners: [SandboxRoster.Practitioner(
                    idnps: idnps, familyName: "DUPONT", givenName: "Marc", specialties: ["SM54"],
                    sites: [.init(line: "1 rue du Test", postalCode: "69003", city: "Lyon", latitude: 45.76, longitude: 4.85)])]))
            configuration.webPort = try freeLoopbackPort()
            configuration.psc = SandboxPSCLogin(discoveryURL: psc.discoveryURL, clientID: "editeur-sso",
                                                clientSecret: "secret-de-l-editeur-sso-de-test-2026", caPath: env.pki.caChainPath)
            let vendor = SandboxEditor(configuration: configuration, logger: TestDatabases.logger)
            psc.register(PSCClientRegistration(clientID: "editeur-sso", secret: "secret-de-l-editeur-sso-de-test-2026",
                                               redirectURIs: [vendor.pscRedirectURI]))
            var groupConfiguration = ServiceGroupConfiguration(services: try vendor.services().map { .init(service: $0) },
                                                               logger: TestDatabases.logger)
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(3)
            groupConfiguration.maximumCancellationDuration = .seconds(3)
            let group = ServiceGroup(configuration: groupConfiguration)
            let runner = Task { try await group.run() }
            defer {
                Task {
                    await group.triggerGracefulShutdown()
                    _ = try? await runner.value
                    await vendor.shutdown()
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while (vendor.port == nil || vendor.boundWebPort == nil) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }

            // Without origin=sas the page refuses; without a PSC session the vendor asks PSC, which shows its login page.
            let anonymous = TestBrowser(caPath: env.pki.caChainPath)
            defer { Task { try? await anonymous.shutdown() } }
            let booking = vendor.webOrigin + "/rdv/\(idnps.value)"
            #expect(try await anonymous.follow(booking).page.status == 403)
            let (askPSC, _) = try await anonymous.follow(booking + "?origin=sas")
            #expect(askPSC.status == 200)
            #expect(askPSC.body.contains("Choisissez la carte CPS"))

            // Logged into the platform through PSC, the same link lands on the booking page directly.
            let (_, answer) = try await Self.login(env)
            #expect(answer.status == 303)
            let (page, visited) = try await env.browser.follow(booking + "?origin=sas")
            #expect(page.status == 200)
            #expect(page.body.contains("Connecté·e en tant que régulateur SAS"))
            #expect(page.body.contains("Claire MARTIN"))
            #expect(visited.contains { $0.hasPrefix(psc.origin + "/auth?") }, "through PSC, which answered without a page")
            #expect(!visited.contains { $0.contains("/connexion?") }, "no vendor login form")
        }
    }
}

/// A valid practitioner IDNPS for sandbox rosters.
enum IDNPSFixture {
    static func practitioner() throws -> IDNPS { try IDNPS(parsing: "8" + RPPS.withCheckDigit("1000000042")) }
}
