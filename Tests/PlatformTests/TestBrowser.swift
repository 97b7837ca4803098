import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Identity
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A minimal browser for tests: keeps cookies (all hosts are 127.0.0.1, so by name as a browser does across
/// ports), follows redirects on demand, trusts the dev CA, and reads forms' hidden fields.
final class TestBrowser: Sendable {
    let client: HTTPClient
    let cookies = NIOLockedValueBox<[String: String]>([:])

    struct Page {
        var status: Int
        var url: String
        var location: String?
        var body: String
        var headers: [(String, String)]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

        /// The value of a hidden input.
        func hidden(_ name: String) -> String? {
            guard let range = body.range(of: "name=\"\(name)\" value=\"", options: .backwards) else { return nil }
            let rest = body[range.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]).replacingOccurrences(of: "&amp;", with: "&") }
        }

        /// Every hidden input of the page.
        var hiddenFields: [String: String] {
            var result: [String: String] = [:]
            var rest = body[...]
            while let start = rest.range(of: "<input type=\"hidden\" name=\"") {
                let after = rest[start.upperBound...]
                guard let nameEnd = after.firstIndex(of: "\"") else { break }
                let name = String(after[..<nameEnd])
                result[name] = hidden(name)
                rest = after[nameEnd...]
            }
            return result
        }
    }

    init(caPath: String?) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caPath { tls.additionalTrustRoots = [.file(caPath)] }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async throws { try await client.shutdown() }

    func cookie(_ name: String) -> String? { cookies.withLockedValue { $0[name] } }
    func setCookie(_ name: String, _ value: String?) { cookies.withLockedValue { $0[name] = value } }

    func request(_ url: String, method: HTTPMethod = .GET, form: [String: String]? = nil,
                 headers: [(String, String)] = [], json: [String: String]? = nil, body raw: String? = nil) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let jar = cookies.withLockedValue { $0 }
        if !jar.isEmpty {
            request.headers.add(name: "Cookie", value: jar.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        }
        if let json {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        if let raw { request.body = .bytes(ByteBuffer(string: raw)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 10 << 20)
        for value in response.headers["Set-Cookie"] {
            guard let pair = value.split(separator: ";").first else { continue }
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { continue }
            let name = kv[0].trimmingCharacters(in: .whitespaces)
            let deleted = value.contains("Max-Age=0") || kv[1].isEmpty
            cookies.withLockedValue { $0[name] = deleted ? nil : String(kv[1]) }
        }
        var location = response.headers.first(name: "Location")
        if let l = location, l.hasPrefix("/"), let base = URL(string: url) {
            location = "\(base.scheme!)://\(base.host!):\(base.port!)" + l
        }
        return Page(status: Int(response.status.code), url: url, location: location, body: String(buffer: body),
                    headers: response.headers.map { ($0.name, $0.value) })
    }

    /// GET `url` and follow redirects (at most `limit`); returns the final page and the URLs visited.
    func follow(_ url: String, limit: Int = 10) async throws -> (page: Page, visited: [String]) {
        var page = try await request(url)
        var visited = [url]
        while (300..<400).contains(page.status), let next = page.location, visited.count <= limit {
            visited.append(next)
            page = try await request(next)
        }
        return (page, visited)
    }

    static func encode(_ form: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)"
        }.joined(separator: "&")
    }
}

/// A clock tests move forward by hand; between moves it follows real time, so that instants made by real servers
/// (the PSC stand-in's `iat`) stay consistent with it however slowly a loaded machine runs the test.
final class TestClock: Sendable {
    private let offset = NIOLockedValueBox<TimeInterval>(0)
    var date: Date { Date().addingTimeInterval(offset.withLockedValue { $0 }) }
    func advance(_ seconds: TimeInterval) { offset.withLockedValue { $0 += seconds } }
    var function: IdentityClock { { [self] in self.date } }
}

/// A mailer keeping what it sends.
final class CapturingMailer: Mailer {
    let sent = NIOLockedValueBox<[(to: String, subject: String, body: String)]>([])
    func send(to: String, subject: String, body: String) async throws {
        sent.withLockedValue { $0.append((to, subject, body)) }
    }

    /// Waits (at most 10 s) until `count` e-mails were sent: reset links are sent without making the answer wait.
    func waitFor(count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while sent.withLockedValue({ $0.count }) < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A TCP port on loopback for servers whose URL must be known before they start. Ports come from a range below the
/// kernel's ephemeral range (so servers bound to port 0 by parallel tests can never take them), one counter per
/// process (so two tests never get the same one), and each is checked free before it is handed out.
func freeLoopbackPort() throws -> Int {
    while true {
        let port = nextTestPort.withLockedValue { value -> Int in
            value = value >= 31_000 ? 20_000 : value + 1
            return value
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { continue }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound == 0 { return port }
    }
}

private let nextTestPort = NIOLockedValueBox(20_000 + Int.random(in: 0..<9_000))
