import Agenda
import Aggregator
import Directory
import Foundation
import Identity
import SASDomain
import Search
import Storage
import Testing
import Web

@Suite("Regulator's workspace: search page, orientations, SAS-agenda bookings")
struct RegulatorWorkspaceTests {
    /// The identity environment plus the fixed Lyon directory and SAS-agenda slots for practitioner C.
    static func with(_ body: (IdentityEnvironment, SearchFixture, [AgendaSlot]) async throws -> Void) async throws {
        try await IdentityEnvironment.with { env in
            let database = env.platform.app.database
            let fixture = try await SearchFixture.seed(database)
            let start = Date().addingTimeInterval(3 * 3_600)
            let slots = [
                AgendaSlot(id: "single", practitioner: fixture.ids["C"]!, siteID: nil, start: start,
                           end: start.addingTimeInterval(900), consultationTypes: [.ambulatory], kinds: [.snp], capacity: 1, booked: 0),
                AgendaSlot(id: "range", practitioner: fixture.ids["C"]!, siteID: nil, start: start.addingTimeInterval(3_600),
                           end: start.addingTimeInterval(7_200), consultationTypes: [.ambulatory], kinds: [.snp], capacity: 3, booked: 0),
            ]
            try await StoredAgenda.insert(slots, on: database)
            try await database.transaction { try await DirectoryStore.bumpVersion(on: $0) }
            try await env.platform.app.directory.refreshIfNeeded()
            try await EditorStore(database: database).add(
                Editor(id: "agendaplus", name: "AgendaPlus", baseURL: "https://agendaplus.example/fhir", flows: [.r01]), actor: "test")
            try await body(env, fixture, slots)
        }
    }

    static func post(_ env: IdentityEnvironment, _ browser: TestBrowser, _ fields: [String: String], csrf: String?) async throws -> TestBrowser.Page {
        var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let csrf { headers.append(("X-CSRF-Token", csrf)) }
        var request = try await browser.request(env.base + "/orientations", method: .POST, headers: headers, json: fields)
        request.body = request.body.trimmingCharacters(in: .whitespacesAndNewlines)
        return request
    }

    static func csrf(_ env: IdentityEnvironment, _ browser: TestBrowser) async throws -> String {
        let me = try await browser.request(env.base + "/api/v1/me")
        let object = try JSONSerialization.jsonObject(with: Data(me.body.utf8)) as? [String: Any]
        return try #require(object?["csrf_token"] as? String)
    }

    @Test("Search page: the form for regulators, results rendered on the server without JavaScript, refused to other roles")
    func searchPage() async throws {
        try await Self.with { env, _, _ in
            let anonymous = try await env.browser.request(env.base + "/recherche")
            #expect(anonymous.status == 303 && anonymous.location?.contains("/connexion?retour=/recherche") == true)
            try await env.login("regul@test.sas")
            let empty = try await env.browser.request(env.base + "/recherche")
            #expect(empty.status == 200)
            #expect(empty.body.contains("id=\"form-recherche\""))
            #expect(empty.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            let page = try await env.browser.request(env.base + "/recherche?what=m%C3%A9decin%20g%C3%A9n%C3%A9raliste&where=Lyon%203e&page_size=20")
            #expect(page.status == 200)
            #expect(page.body.contains("Dr Test Chevalier") || page.body.contains("Chevalier"), "\(page.body.suffix(3000))")
            #expect(page.body.contains("Pourquoi ce rang"))
            #expect(page.body.contains("name=\"kind\" value=\"agenda\""), "SAS-agenda slots are bookable without JavaScript")
            let bad = try await env.browser.request(env.base + "/recherche?what=zzzzqqq&where=Lyon")
            #expect(bad.body.contains("class=\"alerte\""))
            #expect(try await env.browser.request(env.base + "/static/recherche.js").status == 200)
            #expect(try await env.browser.request(env.base + "/static/..%2FPackage.swift").status == 404)

            let doctor = TestBrowser(caPath: nil)
            defer { Task { try? await doctor.shutdown() } }
            try await env.login("medecin@test.sas", browser: doctor)
            #expect(try await doctor.request(env.base + "/recherche").status == 403)
            #expect(try await doctor.request(env.base + "/orientations").status == 403)
        }
    }

