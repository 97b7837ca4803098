import Foundation
@testable import FHIR
import SASDomain
import Testing

/// The fast slot path (`BundleNormaliser.normaliseFast`) and the full-model path (`normaliseFully`) must give the
/// same `NormalisationResult` — slots, problems (order and text), drop counts — or the same whole-document error.
@Suite("Fast path ≡ full path")
struct FastPathEquivalenceTests {
    static let wide = Date(timeIntervalSince1970: 0)...Date(timeIntervalSince1970: 4_102_444_800) // 1970–2100
    static let flows = SlotFlow.allCases

    /// Compares both paths (and the public entry point) on `data` for every flow and a few windows.
    /// Returns how many of the compared runs went through the fast path (it may decline a bundle).
    @discardableResult
    static func expectSame(_ data: Data, _ label: String, fastMustEngage: Bool = false,
                           sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        var engaged = 0
        let ref = FHIRBenchmark.referenceStart
        let windows: [(ClosedRange<Date>, Date)] = [
            (wide, wide.lowerBound),
            (ref.addingTimeInterval(-3600)...ref.addingTimeInterval(4 * 86_400), ref.addingTimeInterval(-3600)),
            (ref...ref.addingTimeInterval(86_400), ref.addingTimeInterval(3 * 3600)), // drops: window and past
        ]
        for flow in flows {
            for (window, now) in windows {
                let full = Result { () throws(FHIRDecodingError) in
                    try BundleNormaliser.normaliseFully(data: data, flow: flow, window: window, now: now)
                }
                let fast = Result { () throws(FHIRDecodingError) in
                    try BundleNormaliser.normaliseFast(data: data, flow: flow, window: window, now: now)
                }
                let platform = Result { () throws(FHIRDecodingError) in
                    try BundleNormaliser.normalise(data: data, flow: flow, window: window, now: now)
                }
                switch (full, fast, platform) {
                case (.success(let f), .success(let q), .success(let p)):
                    if q != nil { engaged += 1 }
                    if let q { #expect(q == f, "\(label) \(flow): \(diff(q, f))", sourceLocation: sourceLocation) }
                    if fastMustEngage { #expect(q != nil, "\(label): fast path declined", sourceLocation: sourceLocation) }
                    #expect(p == f, "\(label) \(flow): \(diff(p, f))", sourceLocation: sourceLocation)
                case (.failure(let f), .failure(let q), .failure(let p)):
                    #expect(q == f && p == f, "\(label): \(q) / \(p) vs \(f)", sourceLocation: sourceLocation)
                default:
                    Issue.record("\(label) \(flow): full \(full), fast \(fast), platform \(platform)", sourceLocation: sourceLocation)
                }
            }
        }
        return engaged
    }

    static func diff(_ a: NormalisationResult, _ b: NormalisationResult) -> String {
        if a.slots != b.slots {
            let i = a.slots.indices.first { $0 >= b.slots.count || a.slots[$0] != b.slots[$0] } ?? a.slots.count
            return "slots differ at \(i) (\(a.slots.count) vs \(b.slots.count))"
        }
        if a.problems != b.problems { return "problems \(a.problems) vs \(b.problems)" }
        return "dropped \(a.dropped) vs \(b.dropped); unknown \(a.unknownResourceTypes) vs \(b.unknownResourceTypes)"
    }

    @Test(arguments: Fixture.allNames)
    func fixtures(name: String) throws {
        Self.expectSame(try Fixture.data(name), name)
    }

    @Test(arguments: [1, 2, 3, 42, 77] as [UInt64])
    func syntheticBundles(seed: UInt64) {
        let shape = SyntheticBundles.Shape(practitioners: 6 + Int(seed % 7), days: 2, slotsPerDay: 5, secondSiteRatio: 0.4)
        Self.expectSame(FHIRBenchmark.bundleData(shape: shape, seed: seed), "seed \(seed)", fastMustEngage: true)
    }

    @Test func benchmarkBundle() {
        Self.expectSame(FHIRBenchmark.bundleData(), "benchmark", fastMustEngage: true)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func quirkInjectedBundles(seed: UInt64) throws {
        let data = FHIRBenchmark.bundleData(shape: .init(practitioners: 5, days: 2, slotsPerDay: 6), seed: seed)
        var rng = SplitMix64(seed: seed &* 7919)
        let mutated = try QuirkInjector.inject(into: data, rng: &rng, count: 12)
        Self.expectSame(mutated, "quirks seed \(seed)")
        let light = try QuirkInjector.inject(into: data, rng: &rng, count: 2)
        Self.expectSame(light, "light quirks seed \(seed)")
    }

    @Test func eachQuirkAlone() throws {
        let data = FHIRBenchmark.bundleData(shape: .init(practitioners: 3, days: 1, slotsPerDay: 4), seed: 5)
        let text = String(decoding: data, as: UTF8.self)
        var engaged = 0
        for (k, (pattern, replacement)) in QuirkInjector.edits.enumerated() {
            guard let range = text.ranges(of: pattern).dropFirst(k % 3).first ?? text.ranges(of: pattern).first else {
                Issue.record("pattern \(pattern) not found")
                continue
            }
            var edited = text
            edited.replaceSubrange(range, with: replacement)
            engaged += Self.expectSame(Data(edited.utf8), "quirk \(k): \(replacement)") > 0 ? 1 : 0
        }
        // Only duplicate keys and non-ASCII ids/fullUrls send the whole bundle to the full path.
        #expect(engaged >= QuirkInjector.edits.count - 4, "fast path engaged for \(engaged) quirks")
    }

    /// A fullUrl whose `Slot/<id>` names another Slot than the entry's id is a key of its own (noted while reading):
    /// when another slot has that id, the bundle goes to the full path, where the index reports the duplicate.
    @Test func fullUrlsNamingAnotherSlot() throws {
        let data = FHIRBenchmark.bundleData(shape: .init(practitioners: 2, days: 1, slotsPerDay: 3), seed: 11)
        let text = String(decoding: data, as: UTF8.self)
        let ids = text.ranges(of: "\"fullUrl\":\"https://agenda.example.fr/fhir/Slot/").map { range in
            String(text[range.upperBound...].prefix { $0 != "\"" })
        }
        try #require(ids.count >= 3)
        // Entry 0 keeps its id but its fullUrl names slot 2: a repeated key.
        let clash = text.replacingOccurrences(of: "fhir/Slot/\(ids[0])\"", with: "fhir/Slot/\(ids[2])x\"")
            .replacingOccurrences(of: "\"id\":\"\(ids[2])\"", with: "\"id\":\"\(ids[2])x\"")
        #expect(Self.expectSame(Data(clash.utf8), "fullUrl naming another slot") == 0)
        // Named Slot absent from the bundle: no repeated key, the fast path reads it.
        let alone = text.replacingOccurrences(of: "fhir/Slot/\(ids[0])\"", with: "fhir/Slot/elsewhere\"")
        Self.expectSame(Data(alone.utf8), "fullUrl naming an absent slot", fastMustEngage: true)
        // The same fullUrl twice.
        let twice = text.replacingOccurrences(of: "fhir/Slot/\(ids[1])\"", with: "fhir/Slot/\(ids[0])\"")
        #expect(Self.expectSame(Data(twice.utf8), "fullUrl twice") == 0)
    }

    /// `entry` twice: the last array wins (as in the full reader), so the fast path, which saw both, declines; an
    /// empty first array changes nothing.
    @Test func repeatedEntryArrays() throws {
        let data = FHIRBenchmark.bundleData(shape: .init(practitioners: 2, days: 1, slotsPerDay: 3), seed: 12)
        let text = String(decoding: data, as: UTF8.self)
        let first = try #require(text.range(of: "{\"fullUrl\":"))
        let end = try #require(text.range(of: "\"search\":{\"mode\":\"match\"}}", range: first.upperBound..<text.endIndex))
        let slotEntry = String(text[first.lowerBound..<end.upperBound]).replacingOccurrences(of: "-0-0-0\"", with: "-0-0-0z\"")
        let twice = text.replacingOccurrences(of: "\"entry\":[", with: "\"entry\":[\(slotEntry)],\"entry\":[")
        #expect(twice != text)
        #expect(Self.expectSame(Data(twice.utf8), "two entry arrays") == 0)
        let emptyFirst = text.replacingOccurrences(of: "\"entry\":[", with: "\"entry\":[],\"entry\":[")
        Self.expectSame(Data(emptyFirst.utf8), "an empty entry array first", fastMustEngage: true)
    }

    @Test func truncatedAndHostileDocuments() throws {
        let data = FHIRBenchmark.bundleData(shape: .init(practitioners: 3, days: 1, slotsPerDay: 4), seed: 9)
        for fraction in [0.0, 0.02, 0.1, 0.33, 0.5, 0.77, 0.999] {
            Self.expectSame(data.prefix(Int(Double(data.count) * fraction)), "truncated \(fraction)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let deep = String(repeating: "[", count: 50) + "1" + String(repeating: "]", count: 50)
        let nestedInSlot = text.replacingOccurrences(of: "\"status\":\"free\"", with: "\"status\":\"free\",\"x\":\(deep)")
        Self.expectSame(Data(nestedInSlot.utf8), "50-level nesting in slots")
        let deepInMeta = String(repeating: "{\"a\":", count: 70) + "1" + String(repeating: "}", count: 70)
        let tooDeep = text.replacingOccurrences(of: "\"meta\":{", with: "\"meta\":{\"extension\":[{\"url\":\"u\",\"valueX\":\(deepInMeta)}],")
        Self.expectSame(Data(tooDeep.utf8), "deep in meta")
        Self.expectSame(Data("{\"resourceType\":\"Bundle\",\"entry\":{}}".utf8), "entry not an array")
        Self.expectSame(Data("[]".utf8), "not a resource")
    }
}
