@testable import Aggregator
import FHIR
import Foundation
import SASDomain

/// What a sandbox editor does with one request.
enum SandboxAction: Sendable {
    /// A real searchset with slots for the asked practitioners/associations it holds.
    case bundle
    /// Any HTTP status with a body.
    case status(Int, body: Data, retryAfter: Duration?)
    /// A transport failure.
    case fail(TransportError)
    /// Never answers (until cancelled).
    case hang
    /// Answers after `delay` whatever happens, ignoring cancellation (a transport that does not cooperate).
    case stall(Duration)
    /// 200 with these bytes.
    case raw(Data)
}

/// One recorded request.
struct SandboxCall: Sendable {
    let editorID: String
    let url: URL
    let identifiers: [String]
    let maxBytes: Int
    let timeout: Duration
    let index: Int
}

/// Behaviour of one sandbox editor.
struct SandboxEditor: Sendable {
    var latency: Duration = .milliseconds(5)
    /// Practitioners whose agendas it holds (nil: every practitioner asked).
    var practitioners: Set<IDNPS>?
    /// Slots per practitioner or association.
    var slotsPerSubject = 3
    /// Per-call script (the call's index for this editor starts at 1); nil → `.bundle`.
    var script: (@Sendable (SandboxCall) -> SandboxAction)?
}

/// An in-process `EditorTransport` serving real FHIR bundle bytes with programmable latency and failures.
final class SandboxTransport: EditorTransport, @unchecked Sendable {
    private struct State {
        var editors: [String: SandboxEditor] = [:]
        var calls: [SandboxCall] = []
        var active: [String: Int] = [:]
        var maxActive: [String: Int] = [:]
    }
    private let state = Locked(State())

    init(_ editors: [String: SandboxEditor] = [:]) { state.withLock { $0.editors = editors } }

    func set(_ editorID: String, _ behaviour: SandboxEditor) { state.withLock { $0.editors[editorID] = behaviour } }

    func update(_ editorID: String, _ change: (inout SandboxEditor) -> Void) {
        state.withLock { s in change(&s.editors[editorID, default: SandboxEditor()]) }
    }

    var calls: [SandboxCall] { state.withLock { $0.calls } }
    func calls(_ editorID: String) -> [SandboxCall] { calls.filter { $0.editorID == editorID } }
    func maxConcurrent(_ editorID: String) -> Int { state.withLock { $0.maxActive[editorID] ?? 0 } }
    func active(_ editorID: String) -> Int { state.withLock { $0.active[editorID] ?? 0 } }

    func get(_ url: URL, editor: Editor, timeout: Duration, maxBytes: Int) async throws -> TransportResponse {
        let started = ContinuousClock.now
        let (call, behaviour) = state.withLock { s -> (SandboxCall, SandboxEditor) in
            let index = s.calls.filter { $0.editorID == editor.id }.count + 1
            let call = SandboxCall(editorID: editor.id, url: url, identifiers: Self.identifiers(url), maxBytes: maxBytes,
                                   timeout: timeout, index: index)
            s.calls.append(call)
            s.active[editor.id, default: 0] += 1
            s.maxActive[editor.id] = max(s.maxActive[editor.id] ?? 0, s.active[editor.id]!)
            return (call, s.editors[editor.id] ?? SandboxEditor())
        }
        defer { state.withLock { $0.active[editor.id, default: 1] -= 1 } }
        let action = behaviour.script?(call) ?? .bundle
        switch action {
        case .hang:
            try await Task.sleep(for: .seconds(3600))
        case .stall(let delay):
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Task.detached {
                    try? await Task.sleep(for: delay)
                    continuation.resume()
                }
            }
        default:
            try await Task.sleep(for: behaviour.latency)
        }
        let body: Data
        var status = 200
        var retryAfter: Duration?
        switch action {
        case .bundle, .hang, .stall:
            body = Self.bundle(for: call, editor: editor, behaviour: behaviour)
        case .status(let code, let data, let retry):
            status = code
            body = data
            retryAfter = retry
        case .fail(let error):
            throw error
        case .raw(let data):
            body = data
        }
        if body.count > maxBytes { throw TransportError.responseTooLarge(maxBytes) }
        return TransportResponse(status: status, retryAfter: retryAfter, body: body, elapsed: ContinuousClock.now - started)
    }

    /// The identifier values of the request (practitioners or SIRETs), prefix included.
    static func identifiers(_ url: URL) -> [String] {
        let query = url.query(percentEncoded: true) ?? ""
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2,
                  parts[0] == "schedule.actor:Practitioner.identifier" || parts[0] == "actor:Location.organization.identifier"
            else { continue }
            return parts[1].split(separator: ",").compactMap { token in
                (String(token).removingPercentEncoding ?? "").split(separator: "|").last.map(String.init)
            }
        }
        return []
    }

    private static func bundle(for call: SandboxCall, editor: Editor, behaviour: SandboxEditor) -> Data {
        if call.url.path.hasSuffix("/Schedule") {
            let sirets = call.identifiers.compactMap { try? IDNST(parsing: $0) }
            return TestBundles.sos(sirets, base: editor.baseURL, slotsPer: behaviour.slotsPerSubject)
        }
        let asked = call.identifiers.compactMap { try? IDNPS(parsing: $0) }
        let held = asked.filter { behaviour.practitioners?.contains($0) ?? true }
        return TestBundles.practitioners(held, base: editor.baseURL, editorID: editor.id, slotsPer: behaviour.slotsPerSubject)
    }
}

