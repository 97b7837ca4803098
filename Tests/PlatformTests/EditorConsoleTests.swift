import Aggregator
import Foundation
import Sandbox
import Storage
import Testing
import Web

/// The operator console for vendors: registration, onboarding states, suspension on every node's registry,
/// conformance inputs and a check run from the console against a sandbox vendor over real mTLS.
@Suite("Vendor console")
struct EditorConsoleTests {
    @Test("register, move through onboarding, suspend and reactivate, then run the conformance check from the console")
    func consoleFlow() async throws {
        let fleet = try await SandboxFleet.start([("agendaplus", "good", SandboxRoster())], prepare: { pki, ca in
            try pki.issue("wrong-cn", with: ca, profile: .client, commonName: "intrus.localhost", organizationalUnit: "PLATEFORME SAS")
            try pki.issue("wrong-ou", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "AUTRE SERVICE")
            try pki.issue("revoked", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS")
            _ = try pki.revoke("revoked")
        })
        let pki = fleet.pki
        let settings = [
            "editors.client_certificate": pki.certificatePath("platform"), "editors.client_key": pki.keyPath("platform"),
            "editors.ca": pki.caChainPath,
            "conformance.wrong_cn_certificate": pki.certificatePath("wrong-cn"), "conformance.wrong_cn_key": pki.keyPath("wrong-cn"),
            "conformance.wrong_ou_certificate": pki.certificatePath("wrong-ou"), "conformance.wrong_ou_key": pki.keyPath("wrong-ou"),
            "conformance.revoked_certificate": pki.certificatePath("revoked"), "conformance.revoked_key": pki.keyPath("revoked"),
        ]
        var failure: (any Error)?
        do {
            try await IdentityEnvironment.with(settings: settings) { env in
                let base = env.base + "/admin/editeurs"
                // National administrators only.
                let admin = TestBrowser(caPath: nil)
                _ = try await env.login("admin@test.sas", browser: admin)
                #expect(try await admin.request(base).status == 403)
                try await admin.shutdown()
                let browser = try await env.nationalAdministrator()
                let list = try await browser.request(base)
                #expect(list.status == 200)
                let csrf = try #require(list.hidden("_csrf"))

                // Registration without the CSRF token is refused; with it, the vendor starts at "premier contact".
                let vendorURL = fleet["agendaplus"].fhirBaseURL
                var form = ["id": "agendaplus", "nom": "AgendaPlus", "environnement": "recette", "url": vendorURL,
                            "flux_r02": "on", "etat": "contact"]
                #expect(try await browser.request(base, method: .POST, form: form).status == 403)
                form["_csrf"] = csrf
                let created = try await browser.request(base, method: .POST, form: form)
                #expect(created.status == 303)
                #expect(created.location?.contains("/admin/editeurs/agendaplus?message=") == true)
                let store = EditorStore(database: env.platform.app.database)
                #expect(try await store.get("agendaplus").onboardingState == .contact)
                var bad = form
                bad["id"] = "autre"
                bad["url"] = "http://pas-https.example"
                let refused = try await browser.request(base, method: .POST, form: bad)
                #expect(refused.status == 422)
                #expect(refused.body.contains("URL de base"))

                // Onboarding steps with notes, in the history.
                let step = try await browser.request(base + "/agendaplus/etat", method: .POST,
                                                     form: ["_csrf": csrf, "etat": "recette", "note": "Kit passé en recette ANS"])
                #expect(step.status == 303)
                var detail = try await browser.request(base + "/agendaplus")
                #expect(detail.body.contains("Kit passé en recette ANS"))
                #expect(detail.body.contains("data-etat=\"recette\""))

                // Suspension: out of every node's registry at the next refresh (this node at once), reactivation
                // back to the step it had.
                #expect(env.platform.app.aggregator.editors.map(\.id) == ["agendaplus"])
                let suspended = try await browser.request(base + "/agendaplus/suspendre", method: .POST,
                                                          form: ["_csrf": csrf, "note": "Incident de production"])
                #expect(suspended.status == 303)
                #expect(env.platform.app.aggregator.editors.isEmpty)
                #expect(try await store.get("agendaplus").enabled == false)
                detail = try await browser.request(base + "/agendaplus")
                #expect(detail.body.contains("Éditeur suspendu"))
                #expect(try await browser.request(base + "/agendaplus/reactiver", method: .POST, form: ["_csrf": csrf]).status == 303)
                let back = try await store.get("agendaplus")
                #expect(back.enabled && back.onboardingState == .recette)
                #expect(env.platform.app.aggregator.editors.map(\.id) == ["agendaplus"])
                let history = try await store.history("agendaplus").map(\.state)
                #expect(history == [.recette, .suspendu, .recette, .contact])

                // Kit inputs: refused when invalid (French), kept when valid.
                let wrong = try await browser.request(base + "/agendaplus/conformite/entrees", method: .POST,
                                                      form: ["_csrf": csrf, "rpps": "123", "rpps2": "", "rpps3": "", "rpps4": "",
                                                             "types_creneaux": "PUBLIC", "types_consultation": "AMB"])
                #expect(wrong.status == 422)
                #expect(wrong.body.contains("RPPS 1"))

                // The check, from the console: security and regulator accounts (the vendor's flows), in the background.
                let started = try await browser.request(base + "/agendaplus/conformite", method: .POST, form: ["_csrf": csrf])
                #expect(started.status == 303)
                let runPath = try #require(started.location)
                let runID = String(runPath.split(separator: "/").last ?? "")
                await env.platform.app.conformanceRuns.wait(runID)
                let report = try await browser.request(runPath)
                #expect(report.status == 200)
                #expect(report.body.contains("data-verdict=\"conforme\""), "\(report.body.prefix(3000))")
                #expect(report.body.contains("1.1.02"))
                #expect(report.body.contains("5.16"))
                let json = try await browser.request(runPath, headers: [("Accept", "application/json")])
                let object = try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any]
                let results = object?["results"] as? [[String: Any]] ?? []
                #expect(results.filter { $0["verdict"] as? String == "conforme" }.count == 23)
                #expect(results.allSatisfy { $0["verdict"] as? String != "non_conforme" })
                detail = try await browser.request(base + "/agendaplus")
                #expect(detail.body.contains("data-verdict=\"conforme\""))
                let audit = try await env.platform.app.database.query(
                    "SELECT action FROM audit_log WHERE target = 'agendaplus' ORDER BY occurred_at")
                let actions = try audit.map { try $0.string("action") }
                for action in ["editor.add", "editor.state", "editor.suspend", "editor.reactivate", "editor.conformance_start", "editor.conformance"] {
                    #expect(actions.contains(action), "\(action) in \(actions)")
                }
                try await browser.shutdown()
            }
        } catch { failure = error }
        try? await fleet.stop()
        if let failure { throw failure }
    }
}
