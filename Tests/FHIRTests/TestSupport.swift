import Foundation
@testable import FHIR
import SASDomain
import Testing

/// Fixture loading and small helpers shared by the FHIR tests.
enum Fixture {
    static func data(_ name: String) throws -> Data {
        let url = try #require(Foundation.Bundle.module.url(forResource: "Fixtures/" + name, withExtension: "json"),
                               "missing fixture \(name)")
        return try Data(contentsOf: url)
    }

    static func bundle(_ name: String) throws -> FHIRBundle { try FHIRJSON.decodeBundle(data(name)) }

    /// Decodes a fixture, lets `edit` change its JSON tree, and re-serialises it.
    static func edited(_ name: String, _ edit: (inout [String: Any]) throws -> Void) throws -> Data {
        var object = try #require(JSONSerialization.jsonObject(with: data(name)) as? [String: Any])
        try edit(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    static let allNames = [
        "bundle-psindiv", "bundle-cpts-1", "bundle-cpts-2", "bundle-sos",
        "slot-psindiv-1", "slot-psindiv-2", "slot-psindiv-3", "slot-psindiv-4", "slot-psindiv-5",
        "appointment-booked", "appointment-cancelled", "appointment-sos-pending",
        "regulator-1", "regulator-2", "regulator-3", "regulator-4",
        "quirk-cpts-identifier-type-systems", "quirk-tre-r66-variants", "quirk-text-only-specialty",
        "quirk-sos-revinclude-leak", "quirk-missing-search-mode-and-total", "quirk-absolute-references",
        "quirk-instant-forms", "quirk-unprefixed-identifiers",
    ]
}

/// An instant from a FHIR string, for expectations.
func instant(_ text: String) -> Date {
    FHIRInstant.parse(text)!.date
}

/// A closed window from two FHIR strings.
func window(_ from: String, _ to: String) -> ClosedRange<Date> { instant(from)...instant(to) }

/// Resident set size in bytes (Linux), nil elsewhere.
func residentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
