@testable import Aggregator
import FHIR
import Foundation
import SASDomain
import Testing

extension AggregatorCore {
    /// Routing, batching, merging and the two execution modes.
    @Suite struct FanOut {
        @Test func mergesThreeEditorsAndStreamsInOrder() async throws {
            let ps = somePractitioners(15)
            let transport = SandboxTransport([
                "alpha": SandboxEditor(latency: .milliseconds(10), practitioners: Set(ps[0..<5])),
                "beta": SandboxEditor(latency: .milliseconds(40), practitioners: Set(ps[5..<10])),
                "gamma": SandboxEditor(latency: .milliseconds(70), practitioners: Set(ps[10..<15]), slotsPerSubject: 2),
            ])
            let aggregator = SlotAggregator(editors: ["alpha", "beta", "gamma"].map { sandboxEditor($0) }, transport: transport)
            let search = await TimedSearch.run(aggregator, request(ps))

            #expect(search.slots.count == 40)
            #expect(search.status("alpha") == .ok(slotCount: 15))
            #expect(search.status("beta") == .ok(slotCount: 15))
            #expect(search.status("gamma") == .ok(slotCount: 10))
            #expect(Set(search.slots.compactMap(\.practitioner)) == Set(ps))
            let summary = try #require(search.summary)
            #expect(summary.slotCount == 40)
            #expect(summary.deadlineReached == false)
            #expect(summary.editors.map(\.editorID) == ["alpha", "beta", "gamma"])
            let expectedLinks: [String: Set<IDNPS>] = ["alpha": Set(ps[0..<5]), "beta": Set(ps[5..<10]), "gamma": Set(ps[10..<15])]
            #expect(summary.learnedLinks == expectedLinks)
            // Every editor's batches precede its status, and the summary is the last event.
            for id in ["alpha", "beta", "gamma"] {
                let lastBatch = try #require(search.events.lastIndex { if case .batch(let b) = $0.event { b.editorID == id } else { false } })
                let status = try #require(search.events.firstIndex { if case .status(let r) = $0.event { r.editorID == id } else { false } })
                #expect(lastBatch < status)
            }
            guard case .finished = search.events.last?.event else { Issue.record("summary is not last"); return }
            // Streamed as they arrive: the fastest editor's batch comes first.
            #expect(search.batches.first?.editorID == "alpha")
        }

        @Test func practitionerRequestsCarryOneToTwentyFive() async throws {
            let ps = somePractitioners(60)
            let transport = SandboxTransport(["alpha": SandboxEditor()])
            let aggregator = SlotAggregator(editors: [sandboxEditor("alpha")], transport: transport)
            let search = await TimedSearch.run(aggregator, request(ps + ps.prefix(5)))
            #expect(batchSizes(transport, "alpha") == [10, 25, 25])
            let asked = transport.calls("alpha").flatMap(\.identifiers)
            #expect(asked.count == 60 && Set(asked) == Set(ps.map(\.value)))
            #expect(search.slots.count == 180)
            #expect(transport.calls("alpha").allSatisfy { $0.url.path.hasSuffix("/Slot") })

            let single = SandboxTransport(["alpha": SandboxEditor()])
            let one = await TimedSearch.run(SlotAggregator(editors: [sandboxEditor("alpha")], transport: single), request([ps[0]]))
            #expect(batchSizes(single, "alpha") == [1])
            #expect(one.status("alpha") == .ok(slotCount: 3))
        }

        @Test func sosRequestsCarryOneToTenSIRET() async throws {
            let sirets = someSIRETs(23)
            let finess = try IDNST.finess("750000001")
            let transport = SandboxTransport(["sos": SandboxEditor(slotsPerSubject: 2), "ps": SandboxEditor()])
            let aggregator = SlotAggregator(editors: [sandboxEditor("sos", flows: [.sos]), sandboxEditor("ps")],
                                            transport: transport)
            let search = await TimedSearch.run(aggregator, request(associations: sirets + [finess]))
            #expect(batchSizes(transport, "sos") == [3, 10, 10])
            #expect(transport.calls("sos").allSatisfy { $0.url.path.hasSuffix("/Schedule") })
            #expect(transport.calls("ps").isEmpty)
            #expect(search.slots.count == 46)
            #expect(search.slots.allSatisfy { $0.flow == .sos && $0.practitioner == nil })
            #expect(Set(search.slots.compactMap { $0.structures(.sosAssociation).first?.idnst }) == Set(sirets))
            #expect(search.summary?.ignoredAssociations == [finess])
            #expect(search.report("sos")?.flows == [.sos])
        }

