import AsyncHTTPClient
import Foundation
import Hummingbird
import Testing
import Web

@Suite("Platform server")
struct ServerTests {
    @Test("health, readiness and metrics endpoints")
    func operationsEndpoints() async throws {
        let platform = try await RunningPlatform.start()
        let client = try platform.makeClient()
        do {
            let health = try await client.fetch(platform.baseURL + "/healthz")
            #expect(health.status == 200)
            #expect(health.body.contains("\"ok\""))
            let ready = try await client.fetch(platform.baseURL + "/readyz")
            #expect(ready.status == 200)
            #expect(ready.body.contains("ready"))
            let home = try await client.fetch(platform.baseURL + "/")
            #expect(home.status == 200 && home.body.contains("lang=\"fr\""))
            let metrics = try await client.fetch(platform.baseURL + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(metrics.body.contains("sas_http_requests_total{listener=\"http\",method=\"GET\",route=\"/healthz\",status=\"200\"} 1"))
            #expect(metrics.body.contains("sas_http_request_duration_seconds_bucket{listener=\"http\",method=\"GET\",route=\"/readyz\""))
        } catch {
            try await client.shutdown()
            try await platform.stop()
            throw error
        }
        try await client.shutdown()
        try await platform.stop()
    }

    @Test("unknown routes: a French HTML page, JSON {error, message} under /api/, and the request id echoed")
    func notFound() async throws {
        let platform = try await RunningPlatform.start()
        let client = try platform.makeClient()
        let page = try await client.fetch(platform.baseURL + "/nulle-part")
        #expect(page.status == 404)
        #expect(page.header("Content-Type")?.contains("text/html") == true)
        #expect(page.body.contains("Page introuvable"))
        let api = try await client.fetch(platform.baseURL + "/api/v1/nulle-part", headers: [("X-Request-Id", "test-request-0001")])
        #expect(api.status == 404)
        #expect(api.header("X-Request-Id") == "test-request-0001")
        let object = try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: String]
        #expect(object?["error"] == "not_found")
        #expect(object?["message"]?.contains("n'existe pas") == true)
        // A hostile request id is replaced, not echoed.
        let hostile = try await client.fetch(platform.baseURL + "/healthz", headers: [("X-Request-Id", "<script>")])
        #expect(hostile.header("X-Request-Id") != "<script>")
        try await client.shutdown()
        try await platform.stop()
    }

    @Test("an internal error is a 500 without detail for the client, logged with the request id")
    func internalErrorDoesNotLeak() async throws {
        struct SecretFailure: Error, CustomStringConvertible { var description: String { "stack-trace-secret-42" } }
        let platform = try await RunningPlatform.start(httpRoutes: { router in
            router.get("/api/v1/boom") { _, _ -> Response in throw SecretFailure() }
            router.get("/boom") { _, _ -> Response in throw SecretFailure() }
        })
        let client = try platform.makeClient()
        for path in ["/api/v1/boom", "/boom"] {
            let response = try await client.fetch(platform.baseURL + path)
            #expect(response.status == 500)
            #expect(!response.body.contains("stack-trace-secret-42"))
            #expect(!response.body.contains("SecretFailure"))
            let requestID = try #require(response.header("X-Request-Id"))
            #expect(response.body.contains(requestID))
        }
        try await client.shutdown()
        try await platform.stop()
    }

    @Test("the FHIR listener speaks HTTPS with the dev PKI and answers errors with an OperationOutcome")
    func fhirListener() async throws {
        let platform = try await RunningPlatform.start()
        let client = try platform.makeClient()
        let metadata = try await client.fetch(platform.fhirBaseURL + "/metadata")
        #expect(metadata.status == 200)
        #expect(metadata.header("Content-Type")?.hasPrefix("application/fhir+json") == true)
        #expect(metadata.body.contains("\"CapabilityStatement\""))
        let missing = try await client.fetch(platform.fhirBaseURL + "/Nothing/1")
        #expect(missing.status == 404)
        let outcome = try #require(try JSONSerialization.jsonObject(with: Data(missing.body.utf8)) as? [String: Any])
        let resourceType = outcome["resourceType"] as? String
        #expect(resourceType == "OperationOutcome")
        let issues = try #require(outcome["issue"] as? [[String: Any]])
        let code = issues.first?["code"] as? String
        #expect(code == "not-found")
        // Plain HTTP on the FHIR port is not served.
        await #expect(throws: (any Error).self) {
            _ = try await client.fetch("http://127.0.0.1:\(platform.fhirPort)/metadata")
        }
        try await client.shutdown()
        try await platform.stop()
    }

    @Test("graceful shutdown lets an in-flight request finish")
    func gracefulShutdownCompletesInFlightRequest() async throws {
        let started = AsyncStream<Void>.makeStream()
        let platform = try await RunningPlatform.start(httpRoutes: { router in
            router.get("/slow") { _, _ -> String in
                started.continuation.yield()
                try await Task.sleep(for: .milliseconds(1500))
                return "terminé"
            }
        })
        let client = try platform.makeClient()
        let request = Task { try await client.fetch(platform.baseURL + "/slow") }
        var iterator = started.stream.makeAsyncIterator()
        _ = await iterator.next()
        // The same path SIGTERM takes in `sas serve`.
        let stopping = Task { try await platform.stop() }
        let response = try await request.value
        #expect(response.status == 200)
        #expect(response.body == "terminé")
        try await stopping.value
        try await client.shutdown()
    }
}
