import Agenda
import Directory
import Foundation
@testable import HubLink
import Storage
import Testing
import Web

/// INT_L02: orientation events to the SAMU through Hub Santé — messages, schema rules, the Hub's dispatcher checks,
/// the outbox's order, retries and receipts.
@Suite("LRM link (INT_L02)")
struct HubLinkTests {
    static let sender = "fr.health.test.ptfsas"

    static func report(_ appointment: HubMessages.Appointment, recipient: String = "fr.health.samu690") throws -> Data {
        try HubMessages.encode(HubMessages.envelope(kind: "Report", sender: sender, recipient: recipient, sent: Date(), appointment: appointment))
    }

    static let appointment = HubMessages.Appointment(
        appointmentId: "2d2db05f-e2b0-4169-be8f-891806da2c74", method: "CreateAppointment",
        created: HubMessages.instant(Date()), start: HubMessages.instant(Date().addingTimeInterval(3_600)),
        end: nil, status: "booked", orientationCategory: "PS",
        practitioner: .init(rppsId: "810005681340", lastName: "MOREL", firstName: "Didier", specialityCode: "SM54"),
        organization: nil,
        regulator: .init(regulatorId: nil, regulatorName: "RICART", regulatorFirstname: "Pauline", regulatorEmail: "p.ricart@test.sas"))

    @Test("messages follow the schema rules; each broken rule is named with its path")
    func schemaRules() throws {
        #expect(HubValidation.problems(try Self.report(Self.appointment)).isEmpty)
        let instant = HubMessages.instant(Date(timeIntervalSince1970: 1_750_000_000))
        #expect(instant.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$"#, options: .regularExpression) != nil)
        var wrong = Self.appointment
        wrong.orientationCategory = "Medecin"
        wrong.practitioner?.rppsId = "10005681340"
        wrong.method = "createAppointment"
        let problems = HubValidation.problems(try Self.report(wrong))
        #expect(problems.contains { $0.contains("orientationCategory") && $0.contains("Medecin") })
        #expect(problems.contains { $0.contains("practitioner.rppsId") })
        #expect(problems.contains { $0.contains("appointment.method") })
        // Extra properties, a Z instant and a missing regulator are refused too.
        var object = try JSONSerialization.jsonObject(with: try Self.report(Self.appointment)) as! [String: Any]
        object["extra"] = 1
        object["dateTimeSent"] = "2026-11-28T10:00:00Z"
        var content = object["content"] as! [[String: Any]]
        var json = content[0]["jsonContent"] as! [String: Any]
        var embedded = json["embeddedJsonContent"] as! [String: Any]
        var message = embedded["message"] as! [String: Any]
        var payload = message["appointment"] as! [String: Any]
        payload.removeValue(forKey: "regulator")
        message["appointment"] = payload
        embedded["message"] = message
        json["embeddedJsonContent"] = embedded
        content[0]["jsonContent"] = json
        object["content"] = content
        let broken = HubValidation.problems(try JSONSerialization.data(withJSONObject: object))
        #expect(broken.contains("$.extra : propriété non autorisée"))
        #expect(broken.contains { $0.contains("dateTimeSent") })
        #expect(broken.contains { $0.hasSuffix("appointment.regulator : obligatoire") })
    }

    @Test("the Hub stand-in applies the dispatcher's checks in order and its LRM acknowledges, or refuses a second creation")
    func dispatcher() async throws {
        let hub = HubStandIn(simulateEverySAMU: true)
        hub.register(Self.sender)
        let good = try Self.report(Self.appointment)
        try await hub.publish(good, routingKey: "fr.health.autre", contentType: "application/json", persistent: true)
        try await hub.publish(good, routingKey: Self.sender, contentType: "text/plain", persistent: true)
        try await hub.publish(good, routingKey: Self.sender, contentType: "application/json", persistent: false)
        try await hub.publish(try Self.report(Self.appointment, recipient: "fr.health.inconnu"), routingKey: Self.sender,
                              contentType: "application/json", persistent: true)
        try await hub.publish(good, routingKey: Self.sender, contentType: "application/json", persistent: true)
        try await hub.publish(good, routingKey: Self.sender, contentType: "application/json", persistent: true)
        var update = Self.appointment
        update.appointmentId = "inconnu-jusqu-ici"
        update.method = "UpdateAppointment"
        update.status = "cancelled"
        try await hub.publish(try Self.report(update), routingKey: Self.sender, contentType: "application/json", persistent: true)
        hub.setUnreachable(true)
        await #expect(throws: HubTransportError.self) {
            try await hub.publish(good, routingKey: Self.sender, contentType: "application/json", persistent: true)
        }
        hub.setUnreachable(false)

