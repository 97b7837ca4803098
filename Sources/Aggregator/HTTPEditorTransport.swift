import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TLS

/// The production transport: AsyncHTTPClient over mutual TLS, one pooled client per editor (keep-alive), presenting
/// the editor's (or the platform's default) client certificate and verifying the editor's server certificate against
/// its CA and host name. TLS 1.2 minimum.
public final class HTTPEditorTransport: EditorTransport {
    /// The platform's default identity and trust anchors, used when an editor has none of its own.
    public struct Identity: Sendable {
        public var certificatePath: String
        public var keyPath: String
        public var caPath: String
        public init(certificatePath: String, keyPath: String, caPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
            self.caPath = caPath
        }
    }

    let identity: Identity
    let maxConnectionsPerEditor: Int
    let logger: Logger
    private let clients = NIOLockedValueBox<[String: (key: String, client: HTTPClient)]>([:])

    public init(identity: Identity, maxConnectionsPerEditor: Int = 8, logger: Logger) {
        self.identity = identity
        self.maxConnectionsPerEditor = maxConnectionsPerEditor
        self.logger = logger
    }

    /// Closes every pooled connection.
    public func shutdown() async {
        let all = clients.withLockedValue { clients in
            defer { clients.removeAll() }
            return clients.values.map(\.client)
        }
        for client in all { try? await client.shutdown() }
    }

    /// The URL as requested: with an expected server name, its host is that name (checked against the certificate)
    /// while the client's DNS override still connects to the base URL's host.
    static func target(_ url: URL, editor: Editor) -> String {
        guard let name = editor.serverName, let host = url.host, host != name,
              var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.absoluteString }
        components.host = name
        return components.url?.absoluteString ?? url.absoluteString
    }

    public func get(_ url: URL, editor: Editor, timeout: Duration, maxBytes: Int) async throws -> TransportResponse {
        let client = try self.client(for: editor)
        var request = HTTPClientRequest(url: Self.target(url, editor: editor))
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/fhir+json")
        request.headers.add(name: "User-Agent", value: "plateforme-sas")
        return try await perform(request, client: client, timeout: timeout, maxBytes: maxBytes)
    }

    /// Runs `request` within `timeout`, reading at most `maxBytes` of body; failures are classified.
    func perform(_ request: HTTPClientRequest, client: HTTPClient, timeout: Duration, maxBytes: Int) async throws -> TransportResponse {
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                                                   + timeout.components.attoseconds / 1_000_000_000))
            let declared = response.headers.first(name: "Content-Length").flatMap(Int.init)
            if let declared, declared > maxBytes { throw TransportError.responseTooLarge(maxBytes) }
            let body: ByteBuffer
            do { body = try await response.body.collect(upTo: maxBytes) } catch is NIOTooManyBytesError {
                throw TransportError.responseTooLarge(maxBytes)
            }
            return TransportResponse(
                status: Int(response.status.code),
                retryAfter: response.headers.first(name: "Retry-After").flatMap { TransportResponse.parseRetryAfter($0) },
                body: Data(buffer: body), elapsed: ContinuousClock.now - started)
        } catch let error as TransportError {
            throw error
        } catch {
            throw Self.classify(error)
        }
    }

    /// Sends a FHIR write (`POST`/`PUT` with a JSON body) to `editor` over the same pooled mTLS client: the INT_R02
    /// regulator-account requests. Non-2xx answers are returned, not thrown; transport failures are classified.
    public func send(_ method: String, _ url: URL, body: Data, editor: Editor, timeout: Duration,
                     maxBytes: Int = 1 << 20) async throws -> TransportResponse {
        let client = try self.client(for: editor)
        var request = HTTPClientRequest(url: Self.target(url, editor: editor))
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Accept", value: "application/fhir+json")
        request.headers.add(name: "Content-Type", value: "application/fhir+json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "plateforme-sas")
        request.body = .bytes(ByteBuffer(data: body))
        return try await perform(request, client: client, timeout: timeout, maxBytes: maxBytes)
    }

    /// Maps AsyncHTTPClient, NIO and NIOSSL errors to the aggregator's categories.
    static func classify(_ error: any Error) -> TransportError {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: return .timeout
            case .remoteConnectionClosed: return .connectionReset
            default: break
            }
        }
        if error is CancellationError { return .timeout }
        if error is NIOSSLError || error is BoringSSLError { return .tlsFailure(String(describing: error)) }
        if let io = error as? IOError {
            if io.errnoCode == ECONNREFUSED { return .connectionRefused }
            if io.errnoCode == ECONNRESET || io.errnoCode == EPIPE { return .connectionReset }
        }
        let text = String(describing: error)
        if text.contains("ECONNREFUSED") || text.contains("Connection refused") || text.contains("connectionRefused") {
            return .connectionRefused
        }
        if text.contains("reset") || text.contains("ECONNRESET") { return .connectionReset }
        if text.contains("SSL") || text.contains("TLS") || text.contains("certificate") { return .tlsFailure(text) }
        return .other(text)
    }

    private func client(for editor: Editor) throws -> HTTPClient {
        let certificate = editor.clientCertificatePath ?? identity.certificatePath
        let key = editor.clientKeyPath ?? identity.keyPath
        let ca = editor.serverCAPath ?? identity.caPath
        let baseHost = URL(string: editor.normalisedBaseURL)?.host
        let override = editor.serverName.flatMap { name in baseHost.flatMap { $0 == name ? nil : [name: $0] } } ?? [:]
        let cacheKey = "\(certificate)|\(key)|\(ca)|\(override.map { "\($0.key)=\($0.value)" }.joined())"
        if let existing = clients.withLockedValue({ $0[editor.id] }), existing.key == cacheKey { return existing.client }
        var configuration = HTTPClient.Configuration()
        configuration.dnsOverride = override
        configuration.tlsConfiguration = try TLSConfigurations.client(caPath: ca, certificatePath: certificate, keyPath: key)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnectionsPerEditor)
        configuration.timeout = .init(connect: .seconds(2))
        configuration.httpVersion = .http1Only
        // A refused or failed TLS connection must surface at once (the aggregator decides on retries), not be retried
        // silently by the pool until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        // Two first requests to a vendor may race here: the first client registered wins and the loser is closed
        // unused (replacing a client that already carries requests would cancel them).
        let (chosen, discarded) = clients.withLockedValue { clients -> (HTTPClient, HTTPClient?) in
            if let current = clients[editor.id], current.key == cacheKey { return (current.client, client) }
            let old = clients[editor.id]?.client
            clients[editor.id] = (cacheKey, client)
            return (client, old)
        }
        if let discarded { Task { try? await discarded.shutdown() } }
        return chosen
    }
}
