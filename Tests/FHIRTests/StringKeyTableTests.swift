@testable import FHIR
import Testing

/// The byte-keyed table behind `BundleIndex`: part boundaries, kinds and part counts are part of the key, the first
/// value stays, and lookups by a URL's `Type/id` suffix find the two-part key.
@Suite("String key table")
struct StringKeyTableTests {
    @Test func partsKindsAndCountsAreAllPartOfTheKey() {
        var t = StringKeyTable()
        t.insert(1, "ab", "c")
        t.insert(2, "a", "bc")
        t.insert(3, "ab", "c", kind: 1)
        t.insert(4, "abc")
        t.insert(5, "Practitioner", "", "p1")
        t.insert(6, "Practitioner", "p1")
        t.insert(7, "", "")
        #expect(t.value("ab", "c") == 1 && t.value("a", "bc") == 2 && t.value("ab", "c", kind: 1) == 3 && t.value("abc") == 4)
        #expect(t.value("Practitioner", "", "p1") == 5 && t.value("Practitioner", "p1") == 6 && t.value("", "") == 7)
        #expect(t.value("abc", "") == nil && t.value("ab") == nil && t.value("a", "bc", kind: 1) == nil)
        #expect(t.value("Practitioner", "x", "p1") == nil && t.value("Practitioner", "p2") == nil && t.value("") == nil)
    }

    @Test func theFirstValueStaysAndTheTableGrows() {
        var t = StringKeyTable()
        for i in 0..<5_000 { t.insert(i, "Slot", "s\(i)") }
        for i in 0..<5_000 { t.insert(i + 10_000, "Slot", "s\(i)") } // already there: kept
        #expect((0..<5_000).allSatisfy { (i: Int) in t.value("Slot", "s\(i)") == i })
        #expect(t.value("Slot", "s5000") == nil && t.value("Schedule", "s1") == nil)
        var reserved = StringKeyTable()
        reserved.reserve(300)
        for i in 0..<300 { reserved.insert(i, "https://e.example/fhir/Location/l\(i)") }
        #expect((0..<300).allSatisfy { (i: Int) in reserved.value("https://e.example/fhir/Location/l\(i)") == i })
    }

    @Test func suffixLookupsReadTheReferenceBytes() {
        var t = StringKeyTable()
        t.insert(1, "Schedule", "s1")
        t.insert(2, "Practitioner", "é-1") // compared byte for byte, as FHIR compares references
        #expect(t.value(suffixOf: "Schedule/s1") == 1 && t.value(suffixOf: "https://e.example/fhir/Schedule/s1") == 1)
        #expect(t.value(suffixOf: "https://e.example/fhir/Schedule/s1/_history/3") == 1)
        #expect(t.value(suffixOf: "Practitioner/é-1") == 2 && t.value(suffixOf: "Practitioner/e\u{301}-1") == nil)
        #expect(t.value(suffixOf: "Schedule/s2") == nil && t.value(suffixOf: "s1") == nil && t.value(suffixOf: "") == nil)
        #expect(t.value(suffixOf: "urn:uuid:Schedule/s1") == nil) // a `:` in the type segment: not a Type/id suffix
    }
}
