import Aggregator
import Foundation
import Prometheus
import SASDomain

/// The aggregator's metrics in Prometheus: per editor request counts by status, latency histograms, timeouts,
/// circuit state, SLA buckets (answers under 1 s and under 7 s, as the national agency measures), cache use, and the
/// aggregator's own time and CPU per search.
public struct PrometheusAggregatorMetrics: AggregatorMetrics {
    let registry: PrometheusCollectorRegistry

    static let latencyBuckets: [Duration] = [
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(300),
        .milliseconds(500), .milliseconds(750), .seconds(1), .seconds(2), .seconds(3), .seconds(5), .seconds(7),
    ]

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    public func requestCompleted(editorID: String, flow: SlotFlow, outcome: EditorStatus.Kind, latency: Duration, sla: SLABucket?) {
        registry.makeCounter(descriptor: MetricNames.editorRequests,
                             labels: [("editor", editorID), ("flow", flow.rawValue), ("status", outcome.rawValue)]).increment()
        registry.makeDurationHistogram(descriptor: MetricNames.editorDuration,
                                       labels: [("editor", editorID), ("flow", flow.rawValue)],
                                       buckets: Self.latencyBuckets).record(latency)
        if outcome == .timeout {
            registry.makeCounter(descriptor: MetricNames.editorTimeouts, labels: [("editor", editorID)]).increment()
        }
        if let sla {
            registry.makeCounter(descriptor: MetricNames.editorSLA, labels: [("editor", editorID), ("bucket", sla.rawValue)]).increment()
        }
    }

    public func circuitStateChanged(editorID: String, to state: CircuitState) {
        for candidate in [CircuitState.closed, .open, .halfOpen] {
            registry.makeGauge(descriptor: MetricNames.editorCircuit, labels: [("editor", editorID), ("state", candidate.rawValue)])
                .set(to: candidate == state ? 1.0 : 0.0)
        }
    }

    public func cacheLookups(editorID: String, hits: Int, misses: Int, shared: Int) {
        if hits > 0 { registry.makeCounter(descriptor: MetricNames.cache, labels: [("editor", editorID), ("result", "hit")]).increment(by: Int64(hits)) }
        if misses > 0 { registry.makeCounter(descriptor: MetricNames.cache, labels: [("editor", editorID), ("result", "miss")]).increment(by: Int64(misses)) }
        if shared > 0 { registry.makeCounter(descriptor: MetricNames.cache, labels: [("editor", editorID), ("result", "shared")]).increment(by: Int64(shared)) }
    }

    public func searchCompleted(elapsed: Duration, deadlineReached: Bool, slotCount: Int, cpuTime: Duration) {
        registry.makeDurationHistogram(descriptor: MetricNames.searchDuration, labels: [("deadline_reached", String(deadlineReached))],
                                       buckets: Self.latencyBuckets).record(elapsed)
        registry.makeDurationHistogram(descriptor: MetricNames.searchCPU, labels: [],
                                       buckets: [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                                 .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25)]).record(cpuTime)
    }
}
