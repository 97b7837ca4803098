import AsyncHTTPClient
import Foundation
import Identity
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Storage
import TLS
import Web

enum HarnessError: Error { case stoppedBeforeListening }

/// A platform node started in-process on free ports, with a real database and real listeners.
final class RunningPlatform: Sendable {
    let app: PlatformApp
    let group: ServiceGroup
    let runner: Task<Void, any Error>
    let httpPort: Int
    let fhirPort: Int
    let pkiDirectory: URL
    let cleanup: @Sendable () async -> Void

    private init(app: PlatformApp, group: ServiceGroup, runner: Task<Void, any Error>, httpPort: Int, fhirPort: Int,
                 pkiDirectory: URL, cleanup: @escaping @Sendable () async -> Void) {
        self.app = app
        self.group = group
        self.runner = runner
        self.httpPort = httpPort
        self.fhirPort = fhirPort
        self.pkiDirectory = pkiDirectory
        self.cleanup = cleanup
    }

    static func start(
        databaseURL: String? = nil, waitForReady: Bool = true, settings: [String: String] = [:],
        httpRoutes: PlatformApp.RouteHook? = nil, fhirRoutes: PlatformApp.RouteHook? = nil,
        pkiDirectory: URL? = nil,
        identity: (@Sendable (PlatformConfiguration, any Database) throws -> IdentityServices)? = nil
    ) async throws -> RunningPlatform {
        var cleanups: [@Sendable () async -> Void] = []
        let url: String
        if let databaseURL {
            url = databaseURL
        } else {
            let fresh = try await TestDatabases.freshURL(.sqlite)
            url = fresh.url
            cleanups.append(fresh.cleanup)
        }
        let pki = pkiDirectory ?? TestScratch.url("sas-pki-\(UUID().uuidString)")
        if pkiDirectory == nil { cleanups.append({ try? FileManager.default.removeItem(at: pki) }) }
        let configuration = try PlatformConfiguration.load(file: nil, environment: [:], flags: [
            (key: "http.port", value: "0", flag: "test"), (key: "fhir.port", value: "0", flag: "test"),
            (key: "database.url", value: url, flag: "test"), (key: "shutdown.grace_seconds", value: "10", flag: "test"),
            (key: "pki.dev_directory", value: pki.path, flag: "test"),
        ] + settings.map { (key: $0.key, value: $0.value, flag: "test") })
        let database = try await openDatabase(url: url, logger: TestDatabases.logger)
        let app = try PlatformApp(configuration: configuration, database: database, logger: TestDatabases.logger,
                                  identity: try identity?(configuration, database))
        let tls = try app.fhirTLSConfiguration()
        let services = try app.services(pages: try await Pages.load(), fhirTLS: tls,
                                        httpRoutes: httpRoutes, fhirRoutes: fhirRoutes)
        let group = app.serviceGroup(services, signals: false)
        let ended = NIOLockedValueBox(false)
        let runner = Task {
            defer { ended.withLockedValue { $0 = true } }
            try await group.run()
        }
        // A listener that cannot bind ends the group: report it instead of waiting forever for its port.
        var ports: (Int, Int)?
        let deadline = ContinuousClock.now + .seconds(120)
        while ports == nil {
            if let http = await app.ports.currentHTTPPort(), let fhir = await app.ports.currentFHIRPort() {
                ports = (http, fhir)
            } else if ended.withLockedValue({ $0 }) || ContinuousClock.now > deadline {
                _ = try? await runner.value
                throw HarnessError.stoppedBeforeListening
            } else {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        let (http, fhir) = ports!
        if waitForReady {
            let deadline = ContinuousClock.now + .seconds(20)
            while !app.readiness.migrated && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let all = cleanups
        return RunningPlatform(app: app, group: group, runner: runner, httpPort: http, fhirPort: fhir, pkiDirectory: pki,
                               cleanup: { for c in all { await c() } })
    }

    /// Graceful shutdown, as on SIGTERM; waits for every service to stop.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await runner.value
        await cleanup()
    }

    var baseURL: String { "http://127.0.0.1:\(httpPort)" }
    var fhirBaseURL: String { "https://127.0.0.1:\(fhirPort)" }

    /// An HTTP client trusting the platform's dev CA.
    func makeClient(pki: DevPKIFiles? = nil, identity: String? = nil, maximumTLS: TLSVersion? = nil,
                    connectTimeout: TimeAmount = .seconds(5)) throws -> HTTPClient {
        let pki = pki ?? DevPKIFiles(directory: pkiDirectory)
        var configuration = HTTPClient.Configuration()
        var tls = try TLSConfigurations.client(
            caPath: pki.caChainPath, certificatePath: identity.map(pki.certificatePath), keyPath: identity.map(pki.keyPath))
        if let maximumTLS {
            tls.minimumTLSVersion = .tlsv1
            tls.maximumTLSVersion = maximumTLS
        }
        configuration.tlsConfiguration = tls
        configuration.timeout = .init(connect: connectTimeout, read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// A response read whole.
struct FetchedResponse {
    let status: Int
    let headers: [(String, String)]
    let body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

extension HTTPClient {
    func fetch(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) async throws -> FetchedResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 10 << 20)
        return FetchedResponse(status: Int(response.status.code),
                               headers: response.headers.map { ($0.name, $0.value) },
                               body: String(buffer: body))
    }
}
