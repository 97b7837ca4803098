import Foundation
import NIOConcurrencyHelpers

/// An in-process Hub Santé for the demo and the tests, behind the same ``HubTransport`` as the AMQP client: it applies
/// the Hub dispatcher's checks in order (content type 101, readable body 102, schemas 300, health actor 501, sender
/// 200, persistence 100, distributionID prefix 300, routing 501) and sends its errors to the sender's `.info` queue;
/// it routes to `<recipient>.message|ack|info`. Each SAMU client may be simulated by an LRM that stores appointments
/// by `appointmentId` (an update of an unknown one is a creation), answers a final acknowledgement (RC-REF), and a
/// functional error 409 to a second creation of the same appointment.
public final class HubStandIn: HubTransport, Sendable {
    let queues = NIOLockedValueBox<[String: [Data]]>([:])
    let clients = NIOLockedValueBox<Set<String>>([])
    let simulated = NIOLockedValueBox<Set<String>>([])
    /// What each simulated LRM holds: appointmentId → last payload.
    let stores = NIOLockedValueBox<[String: [String: HubMessages.Appointment]]>([:])
    /// Any `fr.health.samu…` recipient is a simulated LRM (the demo); otherwise only registered clients exist.
    let simulateEverySAMU: Bool
    /// Faults for tests: publishes refused (broker unreachable), and messages dead-lettered after routing.
    let unreachable = NIOLockedValueBox(false)
    let deadLetterNext = NIOLockedValueBox(0)

    public init(simulateEverySAMU: Bool = false) {
        self.simulateEverySAMU = simulateEverySAMU
    }

    /// A client with its three queues.
    public func register(_ clientID: String, simulateLRM: Bool = false) {
        clients.withLockedValue { _ = $0.insert(clientID) }
        if simulateLRM { simulated.withLockedValue { _ = $0.insert(clientID) } }
    }

    public func setUnreachable(_ value: Bool) { unreachable.withLockedValue { $0 = value } }
    public func deadLetter(next count: Int) { deadLetterNext.withLockedValue { $0 = count } }

    /// What the simulated LRM of `clientID` holds.
    public func appointments(at clientID: String) -> [String: HubMessages.Appointment] { stores.withLockedValue { $0[clientID] ?? [:] } }

    func exists(_ clientID: String) -> Bool {
        clients.withLockedValue { $0.contains(clientID) } || (simulateEverySAMU && clientID.hasPrefix("fr.health.samu"))
    }

    func isSimulated(_ clientID: String) -> Bool {
        simulated.withLockedValue { $0.contains(clientID) } || (simulateEverySAMU && clientID.hasPrefix("fr.health.samu"))
    }

    func enqueue(_ queue: String, _ body: Data) {
        queues.withLockedValue { $0[queue, default: []].append(body) }
    }

    /// A Hub-generated error to `sender`'s `.info` queue.
    func hubError(_ code: Int, _ label: String, cause: String, to sender: String, referenced: String) {
        if let data = try? HubRouting.errorMessage(code, label, cause: cause, to: sender, referenced: referenced) {
            enqueue(sender + ".info", data)
        }
    }

    public func publish(_ body: Data, routingKey: String, contentType: String, persistent: Bool) async throws {
        if unreachable.withLockedValue({ $0 }) { throw HubTransportError("Hub Santé injoignable (connexion refusée)") }
        dispatch(body, routingKey: routingKey, contentType: contentType, persistent: persistent)
    }

    /// The dispatcher's checks, in the Hub's order, then routing.
    func dispatch(_ body: Data, routingKey: String, contentType: String, persistent: Bool) {
        switch HubRouting.decide(body, routingKey: routingKey, contentType: contentType, persistent: persistent, exists: exists) {
        case .error(let code, let label, let cause, let referenced):
            hubError(code, label, cause: cause, to: routingKey, referenced: referenced)
        case .route(let envelope, let queue):
            let dead = deadLetterNext.withLockedValue { count -> Bool in
                guard count > 0 else { return false }
                count -= 1
                return true
            }
            if dead {
                return hubError(500, "DEAD_LETTER_QUEUED", cause: "Message expiré dans la file \(queue)", to: routingKey,
                                referenced: envelope.distributionID)
            }
            if queue.hasSuffix(".message") && isSimulated(envelope.recipient) {
                lrmReceives(envelope, as: envelope.recipient)
            } else {
                enqueue(queue, body)
            }
        }
    }

    /// The simulated LRM: upsert by appointmentId, final ack, or 409 to a second creation.
    func lrmReceives(_ envelope: HubMessages.Envelope, as client: String) {
        guard let appointment = envelope.message?.appointment else { return }
        let duplicate = stores.withLockedValue { stores -> Bool in
            let known = stores[client]?[appointment.appointmentId] != nil
            if known && appointment.method == "CreateAppointment" { return true }
            stores[client, default: [:]][appointment.appointmentId] = appointment
            return false
        }
        let reply: HubMessages.Envelope
        if duplicate {
            reply = HubMessages.envelope(kind: "Error", sender: client, recipient: envelope.senderID, sent: Date(),
                                         error: .init(errorCode: .init(statusCode: 409, statusString: "CONFLICT"),
                                                      errorCause: "Impossible de créer ce RDV : l'identifiant \(appointment.appointmentId) existe déjà dans la solution",
                                                      referencedDistributionID: envelope.distributionID))
        } else {
            reply = HubMessages.envelope(kind: "Ack", sender: client, recipient: envelope.senderID, sent: Date(),
                                         reference: .init(distributionID: envelope.distributionID))
        }
        if let data = try? HubMessages.encode(reply) {
            dispatch(data, routingKey: client, contentType: "application/json", persistent: true)
        }
    }

    public func consume(queues names: [String], _ handler: @escaping @Sendable (HubDelivery) async -> HubDisposition) async throws {
        while !Task.isCancelled {
            var delivered = false
            for name in names {
                let next = queues.withLockedValue { queues -> Data? in
                    guard var list = queues[name], !list.isEmpty else { return nil }
                    let first = list.removeFirst()
                    queues[name] = list
                    return first
                }
                if let body = next {
                    delivered = true
                    // A rejected message is dead-lettered (it leaves the queue); a requeued one goes back.
                    if await handler(HubDelivery(queue: name, body: body)) == .requeue { enqueue(name, body) }
                }
            }
            if !delivered { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }
}
