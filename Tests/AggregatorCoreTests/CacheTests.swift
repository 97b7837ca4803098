@testable import Aggregator
import FHIR
import Foundation
import SASDomain
import Testing

extension AggregatorCore {
    /// The per-(editor, practitioner, window) cache and single-flight.
    @Suite struct Cache {
        private func setUp(ttl: Duration = .seconds(30), jitter: Double = 0, latency: Duration = .milliseconds(5),
                           stale: Duration = .zero,
                           script: (@Sendable (SandboxCall) -> SandboxAction)? = nil) -> (SlotAggregator, SandboxTransport, ManualClock) {
            let transport = SandboxTransport(["e": SandboxEditor(latency: latency, script: script)])
            let clock = ManualClock()
            let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport,
                                            configuration: configuration {
                                                $0.cacheTTL = ttl
                                                $0.cacheJitter = jitter
                                                $0.cacheStaleWhileRevalidate = stale
                                            }, clock: clock)
            return (aggregator, transport, clock)
        }

        @Test func secondSearchIsServedFromTheCache() async throws {
            let (aggregator, transport, _) = setUp()
            let ps = somePractitioners(30)
            // A generous deadline: this is about the cache, and a loaded machine must not turn it into a timeout.
            let first = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            let second = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            #expect(transport.calls.count == 2)
            #expect(first.summary?.cacheMisses == 30 && first.summary?.cacheHits == 0)
            #expect(second.summary?.cacheHits == 30 && second.summary?.cacheMisses == 0)
            #expect(second.summary?.requestsSent == 0)
            #expect(second.slots.count == 90 && second.batches.allSatisfy(\.fromCache))
            #expect(Set(second.slots) == Set(first.slots))
            #expect(second.status("e") == .ok(slotCount: 90))
            #expect(second.report("e")?.cachedSubjects == 30)
        }

        @Test func anAnswerServesTheLaterAndNarrowerWindowsItCovers() async throws {
            let (aggregator, transport, _) = setUp()
            let ps = somePractitioners(3)
            let base = searchWindow() // slots at +3 h, +3 h 30, +4 h
            func search(_ window: ClosedRange<Date>) async -> TimedSearch {
                var r = request(ps, deadline: .seconds(20))
                r.window = window
                return await TimedSearch.run(aggregator, r)
            }
            _ = await search(base)
            #expect(transport.calls.count == 1)
            // Twenty minutes later (another quarter hour), up to the same end: the first answer serves.
            let later = await search(base.lowerBound.addingTimeInterval(20 * 60)...base.upperBound)
            #expect(later.summary?.cacheHits == 3 && later.slots.count == 9)
            // Windows inside it get exactly their slots from the same answer.
            let afterFirst = await search(base.lowerBound.addingTimeInterval(3 * 3600 + 60)...base.upperBound)
            #expect(afterFirst.slots.count == 6)
            let firstOnly = await search(base.lowerBound...base.lowerBound.addingTimeInterval(3 * 3600 + 1000))
            #expect(firstOnly.slots.count == 3)
            #expect(firstOnly.slots.allSatisfy { abs($0.start.timeIntervalSince(TestBundles.slotStart(0))) < 1 }) // FHIR instants: milliseconds
            #expect(transport.calls.count == 1)
            #expect(aggregator.cacheEntryCount == 3)
            // A wider window is asked for; its answer replaces the entries it covers.
            let wider = await search(base.lowerBound.addingTimeInterval(-3600)...base.upperBound)
            #expect(transport.calls.count == 2)
            #expect(wider.slots.count == 9)
            #expect(aggregator.cacheEntryCount == 3)
            _ = await search(base)
            #expect(transport.calls.count == 2)
        }

