import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A client certificate and its key (PEM files).
public struct ClientCertificate: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String
    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// What one HTTP exchange of the conformance run gave.
enum ProbeOutcome: Sendable {
    case response(status: Int, headers: HTTPHeaders, body: Data, seconds: Double)
    /// Refused during TLS: a handshake failure or an alert (what the kit counts as a refusal).
    case tlsRefused(String)
    /// Any other failure: connection refused or reset, timeout, unreadable answer.
    case failed(String)

    var status: Int? {
        if case .response(let status, _, _, _) = self { return status }
        return nil
    }

    var body: Data? {
        if case .response(_, _, let body, _) = self { return body }
        return nil
    }

    /// French one-liner for reports.
    var summary: String {
        switch self {
        case .response(let status, let headers, _, let seconds):
            return "HTTP \(status) (\(headers.first(name: "content-type") ?? "sans Content-Type"), \(String(format: "%.3f", seconds)) s)"
        case .tlsRefused(let reason): return "refus TLS (\(reason))"
        case .failed(let reason): return "échec (\(reason))"
        }
    }

    /// The beginning of the body, for reports.
    var excerpt: String? {
        guard let body, !body.isEmpty else { return nil }
        return String(decoding: body.prefix(800), as: UTF8.self)
    }
}

/// Sends the run's requests, each on a fresh connection (like the kit, so a timing includes the handshake), with
/// a chosen client certificate (or none) and TLS versions.
struct Probe: Sendable {
    /// CA file for the server certificate, added to the system's trust roots.
    let caPath: String
    let timeout: Duration
    let maxBytes = 32 * 1_048_576

    func send(_ url: String, method: HTTPMethod = .GET, certificate: ClientCertificate?, accept: String = "application/json+fhir",
              minimumTLS: TLSVersion = .tlsv12, maximumTLS: TLSVersion? = nil) async -> ProbeOutcome {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = minimumTLS
        tls.maximumTLSVersion = maximumTLS
        tls.additionalTrustRoots = [.file(caPath)]
        if let certificate {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate.certificatePath).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: certificate.keyPath, format: .pem))
            } catch {
                return .failed("certificat client illisible : \(certificate.certificatePath) (\(error))")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(Int64(timeout.components.seconds)))
        let started = ContinuousClock.now
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "Content-Type", value: "application/json")
        let outcome: ProbeOutcome
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
            let body = try await response.body.collect(upTo: maxBytes)
            let elapsed = ContinuousClock.now - started
            outcome = .response(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body),
                                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        } catch {
            outcome = Self.classify(error)
        }
        try? await client.shutdown()
        return outcome
    }

    /// A TLS-level refusal (handshake failure, alert, certificate refused) or something else.
    static func classify(_ error: any Error) -> ProbeOutcome {
        let type = String(reflecting: Swift.type(of: error))
        if type.contains("NIOSSL") || type.contains("BoringSSL") {
            return .tlsRefused("\(error)")
        }
        if let client = error as? HTTPClientError, client == .deadlineExceeded || client == .readTimeout || client == .connectTimeout {
            return .failed("délai dépassé")
        }
        return .failed("\(error)")
    }
}
