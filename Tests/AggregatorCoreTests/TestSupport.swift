@testable import Aggregator
import FHIR
import Foundation
import SASDomain
import Testing

/// Root suite: the aggregator tests measure time, so they run one at a time.
@Suite(.serialized) struct AggregatorCore {}

/// A sandbox editor registration.
func sandboxEditor(_ id: String, name: String? = nil, flows: Set<Editor.Flow> = [.r01], timeoutMilliseconds: Int? = nil,
                   enabled: Bool = true) -> Editor {
    Editor(id: id, name: name ?? id.capitalized, baseURL: "https://\(id).sandbox.test/fhir", flows: flows,
           timeoutMilliseconds: timeoutMilliseconds, enabled: enabled)
}

/// Deterministic Luhn-valid practitioners.
func somePractitioners(_ count: Int, seed: UInt64 = 7) -> [IDNPS] { SyntheticBundles.practitioners(count: count, seed: seed) }

/// Distinct SIRET identifiers.
func someSIRETs(_ count: Int) -> [IDNST] {
    (0..<count).map { try! IDNST.siret(String(33_417_374_840_000 + $0)) } // swiftlint:disable:this force_try
}

/// Now … now + 72 h.
/// One window for the whole run: cache keys round the window to the minute, so a window taken from the clock at
/// each search would change keys when a minute boundary falls between two searches of one test.
let runWindowStart = Date()

func searchWindow() -> ClosedRange<Date> { runWindowStart...runWindowStart.addingTimeInterval(72 * 3600) }

/// A configuration tweaked for a test.
func configuration(_ change: (inout AggregatorConfiguration) -> Void = { _ in }) -> AggregatorConfiguration {
    var configuration = AggregatorConfiguration()
    change(&configuration)
    return configuration
}

/// A request over the standard window.
func request(_ practitioners: [IDNPS] = [], associations: [IDNST] = [], cpts: Bool = false,
             deadline: Duration = .seconds(2), known: [IDNPS: Set<String>] = [:], sequential: Bool = false) -> AggregationRequest {
    AggregationRequest(practitioners: practitioners, associations: associations, cptsMode: cpts, window: searchWindow(),
                       deadline: deadline, knownEditors: known, sequentialBatches: sequential)
}

/// A clock the test moves by hand (circuit cool-down, cache TTL).
final class ManualClock: AggregatorClock, @unchecked Sendable {
    private let base = ContinuousClock.now
    private let offset = Locked(Duration.zero)

    func now() -> ContinuousClock.Instant { base + offset.withLock { $0 } }
    func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
}

/// Metrics that remember what they were told.
final class RecordingMetrics: AggregatorMetrics, @unchecked Sendable {
    struct Request: Sendable {
        let editorID: String
        let outcome: EditorStatus.Kind
        let latency: Duration
        let sla: SLABucket?
    }
    private let state = Locked((requests: [Request](), circuits: [(String, CircuitState)](), searches: 0))

    var requests: [Request] { state.withLock { $0.requests } }
    var circuitChanges: [(String, CircuitState)] { state.withLock { $0.circuits } }
    var searches: Int { state.withLock { $0.searches } }

    func requestCompleted(editorID: String, flow: SlotFlow, outcome: EditorStatus.Kind, latency: Duration, sla: SLABucket?) {
        state.withLock { $0.requests.append(Request(editorID: editorID, outcome: outcome, latency: latency, sla: sla)) }
    }

    func circuitStateChanged(editorID: String, to state: CircuitState) {
        self.state.withLock { $0.circuits.append((editorID, state)) }
    }

    func searchCompleted(elapsed: Duration, deadlineReached: Bool, slotCount: Int, cpuTime: Duration) {
        state.withLock { $0.searches += 1 }
    }
}

/// Events of a search with their arrival times.
struct TimedSearch {
    var events: [(at: Duration, event: AggregationEvent)] = []
    var finishedAt: Duration?
    var streamEndedAt: Duration = .zero

    var summary: AggregationSummary? {
        for (_, event) in events { if case .finished(let summary) = event { return summary } }
        return nil
    }

    var batches: [SlotBatch] {
        events.compactMap { if case .batch(let batch) = $0.event { return batch } else { return nil } }
    }

    var slots: [AggregatedSlot] { batches.flatMap(\.slots) }

    func status(_ editorID: String) -> EditorStatus? { report(editorID)?.status }

    func report(_ editorID: String) -> EditorStatusReport? {
        for (_, event) in events { if case .status(let report) = event, report.editorID == editorID { return report } }
        return nil
    }

    static func run(_ aggregator: SlotAggregator, _ request: AggregationRequest) async -> TimedSearch {
        let start = ContinuousClock.now
        var timed = TimedSearch()
        for await event in aggregator.search(request) {
            let at = ContinuousClock.now - start
            timed.events.append((at, event))
            if case .finished = event { timed.finishedAt = at }
        }
        timed.streamEndedAt = ContinuousClock.now - start
        return timed
    }
}

/// Identifier counts of an editor's calls, sorted.
func batchSizes(_ transport: SandboxTransport, _ editorID: String) -> [Int] {
    transport.calls(editorID).map(\.identifiers.count).sorted()
}

extension Duration {
    /// Milliseconds as a Double, for messages.
    var ms: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}


/// Polls `condition` until it holds (or 5 s pass): waits on what a test needs, not on a guessed sleep, so that a
/// loaded machine does not make the test flaky.
func eventually(_ condition: @Sendable () -> Bool) async {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition() && ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(5))
    }
}
