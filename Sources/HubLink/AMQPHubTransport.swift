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
    /// The publishing connection, made once for all concurrent publishers (single flight).
    let current = NIOLockedValueBox<Task<AMQPConnection, any Error>?>(nil)

    public init(configuration: AMQPConnection.Configuration, exchange: String = "hubsante", logger: Logger) {
        self.configuration = configuration
        self.exchange = exchange
        self.logger = logger
    }

    /// The open publishing connection; concurrent callers share one connection attempt, and a closed connection is
    /// replaced (never one that is still open and in use).
    func connection() async throws -> AMQPConnection {
        for _ in 0..<2 {
            let configuration = self.configuration
            let task = current.withLockedValue { box -> Task<AMQPConnection, any Error> in
                if let existing = box { return existing }
                let fresh = Task { try await AMQPConnection.connect(configuration) }
                box = fresh
                return fresh
            }
            do {
                let connection = try await task.value
                if connection.isOpen { return connection }
                current.withLockedValue { if $0 == task { $0 = nil } }
            } catch {
                current.withLockedValue { if $0 == task { $0 = nil } }
                throw error
            }
        }
        throw HubTransportError("connexion au Hub Santé impossible")
    }

    public func publish(_ body: Data, routingKey: String, contentType: String, persistent: Bool) async throws {
        let connection = try await connection()
        do {
            try await connection.publish(ByteBuffer(bytes: body), exchange: exchange, routingKey: routingKey,
                                         contentType: contentType, persistent: persistent)
        } catch {
            throw HubTransportError("publication refusée : \(error)")
        }
    }

    public func consume(queues: [String], _ handler: @escaping @Sendable (HubDelivery) async -> HubDisposition) async throws {
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
                                switch await handler(HubDelivery(queue: queue, body: Data(buffer: delivery.body))) {
                                case .acknowledge: connection.ack(delivery, channel: channel)
                                case .reject: connection.reject(delivery, channel: channel)
                                case .requeue: connection.requeue(delivery, channel: channel)
                                }
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
        let task = current.withLockedValue { box -> Task<AMQPConnection, any Error>? in
            defer { box = nil }
            return box
        }
        if let connection = try? await task?.value { await connection.close() }
    }
}
