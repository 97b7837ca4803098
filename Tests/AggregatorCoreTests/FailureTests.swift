@testable import Aggregator
import FHIR
import Foundation
import SASDomain
import Testing

extension AggregatorCore {
    /// Deadlines, timeouts, HTTP and transport failures, size cap, retries and the per-editor concurrency cap.
    @Suite struct Failures {
        @Test(arguments: [SandboxAction.hang, SandboxAction.stall(.seconds(2))])
        func hungEditorNeverDelaysTheSearchPastItsDeadline(_ hung: SandboxAction) async throws {
            let transport = SandboxTransport([
                "fast": SandboxEditor(latency: .milliseconds(20)),
                "medium": SandboxEditor(latency: .milliseconds(80)),
                "hung": SandboxEditor(script: { _ in hung }),
            ])
            let aggregator = SlotAggregator(editors: [sandboxEditor("fast"), sandboxEditor("medium"), sandboxEditor("hung")],
                                            transport: transport)
            let deadline = Duration.milliseconds(400)
            let search = await TimedSearch.run(aggregator, request(somePractitioners(4), deadline: deadline))
            let finishedAt = try #require(search.finishedAt)
            // Margins for a loaded machine (the whole suite runs in parallel on two cores), well below the 2 s stall.
            #expect(finishedAt <= deadline + .milliseconds(600), "finished after \(finishedAt.ms) ms")
            #expect(finishedAt >= deadline - .milliseconds(5))
            #expect(search.streamEndedAt <= deadline + .milliseconds(600))
            #expect(search.status("fast") == .ok(slotCount: 12))
            #expect(search.status("medium") == .ok(slotCount: 12))
            #expect(search.status("hung") == .timeout)
            #expect(search.summary?.deadlineReached == true)
            #expect(search.report("hung")?.status.frenchDescription(editorName: "Hung") == "Hung n'a pas répondu à temps")
        }

        @Test func perEditorTimeoutEndsTheWaitBeforeTheDeadline() async throws {
            let transport = SandboxTransport([
                "slow": SandboxEditor(latency: .milliseconds(800)),
                "fast": SandboxEditor(latency: .milliseconds(10)),
            ])
            let aggregator = SlotAggregator(editors: [sandboxEditor("slow", timeoutMilliseconds: 150), sandboxEditor("fast")],
                                            transport: transport)
            let search = await TimedSearch.run(aggregator, request(somePractitioners(2), deadline: .seconds(3)))
            let finishedAt = try #require(search.finishedAt)
            #expect(search.status("slow") == .timeout)
            #expect(search.status("fast") == .ok(slotCount: 6))
            #expect(finishedAt < .milliseconds(780), "finished after \(finishedAt.ms) ms (the slow editor answers at 800 ms)")
            #expect(search.summary?.deadlineReached == false)
            let passed = try #require(transport.calls("slow").first?.timeout)
            #expect(passed <= .milliseconds(150) && passed > .milliseconds(100))
        }

        @Test func httpErrorCarriesTheOperationOutcomeText() async throws {
            let body = TestBundles.outcome("Maintenance en cours")
            let transport = SandboxTransport(["down": SandboxEditor(script: { _ in .status(500, body: body, retryAfter: nil) })])
            let aggregator = SlotAggregator(editors: [sandboxEditor("down", name: "AgendaPlus")], transport: transport)
            let search = await TimedSearch.run(aggregator, request(somePractitioners(2)))
            #expect(search.status("down") == .httpError(status: 500, message: "Maintenance en cours"))
            #expect(search.report("down")?.frenchDescription == "AgendaPlus a répondu par une erreur (HTTP 500) : Maintenance en cours")
            #expect(transport.calls("down").count == 1)
        }

        @Test func unreadableBodiesAreInvalidBundles() async throws {
            let outcome = TestBundles.outcome("Paramètre inconnu")
            let transport = SandboxTransport([
                "garbage": SandboxEditor(script: { _ in .raw(Data("{\"resourceType\": \"Bundle\", \"entry\": [".utf8)) }),
                "outcome": SandboxEditor(script: { _ in .raw(outcome) }),
            ])
            let aggregator = SlotAggregator(editors: [sandboxEditor("garbage"), sandboxEditor("outcome")], transport: transport)
            let search = await TimedSearch.run(aggregator, request(somePractitioners(2)))
            guard case .invalidBundle(nil, let reason)? = search.status("garbage") else {
                Issue.record("got \(String(describing: search.status("garbage")))"); return
            }
            #expect(!reason.isEmpty)
            guard case .invalidBundle(nil, let outcomeReason)? = search.status("outcome") else {
                Issue.record("got \(String(describing: search.status("outcome")))"); return
            }
            #expect(outcomeReason.contains("Paramètre inconnu"))
        }

        @Test func responsesOverTheCapAreRefused() async throws {
            let transport = SandboxTransport(["big": SandboxEditor(slotsPerSubject: 20), "small": SandboxEditor()])
            let aggregator = SlotAggregator(editors: [sandboxEditor("big"), sandboxEditor("small")], transport: transport,
                                            configuration: configuration { $0.maxResponseBytes = 40_000 })
            let search = await TimedSearch.run(aggregator, request(somePractitioners(10)))
            #expect(search.status("big") == .responseTooLarge(limit: 40_000))
            #expect(search.status("small") == .ok(slotCount: 30))
            #expect(transport.calls.allSatisfy { $0.maxBytes == 40_000 })

            let defaults = SandboxTransport()
            _ = await TimedSearch.run(SlotAggregator(editors: [sandboxEditor("x")], transport: defaults), request(somePractitioners(1)))
            #expect(defaults.calls.first?.maxBytes == 5 * 1024 * 1024)
        }

