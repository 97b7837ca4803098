import SASDomain
import Foundation
@testable import FHIR

/// Random, deterministic damage and vendor quirks applied as text edits to a canonical searchset (so the untouched
/// slots stay on the fast path), to cross-check the fast slot path with the full path on entries it declines or
/// half-reads before giving way.
enum QuirkInjector {
    static let cptsConcept = """
        {"coding":[{"code":"604","system":"https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/\
        TRE-R66-CategorieEtablissement"}],"extension":[{"url":"\(FHIRSystems.slotServiceTypeExtension)",\
        "valueReference":{"reference":"HealthcareService/hs-1"}}]},
        """

    /// (pattern, replacement) pairs; one random occurrence of the pattern is replaced per edit.
    static let edits: [(String, String)] = [
        ("\"status\":\"free\"", "\"status\":\"busy\""),
        ("\"status\":\"free\"", "\"status\":5"),                              // wrong type
        ("\"status\":\"free\"", "\"status\":null"),
        ("\"status\":\"free\"", "\"status\":\"fr\\u0065e\""),                 // escaped
        ("\"end\":\"", "\"endX\":\""),                                        // no end
        ("\"start\":\"", "\"startX\":\""),                                    // no start
        (".000+01:00\"", "Z\""),                                              // Z instant
        (".000+01:00\"", "\""),                                               // local time, no offset
        (".000+01:00\"", ".000+25:00\""),                                     // invalid instant
        ("\"meta\":{", "\"meta\":null,\"metaX\":{"),
        ("\"schedule\":{\"reference\":\"Schedule/", "\"schedule\":{\"reference\":\"Schedule/missing-"),
        ("\"schedule\":{", "\"schedule\":\"oops\",\"scheduleX\":{"),           // wrong type
        ("\"schedule\":{\"reference\":\"Schedule/", "\"schedule\":{\"display\":\"x\",\"reference\":\"Schedule/"),
        ("\"comment\":\"https:", "\"comment\":\"\\u0068ttps:"),                // escaped comment
        ("\"comment\":\"https:", "\"comment\":  \"  https:"),                  // blanks
        ("\"id\":\"slot-", "\"id\":\"slot-\\u00e9"),                           // escaped non-ASCII id
        ("\"id\":\"slot-", "\"id\":\"slot-é"),                                 // raw non-ASCII id
        ("{\"resourceType\":\"Slot\",", "{\"resourceType\":\"Slot\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"1\"}],"),
        ("{\"resourceType\":\"Slot\",", "{\"resourceType\":\"Slot\",\"extension\":[{\"valueString\":\"no url\"}],"),
        ("{\"resourceType\":\"Slot\",", "{\"resourceType\":\"Slot\",\"overbooked\":\"yes\","),
        ("{\"resourceType\":\"Slot\",", "{\"resourceType\":\"Slot\",\"resourceType\":\"Slot\",\"unknown\":[1,{\"a\":null}],"),
        ("{\"resourceType\":\"Slot\",", "{\"resourceType\":\"Basic\","),       // unknown resource type
        ("{\"resourceType\":\"Slot\",", "{\"x\":1,\"resourceType\":\"Slot\","), // resourceType not first
        ("\"search\":{\"mode\":\"match\"}", "\"search\":null"),
        ("\"search\":{\"mode\":\"match\"}", "\"search\":{\"mode\":1}"),       // wrong type: whole entry
        ("\"search\":{\"mode\":\"match\"}", "\"search\":{\"mode\":\"match\",\"score\":0.5}"),
        ("\"fullUrl\":\"https://agenda.example.fr/fhir/Slot/", "\"fullUrl\":\"urn:uuid:"),
        ("\"fullUrl\":\"https://agenda.example.fr/fhir/Slot/", "\"fullUrl\":\"https://agenda.example.fr/fhir/Slot/other-"),
        ("\"fullUrl\":\"https://agenda.example.fr/fhir/Slot/", "\"fullUrl\":null,\"x\":\""),
        ("-0-0-1\"", "-0-0-0\""),                                           // duplicate Slot id or fullUrl
        ("\"serviceType\":[", "\"serviceType\":[" + cptsConcept),
        ("\"serviceType\":[", "\"serviceType\":[{\"text\":\"  Suivi  \"},"),
        ("\"specialty\":[", "\"specialty\":[{\"text\":\"Médecine du sport\"},"),
        ("\"appointmentType\":{", "\"appointmentType\":null,\"y\":{"),
        (",\"start\":", " ,\n  \"start\" :  "),                               // whitespace
    ]

    /// Applies `count` random edits to `data`.
    static func inject(into data: Data, rng: inout SplitMix64, count: Int) throws -> Data {
        var text = String(decoding: data, as: UTF8.self)
        for _ in 0..<count {
            let (pattern, replacement) = edits[Int(rng.next() % UInt64(edits.count))]
            let ranges = text.ranges(of: pattern)
            guard !ranges.isEmpty else { continue }
            text.replaceSubrange(ranges[Int(rng.next() % UInt64(ranges.count))], with: replacement)
        }
        return Data(text.utf8)
    }
}
