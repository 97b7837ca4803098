import AsyncHTTPClient
import Aggregator
import Directory
import Foundation
import NIOCore
import SASDomain
import Sandbox
import Search
import Storage
import Testing
import Web

@Suite("Search API over HTTP, slots from sandbox vendors over mTLS")
struct SearchAPITests {
    /// A platform using the fleet's client identity, with the fixture directory and two sandbox vendors: one that
    /// answers at once (A, B, G, J, P) and one that hangs (C's vendor).
    func withPlatform(settings: [String: String] = [:],
                      _ body: (RunningPlatform, SearchFixture, SandboxFleet, String) async throws -> Void) async throws {
        let fresh = try await TestDatabases.freshURL(.sqlite)
        let seedDB = try await openDatabase(url: fresh.url, logger: TestDatabases.logger)
        try await Migrator(logger: TestDatabases.logger).migrate(seedDB)
        let fixture = try await SearchFixture.seed(seedDB)
        try await seedDB.close()
        // Regular agendas (hourly, every day): the random ones leave a practitioner without any free slot on both
        // D+1 and D+2 on ~7 % of dates, and then, late in the day, without a card (a date-dependent failure).
        func roster(_ keys: [String]) -> SandboxRoster {
            SandboxRoster(practitioners: keys.map { key in
                var practitioner = SandboxRoster.Practitioner(
                    idnps: fixture.ids[key]!, familyName: key, givenName: "Test", specialties: ["SM54"],
                    sites: [.init(line: "1 rue du Test", postalCode: "69003", city: "Lyon",
                                  latitude: fixture.centre.latitude, longitude: fixture.centre.longitude)])
                practitioner.regularAgenda = true
                return practitioner
            })
        }
        let fleet = try await SandboxFleet.start([("agendaplus", "instant", roster(["A", "B", "G", "J", "P"])),
                                                 ("rdvlent", "hang", roster(["C"])), ("vide", "instant", roster([]))])
        let identity = fleet.platformIdentity
        let platform = try await RunningPlatform.start(databaseURL: fresh.url, settings: [
            "editors.client_certificate": identity.certificatePath, "editors.client_key": identity.keyPath,
            "editors.ca": identity.caPath,
            // Generous: the whole suite runs in parallel on 2 cores; the hung vendor still times out.
            "aggregator.deadline_ms": "4000",
        ].merging(settings) { _, new in new })
        do {
            let store = EditorStore(database: platform.app.database)
            for editor in fleet.registry(flows: [.r01, .sos]) { try await store.add(editor, actor: "test") }
            try await DirectoryStore.upsert([VendorLink(practitioner: fixture.ids["C"]!, vendorID: "rdvlent")], on: platform.app.database)
            try await platform.app.database.transaction { try await DirectoryStore.bumpVersion(on: $0) }
            try await platform.app.editorRegistryService.refresh()
            try await platform.app.directory.refreshIfNeeded()
            let (_, secret) = try await platform.app.apiTokens.create(name: "lrm-test", scopes: [APIScope.search], actor: "test")
            try await body(platform, fixture, fleet, secret)
        } catch {
            try? await platform.stop()
            try? await fleet.stop()
            await fresh.cleanup()
            throw error
        }
        try await platform.stop()
        try await fleet.stop()
        await fresh.cleanup()
    }

    static func query(_ items: [String: String]) -> String {
        var components = URLComponents()
        components.queryItems = items.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return components.percentEncodedQuery ?? ""
    }

    @Test("JSON search: vendor slots over mTLS, per-source status, token required, French 422s")
    func jsonSearch() async throws {
        try await withPlatform { platform, fixture, fleet, secret in
            let client = HTTPClient.shared
            let auth = [("Authorization", "Bearer \(secret)")]
            let url = "\(platform.baseURL)/api/v1/search?" + Self.query(["what": "médecin généraliste", "where": "Lyon 3e", "page_size": "20"])

            let anonymous = try await client.fetch(url)
            #expect(anonymous.status == 401)
            #expect(anonymous.body.contains("jeton"))
            let forged = try await client.fetch(url, headers: [("Authorization", "Bearer sas_forged")])
            #expect(forged.status == 401)

            let ok = try await client.fetch(url, headers: auth)
            #expect(ok.status == 200)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let response = try decoder.decode(SearchResponse.self, from: Data(ok.body.utf8))
            let keys = response.results.map(fixture.key)
            // Vendor agendas are the sandbox's own: every vendor practitioner with slots is listed before D (no slot).
            #expect(keys.last == "D")
            #expect(keys.contains("B") && keys.contains("A"))
            #expect(response.results.filter { $0.kind == .practitioner && $0.firstSlot != nil }.allSatisfy {
                $0.slots.allSatisfy { $0.source == "agendaplus" || $0.source == "sas" }
            })
            let bySource = Dictionary(uniqueKeysWithValues: response.sources.map { ($0.source, $0) })
            #expect(bySource["agendaplus"]?.status == "ok", "\(response.sources.map { $0.technicalDetail ?? "-" })")
            #expect(bySource["rdvlent"]?.status == "timeout")
            #expect(bySource["rdvlent"]?.message.contains("n'a pas répondu à temps") == true)
            #expect(bySource["rdvlent"]?.message.hasSuffix("— 1 praticien sans créneaux affichés") == true, "\(bySource["rdvlent"]?.message ?? "")")
            #expect(bySource["sas"]?.status == "ok")
            #expect(response.complete == false)
            // The hung vendor's practitioner still shows his SAS-agenda slot.
            #expect(response.results.first { fixture.key($0) == "C" }?.slots.first?.source == "sas")
            #expect(fleet["agendaplus"].requestCount("Slot") >= 1)

