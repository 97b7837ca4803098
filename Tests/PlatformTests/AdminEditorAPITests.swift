import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import Aggregator

@Suite("Editor registry admin API")
struct AdminEditorAPITests {
    static let token = "jeton-de-test-\(UUID().uuidString)"
    static var tokenHash: String { SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined() }

    func send(_ client: HTTPClient, _ method: HTTPMethod, _ url: String, body: String? = nil, token: String? = AdminEditorAPITests.token) async throws -> FetchedResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        return FetchedResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                               body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test("register, suspend, reactivate and remove a vendor through the API; the FHIR allow-list follows")
    func lifecycle() async throws {
        let platform = try await RunningPlatform.start(settings: ["admin.api_token_sha256": Self.tokenHash])
        let client = try platform.makeClient()
        let base = platform.baseURL + "/api/v1/admin/editors"
        let body = """
            {"id":"agenda-z","name":"Agenda Z","baseURL":"https://127.0.0.1:9999/fhir","flows":["r01","r03"],
             "inboundCommonName":"agenda-z.test","inboundOrganizationalUnit":"EDITEUR Z"}
            """
        let created = try await send(client, .POST, base, body: body)
        #expect(created.status == 201)
        #expect(created.body.contains("\"agenda-z\""))
        #expect(platform.app.fhirAllowList.all.contains { $0.party == "agenda-z" })
        #expect(try await send(client, .POST, base, body: body).status == 409)
        let suspended = try await send(client, .POST, base + "/agenda-z/disable")
        #expect(suspended.status == 200 && suspended.body.contains("\"enabled\":false"))
        #expect(!platform.app.fhirAllowList.all.contains { $0.party == "agenda-z" }, "a suspended vendor is refused at once")
        #expect(platform.app.aggregator.editors.isEmpty)
        #expect(try await send(client, .POST, base + "/agenda-z/enable").status == 200)
        #expect(platform.app.aggregator.editors.map(\.id) == ["agenda-z"])
        let health = try await send(client, .GET, base + "/agenda-z/health")
        #expect(health.status == 200 && health.body.contains("\"circuit\":\"closed\""))
        #expect(try await send(client, .DELETE, base + "/agenda-z").status == 204)
        #expect(try await send(client, .GET, base + "/agenda-z").status == 404)
        try await client.shutdown()
        try await platform.stop()
    }

    @Test("refused without the token, with a wrong one, and with an invalid vendor (French reasons)")
    func refusals() async throws {
        let platform = try await RunningPlatform.start(settings: ["admin.api_token_sha256": Self.tokenHash])
        let client = try platform.makeClient()
        let base = platform.baseURL + "/api/v1/admin/editors"
        #expect(try await send(client, .GET, base, token: nil).status == 401)
        #expect(try await send(client, .GET, base, token: "mauvais").status == 401)
        let invalid = try await send(client, .POST, base, body: #"{"id":"X Y","name":"","baseURL":"http://x","flows":["r01"]}"#)
        #expect(invalid.status == 422)
        #expect(invalid.body.contains("identifiant") && invalid.body.contains("https"))
        #expect(try await send(client, .POST, base, body: "{pas du json").status == 400)
        #expect(try await send(client, .POST, base, body: #"{"id":"a","name":"A","baseURL":"https://a/fhir","flows":["r99"]}"#).status == 422)
        try await client.shutdown()
        try await platform.stop()
        // Without a configured token the API is closed.
        let closed = try await RunningPlatform.start()
        let other = try closed.makeClient()
        #expect(try await send(other, .GET, closed.baseURL + "/api/v1/admin/editors").status == 403)
        try await other.shutdown()
        try await closed.stop()
    }
}

@Suite("Editor registry file")
struct EditorRegistryFileTests {
    @Test("vendors declared in editors.registry_file are registered at start; a bad entry is skipped")
    func declarativeOnboarding() async throws {
        let file = TestScratch.url("editors-\(UUID().uuidString).json")
        try Data("""
            [{"id":"agenda-f","name":"Agenda F","baseURL":"https://127.0.0.1:9998/fhir","flows":["r01","r04"],"timeoutMilliseconds":1500},
             {"id":"MAUVAIS","name":"","baseURL":"ftp://x","flows":["r01"]}]
            """.utf8).write(to: file)
        let platform = try await RunningPlatform.start(settings: ["editors.registry_file": file.path])
        let deadline = ContinuousClock.now + .seconds(20)
        while platform.app.aggregator.editors.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let editors = platform.app.aggregator.editors
        #expect(editors.map(\.id) == ["agenda-f"])
        #expect(editors.first?.timeoutMilliseconds == 1500 && editors.first?.flows == [.r01, .r04])
        try await platform.stop()
    }
}
