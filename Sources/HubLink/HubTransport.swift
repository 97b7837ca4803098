import Foundation

/// A message taken from one of the platform's queues (`<client>.ack`, `<client>.info`).
public struct HubDelivery: Sendable {
    public let queue: String
    public let body: Data
    public init(queue: String, body: Data) {
        self.queue = queue
        self.body = body
    }
}

/// What becomes of a consumed message.
public enum HubDisposition: Sendable {
    /// Stored: acknowledged.
    case acknowledge
    /// Unreadable: rejected without requeue (dead-lettered).
    case reject
    /// Not stored this time: given back to the queue.
    case requeue
}

/// How the platform talks to Hub Santé: publish to the `hubsante` exchange with its own client id as routing key,
/// returning once the broker has confirmed; consume its queues with manual acknowledgement. The AMQP 0-9-1 client
/// and the in-process stand-in implement it.
public protocol HubTransport: Sendable {
    func publish(_ body: Data, routingKey: String, contentType: String, persistent: Bool) async throws
    /// Delivers the messages of `queues` to `handler` until cancelled, then acknowledges, rejects or requeues each as
    /// the handler says.
    func consume(queues: [String], _ handler: @escaping @Sendable (HubDelivery) async -> HubDisposition) async throws
}

public struct HubTransportError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