            let unknown = try await client.fetch("\(platform.baseURL)/api/v1/search?" + Self.query(["where": "Qwxzv Trplk"]), headers: auth)
            #expect(unknown.status == 422)
            #expect(unknown.body.contains("\"error\":\"unknown_place\""))
            #expect(unknown.body.contains("Localisation introuvable"))
            let long = try await client.fetch("\(platform.baseURL)/api/v1/search?" + Self.query(
                ["where": "Lyon", "from": "2099-01-01", "to": "2099-01-20"]), headers: auth)
            #expect(long.status == 422)
            #expect(long.body.contains("7 jours"))
            let badType = try await client.fetch("\(platform.baseURL)/api/v1/search?" + Self.query(["where": "Lyon", "type": "XYZ"]), headers: auth)
            #expect(badType.status == 422)
            #expect(badType.body.contains("invalid_parameter"))

            // A revoked token is refused at once on this node.
            let tokens = try await platform.app.apiTokens.all()
            try await platform.app.apiTokens.revoke(id: tokens[0].id, actor: "test")
            let revoked = try await client.fetch(url, headers: auth)
            #expect(revoked.status == 401)
            let audit = try await platform.app.database.query("SELECT action FROM audit_log WHERE action LIKE 'api_token.%' ORDER BY id")
            #expect(audit.compactMap { $0.optionalString("action") } == ["api_token.create", "api_token.revoke"])
        }
    }

    @Test("SSE stream: query, directory, slots as they arrive, ring, then final with statuses")
    func streamedSearch() async throws {
        try await withPlatform { platform, _, _, secret in
            let client = HTTPClient.shared
            let url = "\(platform.baseURL)/api/v1/search/stream?" + Self.query(["what": "généraliste", "where": "Lyon 3e"])
            let response = try await client.fetch(url, headers: [("Authorization", "Bearer \(secret)")])
            #expect(response.status == 200)
            #expect(response.header("content-type")?.hasPrefix("text/event-stream") == true)
            let names = response.body.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(names.first == "query")
            #expect(names.dropFirst().first == "directory")
            #expect(names.last == "final")
            #expect(names.contains("slots"))
            #expect(names.contains("ring"))
            let finalData = try #require(response.body.components(separatedBy: "event: final\ndata: ").last)
            #expect(finalData.contains("\"status\":\"timeout\""))
            let unknown = try await client.fetch("\(platform.baseURL)/api/v1/search/stream?where=Qwxzv", headers: [("Authorization", "Bearer \(secret)")])
            #expect(unknown.body.hasPrefix("event: error"))
        }
    }

    @Test("a practitioner without known vendor is asked to every vendor once, again after a registry change")
    func probing() async throws {
        try await withPlatform(settings: ["aggregator.cache_seconds": "0"]) { platform, _, fleet, secret in
            let client = HTTPClient.shared
            let url = "\(platform.baseURL)/api/v1/search?" + Self.query(["what": "généraliste", "where": "Lyon 3e"])
            let auth = [("Authorization", "Bearer \(secret)")]
            // "vide" holds nobody: only the practitioners of unknown vendor (D, E, H) are ever sent to it.
            #expect(try await client.fetch(url, headers: auth).status == 200)
            #expect(fleet["vide"].requestCount("Slot") == 1)
            #expect(try await client.fetch(url, headers: auth).status == 200)
            #expect(fleet["vide"].requestCount("Slot") == 1, "not asked again within the hour")
            let store = EditorStore(database: platform.app.database)
            try await store.setEnabled("rdvlent", false, actor: "test")
            try await platform.app.editorRegistryService.refresh()
            #expect(try await client.fetch(url, headers: auth).status == 200)
            #expect(fleet["vide"].requestCount("Slot") == 2, "a registry change starts probing afresh")
        }
    }
}
