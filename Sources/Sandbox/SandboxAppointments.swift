import AsyncHTTPClient
import FHIR
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SASDomain
import ServiceLifecycle

/// The vendor's appointments booked by regulators, and their report to the platform (INT_R03) as a real vendor must
/// do it: POST at booking, then a conditional PUT for each change (cancelled, fulfilled, no-show) from the
/// back-office; every report retried with backoff until the platform acknowledges it (2xx), except refusals (4xx other
/// than 408 and 429), which are kept with the platform's answer.
public final class SandboxAppointments: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case booked, cancelled, fulfilled, noshow

        public var label: String {
            switch self {
            case .booked: return "Pris"
            case .cancelled: return "Annulé"
            case .fulfilled: return "Honoré"
            case .noshow: return "Non honoré"
            }
        }
    }

    /// One appointment and where its report stands.
    public struct Entry: Sendable {
        public var id: String
        public var practitioner: IDNPS
        public var start: Date
        public var end: Date
        public var operatorType: String
        public var operatorSystem: String
        public var operatorValue: String
        public var operatorLabel: String
        public var status: Status
        /// Local changes, and the last one the platform acknowledged.
        public var version: Int
        public var acknowledgedVersion: Int
        /// True once the platform has it (the next reports are conditional PUTs).
        public var created: Bool
        public var attempts: Int
        public var nextAttempt: Date
        public var lastResult: String?
        /// The platform refused it for good (4xx): no more retries until the next change.
        public var refused: Bool
        public var pending: Bool { version > acknowledgedVersion && !refused }
    }

    let entries = NIOLockedValueBox<[String: Entry]>([:])
    let sending = NIOLockedValueBox<Set<String>>([])
    /// First retry delay (doubles up to `maximumDelay`).
    let baseDelay: TimeInterval
    let maximumDelay: TimeInterval

    public init(baseDelay: TimeInterval = 1, maximumDelay: TimeInterval = 60) {
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    public var all: [Entry] { entries.withLockedValue { Array($0.values) }.sorted { $0.start < $1.start } }
    public func entry(_ id: String) -> Entry? { entries.withLockedValue { $0[id] } }

    func add(_ entry: Entry) { entries.withLockedValue { $0[entry.id] = entry } }

    /// Records a status change (a new report to send at once). False when unknown or unchanged.
    @discardableResult
    public func change(_ id: String, to status: Status) -> Bool {
        entries.withLockedValue { entries in
            guard var entry = entries[id], entry.status != status else { return false }
            entry.status = status
            entry.version += 1
            entry.refused = false
            entry.attempts = 0
            entry.nextAttempt = Date()
            entries[id] = entry
            return true
        }
    }

    /// The ids whose report is due.
    func due(now: Date = Date()) -> [String] {
        entries.withLockedValue { $0.values.filter { $0.pending && $0.nextAttempt <= now }.map(\.id) }
    }

    /// The FrAppointmentSAS body of an entry.
    static func body(_ entry: Entry, vendorID: String) -> Appointment {
        var appointment = Appointment()
        appointment.meta = Meta(profile: ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"])
        let typeSystem = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
        appointment.appointmentOperator = Reference(identifier: Identifier(
            system: entry.operatorSystem, value: entry.operatorValue,
            type: CodeableConcept(coding: [Coding(system: typeSystem, code: entry.operatorType)])))
        appointment.identifier = [Identifier(system: identifierSystem(vendorID), value: entry.id)]
        appointment.status = entry.status.rawValue
        appointment.start = FHIRInstant(entry.start)
        appointment.end = FHIRInstant(entry.end)
        appointment.created = FHIRInstant(Date())
        appointment.participant = [Appointment.Participant(
            actor: Reference(identifier: Identifier(system: IdentifierSystem.idnps, value: entry.practitioner.value,
                                                    type: CodeableConcept(coding: [Coding(system: typeSystem, code: "IDNPS")]))),
            status: "accepted")]
        return appointment
    }

    static func identifierSystem(_ vendorID: String) -> String { "https://\(vendorID).sandbox.localhost/rendez-vous" }

    /// Sends one report (POST the first time, conditional PUT afterwards); returns the HTTP status, nil on a
    /// transport failure. Concurrent sends of one appointment are serialised by skipping.
    func send(_ id: String, base: String, vendorID: String, client: HTTPClient) async -> Int? {
        guard sending.withLockedValue({ $0.insert(id).inserted }) else { return nil }
        defer { _ = sending.withLockedValue { $0.remove(id) } }
        guard let entry = entry(id), entry.pending else { return nil }
        var request: HTTPClientRequest
        if entry.created {
            let token = (Self.identifierSystem(vendorID) + "|" + entry.id)
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? entry.id
            request = HTTPClientRequest(url: base + "/Appointment?identifier=" + token)
            request.method = .PUT
        } else {
            request = HTTPClientRequest(url: base + "/Appointment")
            request.method = .POST
        }
        request.headers.add(name: "Content-Type", value: "application/fhir+json")
        var status: Int?
        var result: String
        do {
            request.body = .bytes(ByteBuffer(bytes: try FHIRJSON.encode(Self.body(entry, vendorID: vendorID))))
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            status = Int(response.status.code)
            result = "\(request.method.rawValue) → HTTP \(response.status.code)"
        } catch {
            result = "\(request.method.rawValue) → \(error)"
        }
        entries.withLockedValue { entries in
            guard var current = entries[id] else { return }
            current.attempts += 1
            current.lastResult = result
            switch status {
            case .some(200...299):
                current.acknowledgedVersion = max(current.acknowledgedVersion, entry.version)
                current.created = true
                current.attempts = 0
            case .some(let code) where (400...499).contains(code) && code != 408 && code != 429:
                current.refused = true
            default:
                let delay = min(maximumDelay, baseDelay * pow(2, Double(max(0, current.attempts - 1))))
                current.nextAttempt = Date().addingTimeInterval(delay)
            }
            entries[id] = current
        }
        return status
    }
}

/// Sends the due INT_R03 reports of a sandbox vendor (every 200 ms), until the server stops.
struct AppointmentReporter: Service {
    let editor: SandboxEditor

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let base = editor.configuration.platformFHIRBase, let client = try? editor.platformHTTP() {
                for id in editor.appointments.due() {
                    _ = await editor.appointments.send(id, base: base, vendorID: editor.configuration.id, client: client)
                }
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) } } catch { break }
        }
    }
}
