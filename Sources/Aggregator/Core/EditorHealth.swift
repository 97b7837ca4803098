import Foundation

/// In-memory health of one editor for the admin console: recent statuses, latency percentiles, SLA shares.
public struct EditorHealth: Sendable, Hashable {
    /// One remembered request.
    public struct Sample: Sendable, Hashable {
        /// Outcome category.
        public var outcome: EditorStatus.Kind
        /// Duration of the attempt.
        public var latency: Duration
        /// When it ended.
        public var at: Date
    }

    /// Editor id.
    public var editorID: String
    /// Circuit breaker state.
    public var circuitState: CircuitState
    /// Consecutive failures counted by the breaker.
    public var consecutiveFailures: Int
    /// Requests in the sample window.
    public var sampleCount: Int
    /// Up to 20 most recent requests, newest first.
    public var recent: [Sample]
    /// Counts per outcome in the window.
    public var outcomeCounts: [EditorStatus.Kind: Int]
    /// Median latency of answered requests in the window.
    public var latencyP50: Duration?
    /// 95th percentile latency of answered requests in the window.
    public var latencyP95: Duration?
    /// Share of requests answered in under 1 s (timeouts and connection failures count as misses).
    public var shareUnderOneSecond: Double?
    /// Share of requests answered in under 7 s.
    public var shareUnderSevenSeconds: Double?
    /// Last successful answer.
    public var lastSuccessAt: Date?
    /// Last failure.
    public var lastFailureAt: Date?
}

/// Keeps the last N request samples per editor and derives ``EditorHealth`` snapshots.
final class HealthTracker: Sendable {
    private struct Ring {
        var samples: [EditorHealth.Sample] = []
        var next = 0
        var lastSuccessAt: Date?
        var lastFailureAt: Date?
    }

    private let capacity: Int
    private let rings = Locked([String: Ring]())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func record(_ editorID: String, outcome: EditorStatus.Kind, latency: Duration, at date: Date = Date()) {
        let sample = EditorHealth.Sample(outcome: outcome, latency: latency, at: date)
        rings.withLock { all in
            var ring = all[editorID, default: Ring()]
            if ring.samples.count < capacity { ring.samples.append(sample) } else { ring.samples[ring.next] = sample }
            ring.next = (ring.next + 1) % capacity
            if outcome == .ok || outcome == .empty { ring.lastSuccessAt = date } else { ring.lastFailureAt = date }
            all[editorID] = ring
        }
    }

    /// Median latency of the editor's recent answers (used to decide whether a retry still fits).
    func typicalLatency(_ editorID: String) -> Duration? {
        let answered = rings.withLock { all in (all[editorID]?.samples ?? []).filter(Self.answered).map(\.latency) }
        return Self.percentile(answered.sorted(), 0.5)
    }

    func snapshot(_ editorID: String, circuit: CircuitState, consecutiveFailures: Int) -> EditorHealth {
        let ring = rings.withLock { $0[editorID] } ?? Ring()
        let ordered: [EditorHealth.Sample]
        if ring.samples.count < capacity {
            ordered = ring.samples.reversed()
        } else {
            ordered = Array((ring.samples[ring.next...] + ring.samples[..<ring.next]).reversed())
        }
        let latencies = ordered.filter(Self.answered).map(\.latency).sorted()
        var counts: [EditorStatus.Kind: Int] = [:]
        for sample in ordered { counts[sample.outcome, default: 0] += 1 }
        func share(_ limit: Duration) -> Double? {
            ordered.isEmpty ? nil : Double(ordered.filter { Self.answered($0) && $0.latency < limit }.count) / Double(ordered.count)
        }
        return EditorHealth(
            editorID: editorID, circuitState: circuit, consecutiveFailures: consecutiveFailures,
            sampleCount: ordered.count, recent: Array(ordered.prefix(20)), outcomeCounts: counts,
            latencyP50: Self.percentile(latencies, 0.5), latencyP95: Self.percentile(latencies, 0.95),
            shareUnderOneSecond: share(.seconds(1)), shareUnderSevenSeconds: share(.seconds(7)),
            lastSuccessAt: ring.lastSuccessAt, lastFailureAt: ring.lastFailureAt)
    }

    /// An HTTP answer came back (whatever its status).
    private static func answered(_ sample: EditorHealth.Sample) -> Bool {
        switch sample.outcome {
        case .timeout, .connectionFailed, .tlsError, .circuitOpen, .invalidRequest: return false
        default: return true
        }
    }

    /// Nearest-rank percentile of sorted values.
    private static func percentile(_ sorted: [Duration], _ p: Double) -> Duration? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
