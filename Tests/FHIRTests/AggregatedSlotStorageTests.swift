import Foundation
import SASDomain
import Testing

/// `AggregatedSlot` shares its fields between copies (copy-on-write): value semantics and its JSON must be those of
/// the field-by-field struct it replaced.
@Suite("Aggregated slot storage")
struct AggregatedSlotStorageTests {
    private static func sample() -> AggregatedSlot {
        AggregatedSlot(flow: .individual, practitioner: try? IDNPS(parsing: "810002345678"), practitionerFamilyName: "ROUX",
                       structures: [SlotStructure(role: .practice, name: "Cabinet")],
                       site: SlotSite(addressLines: ["1 rue de la République"], postalCode: "69002", city: "Lyon"),
                       start: Date(timeIntervalSince1970: 1_795_860_000), end: Date(timeIntervalSince1970: 1_795_861_200),
                       kinds: [.public], consultationTypes: .ambulatory, reasons: ["Suivi"],
                       bookingURL: "https://rdv.example.fr/1", source: SlotSourceIDs(slot: "s1", schedule: "sch"))
    }

    @Test func writingACopyLeavesTheOriginalAlone() {
        let original = Self.sample()
        var copy = original
        #expect(copy == original)
        copy.start = copy.start.addingTimeInterval(600)
        copy.reasons.append("Urgence")
        copy.source.slot = "s2"
        copy.structures[0].name = "Autre"
        #expect(original.start == Date(timeIntervalSince1970: 1_795_860_000))
        #expect(original.reasons == ["Suivi"] && original.source.slot == "s1" && original.structures[0].name == "Cabinet")
        #expect(copy != original)
        #expect(copy.reasons == ["Suivi", "Urgence"] && copy.source.slot == "s2")
    }

    @Test func equalValuesBuiltApartAreEqualAndHashAlike() {
        let a = Self.sample(), b = Self.sample()
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        var c = b
        c.bookingURL = nil
        #expect(Set([a, c]).count == 2)
    }

    @Test func jsonKeepsTheFieldByFieldShape() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(Self.sample())
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        // Nil optionals omitted (practitionerGivenName, bookingMode), every other field present under its name.
        #expect(Set(object.keys) == ["flow", "practitioner", "practitionerFamilyName", "structures", "site", "start", "end",
                                     "assumedLocalTime", "kinds", "consultationTypes", "reasons", "specialties",
                                     "bookingURL", "source"])
        #expect(try JSONDecoder().decode(AggregatedSlot.self, from: data) == Self.sample())
    }
}
