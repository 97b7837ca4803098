import Agenda
import AsyncHTTPClient
import Foundation
import Identity
import NIOCore
import NIOHTTP1
import SASDomain
import Storage
import Testing
import TLS
import Web

@Suite("INT_R03: appointments from vendors over mTLS")
struct AppointmentFlowTests {
    static let regulatorIDNPS = "8" + RPPS.withCheckDigit("9970000011")
    static let practitioner = "8" + RPPS.withCheckDigit("1000000099")

    struct Env {
        let platform: RunningPlatform
        let pki: DevPKIFiles
        let orientationID: String
        let start: Date
    }

    static func with(_ dialect: SQLDialect = .sqlite, _ body: (Env) async throws -> Void) async throws {
        var databaseURL: String?
        var dropDatabase: (@Sendable () async -> Void)?
        if dialect == .postgres {
            let fresh = try await TestDatabases.freshURL(.postgres)
            (databaseURL, dropDatabase) = (fresh.url, fresh.cleanup)
        }
        defer { if let dropDatabase { Task { await dropDatabase() } } }
        let directory = TestScratch.url("sas-r03-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pki = DevPKIFiles(directory: directory)
        let ca = try pki.initialise()
        try pki.issue("platform", with: ca, profile: .server, commonName: "localhost", organizationalUnit: "PLATEFORME SAS",
                      hostNames: ["localhost", "127.0.0.1"])
        try pki.issue("agendaplus", with: ca, profile: .client, commonName: "agendaplus.test", organizationalUnit: "EDITEUR A")
        try pki.issue("rdvmed", with: ca, profile: .client, commonName: "rdvmed.test", organizationalUnit: "EDITEUR B")
        let platform = try await RunningPlatform.start(databaseURL: databaseURL, settings: [
            "fhir.tls.certificate": pki.certificatePath("platform"), "fhir.tls.key": pki.keyPath("platform"),
            "fhir.tls.client_ca": pki.caChainPath,
            "fhir.tls.allowed_clients": "CN=agendaplus.test/OU=EDITEUR A/PARTY=agendaplus;CN=rdvmed.test/OU=EDITEUR B/PARTY=rdvmed",
        ])
        do {
            let account = try await platform.app.identity.accounts.create(
                email: "regul@test.sas", displayName: "Dr Régulateur", idnps: regulatorIDNPS, roles: [.regulator],
                passwordHash: nil, actor: "test")
            let start = Date().addingTimeInterval(4 * 3_600).rounded15()
            let orientation = try await OrientationStore(database: platform.app.database).orient(
                OrientationRequest(kind: .vendor, practitionerIDNPS: practitioner, offerName: "Dr Effecteur", vendor: "agendaplus",
                                   slotStart: start, slotEnd: start.addingTimeInterval(900),
                                   bookingURL: "https://agendaplus.test/rdv/x?origin=sas"),
                regulatorID: account.id, regulatorEmail: account.email, sourceAddress: nil)
            try await body(Env(platform: platform, pki: pki, orientationID: orientation.id, start: start))
        } catch {
            try? await platform.stop()
            throw error
        }
        try await platform.stop()
    }

    /// The IG's example, with this test's regulator, practitioner and times.
    static func appointment(identifier: String = "b6e39355-8a61-4556-b340-36f7b95fec6a", status: String = "booked",
                            start: Date, operatorValue: String = regulatorIDNPS, edit: ((inout [String: Any]) -> Void)? = nil) -> Data {
        let iso = ISO8601DateFormatter()
        iso.timeZone = TimeZone(identifier: "Europe/Paris")
        var object: [String: Any] = [
            "resourceType": "Appointment", "meta": ["profile": ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]],
            "extension": [["url": "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator",
                           "valueReference": ["identifier": [
                            "type": ["coding": [["system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"]]],
                            "system": "urn:oid:1.2.250.1.71.4.2.1", "value": operatorValue]]]],
            "identifier": [["system": "urn:oid:1.1.111.1.11.1.1.1", "value": identifier]],
            "status": status, "start": iso.string(from: start), "end": iso.string(from: start.addingTimeInterval(900)),
            "created": iso.string(from: Date()),
            "participant": [["actor": ["identifier": [
                "type": ["coding": [["system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"]]],
                "system": "urn:oid:1.2.250.1.71.4.2.1", "value": practitioner]], "status": "accepted"]],
        ]
        edit?(&object)
        return try! JSONSerialization.data(withJSONObject: object)
    }

