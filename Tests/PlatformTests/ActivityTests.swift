import Agenda
import Foundation
import Identity
import SASDomain
import Storage
import Testing
import Web

@Suite("Orientation lifecycle and activity figures")
struct ActivityTests {
    static func paris(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    @Test("Figures per day (Paris), territory, route, category, vendor and status; rates; territory filter; period checks",
          arguments: TestDatabases.engines)
    func storeFigures(dialect: SQLDialect) async throws {
        try await TestDatabases.withDatabase(dialect) { database, _ in
            let store = OrientationStore(database: database)
            let practitioner = "8" + RPPS.withCheckDigit("1000000099")
            // 23:30 UTC on 2 March is 00:30 on 3 March in Paris: counted on the 3rd.
            let late = Self.paris("2026-03-02T23:30:00Z")
            let day2 = Self.paris("2026-03-03T09:00:00Z")
            func orient(_ kind: Orientation.Kind, _ category: Orientation.Category, territory: String, vendor: String? = nil,
                        at date: Date) async throws -> Orientation {
                var request = OrientationRequest(kind: kind, practitionerIDNPS: practitioner, offerName: "Dr Effecteur",
                                                 vendor: vendor, slotStart: date.addingTimeInterval(3_600))
                request.category = category
                return try await store.orient(request, regulatorID: "regulateur-\(territory)", regulatorEmail: "r\(territory)@test",
                                              territory: territory, sourceAddress: nil, now: date)
            }
            let a = try await orient(.vendor, .ps, territory: "69", vendor: "agendaplus", at: late)
            _ = try await orient(.extra, .ps, territory: "69", at: day2)
            let c = try await orient(.extra, .cpts, territory: "75", at: day2)
            _ = try await store.changeStatus(id: c.id, to: .cancelled, regulatorID: "regulateur-75", actor: "r75@test", now: day2)
            // The vendor reports two appointments: one linked to the orientation, one unmatched (regulator's territory).
            for (id, status, orientation) in [("rdv-1", "noshow", a.id as String?), ("rdv-2", "fulfilled", nil)] {
                try await database.query("""
                    INSERT INTO appointments (id, editor_id, identifier_system, identifier_value, status, profile, operator_type,
                        operator_system, operator_value, regulator_id, practitioner_idnps, start_at, end_at, orientation_id,
                        created_at, updated_at)
                    VALUES (?, 'agendaplus', 'urn:test', ?, ?, 'individual', 'IDNPS', 'urn:oid:1.2.250.1.71.4.2.1', 'x',
                        'regulateur-69', ?, ?, ?, ?, ?, ?)
                    """, [.text(id), .text(id), .text(status), .text(practitioner), .date(day2), .date(day2.addingTimeInterval(900)),
                          .optional(orientation), .date(day2), .date(day2)])
            }
            let activity = ActivityStore(database: database)
            let from = try #require(ActivityStore.day("2026-03-02")), to = try #require(ActivityStore.day("2026-03-04"))
            let all = try await activity.report(from: from, to: to, territories: nil)
            #expect(all.orientationCount == 3)
            #expect(all.appointmentCount == 2)
            #expect(all.days == ["2026-03-02", "2026-03-03"])
            #expect(all.totals("orientation", by: \.day).map(\.key) == ["2026-03-03"])
            #expect(all.totals("orientation", by: \.route).map { "\($0.key)=\($0.count)" } == ["editeur=1", "en_sus=2"])
            #expect(all.totals("orientation", by: \.category).map { "\($0.key)=\($0.count)" } == ["CPTS=1", "PS=2"])
            #expect(all.totals("orientation", by: \.territory).map { "\($0.key)=\($0.count)" } == ["69=2", "75=1"])
            #expect(all.totals("rendez_vous", by: \.vendor).map { "\($0.key)=\($0.count)" } == ["agendaplus=2"])
            #expect(all.noShowRate == 0.5)
            #expect(all.appointmentCancellationRate == 0)
            #expect(abs((all.orientationCancellationRate ?? 0) - 1.0 / 3.0) < 1e-9)

            // A territorial view: 69 only (the unmatched appointment counts in its regulator's territory when known).
            let lyon = try await activity.report(from: from, to: to, territories: ["69"])
            #expect(lyon.orientationCount == 2)
            #expect(lyon.totals("orientation", by: \.territory).map(\.key) == ["69"])
            #expect(try await activity.report(from: from, to: to, territories: []).rows.isEmpty)

            await #expect(throws: ActivityError.self) { try await activity.report(from: to, to: from, territories: nil) }
            await #expect(throws: ActivityError.self) {
                try await activity.report(from: from, to: from.addingTimeInterval(100 * 86_400), territories: nil)
            }

            // History: created, then the person's cancellation, in order.
            let history = try await store.history(id: c.id)
            #expect(history.map(\.kind) == [.created, .status])
            #expect(history.map(\.status) == [.booked, .cancelled])
            #expect(history.map(\.sequence) == [1, 2])
        }
    }