        @Test func pastTheCapTheOldestAnswersAreEvicted() async {
            let transport = SandboxTransport(["e": SandboxEditor()])
            let clock = ManualClock()
            let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport,
                                            configuration: configuration { $0.cacheMaxEntries = 10 }, clock: clock)
            let groups = (0..<4).map { somePractitioners(3, seed: UInt64(300 + $0)) }
            for ps in groups {
                _ = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
                clock.advance(.seconds(1))
            }
            // 12 entries > 10: down to 90 % of the cap, the first group (oldest) out.
            #expect(transport.calls.count == 4)
            #expect(aggregator.cacheEntryCount == 9)
            _ = await TimedSearch.run(aggregator, request(groups[3], deadline: .seconds(20)))
            _ = await TimedSearch.run(aggregator, request(groups[1], deadline: .seconds(20)))
            #expect(transport.calls.count == 4)
            _ = await TimedSearch.run(aggregator, request(groups[0], deadline: .seconds(20)))
            #expect(transport.calls.count == 5)
        }

        @Test func jitteredEntriesExpireBetween80And100PercentOfTheTTL() async {
            let (aggregator, transport, clock) = setUp(jitter: 0.2)
            // Separate searches, separate requests: each answer draws its own lifetime in [24 s, 30 s].
            let groups = (0..<20).map { somePractitioners(2, seed: UInt64(100 + $0)) }
            for ps in groups { _ = await TimedSearch.run(aggregator, request(ps)) }
            #expect(transport.calls.count == 20)
            clock.advance(.seconds(23))
            for ps in groups { _ = await TimedSearch.run(aggregator, request(ps)) }
            #expect(transport.calls.count == 20, "nothing expires before 80 % of the TTL")
            clock.advance(.seconds(4))
            for ps in groups { _ = await TimedSearch.run(aggregator, request(ps)) }
            let at27 = transport.calls.count - 20
            // At 27 s about half have expired (all or none has a probability of 2 × 0.5^20).
            #expect(at27 > 0 && at27 < 20, "expiries are spread, not simultaneous (\(at27) of 20 at 27 s)")
        }

        @Test func entriesExpireAfterTheTTL() async {
            let (aggregator, transport, clock) = setUp()
            let ps = somePractitioners(2)
            _ = await TimedSearch.run(aggregator, request(ps))
            clock.advance(.seconds(29))
            _ = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.count == 1)
            clock.advance(.seconds(2))
            _ = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.count == 2)
        }

        @Test func justExpiredAnswersAreServedWhileOneBackgroundRequestRenewsThem() async throws {
            let (aggregator, transport, clock) = setUp(stale: .seconds(10))
            let ps = somePractitioners(2)
            _ = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            clock.advance(.seconds(31)) // expired, within the 10 s grace
            let stale = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            #expect(stale.summary?.cacheHits == 2 && stale.summary?.requestsSent == 0, "the search did not wait")
            #expect(stale.slots.count == 6 && stale.batches.allSatisfy(\.fromCache))
            // One background request renews both practitioners; searches meanwhile do not start another.
            _ = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            let renewed = ContinuousClock.now + .seconds(20)
            while transport.calls.count < 2 || aggregator.inFlightCount > 0, ContinuousClock.now < renewed {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(transport.calls.count == 2)
            #expect(transport.calls.last?.identifiers.sorted() == ps.map(\.value).sorted())
            // The renewed answer lives a full lifetime from its arrival.
            clock.advance(.seconds(25))
            let fresh = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            #expect(fresh.summary?.cacheHits == 2 && transport.calls.count == 2)
            // Past lifetime + grace, the answer is not served any more: the search asks and waits.
            clock.advance(.seconds(16))
            let late = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            #expect(late.summary?.cacheMisses == 2 && late.summary?.requestsSent == 1)
            #expect(transport.calls.count == 3)
        }

        @Test func invalidatedAnswersAreNeverServedStale() async {
            let (aggregator, transport, clock) = setUp(stale: .seconds(10))
            let ps = somePractitioners(2)
            _ = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            clock.advance(.seconds(31))
            aggregator.invalidate(practitioner: ps[0])
            let after = await TimedSearch.run(aggregator, request(ps, deadline: .seconds(20)))
            #expect(after.summary?.cacheHits == 1 && after.summary?.cacheMisses == 1)
            #expect(transport.calls.contains { $0.identifiers == [ps[0].value] })
        }

        @Test func zeroTTLDisablesTheCache() async {
            let (aggregator, transport, _) = setUp(ttl: .zero)
            let ps = somePractitioners(2)
            _ = await TimedSearch.run(aggregator, request(ps))
            _ = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.count == 2)
            #expect(aggregator.cacheEntryCount == 0)
        }

        @Test func onlyUncachedPractitionersAreAsked() async throws {
            let (aggregator, transport, _) = setUp()
            let ps = somePractitioners(3)
            _ = await TimedSearch.run(aggregator, request(Array(ps.prefix(2))))
            let mixed = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.map(\.identifiers).last == [ps[2].value])
            #expect(mixed.slots.count == 9)
            #expect(mixed.batches.filter(\.fromCache).flatMap(\.slots).count == 6)
            #expect(mixed.summary?.cacheHits == 2 && mixed.summary?.cacheMisses == 1)
        }

        @Test func invalidationForcesANewRequestForThatPractitionerOnly() async {
            let (aggregator, transport, _) = setUp()
            let ps = somePractitioners(2)
            _ = await TimedSearch.run(aggregator, request(ps))
            aggregator.invalidate(practitioner: ps[0])
            _ = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.map(\.identifiers).last == [ps[0].value])
            _ = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.count == 2)
        }

        @Test func failuresAreNotCached() async {
            let (aggregator, transport, _) = setUp(script: { $0.index == 1 ? .status(502, body: Data(), retryAfter: nil) : .bundle })
            let ps = somePractitioners(1)
            let failed = await TimedSearch.run(aggregator, request(ps))
            let retried = await TimedSearch.run(aggregator, request(ps))
            #expect(failed.status("e") == .httpError(status: 502, message: nil))
            #expect(retried.status("e") == .ok(slotCount: 3))
            #expect(transport.calls.count == 2)
        }

        @Test func concurrentIdenticalSearchesShareOneRequest() async throws {
            let (aggregator, transport, _) = setUp(latency: .milliseconds(200))
            let ps = somePractitioners(5)
            let results = await withTaskGroup(of: TimedSearch.self) { group in
                for _ in 0..<20 { group.addTask { await TimedSearch.run(aggregator, request(ps)) } }
                return await group.reduce(into: [TimedSearch]()) { $0.append($1) }
            }
            #expect(transport.calls.count == 1)
            #expect(results.count == 20)
            #expect(results.allSatisfy { $0.status("e") == .ok(slotCount: 15) && $0.slots.count == 15 })
            #expect(results.map { $0.summary?.requestsShared ?? 0 }.reduce(0, +) == 19)
            #expect(results.map { $0.summary?.requestsSent ?? 0 }.reduce(0, +) == 1)
        }

        @Test func overlappingSearchesShareTheOverlapAndAskTheRest() async throws {
            let (aggregator, transport, _) = setUp(latency: .milliseconds(1000))
            let ps = somePractitioners(5)
            async let first = TimedSearch.run(aggregator, request(Array(ps[0..<3])))
            await eventually { transport.calls.count == 1 }
            let second = await TimedSearch.run(aggregator, request(Array(ps[1..<5])))
            let firstResult = await first
            #expect(transport.calls.count == 2)
            #expect(transport.calls.last?.identifiers == [ps[3].value, ps[4].value])
            #expect(second.slots.count == 12)
            #expect(Set(second.slots.compactMap(\.practitioner)) == Set(ps[1..<5]))
            #expect(firstResult.slots.count == 9)
            #expect(second.summary?.requestsShared == 1 && second.summary?.requestsSent == 1)
        }

        @Test func invalidationDuringAFlightKeepsTheStaleAnswerOutOfTheCache() async throws {
            let (aggregator, transport, _) = setUp(latency: .milliseconds(600))
            let ps = somePractitioners(2)
            async let first = TimedSearch.run(aggregator, request(ps))
            await eventually { transport.calls.count == 1 }
            aggregator.invalidate(practitioner: ps[0])
            _ = await first
            _ = await TimedSearch.run(aggregator, request(ps))
            #expect(transport.calls.count == 2)
            #expect(transport.calls.last?.identifiers == [ps[0].value])
        }
    }
}
