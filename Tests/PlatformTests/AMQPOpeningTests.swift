@testable import AMQP
import NIOCore
import NIOPosix
import Testing

/// How the AMQP client reports a link lost while opening, without a broker: a loopback server that stays silent,
/// hangs up, or answers bytes that are not AMQP frames. Each failure must say which one it was.
@Suite("AMQP client: a link lost while opening says why")
struct AMQPOpeningTests {
    enum Behaviour: Sendable { case silent, hangUp, garbage }

    /// Accepts connections and, on the first bytes received, does what `behaviour` says.
    final class Server: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let behaviour: Behaviour
        init(_ behaviour: Behaviour) { self.behaviour = behaviour }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch behaviour {
            case .silent: break
            case .hangUp: context.close(promise: nil)
            case .garbage:
                // A frame of type 9 (unknown in AMQP 0-9-1), well formed otherwise.
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [9, 0, 0, 0, 0, 0, 0, 0xCE])), promise: nil)
            }
        }
    }

    static func open(against behaviour: Behaviour) async throws -> String {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.pipeline.addHandler(Server(behaviour)) }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let configuration = AMQPConnection.Configuration(host: "127.0.0.1", port: server.localAddress?.port ?? 0, tls: nil,
                                                         authentication: .plain(username: "u", password: "p"),
                                                         connectTimeout: .seconds(1))
        do {
            let connection = try await AMQPConnection.connect(configuration)
            await connection.close()
            return "ouverte"
        } catch let error as AMQPError {
            return error.description
        }
    }

    @Test("a broker that never answers: the opening's time limit (connection timeout + 5 s) is named")
    func silentBroker() async throws {
        let started = ContinuousClock.now
        let message = try await Self.open(against: .silent)
        #expect(message == "ouverture de la connexion (TLS et AMQP) non terminée en 6 s")
        #expect(ContinuousClock.now - started >= .seconds(5))
    }

    @Test("a broker that hangs up: the link is closed")
    func hangUp() async throws {
        #expect(try await Self.open(against: .hangUp) == "connexion au courtier fermée")
    }

    @Test("bytes that are not AMQP frames: the link is broken, with the decoder's reason")
    func garbage() async throws {
        let message = try await Self.open(against: .garbage)
        #expect(message.hasPrefix("connexion au courtier interrompue : "), "\(message)")
        #expect(message.contains("type de trame inconnu 9"), "\(message)")
    }
}