    @Test("SAS-agenda booking: CSRF required, places taken atomically under concurrency, 'complet' when full, listed in Mes orientations")
    func agendaBooking() async throws {
        try await Self.with { env, fixture, _ in
            try await env.login("regul@test.sas")
            let csrf = try await Self.csrf(env, env.browser)
            let single = ["kind": "agenda", "slot": "single", "name": "Dr Chevalier"]
            #expect(try await Self.post(env, env.browser, single, csrf: nil).status == 403)
            #expect(try await Self.post(env, env.browser, single, csrf: "faux").status == 403)
            let booked = try await Self.post(env, env.browser, single, csrf: csrf)
            #expect(booked.status == 201, "\(booked.body)")
            #expect(booked.body.contains("agenda SAS"))
            let full = try await Self.post(env, env.browser, single, csrf: csrf)
            #expect(full.status == 409)
            #expect(full.body.contains("complet"))

            // Ten regulators' clicks on a range of three places: exactly three bookings.
            let range = ["kind": "agenda", "slot": "range", "name": "Dr Chevalier"]
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 { group.addTask { try await Self.post(env, env.browser, range, csrf: csrf).status } }
                var all: [Int] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == 201 }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == 409 }.count == 7)
            let row = try await env.platform.app.database.query("SELECT booked, capacity FROM agenda_slots WHERE id = 'range'")
            #expect(try row.first?.int("booked") == 3)
            #expect(try await Self.post(env, env.browser, ["kind": "agenda", "slot": "inconnu", "name": "x"], csrf: csrf).status == 404)

            let list = try await env.browser.request(env.base + "/orientations")
            #expect(list.status == 200)
            #expect(list.body.components(separatedBy: "data-orientation=").count - 1 == 4)
            #expect(list.body.contains("Rendez-vous pris"))
            let stored = try await OrientationStore(database: env.platform.app.database)
                .list(regulatorID: try #require(try await env.platform.app.identity.accounts.find(email: "regul@test.sas")).id,
                      since: Date().addingTimeInterval(-3_600))
            #expect(stored.allSatisfy { $0.practitionerIDNPS == fixture.ids["C"]!.value && $0.kind == .agenda })
            let audit = try await env.platform.app.database.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'orientation.create'")
            #expect(try audit.first?.int("n") == 4)
        }
    }

    @Test("Vendor slot: only to a registered vendor's HTTPS site, origin=sas added; en sus: the phone; bad input explained")
    func vendorAndExtra() async throws {
        try await Self.with { env, fixture, _ in
            try await env.login("regul@test.sas")
            let csrf = try await Self.csrf(env, env.browser)
            let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(7_200))
            var vendor = ["kind": "editeur", "source": "agendaplus", "name": "Dr Arnaud", "idnps": fixture.ids["A"]!.value,
                          "start": start, "url": "https://agendaplus.example/rdv/\(fixture.ids["A"]!.value)?creneau=1&origin=autre"]
            let ok = try await Self.post(env, env.browser, vendor, csrf: csrf)
            #expect(ok.status == 201, "\(ok.body)")
            #expect(ok.body.contains("\"redirect\":\"https:\\/\\/agendaplus.example\\/rdv\\/\(fixture.ids["A"]!.value)?creneau=1&origin=sas\""), "\(ok.body)")
            vendor["url"] = "https://agendaplus.example/rdv/x?sig=a%2Bb%3D&origin=autre"
            let signed = try await Self.post(env, env.browser, vendor, csrf: csrf)
            #expect(signed.body.contains("sig=a%2Bb%3D&origin=sas"), "the vendor's own encoding is kept: \(signed.body)")
            vendor["url"] = "https://attaquant.example/rdv"
            let foreign = try await Self.post(env, env.browser, vendor, csrf: csrf)
            #expect(foreign.status == 422)
            #expect(foreign.body.contains("Adresse de réservation refusée"))
            vendor["url"] = "http://agendaplus.example/rdv"
            #expect(try await Self.post(env, env.browser, vendor, csrf: csrf).status == 422)
            vendor["source"] = "inconnu"
            #expect(try await Self.post(env, env.browser, vendor, csrf: csrf).body.contains("Éditeur inconnu"))
            #expect(try await Self.post(env, env.browser, ["kind": "autre", "name": "x"], csrf: csrf).status == 422)
            #expect(try await Self.post(env, env.browser, ["kind": "en_sus", "name": "Dr X", "idnps": "123"], csrf: csrf).status == 422)

            let extra = try await Self.post(env, env.browser, ["kind": "en_sus", "name": "Dr Bernard", "idnps": fixture.ids["B"]!.value,
                                                               "phone": "0478000002"], csrf: csrf)
            #expect(extra.status == 201)
            #expect(extra.body.contains("0478000002"))
            let list = try await env.browser.request(env.base + "/orientations")
            #expect(list.body.contains("En sus des disponibilités"))
            #expect(list.body.contains("Créneau éditeur (agendaplus)"))
            #expect(list.body.contains("En cours"))
        }
    }
}
