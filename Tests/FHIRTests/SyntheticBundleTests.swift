import Foundation
@testable import FHIR
import SASDomain
import Testing

@Suite("Synthetic bundles")
struct SyntheticBundleTests {
    @Test func deterministicRealisticAndNormalisable() throws {
        let a = FHIRBenchmark.bundleData()
        let b = FHIRBenchmark.bundleData()
        #expect(a == b)
        #expect(a != FHIRBenchmark.bundleData(seed: 43))
        let start = FHIRBenchmark.referenceStart
        let result = try BundleNormaliser.normalise(data: a, flow: .individual,
                                                    window: start.addingTimeInterval(-3600)...start.addingTimeInterval(4 * 86_400),
                                                    now: start.addingTimeInterval(-3600))
        #expect(result.problems.isEmpty, "\(result.problems.prefix(3))")
        #expect(result.slots.count == result.declaredTotal)
        #expect(result.slots.count >= 25 * 3 * 8)
        #expect(Set(result.slots.compactMap(\.practitioner)).count == 25)
        #expect(result.slots.allSatisfy { $0.practitioner?.hasValidChecksum == true })
        #expect(result.slots.allSatisfy { $0.site.postalCode?.count == 5 && $0.bookingURL != nil })
        let bundle = try FHIRJSON.decodeBundle(a)
        let slotStarts = bundle.resources.compactMap(\.slot).compactMap(\.start?.canonical)
        #expect(slotStarts.allSatisfy { $0.hasSuffix("+01:00") && $0.count == 29 })
    }

    @Test func benchmarkRunsAndReportsSize() {
        let result = FHIRBenchmark.run(seconds: 0.05)
        #expect(result.bundlesPerSecond > 0)
        #expect(result.bundleBytes > 100_000)
        #expect(abs(result.megabytesPerSecond - result.bundlesPerSecond * Double(result.bundleBytes) / 1_000_000) < 0.001)
    }
}