        let received = NIOLockedBox<[HubDelivery]>([])
        let consumer = Task {
            try await hub.consume(queues: [Self.sender + ".ack", Self.sender + ".info", "fr.health.autre.info"]) { delivery in
                received.value.append(delivery)
                return .acknowledge
            }
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while received.value.count < 8 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        consumer.cancel()
        let envelopes = try received.value.map { try HubMessages.decode($0.body) }
        let errors = envelopes.compactMap { $0.message?.error?.errorCode.statusCode }
        #expect(errors.sorted() == [100, 101, 200, 409, 501], "\(errors)")
        #expect(envelopes.filter { $0.distributionKind == "Ack" }.count == 2, "a creation and an update of an unknown appointment")
        #expect(hub.appointments(at: "fr.health.samu690")["inconnu-jusqu-ici"]?.status == "cancelled")
        #expect(received.value.first { $0.queue == "fr.health.autre.info" } != nil, "a sender inconsistency goes to the routing key's queue")
    }

    /// An orientation of a regulator of territory 69, and the outbox over `db`.
    static func setUp(_ db: any Database, samu: String? = "fr.health.samu690") async throws -> (OrientationStore, HubOutbox, Orientation) {
        if let samu {
            _ = try await TerritoryStore(database: db, departments: try Departments.load()).update("69", samuClientID: samu, active: true, actor: "test")
        }
        let store = OrientationStore(database: db)
        var request = OrientationRequest(kind: .extra, practitionerIDNPS: "810101215225", offerName: "Dr Test")
        request.slotStart = Date().addingTimeInterval(3_600)
        let orientation = try await store.orient(request, regulatorID: "regulateur-1", regulatorEmail: "claire.martin@test.sas",
                                                 territory: "69", sourceAddress: nil)
        return (store, HubOutbox(database: db, senderID: sender, logger: TestDatabases.logger), orientation)
    }

    /// Delivers what waits in the platform's queues to the outbox.
    /// Consumes the platform's acknowledgement and error queues until `done` holds (at most 15 s: the whole suite
    /// shares two cores, a fixed pause was not always enough).
    static func drain(_ hub: HubStandIn, _ outbox: HubOutbox, until done: @Sendable () async throws -> Bool) async {
        let consumer = Task {
            try await hub.consume(queues: [sender + ".ack", sender + ".info"]) { await outbox.receive($0) }
        }
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if (try? await done()) == true { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        consumer.cancel()
        _ = try? await consumer.value
    }

    @Test("an orientation and its changes reach the SAMU in order, across a broker outage and a dead-lettered message",
          arguments: TestDatabases.engines)
    func outbox(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let hub = HubStandIn(simulateEverySAMU: true)
            hub.register(Self.sender)
            let (store, outbox, orientation) = try await Self.setUp(db)
            // Broker down: nothing sent, retried later; the cancellation made meanwhile waits for the creation.
            // One clock for the passes (the first retry is due 5 s after the failed attempt): with the wall clock, a
            // slow machine could let the retry fall due before the pass that expects it not to be.
            let t0 = Date()
            hub.setUnreachable(true)
            #expect(try await outbox.publishDue(through: hub, now: t0) == 0)
            _ = try await store.changeStatus(id: orientation.id, to: .cancelled, regulatorID: "regulateur-1", actor: "claire.martin@test.sas")
            #expect(try await outbox.publishDue(through: hub, now: t0) == 0)
            var deliveries = try await outbox.deliveries(orientationID: orientation.id)
            #expect(deliveries.map(\.state) == [.waiting, .waiting] && deliveries[0].attempts == 1)
            #expect(deliveries[0].label.contains("injoignable"))
            hub.setUnreachable(false)
            #expect(try await outbox.publishDue(through: hub, now: t0.addingTimeInterval(1)) == 0,
                    "the creation's retry is not due yet, and the update waits for it")
            // Later: the creation goes first, then the update (same pass, in order).
            #expect(try await outbox.publishDue(through: hub, now: t0.addingTimeInterval(10)) == 2)
            await Self.drain(hub, outbox, until: { try await outbox.deliveries(orientationID: orientation.id).allSatisfy { $0.state == .received } })
            deliveries = try await outbox.deliveries(orientationID: orientation.id)
            #expect(deliveries.map(\.state) == [.received, .received])
            #expect(deliveries.allSatisfy { $0.recipient == "fr.health.samu690" })
            let held = try #require(hub.appointments(at: "fr.health.samu690")[orientation.id])
            #expect(held.status == "cancelled" && held.method == "UpdateAppointment")
            #expect(held.regulator.regulatorEmail == "claire.martin@test.sas")
            #expect(held.orientationCategory == "PS" && held.practitioner == nil, "no directory entry: the practitioner is left out")

            // A message that expires in the SAMU's queue (500) is sent again with a new distribution id.
            let (_, _, second) = try await Self.setUp(db, samu: nil)
            hub.deadLetter(next: 1)
            #expect(try await outbox.publishDue(through: hub) == 1)
            let first = try #require(try await outbox.deliveries(orientationID: second.id).first?.distributionID)
            await Self.drain(hub, outbox, until: { try await outbox.deliveries(orientationID: second.id).first?.errorCode == 500 })
            var again = try await outbox.deliveries(orientationID: second.id)
            #expect(again[0].state == .waiting && again[0].errorCode == 500)
            #expect(try await outbox.publishDue(through: hub) == 1)
            await Self.drain(hub, outbox, until: { try await outbox.deliveries(orientationID: second.id).first?.state == .received })
            again = try await outbox.deliveries(orientationID: second.id)
            #expect(again[0].state == .received && again[0].distributionID != first)
        }
    }

    @Test("no SAMU for the territory: kept and sent once configured; a recipient unknown to the Hub is an error not retried",
          arguments: TestDatabases.engines)
    func routing(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let hub = HubStandIn(simulateEverySAMU: true)
            hub.register(Self.sender)
            let (_, outbox, orientation) = try await Self.setUp(db, samu: nil)
            #expect(try await outbox.publishDue(through: hub) == 0)
            #expect(try await outbox.deliveries(orientationID: orientation.id).first?.state == .unconfigured)
            _ = try await TerritoryStore(database: db, departments: try Departments.load())
                .update("69", samuClientID: "fr.health.inconnu", active: true, actor: "test")
            #expect(try await outbox.publishDue(through: hub, now: Date().addingTimeInterval(31)) == 1)
            await Self.drain(hub, outbox, until: { try await outbox.deliveries(orientationID: orientation.id).first?.state == .error })
            let failed = try #require(try await outbox.deliveries(orientationID: orientation.id).first)
            #expect(failed.state == .error && failed.errorCode == 501)
            #expect(try await outbox.publishDue(through: hub, now: Date().addingTimeInterval(3_600)) == 0, "not retried blindly")
            // Corrected and sent again from the console.
            _ = try await TerritoryStore(database: db, departments: try Departments.load())
                .update("69", samuClientID: "fr.health.samu690", active: true, actor: "test")
            #expect(try await outbox.retry(eventID: failed.eventID, actor: "admin"))
            #expect(try await outbox.publishDue(through: hub) == 1)
            await Self.drain(hub, outbox, until: { try await outbox.deliveries(orientationID: orientation.id).first?.state == .received })
            #expect(try await outbox.deliveries(orientationID: orientation.id).first?.state == .received)
        }
    }
}