/// Real FHIR searchsets built with the FHIR module's `SearchsetBuilder`.
enum TestBundles {
    /// First slot start: well inside the run's window, the same in every bundle built during the run (a search served
    /// from the cache must find exactly the slots of the first one).
    static func slotStart(_ k: Int) -> Date { runWindowStart.addingTimeInterval(3 * 3600 + Double(k) * 1800) }

    static func practitioners(_ ids: [IDNPS], base: String, editorID: String, slotsPer: Int) -> Data {
        var builder = SearchsetBuilder(baseURL: base, selfLink: base + "/Slot")
        var included: [Resource] = []
        for id in ids {
            let pid = "p-\(id.value)", roleID = "r-\(id.value)", scheduleID = "s-\(id.value)"
            var practitioner = Practitioner(id: pid)
            practitioner.identifier = [Identifier(system: IdentifierSystem.idnps, value: id.value,
                                                  typeSystem: IdentifierSystem.frV20203, typeCode: IdentifierSystem.codeIDNPS)]
            practitioner.name = [HumanName(family: "MARTIN", given: ["Claire"])]
            var location = Location(id: "loc")
            location.address = Address(line: ["1 rue de la Paix"], city: "Rennes", postalCode: "35000")
            var role = PractitionerRole(id: roleID)
            role.contained = [.location(location)]
            role.practitioner = .to("Practitioner", pid)
            role.location = [.contained("loc")]
            var schedule = Schedule(id: scheduleID)
            schedule.actor = [.to("Practitioner", pid), .to("PractitionerRole", roleID)]
            included += [.practitioner(practitioner), .practitionerRole(role), .schedule(schedule)]
            for k in 0..<slotsPer {
                builder.add(.slot(slot(id: "\(editorID)-\(id.value)-\(k)", schedule: scheduleID, start: slotStart(k))))
            }
        }
        for resource in included { builder.add(resource, mode: .include) }
        return (try? builder.encoded()) ?? Data()
    }

    static func sos(_ sirets: [IDNST], base: String, slotsPer: Int) -> Data {
        var builder = SearchsetBuilder(baseURL: base, selfLink: base + "/Schedule")
        var included: [Resource] = []
        for siret in sirets {
            let orgID = "o-\(siret.value)", locID = "l-\(siret.value)", scheduleID = "s-\(siret.value)"
            var organization = Organization(id: orgID)
            organization.identifier = [Identifier(system: IdentifierSystem.idnst, value: siret.value,
                                                  typeSystem: IdentifierSystem.frLocationIdentifierType,
                                                  typeCode: IdentifierSystem.codeIDNST)]
            organization.name = "SOS Médecins \(siret.value.suffix(3))"
            var location = Location(id: locID)
            location.name = "Point fixe de garde"
            location.address = Address(line: ["2 place du Marché"], city: "Agen", postalCode: "47000")
            location.managingOrganization = .to("Organization", orgID)
            var schedule = Schedule(id: scheduleID)
            schedule.actor = [.to("Location", locID)]
            builder.add(.schedule(schedule))
            included += [.location(location), .organization(organization)]
            for k in 0..<slotsPer {
                included.append(.slot(slot(id: "\(siret.value)-\(k)", schedule: scheduleID, start: slotStart(k))))
            }
        }
        for resource in included { builder.add(resource, mode: .include) }
        return (try? builder.encoded()) ?? Data()
    }

    private static func slot(id: String, schedule: String, start: Date) -> Slot {
        var slot = Slot(id: id)
        slot.meta = Meta(security: [Coding(system: SlotKind.system, code: "SNP")])
        slot.schedule = .to("Schedule", schedule)
        slot.status = "free"
        slot.start = FHIRInstant(start)
        slot.end = FHIRInstant(start.addingTimeInterval(1200))
        slot.comment = "https://agenda.example.fr/rdv/\(id)"
        return slot
    }

    /// A FHIR OperationOutcome body.
    static func outcome(_ text: String) -> Data {
        (try? FHIRJSON.encode(OperationOutcome.issue(.exception, french: text))) ?? Data()
    }
}