    static func send(_ client: HTTPClient, _ url: String, method: HTTPMethod = .POST, _ body: Data,
                     headers: [(String, String)] = []) async throws -> (status: Int, body: String, location: String?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/fhir+json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text, response.headers.first(name: "Location"))
    }

    static func orientationStatus(_ env: Env) async throws -> String? {
        try await env.platform.app.database.query("SELECT status FROM orientations WHERE id = ?", [.text(env.orientationID)])
            .first?.optionalString("status")
    }

    @Test("The IG's example booked then cancelled: 201 then 200, matched to the regulator's orientation, idempotent",
          arguments: TestDatabases.engines)
    func bookedThenCancelled(dialect: SQLDialect) async throws {
        try await Self.with(dialect) { env in
            let client = try env.platform.makeClient(pki: env.pki, identity: "agendaplus")
            defer { Task { try? await client.shutdown() } }
            let base = env.platform.fhirBaseURL
            let created = try await Self.send(client, base + "/Appointment", Self.appointment(start: env.start))
            #expect(created.status == 201, "\(created.body)")
            #expect(created.location?.hasPrefix("Appointment/") == true)
            #expect(try await Self.orientationStatus(env) == "confirme")
            let again = try await Self.send(client, base + "/Appointment", Self.appointment(start: env.start))
            #expect(again.status == 200)
            let cancelled = try await Self.send(
                client, base + "/Appointment?identifier=urn:oid:1.1.111.1.11.1.1.1%7Cb6e39355-8a61-4556-b340-36f7b95fec6a",
                method: .PUT, Self.appointment(status: "cancelled", start: env.start))
            #expect(cancelled.status == 200, "\(cancelled.body)")
            #expect(cancelled.body.contains("\"status\":\"cancelled\""))
            #expect(try await Self.orientationStatus(env) == "annule")
            let rows = try await env.platform.app.database.query("SELECT COUNT(*) AS n FROM appointments")
            #expect(try rows.first?.int("n") == 1)
            // A conditional PUT on an unknown identifier creates (updateCreate), unmatched when nobody oriented it.
            let fresh = try await Self.send(client, base + "/Appointment?Identifier=urn:oid:1.1.111.1.11.1.1.1%7Cautre",
                                            method: .PUT, Self.appointment(identifier: "autre", start: env.start.addingTimeInterval(86_400)))
            #expect(fresh.status == 201)
            let unmatched = try await env.platform.app.database.query(
                "SELECT orientation_id FROM appointments WHERE identifier_value = 'autre'")
            #expect(unmatched.first?.optionalString("orientation_id") == nil, "kept and flagged as not matched")
            // An orientation is completed by one appointment only: a second one at the same time stays unmatched.
            let second = try await Self.send(client, base + "/Appointment", Self.appointment(identifier: "second", start: env.start))
            #expect(second.status == 201)
            let secondRow = try await env.platform.app.database.query(
                "SELECT orientation_id FROM appointments WHERE identifier_value = 'second'")
            #expect(secondRow.first?.optionalString("orientation_id") == nil)
            #expect(try await Self.orientationStatus(env) == "annule", "the first appointment's status stays")
            let audit = try await env.platform.app.database.query(
                "SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'editeur:agendaplus'")
            #expect(try audit.first?.int("n") == 4, "create, update, create, create (the idempotent repeat writes nothing)")
            // The orientation's history: created by the regulator, then the vendor's two reports (not the repeat).
            let history = try await OrientationStore(database: env.platform.app.database).history(id: env.orientationID)
            #expect(history.map(\.kind) == [.created, .appointment, .appointment])
            #expect(history.map(\.status) == [.inProgress, .booked, .cancelled])
            #expect(history.last?.actor == "editeur:agendaplus")
            // Counted in the activity figures: two appointments from this vendor, one cancelled.
            let report = try await ActivityStore(database: env.platform.app.database)
                .report(from: Date().addingTimeInterval(-86_400), to: Date().addingTimeInterval(86_400), territories: nil)
            #expect(report.totals("rendez_vous", by: \.vendor).map { "\($0.key)=\($0.count)" } == ["agendaplus=3"])
            #expect(report.totals("rendez_vous", by: \.status).map { "\($0.key)=\($0.count)" } == ["booked=2", "cancelled=1"])
            #expect(abs((report.appointmentCancellationRate ?? 0) - 1.0 / 3.0) < 1e-9)
        }
    }

    @Test("Malformed appointments: 400 or 422 with an OperationOutcome naming the element")
    func malformed() async throws {
        try await Self.with { env in
            let client = try env.platform.makeClient(pki: env.pki, identity: "agendaplus")
            defer { Task { try? await client.shutdown() } }
            let url = env.platform.fhirBaseURL + "/Appointment"
            let cases: [(String, Int, String, (inout [String: Any]) -> Void)] = [
                ("no identifier", 400, "Appointment.identifier", { $0["identifier"] = nil }),
                ("no status", 400, "Appointment.status", { $0["status"] = nil }),
                ("unknown status", 422, "Appointment.status", { $0["status"] = "arrived" }),
                ("no end", 400, "Appointment.start", { $0["end"] = nil }),
                ("end before start", 422, "Appointment.end", { $0["end"] = "2020-01-01T00:00:00+01:00" }),
                ("no operator", 400, "appointmentOperator", { $0["extension"] = nil }),
                ("no participant", 400, "Appointment.participant", { $0["participant"] = nil }),
                ("participant pending", 422, "participant.status", { o in
                    var p = (o["participant"] as! [[String: Any]])[0]; p["status"] = "needs-action"; o["participant"] = [p] }),
                ("a patient", 422, "patient", { o in
                    o["participant"] = [["actor": ["reference": "Patient/1"], "status": "accepted"]] }),
                ("bad RPPS", 422, "IDNPS", { o in
                    o["participant"] = [["actor": ["identifier": ["type": ["coding": [["code": "IDNPS"]]], "value": "812345"]], "status": "accepted"]] }),
            ]
            for (label, status, mention, edit) in cases {
                let answer = try await Self.send(client, url, Self.appointment(start: env.start, edit: edit))
                #expect(answer.status == status, "\(label): \(answer.status) \(answer.body)")
                #expect(answer.body.contains("OperationOutcome") && answer.body.contains(mention), "\(label): \(answer.body)")
            }
            let notJSON = try await Self.send(client, url, Data("<Appointment/>".utf8))
            #expect(notJSON.status == 400 && notJSON.body.contains("OperationOutcome"))
            let mismatch = try await Self.send(client, url + "?identifier=urn:oid:1.1.111.1.11.1.1.1%7Cautre", method: .PUT,
                                               Self.appointment(start: env.start))
            #expect(mismatch.status == 422)
            let noKey = try await Self.send(client, url, method: .PUT, Self.appointment(start: env.start))
            #expect(noKey.status == 400)
            let rows = try await env.platform.app.database.query("SELECT COUNT(*) AS n FROM appointments")
            #expect(try rows.first?.int("n") == 0, "nothing stored from a refused request")
        }
    }

    @Test("20 concurrent identical POSTs leave one appointment; another vendor cannot write it; stale If-Match is refused",
          arguments: TestDatabases.engines)
    func concurrencyAndOwnership(dialect: SQLDialect) async throws {
        try await Self.with(dialect) { env in
            // Twenty requests share the client's pool: on a loaded machine a request may wait for a connection a while.
            let client = try env.platform.makeClient(pki: env.pki, identity: "agendaplus", connectTimeout: .seconds(60))
            defer { Task { try? await client.shutdown() } }
            let url = env.platform.fhirBaseURL + "/Appointment"
            let body = Self.appointment(identifier: "concurrent", start: env.start)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await Self.send(client, url, body).status } }
                var all: [Int] = []
                for try await s in group { all.append(s) }
                return all
            }
            #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == 201 || $0 == 200 })
            let rows = try await env.platform.app.database.query("SELECT COUNT(*) AS n FROM appointments")
            #expect(try rows.first?.int("n") == 1)

            let other = try env.platform.makeClient(pki: env.pki, identity: "rdvmed")
            defer { Task { try? await other.shutdown() } }
            let stolen = try await Self.send(other, url + "?identifier=urn:oid:1.1.111.1.11.1.1.1%7Cconcurrent", method: .PUT,
                                             Self.appointment(identifier: "concurrent", status: "cancelled", start: env.start))
            #expect(stolen.status == 409, "\(stolen.body)")
            #expect(stolen.body.contains("autre éditeur"))
            #expect(try await Self.orientationStatus(env) == "confirme", "the other vendor changed nothing")

            let stale = try await Self.send(client, url + "?identifier=urn:oid:1.1.111.1.11.1.1.1%7Cconcurrent", method: .PUT,
                                            Self.appointment(identifier: "concurrent", status: "fulfilled", start: env.start),
                                            headers: [("If-Match", "W/\"7\"")])
            #expect(stale.status == 412)
            let current = try await Self.send(client, url + "?identifier=urn:oid:1.1.111.1.11.1.1.1%7Cconcurrent", method: .PUT,
                                              Self.appointment(identifier: "concurrent", status: "fulfilled", start: env.start),
                                              headers: [("If-Match", "W/\"1\"")])
            #expect(current.status == 200)
            #expect(try await Self.orientationStatus(env) == "honore")
        }
    }
}

extension Date {
    /// Rounded down to a quarter of an hour.
    func rounded15() -> Date { Date(timeIntervalSince1970: (timeIntervalSince1970 / 900).rounded(.down) * 900) }
}
