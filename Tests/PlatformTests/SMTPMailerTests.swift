import Foundation
import Identity
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing
import TLS

/// A small SMTP server on loopback (plain or implicit TLS) that records what it receives and can refuse a step.
final class TestSMTPServer: Sendable {
    let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    let port: Int
    let received = NIOLockedValueBox<[(commands: [String], data: String)]>([])
    let task: Task<Void, Never>

    /// `refuse`: the command prefix answered with 550 (e.g. "RCPT").
    init(tls: NIOSSLContext? = nil, refuse: String? = nil, requireAuth: String? = nil) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        port = channel.channel.localAddress?.port ?? 0
        let received = self.received
        let server = channel
        task = Task {
            try? await server.executeThenClose { inbound in
                for try await connection in inbound {
                    try? await connection.executeThenClose { input, output in
                        func say(_ line: String) async throws { try await output.write(ByteBuffer(string: line + "\r\n")) }
                        try await say("220 test ESMTP")
                        var commands: [String] = []
                        var pending = ""
                        var inData = false
                        var data = ""
                        for try await buffer in input {
                            pending += String(buffer: buffer)
                            while let range = pending.range(of: "\r\n") {
                                let line = String(pending[..<range.lowerBound])
                                pending.removeSubrange(..<range.upperBound)
                                if inData {
                                    if line == "." {
                                        inData = false
                                        received.withLockedValue { $0.append((commands, data)) }
                                        try await say("250 2.0.0 accepté")
                                    } else {
                                        data += line + "\n"
                                    }
                                    continue
                                }
                                commands.append(line)
                                if let refuse, line.hasPrefix(refuse) { try await say("550 5.1.1 refusé"); continue }
                                switch line.prefix(4).uppercased() {
                                case "EHLO": try await say("250-test"); try await say("250 AUTH PLAIN")
                                case "AUTH": try await say(requireAuth == nil || line == "AUTH PLAIN \(requireAuth!)" ? "235 ok" : "535 non")
                                case "MAIL", "RCPT": try await say("250 ok")
                                case "DATA": inData = true; try await say("354 go")
                                case "QUIT": try await say("221 bye"); return
                                default: try await say("502 ?")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    func stop() async {
        task.cancel()
        try? await channel.channel.close()
    }
}

@Suite("SMTP mailer against a relay on loopback")
struct SMTPMailerTests {
    @Test("Plain relay on loopback: envelope, AUTH PLAIN, UTF-8 subject and base64 body, refusals reported")
    func plainRelay() async throws {
        let token = Data([0] + Array("sas".utf8) + [0] + Array("s3cret".utf8)).base64EncodedString()
        let server = try await TestSMTPServer(requireAuth: token)
        defer { Task { await server.stop() } }
        let mailer = try SMTPMailer(configuration: .init(host: "127.0.0.1", port: server.port, tls: false,
                                                         username: "sas", password: "s3cret", from: "ne-pas-repondre@sas.test"))
        try await mailer.send(to: "regul@test.sas", subject: "Réinitialisation de votre mot de passe SAS",
                              body: "Lien : https://sas.test/mot-de-passe/reinitialiser?jeton=abc\n.\nfin")
        let mail = try #require(server.received.withLockedValue { $0.first })
        #expect(mail.commands.contains("MAIL FROM:<ne-pas-repondre@sas.test>"))
        #expect(mail.commands.contains("RCPT TO:<regul@test.sas>"))
        #expect(mail.commands.contains("AUTH PLAIN \(token)"))
        #expect(mail.data.contains("Subject: =?UTF-8?B?\(Data("Réinitialisation de votre mot de passe SAS".utf8).base64EncodedString())?="))
        let body = mail.data.components(separatedBy: "\n\n").dropFirst().joined().replacingOccurrences(of: "\n", with: "")
        #expect(String(data: Data(base64Encoded: body) ?? Data(), encoding: .utf8)?.contains("jeton=abc\n.\nfin") == true,
                "a lone dot in the text cannot end the message")

        let refusing = try await TestSMTPServer(refuse: "RCPT")
        defer { Task { await refusing.stop() } }
        let second = try SMTPMailer(configuration: .init(host: "127.0.0.1", port: refusing.port, tls: false, from: "a@sas.test"))
        await #expect(throws: SMTPMailer.SMTPError.self) { try await second.send(to: "x@test.sas", subject: "s", body: "b") }
        await #expect(throws: SMTPMailer.SMTPError.self) { try await second.send(to: "x@test.sas>\r\nRCPT TO:<y@z.fr", subject: "s", body: "b") }
        #expect(throws: SMTPMailer.SMTPError.self) {
            try SMTPMailer(configuration: .init(host: "smtp.example.fr", port: 25, tls: false, from: "a@sas.test"))
        }
    }

    @Test("Implicit TLS: the relay's certificate is verified against the configured CA")
    func tlsRelay() async throws {
        let directory = TestScratch.url("sas-smtp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pki = DevPKIFiles(directory: directory)
        let ca = try pki.initialise()
        try pki.issue("smtp", with: ca, profile: .server, commonName: "localhost", organizationalUnit: "SMTP",
                      hostNames: ["localhost", "127.0.0.1"])
        let context = try NIOSSLContext(configuration: try TLSConfigurations.server(
            certificatePath: pki.certificatePath("smtp"), keyPath: pki.keyPath("smtp")))
        let server = try await TestSMTPServer(tls: context)
        defer { Task { await server.stop() } }
        let trusted = try SMTPMailer(configuration: .init(host: "localhost", port: server.port, tls: true,
                                                          from: "a@sas.test", caPath: pki.caChainPath))
        try await trusted.send(to: "regul@test.sas", subject: "Test", body: "Corps")
        #expect(server.received.withLockedValue { $0.count } == 1)
        let untrusted = try SMTPMailer(configuration: .init(host: "localhost", port: server.port, tls: true, from: "a@sas.test"))
        await #expect(throws: (any Error).self) { try await untrusted.send(to: "regul@test.sas", subject: "Test", body: "Corps") }
        #expect(server.received.withLockedValue { $0.count } == 1)
    }
}