        @Test func tlsFailuresAreReportedAndNotRetried() async {
            let transport = SandboxTransport(["tls": SandboxEditor(script: { _ in .fail(.tlsFailure("certificate unknown")) })])
            let aggregator = SlotAggregator(editors: [sandboxEditor("tls")], transport: transport)
            let search = await TimedSearch.run(aggregator, request(somePractitioners(1)))
            #expect(search.status("tls") == .tlsError("certificate unknown"))
            #expect(transport.calls.count == 1)
        }

        @Test func retriesOnlyIdempotentFailuresThatFitInTheTimeLeft() async throws {
            let ps = somePractitioners(1)
            func run(_ script: @escaping @Sendable (SandboxCall) -> SandboxAction, latency: Duration = .milliseconds(5),
                     deadline: Duration = .seconds(2)) async -> (EditorStatus?, Int) {
                let transport = SandboxTransport(["e": SandboxEditor(latency: latency, script: script)])
                let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport)
                let search = await TimedSearch.run(aggregator, request(ps, deadline: deadline))
                return (search.status("e"), transport.calls.count)
            }
            let refusedOnce = await run { $0.index == 1 ? .fail(.connectionRefused) : .bundle }
            #expect(refusedOnce.0 == .ok(slotCount: 3) && refusedOnce.1 == 2)

            let resetAlways = await run { _ in .fail(.connectionReset) }
            #expect(resetAlways.0 == .connectionFailed("connection reset") && resetAlways.1 == 2)

            let transportTimeout = await run { _ in .fail(.timeout) }
            #expect(transportTimeout.0 == .timeout && transportTimeout.1 == 1)

            let busyOnce = await run { $0.index == 1 ? .status(503, body: Data(), retryAfter: .milliseconds(30)) : .bundle }
            #expect(busyOnce.0 == .ok(slotCount: 3) && busyOnce.1 == 2)

            let busyLong = await run({ _ in .status(503, body: Data(), retryAfter: .seconds(5)) }, deadline: .seconds(1))
            #expect(busyLong.0 == .httpError(status: 503, message: nil) && busyLong.1 == 1)

            let busyNoHeader = await run { _ in .status(503, body: Data(), retryAfter: nil) }
            #expect(busyNoHeader.1 == 1)

            // Refused after 250 ms with a 300 ms deadline: 50 ms left < retry delay + typical latency.
            let lateRefusal = await run({ _ in .fail(.connectionRefused) }, latency: .milliseconds(250), deadline: .milliseconds(300))
            #expect(lateRefusal.0 == .connectionFailed("connection refused") && lateRefusal.1 == 1)
        }

        @Test func concurrentRequestsPerEditorAreCapped() async throws {
            let transport = SandboxTransport(["e": SandboxEditor(latency: .milliseconds(100))])
            let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport,
                                            configuration: configuration { $0.maxConcurrentRequestsPerEditor = 2 })
            let search = await TimedSearch.run(aggregator, request(somePractitioners(100)))
            #expect(transport.calls.count == 4)
            #expect(transport.maxConcurrent("e") == 2)
            #expect(search.status("e") == .ok(slotCount: 300))
        }

        @Test func requestsStillQueuedAtTheDeadlineAreTimeouts() async throws {
            // One request at a time, 1 s each, 1.5 s deadline: the first answers, the second is cut by the
            // deadline, the third never leaves the queue (half a second of slack either way on a loaded machine).
            let transport = SandboxTransport(["e": SandboxEditor(latency: .milliseconds(1000))])
            let aggregator = SlotAggregator(editors: [sandboxEditor("e", name: "AgendaPlus")], transport: transport,
                                            configuration: configuration { $0.maxConcurrentRequestsPerEditor = 1 })
            let search = await TimedSearch.run(aggregator, request(somePractitioners(75), deadline: .milliseconds(1500)))
            let report = try #require(search.report("e"))
            #expect(transport.calls.count == 2)
            #expect(report.status == .timeout)
            #expect(report.slotCount == 75 && report.requestCount == 3 && report.failedRequestCount == 2)
            #expect(report.isPartial)
            #expect(report.frenchDescription.hasPrefix("AgendaPlus n'a pas répondu à temps (réponse partielle : 75 créneaux reçus"))
            #expect(search.slots.count == 75)
            #expect(search.summary?.deadlineReached == true)
        }

        @Test func aConsumerLeavingCancelsRequestsWithoutBlamingTheEditor() async throws {
            let transport = SandboxTransport([
                "fast": SandboxEditor(latency: .milliseconds(10)),
                "hung": SandboxEditor(script: { _ in .hang }),
            ])
            let aggregator = SlotAggregator(editors: [sandboxEditor("fast"), sandboxEditor("hung")], transport: transport)
            for await event in aggregator.search(request(somePractitioners(2), deadline: .seconds(5))) {
                if case .batch = event { break }
            }
            await eventually { transport.active("hung") == 0 }
            #expect(transport.calls("hung").count == 1)
            #expect(transport.active("hung") == 0)
            #expect(aggregator.health(editorID: "hung").consecutiveFailures == 0)
            #expect(aggregator.health(editorID: "hung").sampleCount == 0)
        }
    }
}
