import Foundation
@testable import FHIR
import Testing

/// `KeyTable` matches object keys by their bytes (grouped by length, first 8 bytes as one word, then the rest).
@Suite("Key table")
struct KeyTableTests {
    private enum K: String, CaseIterable, Sendable {
        case a, id, end, start, status, identifier, serviceType, serviceCategory, appointmentType, resourceType
        case longKeyBeyondSixteenBytes
    }

    /// Looks `key` up the way `JSONReader.nextKey` does, with `padding` bytes readable after it.
    private static func lookup(_ key: String, padding: String) -> K? {
        let bytes = Array((key + padding).utf8)
        return bytes.withUnsafeBufferPointer { b in
            KeyTable<K>().lookup(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, 0, key.utf8.count, b.count)
        }
    }

    @Test(arguments: ["", "\":1}", "\":{\"x\":[1,2,3]}"])
    func everyKeyIsFoundWhateverFollows(padding: String) {
        for k in K.allCases { #expect(Self.lookup(k.rawValue, padding: padding) == k, "\(k)") }
    }

    @Test(arguments: ["", "\":1}"])
    func nearMissesAreUnknown(padding: String) {
        for key in ["", "b", "ID", "iD", "ends", "en", "starT", "statuS", "identifieR", "serviceTypf", "serviceCategorY",
                    "appointmentTypes", "resourcetype", "longKeyBeyondSixteenByteS", "longKeyBeyondSixteen"] {
            #expect(Self.lookup(key, padding: padding) == nil, "\(key)")
        }
    }

    @Test func emptyTableKnowsNothing() {
        let bytes = Array("id".utf8)
        let found: Never? = bytes.withUnsafeBufferPointer { b in KeyTable<Never>([]).lookup(b.baseAddress!, 0, 2, 2) }
        #expect(found == nil)
    }

    @Test func nextKeySkipsEscapedKeysAndReadsPlainOnes() throws {
        let json = Data(#"{"st\"art":1,"start":2,"end":3}"#.utf8)
        var seen: [K?] = []
        try json.withUnsafeBytes { buffer in
            var r = JSONReader(buffer)
            var first = true
            _ = try r.beginObject()
            while let key = try r.nextKey(&first, KeyTable<K>()) {
                seen.append(key)
                try r.skipValue()
            }
        }
        #expect(seen == [nil, .start, .end])
    }
}
