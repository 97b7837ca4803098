import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends e-mails (reset links, inactivity warnings) through an SMTP relay: implicit TLS (port 465, certificate and
/// host name verified) or plain SMTP to a relay on loopback; `AUTH PLAIN` when credentials are configured. The body
/// is sent base64-encoded UTF-8, the subject as an RFC 2047 encoded word, so no content can break the protocol.
public struct SMTPMailer: Mailer {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Implicit TLS (SMTPS). Plain SMTP is only allowed to a relay on loopback.
        public var tls: Bool
        public var username: String?
        public var password: String?
        /// `From:` address (and envelope sender).
        public var from: String
        /// Extra CA certificates for the relay (PEM file), besides the system roots.
        public var caPath: String?
        public var timeout: Duration = .seconds(15)

        public init(host: String, port: Int, tls: Bool, username: String? = nil, password: String? = nil,
                    from: String, caPath: String? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
            self.username = username
            self.password = password
            self.from = from
            self.caPath = caPath
        }
    }

    public struct SMTPError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public let configuration: Configuration

    public init(configuration: Configuration) throws {
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(configuration.host)
        guard configuration.tls || loopback else {
            throw SMTPError(description: "SMTP sans TLS refusé vers \(configuration.host) : seul un relais local (127.0.0.1) peut être joint en clair")
        }
        guard Self.isSafeAddress(configuration.from) else { throw SMTPError(description: "adresse d'expédition invalide") }
        self.configuration = configuration
    }

    static func isSafeAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && address.count <= 254
            && !address.contains(where: { $0.isWhitespace || "<>\r\n\",;:\\".contains($0) })
    }

    public func send(to recipient: String, subject: String, body: String) async throws {
        guard Self.isSafeAddress(recipient) else { throw SMTPError(description: "adresse de destination invalide") }
        let message = Self.message(from: configuration.from, to: recipient, subject: subject, body: body)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.deliver(to: recipient, message: message) }
            group.addTask {
                try await Task.sleep(for: configuration.timeout)
                throw SMTPError(description: "le relais SMTP n'a pas répondu dans le délai")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The RFC 5322 message: headers, then the base64 body in 76-character lines.
    static func message(from: String, to: String, subject: String, body: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let encodedSubject = "=?UTF-8?B?" + Data(subject.utf8).base64EncodedString() + "?="
        let domain = from.split(separator: "@").last.map(String.init) ?? "sas.localhost"
        let encodedBody = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return [
            "From: \(from)", "To: \(to)", "Subject: \(encodedSubject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", encodedBody,
        ].joined(separator: "\r\n")
    }

    func deliver(to recipient: String, message: String) async throws {
        let configuration = self.configuration
        let sslContext: NIOSSLContext?
        if configuration.tls {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let ca = configuration.caPath { tls.additionalTrustRoots = [.file(ca)] }
            sslContext = try NIOSSLContext(configuration: tls)
        } else {
            sslContext = nil
        }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        // SNI and name checks need a host name; an IP address is only checked through the chain.
                        let isIP = configuration.host.contains(":") || configuration.host.allSatisfy { $0.isNumber || $0 == "." }
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: isIP ? nil : configuration.host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var reader = ReplyReader(iterator: inbound.makeAsyncIterator())
            func send(_ line: String) async throws { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
            func expect(_ codes: Set<Int>, after step: String) async throws {
                let (code, text) = try await reader.reply()
                guard codes.contains(code) else { throw SMTPError(description: "le relais SMTP a refusé \(step) : \(code) \(text)") }
            }
            try await expect([220], after: "la connexion")
            try await send("EHLO sas.localhost")
            try await expect([250], after: "EHLO")
            if let username = configuration.username, let password = configuration.password {
                let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                try await send("AUTH PLAIN " + token)
                try await expect([235], after: "l'authentification")
            }
            try await send("MAIL FROM:<\(configuration.from)>")
            try await expect([250], after: "l'expéditeur")
            try await send("RCPT TO:<\(recipient)>")
            try await expect([250, 251], after: "le destinataire")
            try await send("DATA")
            try await expect([354], after: "DATA")
            try await outbound.write(ByteBuffer(string: message + "\r\n.\r\n"))
            try await expect([250], after: "le message")
            try await send("QUIT")
            _ = try? await reader.reply()
        }
    }

    /// Reads SMTP replies (possibly multi-line: `250-…` then `250 …`).
    struct ReplyReader {
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var pending = ""

        mutating func line() async throws -> String {
            while true {
                if let range = pending.range(of: "\r\n") {
                    let line = String(pending[..<range.lowerBound])
                    pending.removeSubrange(..<range.upperBound)
                    return line
                }
                guard let buffer = try await iterator.next() else {
                    throw SMTPError(description: "le relais SMTP a fermé la connexion")
                }
                pending += String(buffer: buffer)
                if pending.count > 64 * 1024 { throw SMTPError(description: "réponse SMTP trop longue") }
            }
        }

        mutating func reply() async throws -> (Int, String) {
            var text: [String] = []
            while true {
                let line = try await line()
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    throw SMTPError(description: "réponse SMTP illisible : \(line.prefix(80))")
                }
                text.append(String(line.dropFirst(4)))
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                    return (code, text.joined(separator: " "))
                }
            }
        }
    }
}
