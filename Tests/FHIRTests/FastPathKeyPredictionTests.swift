import Foundation
@testable import FHIR
import Testing

/// The fast path predicts each Slot (and entry) key from the previous one (`KeyPredictor`): bundles whose keys
/// deviate from the learnt order or spelling must still give exactly what the full path gives.
extension FastPathEquivalenceTests {
    /// Edits applied to one occurrence (after the predictor has learnt the usual shape) of a pattern in the bundle.
    static let keyEdits: [(pattern: String, replacement: String)] = [
        ("\"end\":", "\"end\" :"),                              // whitespace before the colon
        (",\"id\":", ", \"id\":"),                              // whitespace after the comma
        (",\"id\":", " ,\"id\":"),                              // whitespace before the comma
        ("\"status\":", "\"st\\u0061tus\":"),                   // an escaped spelling of a known key (unknown key)
        ("\"comment\":", "\"commentX\":"),                      // an unknown key where a known one is predicted
        ("\"comment\":", "\"commen\":"),                        // a shorter one
        ("\"comment\":", "\"commenu\":"),                       // same length, last byte differs (one word)
        ("\"start\":", "\"stars\":"),                           // same length, short token
        ("\"appointmentType\":", "\"appointmentTypf\":"),       // same length, second (overlapping) word
        ("\"appointmentType\":", "\"appointXentType\":"),       // same length, only the middle word of three
        ("\"appointmentType\":", "\"appointmentType\";"),       // the colon, read with the token, is wrong
        ("\"serviceType\":", "\"sErviceType\":"),               // same length, first word
        ("\"meta\":", "\"schedule\":{\"reference\":\"Schedule/none\"},\"meta\":"), // an extra key shifts the order
        ("\"status\":\"free\"}", "\"status\":\"free\",\"status\":\"busy\"}"), // a repeated key (the last wins)
        ("\"status\":\"free\"}", "\"status\":\"free\",}"),      // a trailing comma
        ("\"status\":\"free\"}", "\"status\":\"free\" }"),      // whitespace before the end of the object
        ("\"status\":\"free\"}", "\"status\":\"free\"\"x\":1}"), // a missing comma
        ("\"appointmentType\":", "\"appointmentType\"  :  "),   // more whitespace
        ("\"resource\":", "\"resource\" :"),                    // entry keys
        ("\"search\":", "\"searchX\":"),
        ("\"fullUrl\":", "\"fullUrl\":null,\"fullUrl\":"),
    ]

    @Test(arguments: 0..<keyEdits.count)
    func keyPredictionDeviations(edit: Int) {
        let data = FHIRBenchmark.bundleData(shape: .init(practitioners: 3, days: 1, slotsPerDay: 5), seed: 11)
        let text = String(decoding: data, as: UTF8.self)
        let (pattern, replacement) = Self.keyEdits[edit]
        let ranges = Array(text.ranges(of: pattern))
        #expect(ranges.count > 6, "pattern \(pattern)")
        for occurrence in [1, 4, ranges.count - 1] where occurrence < ranges.count {
            var edited = text
            edited.replaceSubrange(ranges[occurrence], with: replacement)
            Self.expectSame(Data(edited.utf8), "key edit \(edit) at \(occurrence): \(replacement)")
        }
        var everywhere = text // every occurrence but the first: the predictor keeps seeing the learnt token fail
        for range in ranges.dropFirst().reversed() { everywhere.replaceSubrange(range, with: replacement) }
        Self.expectSame(Data(everywhere.utf8), "key edit \(edit) everywhere: \(replacement)")
    }

    /// Documents cut inside or right after a predicted key token.
    @Test func truncatedInsidePredictedKeys() {
        let data = FHIRBenchmark.bundleData(shape: .init(practitioners: 2, days: 1, slotsPerDay: 4), seed: 12)
        let text = String(decoding: data, as: UTF8.self)
        for pattern in ["\"start\":", "\"id\":", "\"resource\":", "\"status\":\"free\"}"] {
            let ranges = Array(text.ranges(of: pattern))
            guard ranges.count > 3 else { Issue.record("pattern \(pattern)"); continue }
            let at = text.utf8.distance(from: text.startIndex, to: ranges[3].lowerBound)
            for cut in [1, 3, pattern.utf8.count - 1, pattern.utf8.count] {
                Self.expectSame(data.prefix(at + cut), "cut \(cut) into \(pattern)")
            }
        }
    }
}