        @Test func cptsModeUsesR04OnlyWhereEnabled() async throws {
            let ps = somePractitioners(3)
            let transport = SandboxTransport()
            let editors = [sandboxEditor("both", flows: [.r01, .r04]), sandboxEditor("indiv", flows: [.r01]),
                           sandboxEditor("none", flows: [.r02])]
            let aggregator = SlotAggregator(editors: editors, transport: transport,
                                            configuration: configuration { $0.cacheTTL = .zero })
            let cpts = await TimedSearch.run(aggregator, request(ps, cpts: true))
            let include = "_include=Slot:service-type-reference"
            #expect(transport.calls("both").map { $0.url.absoluteString.contains(include) } == [true])
            #expect(transport.calls("indiv").map { $0.url.absoluteString.contains(include) } == [false])
            #expect(transport.calls("none").isEmpty)
            #expect(Set(cpts.batches.map { "\($0.editorID):\($0.flow)" }) == ["both:cpts", "indiv:individual"])

            _ = await TimedSearch.run(aggregator, request(ps, cpts: false))
            #expect(transport.calls("both").map { $0.url.absoluteString.contains(include) } == [true, false])
        }

        @Test func knownPractitionersAreAskedOnlyWhereKnown() async throws {
            let ps = somePractitioners(4)
            let (known, unknown, stale, disabledOnly) = (ps[0], ps[1], ps[2], ps[3])
            let transport = SandboxTransport([
                "a": SandboxEditor(practitioners: [known, stale]),
                "b": SandboxEditor(practitioners: [unknown]),
                "c": SandboxEditor(),
            ])
            let editors = [sandboxEditor("a"), sandboxEditor("b"), sandboxEditor("c", enabled: false)]
            let aggregator = SlotAggregator(editors: editors, transport: transport)
            let links: [IDNPS: Set<String>] = [known: ["a"], stale: ["removed-editor"], disabledOnly: ["c"]]
            let search = await TimedSearch.run(aggregator, request(ps, known: links))
            let askedA = Set(transport.calls("a").flatMap(\.identifiers))
            let askedB = Set(transport.calls("b").flatMap(\.identifiers))
            #expect(askedA == Set([known.value, unknown.value, stale.value]))
            #expect(askedB == Set([unknown.value, stale.value]))
            #expect(transport.calls("c").isEmpty)
            let summary = try #require(search.summary)
            let expectedLinks: [String: Set<IDNPS>] = ["a": [stale], "b": [unknown]]
            #expect(summary.learnedLinks == expectedLinks)
            let events = search.events.compactMap { event -> String? in
                if case .learnedLinks(let id, let practitioners) = event.event { return "\(id):\(practitioners.count)" }
                return nil
            }
            #expect(Set(events) == ["a:1", "b:1"])
            #expect(search.slots.count == 9)
        }

        @Test func sequentialModeRunsLotsOfTwentyFiveOneAfterTheOther() async throws {
            let ps = somePractitioners(60)
            let latency = Duration.milliseconds(120)
            func run(sequential: Bool) async -> (TimedSearch, SandboxTransport) {
                let transport = SandboxTransport(["a": SandboxEditor(latency: latency), "b": SandboxEditor(latency: latency)])
                let aggregator = SlotAggregator(editors: [sandboxEditor("a"), sandboxEditor("b")], transport: transport)
                return (await TimedSearch.run(aggregator, request(ps, deadline: .seconds(5), sequential: sequential)), transport)
            }
            let (parallel, parallelTransport) = await run(sequential: false)
            let (sequential, sequentialTransport) = await run(sequential: true)
            #expect(parallelTransport.maxConcurrent("a") == 3)
            #expect(sequentialTransport.maxConcurrent("a") == 1)
            #expect(batchSizes(sequentialTransport, "b") == [10, 25, 25])
            #expect(parallel.slots.count == 360 && sequential.slots.count == 360)
            let sequentialElapsed = try #require(sequential.summary?.elapsed)
            let parallelElapsed = try #require(parallel.summary?.elapsed)
            #expect(sequentialElapsed >= latency * 3, "sequential took \(sequentialElapsed.ms) ms")
            #expect(parallelElapsed < sequentialElapsed)
        }

        @Test func emptySearchFinishesAtOnce() async {
            let aggregator = SlotAggregator(editors: [sandboxEditor("a")], transport: SandboxTransport())
            let search = await TimedSearch.run(aggregator, request([]))
            #expect(search.summary?.editors.isEmpty == true)
            #expect(search.events.count == 1)
        }
    }
}
