import Foundation
import HubLink
import Logging
import ServiceLifecycle

/// Runs INT_L02 on a node: every period, publishes the orientation events due to the SAMU (ordered per orientation,
/// leased across nodes), and consumes the platform's `.ack` and `.info` queues. Does nothing when the link is off.
public struct HubLinkService: Service {
    let outbox: HubOutbox
    let transport: (any HubTransport)?
    let readiness: Readiness
    let logger: Logger
    let pollInterval: Duration

    public func run() async throws {
        guard let transport else {
            try? await gracefulShutdown()
            return
        }
        let outbox = self.outbox, logger = self.logger, readiness = self.readiness
        // Acks and errors, each stored before it is acknowledged to the broker.
        let consumer = Task {
            while !readiness.migrated && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(200)) }
            do {
                try await transport.consume(queues: [outbox.senderID + ".ack", outbox.senderID + ".info"]) { delivery in
                    await outbox.receive(delivery)
                }
            } catch {
                logger.warning("INT_L02 consumer stopped", metadata: ["error": "\(error)"])
            }
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if readiness.migrated {
                do {
                    let sent = try await outbox.publishDue(through: transport)
                    if sent > 0 { logger.info("INT_L02 messages published", metadata: ["sent": "\(sent)"]) }
                } catch {
                    logger.warning("INT_L02 publishing pass failed", metadata: ["error": "\(error)"])
                }
            }
            let pause: Duration = readiness.migrated ? pollInterval : .milliseconds(200)
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { break }
        }
        consumer.cancel()
        _ = await consumer.value
    }
}