    @Test("A regulator cancels his SAS-agenda booking (place given back, history kept), cannot rewrite a vendor's booking; figures for referents and administrators only")
    func lifecycleAndPages() async throws {
        try await RegulatorWorkspaceTests.with { env, _, _ in
            let database = env.platform.app.database
            try await env.login("regul@test.sas")
            let csrf = try await RegulatorWorkspaceTests.csrf(env, env.browser)
            let booked = try await RegulatorWorkspaceTests.post(env, env.browser, ["kind": "agenda", "slot": "range", "name": "x",
                                                                                   "categorie": "cpts"], csrf: csrf)
            #expect(booked.status == 201, "\(booked.body)")
            let id = try #require((try JSONSerialization.jsonObject(with: Data(booked.body.utf8)) as? [String: Any])?["id"] as? String)
            #expect(try await database.query("SELECT booked FROM agenda_slots WHERE id = 'range'").first?.int("booked") == 1)
            let stored = try #require(try await OrientationStore(database: database).find(id: id))
            #expect(stored.category == .cpts)
            #expect(stored.territory == "69")
            let badCategory = try await RegulatorWorkspaceTests.post(env, env.browser, ["kind": "agenda", "slot": "range", "name": "x",
                                                                                        "categorie": "hopital"], csrf: csrf)
            #expect(badCategory.status == 422)
            #expect(badCategory.body.contains("Catégorie d'orientation inconnue"))

            func status(_ orientation: String, _ value: String, version: Int? = nil, browser: TestBrowser? = nil,
                        token: String? = nil) async throws -> TestBrowser.Page {
                var fields = ["statut": value]
                if let version { fields["version"] = String(version) }
                return try await (browser ?? env.browser).request(
                    env.base + "/orientations/\(orientation)/statut", method: .POST,
                    headers: [("Content-Type", "application/json"), ("Accept", "application/json"), ("X-CSRF-Token", token ?? csrf)],
                    json: fields)
            }
            #expect(try await status(id, "annule", version: 99).status == 409)  // stale version
            let badVersion = try await env.browser.request(
                env.base + "/orientations/\(id)/statut", method: .POST,
                headers: [("Content-Type", "application/json"), ("Accept", "application/json"), ("X-CSRF-Token", csrf)],
                json: ["statut": "annule", "version": "deux"])
            #expect(badVersion.status == 422)
            #expect(badVersion.body.contains("Version invalide"))
            let cancelled = try await status(id, "annule", version: 1)
            #expect(cancelled.status == 200, "\(cancelled.body)")
            #expect(try await database.query("SELECT booked FROM agenda_slots WHERE id = 'range'").first?.int("booked") == 0)
            #expect(try await status(id, "annule").status == 200)  // already cancelled: unchanged
            let impossible = try await status(id, "honore")
            #expect(impossible.status == 422)
            #expect(impossible.body.contains("impossible"))
            #expect(try await status(id, "perdu").status == 422)
            let detail = try await env.browser.request(env.base + "/orientations/\(id)", headers: [("Accept", "application/json")])
            let history = (try JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any])?["history"] as? [[String: Any]]
            #expect(history?.compactMap { $0["status"] as? String } == ["confirme", "annule"])

            // Another regulator sees nothing of it.
            let other = TestBrowser(caPath: nil)
            defer { Task { try? await other.shutdown() } }
            _ = try await env.login("regul2@test.sas", browser: other)
            let otherCSRF = try await RegulatorWorkspaceTests.csrf(env, other)
            #expect(try await other.request(env.base + "/orientations/\(id)").status == 404)
            #expect(try await status(id, "annule", browser: other, token: otherCSRF).status == 404)

            // A vendor booking confirmed by the vendor follows the vendor: the regulator cannot rewrite it here.
            let vendor = try await OrientationStore(database: database).orient(
                OrientationRequest(kind: .vendor, offerName: "Dr Effecteur", vendor: "agendaplus", slotStart: Date().addingTimeInterval(3_600)),
                regulatorID: try #require(try await env.platform.app.identity.accounts.find(email: "regul@test.sas")).id,
                regulatorEmail: "regul@test.sas", territory: "69", sourceAddress: nil)
            try await database.query("UPDATE orientations SET status = 'confirme' WHERE id = ?", [.text(vendor.id)])
            let refused = try await status(vendor.id, "annule")
            #expect(refused.status == 422)
            #expect(refused.body.contains("modifiez-le sur sa page"))

            // The list offers "Annuler" through a form (no script needed).
            let list = try await env.browser.request(env.base + "/orientations")
            #expect(list.body.contains("/orientations/\(vendor.id)") == false)
            #expect(list.body.contains("CPTS"))

            // Figures: refused to regulators, shown to the territory's administrator, exported as CSV.
            #expect(try await env.browser.request(env.base + "/activite").status == 403)
            let admin = TestBrowser(caPath: nil)
            defer { Task { try? await admin.shutdown() } }
            _ = try await env.login("admin@test.sas", browser: admin)
            let page = try await admin.request(env.base + "/activite")
            #expect(page.status == 200)
            #expect(page.body.contains("<svg"))
            #expect(page.body.contains("graphe-orientations"))
            #expect(page.body.contains("data-chiffre=\"orientations\">2<"))
            let json = try await admin.request(env.base + "/activite", headers: [("Accept", "application/json")])
            let report = try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any]
            #expect((report?["rows"] as? [[String: Any]])?.count == 2)
            let csv = try await admin.request(env.base + "/activite.csv")
            #expect(csv.status == 200)
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
            #expect(csv.header("Content-Disposition")?.contains("attachment") == true)
            let lines = csv.body.split(separator: "\r\n").map(String.init)
            #expect(lines.first?.hasSuffix("source;jour;territoire;parcours;categorie;editeur;statut;nombre") == true)
            #expect(lines.contains { $0.hasPrefix("orientation;") && $0.contains(";69;agenda;CPTS;;annule;1") })
            #expect(try await admin.request(env.base + "/activite?territoire=75").status == 403)
            let badTerritory = try await admin.request(env.base + "/activite?territoire=%3Cscript%3E")
            #expect(badTerritory.status == 422)
            #expect(badTerritory.body.contains("Territoire invalide"))
            #expect(!badTerritory.body.contains("<script>"))
            let badDate = try await admin.request(env.base + "/activite?du=2026-13-45")
            #expect(badDate.status == 422)
            #expect(badDate.body.contains("Date invalide"))
            #expect(try await admin.request(env.base + "/activite?du=2026-01-01&au=2026-06-30").status == 422)
            let audit = try await AuditLog(database).recent(limit: 50).map(\.action)
            #expect(audit.contains("activity.export"))
            #expect(audit.contains("orientation.status"))
        }
    }
}
