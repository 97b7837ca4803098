import Directory
import Foundation
import Identity
import Storage
import Testing
@testable import Web

/// Registries of the console: LRM origins, SAS territories with their SAMU, and user management within each
/// manager's perimeter.
@Suite("Registries and user management")
struct RegistryTests {
    @Test("LRM origins and territories: validation, conflicts, switches, audit", arguments: TestDatabases.engines)
    func stores(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let origins = LRMOriginStore(database: db)
            _ = try await origins.add(code: "SAMU69-LRM", label: "SAMU 69 — logiciel X", territory: "69", actor: "admin")
            await #expect(throws: RegistryError.self) { _ = try await origins.add(code: "SAMU69-LRM", label: "bis", territory: nil, actor: "admin") }
            await #expect(throws: RegistryError.self) { _ = try await origins.add(code: "a b", label: "espace", territory: nil, actor: "admin") }
            await #expect(throws: RegistryError.self) { _ = try await origins.add(code: "X", label: "", territory: nil, actor: "admin") }
            await #expect(throws: RegistryError.self) { _ = try await origins.add(code: "Y", label: "Y", territory: "99", actor: "admin") }
            #expect(try await origins.active("SAMU69-LRM")?.territory == "69")
            _ = try await origins.update(code: "SAMU69-LRM", label: "SAMU 69", territory: "69", enabled: false, actor: "admin")
            #expect(try await origins.active("SAMU69-LRM") == nil, "a disabled origin is refused at once")
            #expect(try await origins.active("INCONNU") == nil)
            try await origins.remove("SAMU69-LRM", actor: "admin")
            #expect(try await origins.all().isEmpty)

            let territories = TerritoryStore(database: db, departments: try Departments.load())
            let accounts = AccountStore(database: db)
            try await accounts.create(email: "r1@test.sas", displayName: "R1", roles: [.regulator], territories: ["69"], passwordHash: nil, actor: "t")
            try await accounts.create(email: "m1@test.sas", displayName: "M1", roles: [.healthProfessional], territories: ["69"], passwordHash: nil, actor: "t")
            #expect(try await territories.all().count == 101)
            let rhone = try await territories.update("69", samuClientID: "fr.health.samu690", active: true, actor: "admin")
            #expect(rhone.samuClientID == "fr.health.samu690" && rhone.regulators == 1 && rhone.name == "Rhône")
            await #expect(throws: RegistryError.self) { _ = try await territories.update("38", samuClientID: "fr.health.samu690", active: true, actor: "admin") }
            await #expect(throws: RegistryError.self) { _ = try await territories.update("38", samuClientID: "samu38", active: true, actor: "admin") }
            await #expect(throws: RegistryError.self) { _ = try await territories.update("20", samuClientID: nil, active: true, actor: "admin") }
            _ = try await territories.update("69", samuClientID: "fr.health.samu691", active: false, actor: "admin")
            let again = try #require(try await territories.get("69"))
            #expect(again.samuClientID == "fr.health.samu691" && !again.active)
            let actions = try await AuditLog(db).recent().map(\.action)
            #expect(actions.filter { $0 == "territory.update" }.count == 2)
            #expect(actions.contains("lrm_origin.disable") && actions.contains("lrm_origin.remove"))
        }
    }

    @Test("the console: origins and territories for national administrators; users within each manager's perimeter, with e-mailed links")
    func console() async throws {
        try await IdentityEnvironment.with { env in
            let db = env.platform.app.database
            let accounts = AccountStore(database: db)
            let outsider = try await accounts.create(email: "paris@test.sas", displayName: "Régulateur Paris", roles: [.regulator],
                                                     territories: ["75"], passwordHash: nil, actor: "t")
            // National administrator: registries.
            let national = try await env.nationalAdministrator()
            let origins = try await national.request(env.base + "/admin/origines-lrm")
            #expect(origins.status == 200)
            let csrf = try #require(origins.hidden("_csrf"))
            #expect(try await national.request(env.base + "/admin/origines-lrm", method: .POST,
                                               form: ["_csrf": csrf, "code": "TEST-SAMU069", "libelle": "SAMU 69", "territoire": "69"]).status == 303)
            let refused = try await national.request(env.base + "/admin/origines-lrm", method: .POST,
                                                     form: ["_csrf": csrf, "code": "TEST-SAMU069", "libelle": "doublon"])
            #expect(refused.status == 409 && refused.body.contains("existe déjà"))
            #expect(try await national.request(env.base + "/admin/origines-lrm/TEST-SAMU069/etat", method: .POST,
                                               form: ["_csrf": csrf, "actif": "0"]).status == 303)
            #expect(try await LRMOriginStore(database: db).active("TEST-SAMU069") == nil)
            let territory = try await national.request(env.base + "/admin/territoires/69", method: .POST,
                                                       form: ["_csrf": csrf, "samu": "fr.health.samu690", "ouvert": "on"])
            #expect(territory.status == 303)
            let page = try await national.request(env.base + "/admin/territoires/69")
            #expect(page.body.contains("fr.health.samu690") && page.body.contains("regul@test.sas"))
            let bad = try await national.request(env.base + "/admin/territoires/69", method: .POST, form: ["_csrf": csrf, "samu": "samu69"])
            #expect(bad.status == 422 && bad.body.contains("fr.health.samuXXX"))
            let json = try await national.request(env.base + "/api/v1/admin/territories/69", headers: [("Accept", "application/json")])
            #expect(json.status == 200 && json.body.contains("\"samuClientID\":\"fr.health.samu690\""))
            // The national administrator sees every account, the outsider too.
            #expect(try await national.request(env.base + "/admin/utilisateurs").body.contains("paris@test.sas"))
            try await national.shutdown()

            // An administrator of territory 69: registries closed, users of 69 only.
            let admin = TestBrowser(caPath: nil)
            _ = try await env.login("admin@test.sas", browser: admin)
            #expect(try await admin.request(env.base + "/admin/territoires").status == 403)
            let list = try await admin.request(env.base + "/admin/utilisateurs")
            #expect(list.status == 200)
            #expect(list.body.contains("regul@test.sas") && !list.body.contains("paris@test.sas"))
            #expect(!list.body.contains("role_national_administrator"), "an administrator cannot grant national administration")
            #expect(try await admin.request(env.base + "/admin/utilisateurs/\(outsider.id)").status == 404)
            let token = try #require(list.hidden("_csrf"))
            let sentBefore = env.mailer.sent.withLockedValue { $0.count }
            let created = try await admin.request(env.base + "/admin/utilisateurs", method: .POST, form: [
                "_csrf": token, "email": "nouveau@test.sas", "nom": "Nouveau Régulateur", "role_regulator": "on", "territoires": "69",
            ])
            #expect(created.status == 303)
            try await env.mailer.waitFor(count: sentBefore + 1)
            let mail = env.mailer.sent.withLockedValue { $0.last }
            #expect(mail?.to == "nouveau@test.sas" && mail?.body.contains("/mot-de-passe/reinitialiser?jeton=") == true)
            let escalation = try await admin.request(env.base + "/admin/utilisateurs", method: .POST, form: [
                "_csrf": token, "email": "chef@test.sas", "nom": "Chef", "role_national_administrator": "on", "territoires": "69",
            ])
            #expect(escalation.status == 403)
            let elsewhere = try await admin.request(env.base + "/admin/utilisateurs", method: .POST, form: [
                "_csrf": token, "email": "ailleurs@test.sas", "nom": "Ailleurs", "role_regulator": "on", "territoires": "75",
            ])
            #expect(elsewhere.status == 403 && elsewhere.body.contains("75"))
            let fresh = try #require(try await accounts.find(email: "nouveau@test.sas"))
            #expect(fresh.roles == [.regulator] && fresh.territories == ["69"])
            #expect(try await admin.request(env.base + "/admin/utilisateurs/\(fresh.id)/desactiver", method: .POST,
                                            form: ["_csrf": token, "motif": "départ"]).status == 303)
            #expect(try await accounts.find(id: fresh.id)?.status == .disabled)
            #expect(try await admin.request(env.base + "/admin/utilisateurs/\(fresh.id)/reactiver", method: .POST,
                                            form: ["_csrf": token]).status == 303)
            #expect(try await admin.request(env.base + "/admin/utilisateurs/\(fresh.id)/roles", method: .POST,
                                            form: ["_csrf": token, "role_regulator": "on", "role_ioa": "on"]).status == 303)
            #expect(try await accounts.find(id: fresh.id)?.roles == [.regulator, .ioa])
            // Identity corrections: the form (French error on a taken address), perimeter, then the JSON API.
            let userPage = try await admin.request(env.base + "/admin/utilisateurs/\(fresh.id)")
            #expect(userPage.body.contains("form-identite") && userPage.body.contains("value=\"nouveau@test.sas\""))
            let corrected = try await admin.request(env.base + "/admin/utilisateurs/\(fresh.id)/identite", method: .POST, form: [
                "_csrf": token, "email": "Nouveau.Regulateur@test.sas", "nom": "Dr Nouveau Régulateur", "idnps": "810001045367",
            ])
            #expect(corrected.status == 303)
            let renamed = try #require(try await accounts.find(id: fresh.id))
            #expect(renamed.email == "nouveau.regulateur@test.sas" && renamed.displayName == "Dr Nouveau Régulateur")
            #expect(renamed.idnps == "810001045367" && renamed.roles == [.regulator, .ioa])
            let taken = try await admin.request(env.base + "/admin/utilisateurs/\(fresh.id)/identite", method: .POST, form: [
                "_csrf": token, "email": "regul@test.sas", "nom": "X",
            ])
            #expect(taken.status == 409 && taken.body.contains("existe déjà"))
            let noToken = try await admin.request(env.base + "/admin/utilisateurs/\(fresh.id)/identite", method: .POST, form: [
                "email": "sans-jeton@test.sas", "nom": "X",
            ])
            #expect(noToken.status == 403)
            #expect(try await admin.request(env.base + "/admin/utilisateurs/\(outsider.id)/identite", method: .POST, form: [
                "_csrf": token, "email": "pris@test.sas", "nom": "Pris",
            ]).status == 404)
            #expect(try await accounts.find(id: outsider.id)?.email == "paris@test.sas")
            let partial = try await admin.request(env.base + "/api/v1/admin/users/\(fresh.id)/identity", method: .PUT,
                                                  headers: [("X-CSRF-Token", token), ("Content-Type", "application/json")],
                                                  body: #"{"displayName": "Dr N. Régulateur", "idnps": null}"#)
            #expect(partial.status == 200, "\(partial.body)")
            let patched = try #require(try await accounts.find(id: fresh.id))
            #expect(patched.displayName == "Dr N. Régulateur" && patched.idnps == nil && patched.email == "nouveau.regulateur@test.sas")
            let malformed = try await admin.request(env.base + "/api/v1/admin/users/\(fresh.id)/identity", method: .PUT,
                                                    headers: [("X-CSRF-Token", token), ("Content-Type", "application/json")],
                                                    body: #"{"idnps": "8123"}"#)
            #expect(malformed.status == 422 && malformed.body.contains("IDNPS") && malformed.body.contains("longueur inattendue"),
                    "\(malformed.body)")
            let me = try #require(try await accounts.find(email: "admin@test.sas"))
            let selfDisable = try await admin.request(env.base + "/admin/utilisateurs/\(me.id)/desactiver", method: .POST,
                                                      form: ["_csrf": token, "motif": "essai"])
            #expect(selfDisable.status == 403)
            // The JSON API, same perimeter (CSRF header on changes).
            let api = try await admin.request(env.base + "/api/v1/admin/users", headers: [("Accept", "application/json")])
            #expect(api.status == 200 && api.body.contains("nouveau.regulateur@test.sas") && !api.body.contains("paris@test.sas"))
            #expect(!api.body.contains("password"))
            let reset = try await admin.request(env.base + "/api/v1/admin/users/\(fresh.id)/reset", method: .POST,
                                                headers: [("X-CSRF-Token", token)])
            #expect(reset.status == 202)
            let audit = try await AuditLog(db).recent(limit: 200).map(\.action)
            for action in ["account.create", "account.disable", "account.enable", "account.roles", "account.reset_link", "account.identity"] {
                #expect(audit.contains(action), "\(action)")
            }
            try await admin.shutdown()
        }
    }

    @Test("perimeter: a manager acts only on accounts whose territories are all his; a territory update keeps what it does not name")
    func perimeterAndPartialUpdates() throws {
        func account(_ roles: Set<Role>, _ territories: [String]) -> Account {
            Account(id: UUID().uuidString, email: "x@test.sas", displayName: "X", idnps: nil, mustChangePassword: false, status: .active,
                    statusReason: nil, roles: roles, territories: territories, failedAttempts: 0, lockedUntil: nil, lastLoginAt: nil,
                    createdAt: Date(), version: 1)
        }
        let admin69 = account([.administrator], ["69"])
        #expect(UserAdministration.manages(admin69, account([.regulator], ["69"])))
        #expect(!UserAdministration.manages(admin69, account([.regulator], ["69", "75"])), "reaches a territory that is not his")
        #expect(!UserAdministration.manages(admin69, account([.regulator], [])))
        #expect(!UserAdministration.manages(admin69, account([.nationalAdministrator], ["69"])))
        #expect(UserAdministration.manages(account([.nationalAdministrator], []), account([.regulator], ["69", "75"])))
        let manager = account([.accountManager], ["69"])
        #expect(!UserAdministration.manages(manager, account([.administrator], ["69"])))

        let decoder = JSONDecoder()
        let absent = try decoder.decode(RegistryRoutes.TerritoryBody.self, from: Data(#"{"active": false}"#.utf8))
        #expect(absent.samuClientID == nil && !absent.clearsSAMU && absent.active == false)
        let cleared = try decoder.decode(RegistryRoutes.TerritoryBody.self, from: Data(#"{"samuClientID": null}"#.utf8))
        #expect(cleared.clearsSAMU)
        let kept = try decoder.decode(RegistryRoutes.IdentityBody.self, from: Data(#"{"email": "a@test.sas"}"#.utf8))
        #expect(kept.email == "a@test.sas" && kept.displayName == nil && kept.idnps == nil && !kept.clearsIDNPS)
        #expect(try decoder.decode(RegistryRoutes.IdentityBody.self, from: Data(#"{"idnps": null}"#.utf8)).clearsIDNPS)
    }
}
