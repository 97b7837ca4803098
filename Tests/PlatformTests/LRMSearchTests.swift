import Foundation
import Storage
import Testing
import Web

/// INT_L01: the LRM opens the platform's search pre-filled; every parameter it cannot use is said on the page.
@Suite("Contextual search from the LRM (INT_L01)")
struct LRMSearchTests {
    static func url(_ base: String, _ items: [(String, String)]) -> String {
        var components = URLComponents(string: base + "/sas/recherche")!
        components.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
        // As URLSearchParams does: `|` and `:` percent-encoded.
        return components.url!.absoluteString.replacingOccurrences(of: "|", with: "%7C")
    }

    @Test("origin checked, médecin traitant and specialty read, address rebuilt; refusals explained; login keeps the URL")
    func contextualSearch() async throws {
        try await IdentityEnvironment.with { env in
            _ = try await LRMOriginStore(database: env.platform.app.database)
                .add(code: "TEST-SAMU069", label: "SAMU 69 — LRM de test", territory: "69", actor: "test")
            let full = Self.url(env.base, [
                ("origin", "TEST-SAMU069"), ("practitioner", "urn:oid:1.2.250.1.71.4.2.1|810101215225"),
                ("specialty", "urn:oid:1.2.250.1.213.2.28|SM54"), ("streetnumber", "20"),
                ("streetname", "rue de la République"), ("city", "Lyon"), ("inseecode", "69382"),
            ])
            // Not logged in: to the login, then back to the same search.
            let anonymous = TestBrowser(caPath: nil)
            let redirected = try await anonymous.request(full)
            #expect(redirected.status == 303)
            let login = try #require(redirected.location)
            #expect(login.contains("/connexion?retour=/sas/recherche%3Forigin%3DTEST-SAMU069"))
            let form = try await anonymous.request(login)
            let back = try await anonymous.request(env.base + "/connexion", method: .POST, form: [
                "_csrf": try #require(form.hidden("_csrf")), "email": "regul@test.sas", "password": env.passwords["regul@test.sas"]!,
                "retour": try #require(form.hidden("retour")),
            ])
            #expect(back.location?.contains("/sas/recherche?origin=TEST-SAMU069") == true, "\(back.location ?? "")")
            let page = try await anonymous.request(try #require(back.location))
            #expect(page.status == 200)
            #expect(page.body.contains("id=\"bandeau-lrm\" data-origine=\"TEST-SAMU069\""))
            #expect(page.body.contains("SAMU 69 — LRM de test"))
            #expect(page.body.contains("name=\"what\" value=\"SM54\""))
            #expect(page.body.contains("name=\"medecin_traitant\" value=\"810101215225\""))
            #expect(page.body.contains("name=\"where\" value=\"20 rue de la République, Lyon"), "the address is rebuilt")
            #expect(!page.body.contains("data-avis="), "nothing to report")
            try await anonymous.shutdown()

            let browser = env.browser
            _ = try await env.login("regul@test.sas")
            // Unknown or disabled origin: the live platform's message, and nothing searched.
            let unknown = try await browser.request(Self.url(env.base, [("origin", "INCONNU"), ("city", "Lyon")]))
            #expect(unknown.status == 403 && unknown.body.contains("est désactivé pour des raisons techniques"))
            _ = try await LRMOriginStore(database: env.platform.app.database)
                .update(code: "TEST-SAMU069", label: "SAMU 69", territory: "69", enabled: false, actor: "test")
            #expect(try await browser.request(Self.url(env.base, [("origin", "TEST-SAMU069"), ("city", "Lyon")])).status == 403)
            _ = try await LRMOriginStore(database: env.platform.app.database)
                .update(code: "TEST-SAMU069", label: "SAMU 69", territory: "69", enabled: true, actor: "test")

            // What cannot be used is said; the search still opens with the rest.
            let partial = try await browser.request(Self.url(env.base, [
                ("origin", "TEST-SAMU069"), ("practitioner", "urn:oid:1.2.250.1.71.4.2.1|1234"),
                ("specialty", "urn:oid:1.2.250.1.213.2.28|SM999"), ("inseecode", "69383"),
            ]))
            #expect(partial.status == 200)
            #expect(partial.body.contains("data-avis=\"medecin_traitant_format\""))
            #expect(partial.body.contains("data-avis=\"specialite_inconnue\""))
            #expect(partial.body.contains("name=\"what\" value=\"SM54\""), "general practice by default")
            let other = try await browser.request(Self.url(env.base, [
                ("origin", "TEST-SAMU069"), ("specialty", "urn:oid:1.2.250.1.71.1.2.7|40"), ("practitioner", "Dr Martin"), ("city", "Lyon"),
            ]))
            #expect(other.body.contains("data-avis=\"specialite_non_reconnue\""))
            #expect(other.body.contains("name=\"medecin_traitant\" value=\"Dr Martin\""))
            let text = try await browser.request(Self.url(env.base, [("origin", "TEST-SAMU069"), ("specialty", "pédiatre"), ("city", "Lyon")]))
            #expect(text.body.contains("name=\"what\" value=\"pédiatre\""))
            #expect(text.body.contains("data-avis=\"medecin_traitant_absent\""))

            // Addresses the platform cannot place are refused with the reason, never searched elsewhere.
            let numberOnly = try await browser.request(Self.url(env.base, [("origin", "TEST-SAMU069"), ("streetnumber", "12"), ("city", "Lyon")]))
            #expect(numberOnly.status == 422 && numberOnly.body.contains("sans nom de rue"))
            let departmentOnly = try await browser.request(Self.url(env.base, [("origin", "TEST-SAMU069"), ("inseecode", "38185")]))
            #expect(departmentOnly.status == 422 && departmentOnly.body.contains("ne désigne que le département 38"))
            let nowhere = try await browser.request(Self.url(env.base, [("origin", "TEST-SAMU069"), ("city", "Zzyzxville")]))
            #expect(nowhere.status == 422 && nowhere.body.contains("introuvable"))
            let nothing = try await browser.request(Self.url(env.base, [("origin", "TEST-SAMU069")]))
            #expect(nothing.status == 422 && nothing.body.contains("ni commune ni code INSEE"))

            let audit = try await AuditLog(env.platform.app.database).recent(limit: 50).filter { $0.action == "lrm.search" }
            #expect(audit.count >= 9)
            #expect(audit.allSatisfy { !($0.detail ?? "").contains("République") }, "no address in the audit trail")
        }
    }
}
