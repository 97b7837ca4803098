@testable import Aggregator
import FHIR
import Foundation
import SASDomain
import Testing

extension AggregatorCore {
    /// The per-editor circuit breaker, driven through searches with an injected clock.
    @Suite struct Circuit {
        private final class Failing: @unchecked Sendable {
            let value = Locked(true)
        }

        private func setUp(latency: Duration = .milliseconds(5)) -> (SlotAggregator, SandboxTransport, ManualClock, RecordingMetrics, Failing) {
            let failing = Failing()
            let transport = SandboxTransport(["e": SandboxEditor(latency: latency, script: { _ in
                failing.value.withLock { $0 } ? .status(500, body: Data(), retryAfter: nil) : .bundle
            })])
            let clock = ManualClock()
            let metrics = RecordingMetrics()
            let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport,
                                            configuration: configuration {
                                                $0.circuitFailureThreshold = 3
                                                $0.cacheTTL = .zero
                                            }, metrics: metrics, clock: clock)
            return (aggregator, transport, clock, metrics, failing)
        }

        @Test func opensAfterConsecutiveFailuresAndRecoversThroughHalfOpen() async {
            let (aggregator, transport, clock, metrics, failing) = setUp()
            let ps = somePractitioners(2)
            for _ in 0..<3 { _ = await TimedSearch.run(aggregator, request(ps)) }
            #expect(transport.calls.count == 3)
            #expect(aggregator.circuitState(editorID: "e") == .open)

            let refused = await TimedSearch.run(aggregator, request(ps))
            #expect(refused.status("e") == .circuitOpen)
            #expect(transport.calls.count == 3)

            clock.advance(.seconds(29))
            _ = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.count == 3)

            clock.advance(.seconds(2))
            failing.value.withLock { $0 = false }
            let probe = await TimedSearch.run(aggregator, request(ps))
            #expect(probe.status("e") == .ok(slotCount: 6))
            #expect(transport.calls.count == 4)
            #expect(aggregator.circuitState(editorID: "e") == .closed)
            #expect(metrics.circuitChanges.map(\.1) == [.open, .halfOpen, .closed])
            #expect(aggregator.health(editorID: "e").circuitState == .closed)
        }

        @Test func aFailedProbeReopensTheCircuit() async {
            let (aggregator, transport, clock, _, _) = setUp()
            let ps = somePractitioners(1)
            for _ in 0..<3 { _ = await TimedSearch.run(aggregator, request(ps)) }
            clock.advance(.seconds(31))
            let probe = await TimedSearch.run(aggregator, request(ps))
            #expect(probe.status("e") == .httpError(status: 500, message: nil))
            #expect(transport.calls.count == 4)
            #expect(aggregator.circuitState(editorID: "e") == .open)
            let after = await TimedSearch.run(aggregator, request(ps))
            #expect(after.status("e") == .circuitOpen)
            #expect(transport.calls.count == 4)
        }

        @Test func halfOpenLetsExactlyOneProbeThrough() async {
            let (aggregator, transport, clock, _, failing) = setUp(latency: .milliseconds(200))
            for _ in 0..<3 { _ = await TimedSearch.run(aggregator, request(somePractitioners(1))) }
            clock.advance(.seconds(31))
            failing.value.withLock { $0 = false }
            async let first = TimedSearch.run(aggregator, request(somePractitioners(1, seed: 100)))
            async let second = TimedSearch.run(aggregator, request(somePractitioners(1, seed: 200)))
            let statuses = [await first.status("e"), await second.status("e")]
            #expect(transport.calls.count == 4)
            #expect(statuses.contains(.circuitOpen) && statuses.contains(.ok(slotCount: 3)))
        }

        @Test func timeoutsCountAsFailures() async {
            let transport = SandboxTransport(["e": SandboxEditor(script: { _ in .hang })])
            let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport,
                                            configuration: configuration { $0.circuitFailureThreshold = 2 })
            for _ in 0..<2 { _ = await TimedSearch.run(aggregator, request(somePractitioners(1), deadline: .milliseconds(100))) }
            // Let the abandoned requests record their timeouts.
            await eventually { aggregator.circuitState(editorID: "e") == .open }
            #expect(aggregator.circuitState(editorID: "e") == .open)
            let refused = await TimedSearch.run(aggregator, request(somePractitioners(1), deadline: .milliseconds(100)))
            #expect(refused.status("e") == .circuitOpen)
            #expect(transport.calls.count == 2)
        }
    }
}
