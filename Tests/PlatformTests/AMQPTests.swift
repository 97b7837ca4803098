import AMQP
import Agenda
import Directory
import Foundation
@testable import HubLink
import NIOCore
import Storage
import TLS
import Testing
import Web

/// The AMQP 0-9-1 client against a real RabbitMQ shaped like Hub Santé (started by the test script: TLS with the
/// dev PKI, certificate login from the CN, the Hub's exchanges, queues and per-client permissions). Runs when
/// `SAS_TEST_AMQP_PKI` names the broker's PKI (the CI script always sets it).
@Suite("AMQP client against RabbitMQ (Hub Santé shape)",
       .enabled(if: ProcessInfo.processInfo.environment["SAS_TEST_AMQP_PKI"] != nil), .serialized)
struct AMQPTests {
    static let environment = ProcessInfo.processInfo.environment
    static var pki: DevPKIFiles { DevPKIFiles(directory: URL(fileURLWithPath: environment["SAS_TEST_AMQP_PKI"] ?? "/nonexistent")) }
    static var tlsPort: Int { Int(environment["SAS_TEST_AMQP_TLS_PORT"] ?? "") ?? 5671 }
    static var plainPort: Int { Int(environment["SAS_TEST_AMQP_PORT"] ?? "") ?? 5672 }
    static let vhost = "15-SAS"
    static let platform = "fr.health.test.ptfsas"
    static let samu = "fr.health.samu690"

    /// A platform node publishing to the test broker with the platform's certificate.
    static var amqpNode: [String: String] {
        ["hub.mode": "amqp", "hub.amqp_url": "amqps://127.0.0.1:\(tlsPort)/\(vhost)",
         "hub.tls.certificate": pki.certificatePath(platform), "hub.tls.key": pki.keyPath(platform),
         "hub.tls.ca": pki.caChainPath, "hub.client_id": platform, "hub.poll_seconds": "1"]
    }

    static func configuration(_ client: String) throws -> AMQPConnection.Configuration {
        let tls = try TLSConfigurations.client(caPath: pki.caChainPath, certificatePath: pki.certificatePath(client),
                                               keyPath: pki.keyPath(client))
        // Heartbeats every 30 s (the client's default): with 5 s, the broker and the client starved of CPU at the
        // start of the parallel suite once went two periods without a frame and the link closed mid-test; the
        // heartbeat test sets its own short period. For the same reason the opening (TCP, TLS, AMQP) gets 30 s
        // instead of 10 here, and the test script raises the broker's handshake limits (its 5 s TLS / 10 s AMQP
        // defaults dropped, without a word, connections opened while the whole suite was starting on 2 cores).
        return AMQPConnection.Configuration(host: "127.0.0.1", port: tlsPort, tls: tls, serverName: "localhost", virtualHost: vhost,
                                            authentication: .external, connectTimeout: .seconds(25))
    }

    /// Collects a consumer's deliveries in the background (cancelling a stream's iterator would end the stream).
    final class Collector: Sendable {
        let received = NIOLockedBox<[AMQPDelivery]>([])
        let task: Task<Void, Never>
        init(_ stream: AsyncThrowingStream<AMQPDelivery, any Error>) {
            let received = self.received
            task = Task { do { for try await delivery in stream { received.value.append(delivery) } } catch {} }
        }
        func take(within seconds: Double = 10) async throws -> AMQPDelivery? {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                let next = received.withValue { list -> AMQPDelivery? in list.isEmpty ? nil : list.removeFirst() }
                if let next { return next }
                try await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }
    }

