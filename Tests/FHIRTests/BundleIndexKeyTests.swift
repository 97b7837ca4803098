@testable import FHIR
import Foundation
import Testing

/// The byte check `BundleIndex.fullUrl(_:endsWith:_:)` lets the index skip building a fullUrl's `Type/id` suffix;
/// it must never claim a match that `typeIDSuffix` would not give.
@Suite("Bundle index keys")
struct BundleIndexKeyTests {
    @Test func theByteCheckAgreesWithTheParsedSuffix() {
        let urls = ["https://e.example/fhir/Schedule/s1", "Schedule/s1", "urn:uuid:0d4e", "https://e.example/fhir/Schedule/s1/",
                    "https://e.example/fhir/Schedule/s1/_history/2", "https://e.example/fhir/XSchedule/s1", "/Schedule/s1",
                    "https://e.example/Schedule/s", "Schedule/", "s1", "https://e.example/fhir/schedule/s1", "Schedule//s1",
                    "https://e.example/fhir/Practitioner/s1", "https://e.example/fhir/Schedule/s1x", "https://é.example/Schedule/s1"]
        let ids = ["s1", "s", "", "a/s1", "x/s1", "s1/"]
        var matches = 0
        for url in urls {
            for id in ids {
                let claimed = BundleIndex.fullUrl(url, endsWith: "Schedule", id)
                if claimed {
                    matches += 1
                    let parsed = BundleIndex.typeIDSuffix(url)
                    #expect(parsed?.type == "Schedule" && parsed?.id == id, "\(url) with id \(id)")
                }
            }
        }
        #expect(matches == 5) // …/Schedule/s1, Schedule/s1, /Schedule/s1, …/Schedule/s, https://é…/Schedule/s1
        #expect(!BundleIndex.fullUrl("https://e.example/fhir/Schedule/s1/_history/2", endsWith: "Schedule", "s1"))
    }
}
