import Foundation
import SASDomain

/// State of an editor's circuit breaker.
public enum CircuitState: String, Sendable, Hashable, Codable {
    /// Requests flow.
    case closed
    /// Requests are refused until the cool-down ends.
    case open
    /// One probe request decides between closed and open.
    case halfOpen
}

/// SLA bucket of an editor answer, as the national agency measures (< 1 s, < 7 s).
public enum SLABucket: String, Sendable, Hashable, Codable, CaseIterable {
    case underOneSecond, underSevenSeconds, overSevenSeconds

    /// The bucket of a latency (a timeout is `overSevenSeconds` only if it lasted that long; callers decide).
    public init(latency: Duration) {
        if latency < .seconds(1) { self = .underOneSecond } else if latency < .seconds(7) { self = .underSevenSeconds } else {
            self = .overSevenSeconds
        }
    }
}

/// Metric sink of the aggregator (the platform implements it with Prometheus); every method defaults to a no-op.
public protocol AggregatorMetrics: Sendable {
    /// One HTTP attempt to an editor ended (`outcome` is `.timeout` for timeouts, `sla` is nil when it never answered).
    func requestCompleted(editorID: String, flow: SlotFlow, outcome: EditorStatus.Kind, latency: Duration, sla: SLABucket?)
    /// An editor's circuit changed state.
    func circuitStateChanged(editorID: String, to state: CircuitState)
    /// Cache use of one editor in one search: hits, misses, and misses covered by another search's in-flight request.
    func cacheLookups(editorID: String, hits: Int, misses: Int, shared: Int)
    /// A search ended.
    func searchCompleted(elapsed: Duration, deadlineReached: Bool, slotCount: Int, cpuTime: Duration)
}

extension AggregatorMetrics {
    public func requestCompleted(editorID: String, flow: SlotFlow, outcome: EditorStatus.Kind, latency: Duration,
                                 sla: SLABucket?) {}
    public func circuitStateChanged(editorID: String, to state: CircuitState) {}
    public func cacheLookups(editorID: String, hits: Int, misses: Int, shared: Int) {}
    public func searchCompleted(elapsed: Duration, deadlineReached: Bool, slotCount: Int, cpuTime: Duration) {}
}

/// Metrics that go nowhere (the default).
public struct NoopAggregatorMetrics: AggregatorMetrics {
    /// Creates the sink.
    public init() {}
}