/// The INT_L02 console on a node whose link runs on the in-process Hub.
@Suite("LRM link console")
struct HubConsoleTests {
    @Test("/admin/hub lists the deliveries; a refused one is sent again with « Renvoyer » once the cause is fixed")
    func console() async throws {
        try await IdentityEnvironment.with(settings: ["hub.mode": "standin", "hub.poll_seconds": "1"]) { env in
            let db = env.platform.app.database
            let territories = TerritoryStore(database: db, departments: try Departments.load())
            _ = try await territories.update("69", samuClientID: "fr.health.inconnu", active: true, actor: "test")
            let (_, outbox, orientation) = try await HubLinkTests.setUp(db, samu: nil)
            func state() async throws -> HubOutbox.State? {
                let deliveries = try await outbox.deliveries(orientationID: orientation.id)
                return deliveries.first?.state
            }
            var deadline = ContinuousClock.now + .seconds(20)
            while try await state() != .error && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await state() == .error, "the Hub knows no such SAMU: 501")

            let browser = try await env.nationalAdministrator()
            let page = try await browser.request(env.base + "/admin/hub")
            #expect(page.status == 200 && page.body.contains("data-etat=\"erreur\"") && page.body.contains("501"))
            let csrf = try #require(page.hidden("_csrf"))
            let event = try #require(try await outbox.deliveries(orientationID: orientation.id).first?.eventID)
            _ = try await territories.update("69", samuClientID: "fr.health.samu690", active: true, actor: "test")
            let retried = try await browser.request(env.base + "/admin/hub/\(event)/relancer", method: .POST, form: ["_csrf": csrf])
            #expect(retried.status == 303 && retried.location?.contains("remis") == true)
            deadline = ContinuousClock.now + .seconds(20)
            while try await state() != .received && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await state() == .received)
            let json = try await browser.request(env.base + "/admin/hub", headers: [("Accept", "application/json")])
            #expect(json.body.contains("\"state\":\"recu\""))
            // Nothing more to send for it, and other roles are refused.
            let again = try await browser.request(env.base + "/admin/hub/\(event)/relancer", method: .POST, form: ["_csrf": csrf])
            #expect(again.location?.contains("Rien") == true)
            try await browser.shutdown()
            #expect(try await env.browser.request(env.base + "/admin/hub").status != 200)
        }
    }
}
