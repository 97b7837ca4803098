import Foundation

/// How the aggregator sends one FHIR search to an editor (implemented with AsyncHTTPClient over mTLS in production).
///
/// Implementations must send `Accept: application/fhir+json`, present the editor's client identity, verify the
/// server, respect `timeout` (the time left for this attempt) and stop reading, throwing
/// ``TransportError/responseTooLarge(_:)``, as soon as the body exceeds `maxBytes`. Non-2xx answers are returned, not
/// thrown. Cancellation of the calling task should abort the request.
public protocol EditorTransport: Sendable {
    /// Performs `GET url` against `editor`.
    func get(_ url: URL, editor: Editor, timeout: Duration, maxBytes: Int) async throws -> TransportResponse
}

/// An editor's HTTP answer, whatever its status.
public struct TransportResponse: Sendable, Hashable {
    /// HTTP status code.
    public var status: Int
    /// `Retry-After`, when the editor sent one (see ``parseRetryAfter(_:now:)``).
    public var retryAfter: Duration?
    /// Response body (at most the `maxBytes` given to the transport).
    public var body: Data
    /// Time from sending the request to the end of the body.
    public var elapsed: Duration

    /// Creates a response.
    public init(status: Int, retryAfter: Duration? = nil, body: Data, elapsed: Duration) {
        self.status = status
        self.retryAfter = retryAfter
        self.body = body
        self.elapsed = elapsed
    }

    /// Reads a `Retry-After` header: delay-seconds (`120`) or an HTTP-date; nil when unreadable.
    public static func parseRetryAfter(_ header: String, now: Date = Date()) -> Duration? {
        let text = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        let delay = max(0, date.timeIntervalSince(now))
        return .milliseconds(Int64((delay * 1000).rounded()))
    }
}

/// Transport failures the aggregator tells apart (retry policy, circuit breaker and status reporting depend on them).
public enum TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// TCP connection refused (nothing listening): retried when time allows.
    case connectionRefused
    /// Connection reset or closed before the answer: retried when time allows.
    case connectionReset
    /// TLS handshake or certificate verification failure, with detail for logs.
    case tlsFailure(String)
    /// The transport's own timeout fired (never retried).
    case timeout
    /// The body exceeded the limit (the limit, in bytes).
    case responseTooLarge(Int)
    /// Anything else (DNS failure, protocol error…), with detail for logs.
    case other(String)

    public var description: String {
        switch self {
        case .connectionRefused: return "connection refused"
        case .connectionReset: return "connection reset"
        case .tlsFailure(let detail): return "TLS failure: \(detail)"
        case .timeout: return "timeout"
        case .responseTooLarge(let limit): return "response larger than \(limit) bytes"
        case .other(let detail): return detail
        }
    }
}