    @Test("certificate login, confirmed persistent publish, manual acks, permissions and refusals as errors, PLAIN login")
    func protocolAndPermissions() async throws {
        let publisher = try await AMQPConnection.connect(try Self.configuration(Self.platform))
        let dispatcher = try await AMQPConnection.connect(try Self.configuration("dispatcher"))
        #expect(try await publisher.declarePassive(queue: Self.platform + ".ack") >= 0)
        await #expect(throws: AMQPError.self) { _ = try await publisher.declarePassive(queue: "file.inexistante") }
        let (channel, stream) = try await dispatcher.consume(queue: "dispatch")
        let deliveries = Collector(stream)
        // Whatever an earlier run left in the queue goes first.
        while let leftover = try await deliveries.take(within: 1) { dispatcher.ack(leftover, channel: channel) }
        let body = ByteBuffer(string: "{\"essai\":\"\(UUID().uuidString)\"}")
        try await publisher.publish(body, exchange: "hubsante", routingKey: Self.platform, contentType: "application/json", persistent: true)
        let delivery = try #require(try await deliveries.take())
        #expect(delivery.body == body && delivery.routingKey == Self.platform)
        #expect(delivery.contentType == "application/json" && delivery.persistent)
        dispatcher.ack(delivery, channel: channel)
        // A large message crosses several frames.
        let large = ByteBuffer(string: String(repeating: "x", count: 400_000))
        try await publisher.publish(large, exchange: "hubsante", routingKey: Self.platform, contentType: "application/json", persistent: true)
        let big = try #require(try await deliveries.take())
        #expect(big.body.readableBytes == 400_000)
        dispatcher.ack(big, channel: channel)
        // Publishing with another client's routing key is refused by the broker (topic permission): an error, and the
        // connection is then closed for publishing.
        await #expect(throws: AMQPError.self) {
            try await publisher.publish(body, exchange: "hubsante", routingKey: Self.samu, contentType: "application/json", persistent: true)
        }
        await publisher.close()
        await dispatcher.close()
        // A certificate whose CN is not a user, and a wrong PLAIN password, are refused; PLAIN with the right one works.
        await #expect(throws: (any Error).self) { _ = try await AMQPConnection.connect(try Self.configuration("intrus")) }
        var plain = AMQPConnection.Configuration(host: "127.0.0.1", port: Self.plainPort, tls: nil, virtualHost: Self.vhost,
                                                 authentication: .plain(username: "sas-plain", password: "mauvais"))
        await #expect(throws: (any Error).self) { _ = try await AMQPConnection.connect(plain) }
        plain.authentication = .plain(username: "sas-plain", password: "mot-de-passe-plain")
        let plainConnection = try await AMQPConnection.connect(plain)
        try await plainConnection.publish(body, exchange: "hubsante", routingKey: "sas-plain", contentType: "application/json", persistent: true)
        await plainConnection.close()
        // Drain what the PLAIN user published.
        let drain = try await AMQPConnection.connect(try Self.configuration("dispatcher"))
        let (drainChannel, rest) = try await drain.consume(queue: "dispatch")
        let remaining = Collector(rest)
        while let leftover = try await remaining.take(within: 1) { drain.ack(leftover, channel: drainChannel) }
        await drain.close()
    }

    /// The Hub's dispatcher over RabbitMQ: reads `dispatch`, applies the checks, writes to `distribution`.
    static func runDispatcher() async throws {
        let connection = try await AMQPConnection.connect(try Self.configuration("dispatcher"))
        let (channel, deliveries) = try await connection.consume(queue: "dispatch")
        // Cancelled: the connection is closed, so that no consumer outlives the test holding messages.
        try await withTaskCancellationHandler {
            try await dispatch(deliveries, connection: connection, channel: channel)
        } onCancel: {
            Task { await connection.close() }
        }
    }

    static func dispatch(_ deliveries: AsyncThrowingStream<AMQPDelivery, any Error>, connection: AMQPConnection, channel: UInt16) async throws {
        for try await delivery in deliveries {
            let body = Data(buffer: delivery.body)
            switch HubRouting.decide(body, routingKey: delivery.routingKey, contentType: delivery.contentType, persistent: delivery.persistent,
                                     exists: { [Self.platform, Self.samu].contains($0) }) {
            case .route(_, let queue):
                try await connection.publish(delivery.body, exchange: "distribution", routingKey: queue, contentType: "application/json",
                                             persistent: true)
            case .error(let code, let label, let cause, let referenced):
                let error = try HubRouting.errorMessage(code, label, cause: cause, to: delivery.routingKey, referenced: referenced)
                try await connection.publish(ByteBuffer(bytes: error), exchange: "distribution", routingKey: delivery.routingKey + ".info",
                                             contentType: "application/json", persistent: true)
            }
            connection.ack(delivery, channel: channel)
        }
    }

    /// The SAMU's LRM: acknowledges every appointment it receives.
    static func runLRM(received: NIOLockedBox<[String]>) async throws {
        let connection = try await AMQPConnection.connect(try Self.configuration(Self.samu))
        let (channel, deliveries) = try await connection.consume(queue: Self.samu + ".message")
        try await withTaskCancellationHandler {
            try await acknowledge(deliveries, connection: connection, channel: channel, received: received)
        } onCancel: {
            Task { await connection.close() }
        }
    }

    static func acknowledge(_ deliveries: AsyncThrowingStream<AMQPDelivery, any Error>, connection: AMQPConnection, channel: UInt16,
                            received: NIOLockedBox<[String]>) async throws {
        for try await delivery in deliveries {
            let envelope = try HubMessages.decode(Data(buffer: delivery.body))
            if let appointment = envelope.message?.appointment {
                received.withValue { $0.append(appointment.appointmentId + " " + appointment.status) }
            }
            let ack = HubMessages.envelope(kind: "Ack", sender: Self.samu, recipient: envelope.senderID, sent: Date(),
                                           reference: .init(distributionID: envelope.distributionID))
            try await connection.publish(ByteBuffer(bytes: try HubMessages.encode(ack)), exchange: "hubsante", routingKey: Self.samu,
                                         contentType: "application/json", persistent: true)
            connection.ack(delivery, channel: channel)
        }
    }

    @Test("an orientation goes through RabbitMQ to the SAMU's LRM and its acknowledgement comes back", arguments: [SQLDialect.sqlite])
    func hubLinkOverRabbitMQ(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let received = NIOLockedBox<[String]>([])
            let dispatcher = Task { try await Self.runDispatcher() }
            let lrm = Task { try await Self.runLRM(received: received) }
            let transport = AMQPHubTransport(configuration: try Self.configuration(Self.platform), logger: TestDatabases.logger)
            let (store, outbox, orientation) = try await HubLinkTests.setUp(db)
            let consumer = Task {
                try await transport.consume(queues: [Self.platform + ".ack", Self.platform + ".info"]) { await outbox.receive($0) }
            }
            #expect(try await outbox.publishDue(through: transport) == 1)
            _ = try await store.changeStatus(id: orientation.id, to: .cancelled, regulatorID: "regulateur-1", actor: "claire.martin@test.sas")
            #expect(try await outbox.publishDue(through: transport) == 1)
            let deadline = ContinuousClock.now + .seconds(20)
            while try await outbox.deliveries(orientationID: orientation.id).contains(where: { $0.state != .received })
                    && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await outbox.deliveries(orientationID: orientation.id).map(\.state) == [.received, .received])
            #expect(received.value.map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["booked", "cancelled"], "in order")
            consumer.cancel()
            dispatcher.cancel()
            lrm.cancel()
            await transport.shutdown()
        }
    }

    @Test("a platform node with hub.mode = amqp publishes its orientations to the broker and records the SAMU's acknowledgements")
    func platformNode() async throws {
        let received = NIOLockedBox<[String]>([])
        let dispatcher = Task { try await Self.runDispatcher() }
        let lrm = Task { try await Self.runLRM(received: received) }
        let platform = try await RunningPlatform.start(settings: Self.amqpNode)
        var failure: (any Error)?
        do {
            let db = platform.app.database
            let (_, outbox, orientation) = try await HubLinkTests.setUp(db)
            let deadline = ContinuousClock.now + .seconds(30)
            while try await outbox.deliveries(orientationID: orientation.id).first?.state != .received && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let last = try await outbox.deliveries(orientationID: orientation.id).first
            #expect(last?.state == .received, "\(String(describing: last))")
            #expect(received.value.map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["booked"])
        } catch { failure = error }
        try? await platform.stop()
        dispatcher.cancel()
        lrm.cancel()
        if let failure { throw failure }
    }

    /// Runs `body` again after each failure (a broker restart) until cancelled.
    static func keepRunning(_ body: @escaping @Sendable () async throws -> Void) async {
        while !Task.isCancelled {
            do { try await body() } catch {}
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    static func rabbitmqctl(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/rabbitmqctl")
        process.arguments = ["-n", environment["SAS_TEST_AMQP_NODE"] ?? ""] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw AMQPError("rabbitmqctl \(arguments) : \(process.terminationStatus)") }
    }

    @Test("1,000 orientation events reach the LRM once each, in order per appointment, across a broker restart; a message the Hub refuses is recorded as error 300; the node keeps serving",
          .enabled(if: ProcessInfo.processInfo.environment["SAS_TEST_AMQP_NODE"] != nil))
    func thousandEventsAcrossRestart() async throws {
        let received = NIOLockedBox<[String]>([])
        let dispatcher = Task { await Self.keepRunning { try await Self.runDispatcher() } }
        let lrm = Task { await Self.keepRunning { try await Self.runLRM(received: received) } }
        let platform = try await RunningPlatform.start(settings: Self.amqpNode)
        var failure: (any Error)?
        do {
            let db = platform.app.database
            _ = try await TerritoryStore(database: db, departments: try Departments.load()).update("69", samuClientID: Self.samu, active: true, actor: "test")
            let store = OrientationStore(database: db)
            var ids: [String] = []
            for i in 0..<500 {
                var request = OrientationRequest(kind: .extra, practitionerIDNPS: "810101215225", offerName: "Dr Test \(i)")
                request.slotStart = Date().addingTimeInterval(3_600)
                let orientation = try await store.orient(request, regulatorID: "regulateur-1", regulatorEmail: "claire.martin@test.sas",
                                                         territory: "69", sourceAddress: nil)
                _ = try await store.changeStatus(id: orientation.id, to: .cancelled, regulatorID: "regulateur-1", actor: "claire.martin@test.sas")
                ids.append(orientation.id)
                if i == 250 {
                    // Mid-run: the broker stops; the node keeps answering searches; the broker comes back.
                    try Self.rabbitmqctl("stop_app")
                    let client = try platform.makeClient()
                    #expect(try await client.fetch(platform.baseURL + "/healthz").status == 200)
                    let (_, secret) = try await platform.app.apiTokens.create(name: "essai", scopes: [APIScope.search], actor: "test")
                    let search = try await client.fetch(platform.baseURL + "/api/v1/search?what=generaliste&where=Lyon",
                                                        headers: [("Authorization", "Bearer \(secret)")])
                    #expect(search.status == 200, "\(search.body.prefix(300))")
                    try await client.shutdown()
                    try await Task.sleep(for: .seconds(2))
                    try Self.rabbitmqctl("start_app")
                }
            }
            let outbox = platform.app.hubOutbox
            let deadline = ContinuousClock.now + .seconds(180)
            func pending() async throws -> Int {
                try await db.query("SELECT COUNT(*) AS n FROM hub_deliveries WHERE state <> 'recu'").first?["n"].intValue ?? -1
            }
            while try await pending() != 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(500)) }
            let delivered = try await db.query("SELECT COUNT(*) AS n FROM hub_deliveries WHERE state = 'recu'").first?["n"].intValue
            #expect(delivered == 1_000)
            // Each entry once (or repeated identically after an uncertain confirm), in order per appointment.
            let seen = received.value
            #expect(Set(seen).count == 1_000)
            var firstCancel: [String: Int] = [:], lastBooked: [String: Int] = [:]
            for (index, line) in seen.enumerated() {
                let parts = line.split(separator: " ").map(String.init)
                if parts[1] == "cancelled" { firstCancel[parts[0]] = firstCancel[parts[0]] ?? index } else { lastBooked[parts[0]] = index }
            }
            #expect(ids.allSatisfy { (lastBooked[$0] ?? .max) < (firstCancel[$0] ?? -1) }, "booked before cancelled for every appointment")

            // A message the Hub refuses (schema) comes back as error 300 on the platform's info queue.
            var request = OrientationRequest(kind: .extra, practitionerIDNPS: "810101215225", offerName: "Dr Refus")
            request.slotStart = Date().addingTimeInterval(3_600)
            let refused = try await store.orient(request, regulatorID: "regulateur-1", regulatorEmail: "claire.martin@test.sas",
                                                 territory: "75", sourceAddress: nil)
            try await Task.sleep(for: .seconds(2))
            let distributionID = HubMessages.distributionID(sender: Self.platform)
            try await db.query("UPDATE hub_deliveries SET state = 'envoye', distribution_id = ? WHERE orientation_id = ?",
                               [.text(distributionID), .text(refused.id)])
            var broken = HubLinkTests.appointment
            broken.orientationCategory = "Medecin"
            let envelope = HubMessages.envelope(kind: "Report", sender: Self.platform, recipient: Self.samu, sent: Date(),
                                                distributionID: distributionID, appointment: broken)
            try await platform.app.hubTransport!.publish(try HubMessages.encode(envelope), routingKey: Self.platform,
                                                          contentType: "application/json", persistent: true)
            let until = ContinuousClock.now + .seconds(30)
            while try await outbox.deliveries(orientationID: refused.id).first?.state != .error && ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(200))
            }
            let error = try await outbox.deliveries(orientationID: refused.id).first
            #expect(error?.state == .error && error?.errorCode == 300, "\(String(describing: error))")
        } catch { failure = error }
        try? await platform.stop()
        dispatcher.cancel()
        lrm.cancel()
        if let failure { throw failure }
    }

    @Test("heartbeats keep an idle connection open past two of the broker's periods")
    func heartbeats() async throws {
        var configuration = try Self.configuration(Self.platform)
        configuration.heartbeat = 1
        let connection = try await AMQPConnection.connect(configuration)
        try await Task.sleep(for: .seconds(4))
        #expect(connection.isOpen)
        try await connection.publish(ByteBuffer(string: "{}"), exchange: "hubsante", routingKey: Self.platform,
                                     contentType: "application/json", persistent: true)
        await connection.close()
        // Drain it.
        let drain = try await AMQPConnection.connect(try Self.configuration("dispatcher"))
        let (channel, stream) = try await drain.consume(queue: "dispatch")
        let rest = Collector(stream)
        while let leftover = try await rest.take(within: 1) { drain.ack(leftover, channel: channel) }
        await drain.close()
    }
}
