import Aggregator
import Foundation
import SASDomain
import Testing

extension AggregatorCore {
    /// Slot lists as answers and the cache hold them, and the batches built on them.
    @Suite struct SlotLists {
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        let ps = try! IDNPS.rpps(RPPS.withCheckDigit("1009000001"))
        let other = try! IDNPS.rpps(RPPS.withCheckDigit("1009000002"))

        func slot(_ minutes: Int, _ who: IDNPS? = nil, types: ConsultationTypes = .ambulatory, kinds: SlotKinds = .snp,
                  url: String = "") -> AggregatedSlot {
            let start = t0.addingTimeInterval(Double(minutes) * 60)
            return AggregatedSlot(flow: .individual, practitioner: who ?? ps, start: start, end: start.addingTimeInterval(900),
                                  kinds: kinds, consultationTypes: types, bookingURL: url.isEmpty ? "https://v.example/\(minutes)" : url)
        }

        func minutes(_ slots: some Sequence<AggregatedSlot>) -> [Int] {
            slots.map { Int($0.start.timeIntervalSince(t0) / 60) }
        }

        @Test func listsAreSortedByStartKeepingTheEditorsOrderForTies() {
            let list = SlotList([slot(30, url: "a"), slot(10), slot(30, url: "b"), slot(20, types: .homeVisit), slot(30, url: "c")])
            #expect(minutes(list.slots) == [10, 20, 30, 30, 30])
            #expect(list.slots[2...].map(\.bookingURL) == ["a", "b", "c"])
            // Two distinct profiles: (AMB, SNP) and (HH, SNP).
            #expect(Set(list.profiles) == [SlotProfile(consultationTypes: .ambulatory, kinds: .snp),
                                           SlotProfile(consultationTypes: .homeVisit, kinds: .snp)])
            #expect(list.profiles.count == 2)
            #expect(SlotList.empty.slots.isEmpty && SlotList.empty.profiles.isEmpty)
        }

        @Test func rangesFollowTheWindowAndNow() {
            let list = SlotList((0..<10).map { slot($0 * 10) }) // 0, 10, …, 90
            let at = { (m: Int) in self.t0.addingTimeInterval(Double(m) * 60) }
            // Both bounds inclusive.
            #expect(list.range(startingIn: at(20)...at(50), notBefore: .distantPast) == 2..<6)
            // "Not started yet" cuts further in.
            #expect(list.range(startingIn: at(20)...at(50), notBefore: at(35)) == 4..<6)
            // Between two slots, before all, after all, and a "now" past the window: empty, never inverted.
            #expect(list.range(startingIn: at(21)...at(29), notBefore: .distantPast).isEmpty)
            #expect(list.range(startingIn: at(-50)...at(-1), notBefore: .distantPast) == 0..<0)
            #expect(list.range(startingIn: at(91)...at(200), notBefore: .distantPast) == 10..<10)
            #expect(list.range(startingIn: at(0)...at(40), notBefore: at(60)).isEmpty)
            #expect(SlotList.empty.range(startingIn: at(0)...at(40), notBefore: .distantPast) == 0..<0)
        }

        @Test func batchesFromPlainSlotsHaveOneSortedSegmentPerPractitioner() {
            let batch = SlotBatch(editorID: "e", flow: .individual,
                                  slots: [slot(50), slot(5, other), slot(10), slot(0, other)],
                                  problemCount: 0, elapsed: .zero, latency: nil, fromCache: false)
            #expect(batch.segments.map(\.practitioner) == [ps, other])
            #expect(batch.segments.map { minutes($0.slots) } == [[10, 50], [0, 5]])
            #expect(batch.slotCount == 4)
            #expect(minutes(batch.slots) == [10, 50, 0, 5])
            // Segments are clamped to their list, and empty ones are not kept.
            let list = SlotList([slot(1), slot(2)])
            #expect(SlotSegment(practitioner: ps, list: list, range: 1..<9).range == 1..<2)
            let segmented = SlotBatch(editorID: "e", flow: .individual,
                                      segments: [SlotSegment(practitioner: ps, list: list, range: 2..<2),
                                                 SlotSegment(practitioner: other, list: list, range: 0..<1)],
                                      problemCount: 0, elapsed: .zero, latency: nil, fromCache: true)
            #expect(segmented.segments.map(\.practitioner) == [other])
            #expect(segmented.slotCount == 1)
        }

        @Test func aggregatorBatchesAreSortedPerPractitionerAndCutToTheWindow() async throws {
            let transport = SandboxTransport(["e": SandboxEditor()])
            let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport, configuration: configuration { _ in })
            let practitioners = somePractitioners(3)
            let wide = await aggregator.collect(request(practitioners, deadline: .seconds(20)))
            let slots = wide.slots
            #expect(!slots.isEmpty)
            for batch in wide.batches {
                for segment in batch.segments {
                    let starts = segment.slots.map(\.start)
                    #expect(starts == starts.sorted())
                    #expect(segment.slots.allSatisfy { $0.practitioner == segment.practitioner })
                }
            }
            // A narrower window: only the slots starting in it.
            let base = request(practitioners, deadline: .seconds(20))
            let sorted = slots.map(\.start).sorted()
            let narrow = sorted[sorted.count / 4]...sorted[sorted.count * 3 / 4]
            var second = base
            second.window = narrow
            let cut = await aggregator.collect(second)
            let expected = slots.filter { narrow.contains($0.start) }.count
            #expect(cut.slots.count == expected)
            #expect(cut.slots.allSatisfy { narrow.contains($0.start) })
            #expect(cut.summary.slotCount == expected)
        }
    }
}
