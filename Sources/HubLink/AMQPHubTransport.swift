import AMQP
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Hub Santé over AMQP 0-9-1 (AMQPS with the platform's certificate and SASL EXTERNAL in production): publishes to
/// `hubsante` with confirms, consumes the platform's queues (declared passively: clients have no configure
/// permission) with manual acknowledgement, reconnects with backoff after any failure.
public final class AMQPHubTransport: HubTransport, Sendable {
    let configuration: AMQPConnection.Configuration
    let exchange: String
    let logger: Logger
    let current = NIOLockedValueBox<AMQPConnection?>(nil)
    let connecting = NIOLock()

    public init(configuration: AMQPConnection.Configuration, exchange: String = "hubsante", logger: Logger) {
        self.configuration = configuration
        self.exchange = exchange
        self.logger = logger
    }

    /// The open publishing connection, made at first use and after a failure.
    func connection() async throws -> AMQPConnection {
        if let open = current.withLockedValue({ $0 }), open.isOpen { return open }
        let fresh = try await AMQPConnection.connect(configuration)
        let previous = current.withLockedValue { box -> AMQPConnection? in
            defer { box = fresh }
            return box
        }
        if let previous { await previous.close() }
        return fresh
    }

    public func publish(_ body: Data, routingKey: String, contentType: String, persistent: Bool) async throws {
        let connection = try await connection()
        do {
            try await connection.publish(ByteBuffer(bytes: body), exchange: exchange, routingKey: routingKey,
                                         contentType: contentType, persistent: persistent)
        } catch {
            if !connection.isOpen { current.withLockedValue { if $0 === connection { $0 = nil } } }
            throw HubTransportError("publication refusée : \(error)")
        }
    }

    public func consume(queues: [String], _ handler: @escaping @Sendable (HubDelivery) async -> Bool) async throws {
        var delay: Duration = .seconds(1)
        while !Task.isCancelled {
            do {
                // A connection of its own: consumption must not share the fate of a failed publish.
                let connection = try await AMQPConnection.connect(configuration)
                defer { Task { await connection.close() } }
                for queue in queues { _ = try await connection.declarePassive(queue: queue) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for queue in queues {
                        let (channel, deliveries) = try await connection.consume(queue: queue)
                        group.addTask {
                            for try await delivery in deliveries {
                                let stored = await handler(HubDelivery(queue: queue, body: Data(buffer: delivery.body)))
                                if stored { connection.ack(delivery, channel: channel) } else { connection.reject(delivery, channel: channel) }
                            }
                            throw AMQPError("consommation de \(queue) interrompue")
                        }
                    }
                    delay = .seconds(1)
                    try await group.next()
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("Hub Santé consumer reconnecting", metadata: ["error": "\(error)", "in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(60))
            }
        }
    }

    public func shutdown() async {
        let connection = current.withLockedValue { box -> AMQPConnection? in
            defer { box = nil }
            return box
        }
        await connection?.close()
    }
}
