import Foundation
import SASDomain

/// Parse + normalise throughput on a realistic INT_R01 bundle (25 practitioners × 3 days), for `sas bench fhir`.
public enum FHIRBenchmark {
    /// The fixed reference date of the benchmark bundle (a Monday, Paris winter time).
    public static let referenceStart = Date(timeIntervalSince1970: 1_765_180_800) // 2025-12-08T08:00:00Z

    /// The benchmark bundle bytes.
    public static func bundleData(shape: SyntheticBundles.Shape = .init(), seed: UInt64 = 42) -> Data {
        SyntheticBundles.individualSearchsetData(shape: shape, seed: seed, start: referenceStart)
    }

    /// Measures the path the platform uses, ``BundleNormaliser/normalise(data:flow:window:now:)`` (fast slot reader
    /// plus full models for the rest), in a loop for about `seconds` on the calling thread.
    /// `problems` are those of one normalisation of the benchmark bundle (expected empty).
    public static func run(seconds: Double)
        -> (bundlesPerSecond: Double, megabytesPerSecond: Double, bundleBytes: Int, problems: [EntryProblem]) {
        let (perSecond, megabytes, bytes) = measure(seconds: seconds) { (data, window, now) throws(FHIRDecodingError) in
            try BundleNormaliser.normalise(data: data, flow: .individual, window: window, now: now)
        }
        let start = referenceStart
        let problems = (try? BundleNormaliser.normalise(
            data: bundleData(), flow: .individual,
            window: start.addingTimeInterval(-3600)...start.addingTimeInterval(4 * 86_400), now: start.addingTimeInterval(-3600)
        ))?.problems ?? [EntryProblem(entryIndex: nil, fullUrl: nil, reason: .bundleStructure, message: "undecodable")]
        return (perSecond, megabytes, bytes, problems)
    }

    /// Same measurement on the reference path (every entry decoded into full models first), for comparison.
    public static func runFullModels(seconds: Double) -> (bundlesPerSecond: Double, megabytesPerSecond: Double, bundleBytes: Int) {
        measure(seconds: seconds) { (data, window, now) throws(FHIRDecodingError) in
            try BundleNormaliser.normaliseFully(data: data, flow: .individual, window: window, now: now)
        }
    }

    private static func measure(seconds: Double,
                                _ body: (Data, ClosedRange<Date>, Date) throws(FHIRDecodingError) -> NormalisationResult)
        -> (bundlesPerSecond: Double, megabytesPerSecond: Double, bundleBytes: Int) {
        let data = bundleData()
        let window = referenceStart.addingTimeInterval(-3600)...referenceStart.addingTimeInterval(4 * 86_400)
        let now = referenceStart.addingTimeInterval(-3600)
        var iterations = 0
        var slots = 0
        let clock = ContinuousClock()
        let began = clock.now
        let deadline = began.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while clock.now < deadline || iterations == 0 {
            for _ in 0..<4 {
                if let result = try? body(data, window, now) { slots &+= result.slots.count }
                iterations += 1
            }
        }
        let elapsed = began.duration(to: clock.now)
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        precondition(slots > 0, "benchmark bundle produced no slots")
        let perSecond = Double(iterations) / secondsElapsed
        return (perSecond, perSecond * Double(data.count) / 1_000_000, data.count)
    }
}
