import Foundation
@testable import FHIR
import SASDomain
import Testing

/// `PrefixMemo` finds a remembered container again by its bytes, comparing only the remembered values whose bytes
/// at the probe offset (where they first differ) equal the upcoming ones. Whatever the order of values, each read
/// must give what decoding that value gives, and consume exactly it.
@Suite("Prefix memo")
struct PrefixMemoTests {
    /// Values sharing a long prefix and differing at various offsets, plus a short one (shorter than the probe
    /// window), one that differs from the first at the very first byte, and values that are not containers.
    static let values = [
        #"{"profile":["http://example.org/StructureDefinition/Slot"],"security":[{"code":"PUBLIC"}]}"#,
        #"{"profile":["http://example.org/StructureDefinition/Slot"],"security":[{"code":"PRO"}]}"#,
        #"{"profile":["http://example.org/StructureDefinition/Slot"],"security":[{"code":"PUBLIC"},{"code":"PRO"}]}"#,
        #"{"profile":["http://example.org/StructureDefinition/Slot"],"security":[{"code":"SNP"}]}"#,
        #"{"a":1}"#,
        #"[{"profile":[]}]"#,
        #"{"profile":["http://example.org/StructureDefinition/Slot"]}"#,
        #"null"#,
        #"{"profile":["http://example.org/StructureDefinition/Slot"],"security":[{"code":"PRO"}],"x":1}"#,
    ]

    /// Reads `sequence` (indices into `values`) as one JSON array through one memo; returns, per element, the text
    /// the memo's value stands for and the reader offset after it. Checks that each distinct container was decoded
    /// once (a remembered value is always found again), and `null` every time.
    private static func readThroughMemo(_ sequence: [Int],
                                        sourceLocation: SourceLocation = #_sourceLocation) throws -> [(text: String, end: Int)] {
        let json = "[" + sequence.map { values[$0] }.joined(separator: ",") + "]"
        let data = Data(json.utf8)
        var decoded: [String] = []
        let out = try data.withUnsafeBytes { buffer in
            var r = JSONReader(buffer)
            var memo = PrefixMemo<String>()
            var out: [(String, Int)] = []
            var first = true
            _ = try r.beginArray()
            while try r.nextElement(&first) {
                let start = r.pos
                let k = try memo.read(&r) { r in
                    let at = r.pos
                    try r.skipValue()
                    let text = String(decoding: UnsafeBufferPointer(start: r.base + at, count: r.pos - at), as: UTF8.self)
                    decoded.append(text)
                    return text
                }
                #expect(r.pos > start)
                out.append((memo.values[k], r.pos))
            }
            return out
        }
        let containers = Set(sequence.map { values[$0] }.filter { $0 != "null" })
        #expect(decoded.filter { $0 != "null" }.count == containers.count, sourceLocation: sourceLocation)
        #expect(decoded.filter { $0 == "null" }.count == sequence.filter { values[$0] == "null" }.count,
                sourceLocation: sourceLocation)
        return out
    }

    /// Where each element ends when read without a memo.
    private static func plainEnds(_ sequence: [Int]) -> [Int] {
        var ends: [Int] = []
        var offset = 1
        for (n, k) in sequence.enumerated() {
            offset += values[k].utf8.count
            ends.append(offset)
            if n < sequence.count - 1 { offset += 1 }
        }
        return ends
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func everyReadGivesTheValueAtTheReader(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let sequence = (0..<200).map { _ in Int(rng.next() % UInt64(Self.values.count)) }
        let read = try Self.readThroughMemo(sequence)
        #expect(read.map(\.text) == sequence.map { Self.values[$0] })
        #expect(read.map(\.end) == Self.plainEnds(sequence))
    }

    @Test func valuesThatDifferOnlyLateAreTold() throws {
        // Remember the long values first, so that the probe sits where they first differ, then alternate.
        let sequence = [0, 1, 2, 3, 8, 6, 2, 0, 8, 1, 3, 3, 6, 0]
        #expect(try Self.readThroughMemo(sequence).map(\.text) == sequence.map { Self.values[$0] })
        // The probe moves back when a value differing earlier arrives (here at the first byte).
        let moved = [0, 1, 5, 4, 0, 1, 5, 4, 2]
        #expect(try Self.readThroughMemo(moved).map(\.text) == moved.map { Self.values[$0] })
    }

    @Test func moreDistinctValuesThanTheMemoHoldsAreStillRead() throws {
        let many = (0..<40).map { #"{"code":"C\#($0)","system":"http://example.org/cs"}"# }
        let json = "[" + (many + many.reversed()).joined(separator: ",") + "]"
        let texts: [String] = try Data(json.utf8).withUnsafeBytes { buffer in
            var r = JSONReader(buffer)
            var memo = PrefixMemo<String>()
            var out: [String] = []
            var first = true
            _ = try r.beginArray()
            while try r.nextElement(&first) {
                let k = try memo.read(&r) { r in
                    let at = r.pos
                    try r.skipValue()
                    return String(decoding: UnsafeBufferPointer(start: r.base + at, count: r.pos - at), as: UTF8.self)
                }
                out.append(memo.values[k])
            }
            return out
        }
        #expect(texts == many + many.reversed())
    }
}
