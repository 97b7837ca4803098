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

    /// Slots made from one template share its Schedule side (practitioner, names, site, Schedule-side ids); writing
    /// one of those fields on one slot must leave the template and its siblings alone.
    @Test func slotsOfOneTemplateShareItsScheduleSideUntilOneIsWritten() {
        let template = Self.sample()
        func made(_ id: String, minutes: Double) -> AggregatedSlot {
            AggregatedSlot(template: template, structures: nil, start: template.start.addingTimeInterval(minutes * 60),
                           end: template.end.addingTimeInterval(minutes * 60), assumedLocalTime: false, kinds: [.pro],
                           consultationTypes: .ambulatory, bookingMode: nil, reasons: [], specialties: [],
                           bookingURL: nil, slotID: id, fullUrl: "https://e.example/fhir/Slot/\(id)")
        }
        var a = made("a", minutes: 20)
        let b = made("b", minutes: 40)
        #expect(a.practitioner == template.practitioner && a.site == template.site && a.structures == template.structures)
        #expect(a.source == SlotSourceIDs(slot: "a", fullUrl: "https://e.example/fhir/Slot/a", schedule: "sch"))
        #expect(!a.hasSameSource(as: b))
        a.site.city = "Villeurbanne"
        a.practitionerFamilyName = "MARTIN"
        a.source.schedule = "autre"
        #expect(a.site.city == "Villeurbanne" && a.practitionerFamilyName == "MARTIN" && a.source.schedule == "autre")
        #expect(a.source.slot == "a")
        #expect(b.site.city == "Lyon" && b.practitionerFamilyName == "ROUX" && b.source.schedule == "sch")
        #expect(template.site.city == "Lyon" && template.source.schedule == "sch" && template.source.slot == "s1")
        // Same ids, Schedule sides built apart: same source; a slot equals its field-by-field twin.
        let twin = AggregatedSlot(flow: .individual, practitioner: b.practitioner, practitionerFamilyName: "ROUX",
                                  structures: b.structures, site: b.site, start: b.start, end: b.end, kinds: [.pro],
                                  consultationTypes: .ambulatory, source: b.source)
        #expect(twin.hasSameSource(as: b) && twin == b && twin.hashValue == b.hashValue)
    }

    /// Slots made with one `SharedFacts` share their kinds, types, mode, reasons, specialties and fullUrl base;
    /// writing one of those on one slot leaves its siblings alone, and a slot whose fullUrl is the base followed
    /// by its id equals (and hashes like) its field-by-field twin with that fullUrl written out.
    @Test func slotsSharingFactsStayIndependentValues() {
        let template = Self.sample()
        let facts = AggregatedSlot.SharedFacts(kinds: [.public, .pro], consultationTypes: .ambulatory, bookingMode: .routine,
                                               reasons: ["Suivi"], specialties: [SlotSpecialty(code: "SM54")],
                                               fullUrlBase: "https://e.example/fhir/Slot/")
        func made(_ id: String) -> AggregatedSlot {
            AggregatedSlot(template: template, structures: nil, start: template.start, end: template.end,
                           assumedLocalTime: false, facts: facts, bookingURL: "https://rdv.example.fr/\(id)", slotID: SlotText(id),
                           fullUrl: nil, fullUrlFromBase: true)
        }
        var a = made("a")
        let b = made("b")
        #expect(a.source.fullUrl == "https://e.example/fhir/Slot/a" && b.source.fullUrl == "https://e.example/fhir/Slot/b")
        #expect(a.kinds == [.public, .pro] && b.reasons == ["Suivi"] && a.bookingURL == "https://rdv.example.fr/a")
        #expect(!a.hasSameSource(as: b) && a != b)

        let twin = AggregatedSlot(flow: .individual, practitioner: b.practitioner, practitionerFamilyName: "ROUX",
                                  structures: b.structures, site: b.site, start: b.start, end: b.end, kinds: [.public, .pro],
                                  consultationTypes: .ambulatory, bookingMode: .routine, reasons: ["Suivi"],
                                  specialties: [SlotSpecialty(code: "SM54")], bookingURL: "https://rdv.example.fr/b",
                                  source: b.source)
        #expect(twin == b && b == twin && twin.hashValue == b.hashValue && twin.hasSameSource(as: b) && b.hasSameSource(as: twin))
        let other = AggregatedSlot(template: template, structures: nil, start: b.start, end: b.end, assumedLocalTime: false,
                                   facts: AggregatedSlot.SharedFacts(kinds: [.public, .pro], consultationTypes: .ambulatory,
                                                                     bookingMode: .routine, reasons: ["Suivi"],
                                                                     specialties: [SlotSpecialty(code: "SM54")],
                                                                     fullUrlBase: "https://e.example/fhir/Slot/"),
                                   bookingURL: "https://rdv.example.fr/b", slotID: SlotText("b"), fullUrl: nil, fullUrlFromBase: true)
        #expect(other == b && other.hashValue == b.hashValue) // equal facts built apart

        a.kinds = [.snp]
        a.reasons.append("Urgence")
        #expect(a.kinds == [.snp] && a.reasons == ["Suivi", "Urgence"])
        #expect(b.kinds == [.public, .pro] && b.reasons == ["Suivi"] && b.source.fullUrl == "https://e.example/fhir/Slot/b")
        #expect(a.source.fullUrl == "https://e.example/fhir/Slot/a") // its own copy of the facts keeps the base

        // Structures: a slot's own (CPTS added) or, by default, its template's — including a template's own ones.
        let cpts = SlotStructure(role: .cpts, name: "CPTS")
        var withCPTS = AggregatedSlot(template: template, structures: template.structures + [cpts], start: b.start,
                                      end: b.end, assumedLocalTime: false, facts: facts, bookingURL: nil, slotID: SlotText("d"),
                                      fullUrl: nil, fullUrlFromBase: true)
        #expect(withCPTS.structures.count == 2 && b.structures == template.structures)
        let fromCPTS = AggregatedSlot(template: withCPTS, structures: nil, start: b.start, end: b.end, assumedLocalTime: false,
                                      facts: facts, bookingURL: nil, slotID: SlotText("e"), fullUrl: nil, fullUrlFromBase: true)
        #expect(fromCPTS.structures == withCPTS.structures)
        withCPTS.structures.removeAll()
        #expect(withCPTS.structures.isEmpty && fromCPTS.structures.count == 2 && template.structures.count == 1)
        var renamed = b
        renamed.structures[0].name = "Autre"
        #expect(renamed.structures[0].name == "Autre" && b.structures[0].name == "Cabinet" && renamed != b)

        // A new slot id written through `source` keeps the fullUrl the slot had (now written out).
        var c = made("c")
        c.source.slot = "renamed"
        #expect(c.source == SlotSourceIDs(slot: "renamed", fullUrl: "https://e.example/fhir/Slot/c", schedule: "sch"))
        c.source.fullUrl = nil
        #expect(c.source.fullUrl == nil && made("c").source.fullUrl == "https://e.example/fhir/Slot/c")
    }

    /// A slot id held in a shared arena reads, compares and hashes as the same id held as a string; ranges outside
    /// the arena are refused; writing the id through `source` leaves the arena and the slots sharing it alone.
    @Test func slotIDsHeldInAnArenaBehaveAsStrings() throws {
        let arena = TextArena(Array("slot-1slot-22slot-1".utf8))
        let one = try #require(SlotText(arena: arena, offset: 0, length: 6))
        let two = try #require(SlotText(arena: arena, offset: 6, length: 7))
        let oneAgain = try #require(SlotText(arena: arena, offset: 13, length: 6))
        #expect(one.string == "slot-1" && two.string == "slot-22" && oneAgain.string == "slot-1")
        #expect(one == oneAgain && one == SlotText("slot-1") && SlotText("slot-1") == oneAgain && one != two)
        #expect(one.hashValue == SlotText("slot-1").hashValue && one.hashValue == oneAgain.hashValue)
        #expect(one != SlotText(nil) && SlotText(nil) == SlotText(nil) && SlotText(nil).string == nil && SlotText(nil).isNone)
        #expect(try #require(SlotText(arena: arena, offset: 19, length: 0)).string == "")
        #expect(SlotText(arena: arena, offset: 14, length: 6) == nil && SlotText(arena: arena, offset: -1, length: 2) == nil
            && SlotText(arena: arena, offset: 0, length: -1) == nil && SlotText(arena: arena, offset: 20, length: 0) == nil)

        let template = Self.sample()
        let facts = AggregatedSlot.SharedFacts(kinds: [.public], consultationTypes: .ambulatory, bookingMode: nil, reasons: [],
                                               specialties: [], fullUrlBase: "https://e.example/fhir/Slot/")
        func made(_ id: SlotText) -> AggregatedSlot {
            AggregatedSlot(template: template, structures: nil, start: template.start, end: template.end, assumedLocalTime: false,
                           facts: facts, bookingURL: nil, slotID: id, fullUrl: nil, fullUrlFromBase: true)
        }
        var a = made(one)
        let b = made(two), c = made(SlotText("slot-1"))
        #expect(a.source.slot == "slot-1" && a.source.fullUrl == "https://e.example/fhir/Slot/slot-1")
        #expect(a == c && a.hashValue == c.hashValue && a.hasSameSource(as: c) && !a.hasSameSource(as: b))
        a.source.slot = "autre"
        #expect(a.source.slot == "autre" && b.source.slot == "slot-22" && made(one).source.slot == "slot-1")
    }

    /// Slots stored as rows of one `SlotRows` read, compare, hash and encode like slots with a storage of their own
    /// built from the same values; writing a field of one gives it a storage of its own and leaves the rows alone.
    @Test func slotsStoredAsRowsBehaveAsSlotsOfTheirOwn() throws {
        let template = Self.sample()
        var other = Self.sample()
        other.practitionerFamilyName = "MARTIN"
        other.structures = [SlotStructure(role: .practice, name: "Maison de santé")] // a template with its own structures
        let facts = [
            AggregatedSlot.SharedFacts(kinds: [.public], consultationTypes: .ambulatory, bookingMode: .routine, reasons: ["Suivi"],
                                       specialties: [SlotSpecialty(code: "SM54")], fullUrlBase: "https://e.example/fhir/Slot/"),
            AggregatedSlot.SharedFacts(kinds: [.pro, .snp], consultationTypes: [], bookingMode: nil, reasons: [], specialties: []),
        ]
        let arena = TextArena(Array("s-1s-2s-3".utf8))
        let urls: [String?] = [nil, "https://rdv.example.fr/1", "https://rdv.example.fr/2"]
        let fullUrls = ["urn:uuid:0b6f4c1e-2f6a-4c1b-9d1e-3b1f0c2d4e5f"]
        var builder = SlotRowsBuilder(ids: arena, facts: facts, bookingURLs: urls, fullUrls: fullUrls, capacity: 4)
        let t0 = template.start
        let cpts = [SlotStructure(role: .practice, name: "Cabinet"), SlotStructure(role: .cpts, name: "CPTS")]
        builder.register(templateKey: 0, template: template)
        builder.register(templateKey: 3, template: other)
        builder.register(templateKey: 0, template: template) // again: nothing changes
        builder.append(templateKey: 0, structures: nil, start: t0, end: t0 + 1200, assumedLocalTime: false,
                       facts: 0, bookingURL: 1, id: 0..<3, fullUrl: nil, fullUrlFromBase: true)
        builder.append(templateKey: 3, structures: nil, start: t0 + 600, end: t0 + 1800, assumedLocalTime: true,
                       facts: 1, bookingURL: 0, id: 3..<6, fullUrl: 0, fullUrlFromBase: false)
        builder.append(templateKey: 0, structures: cpts, start: t0 + 900, end: t0 + 2100,
                       assumedLocalTime: false, facts: 0, bookingURL: 2, id: nil, fullUrl: nil, fullUrlFromBase: true)
        #expect(builder.count == 3)
        let rows = builder.build().slots
        // The same slots, each with a storage of its own.
        let own = [
            AggregatedSlot(template: template, structures: nil, start: t0, end: t0 + 1200, assumedLocalTime: false, facts: facts[0],
                           bookingURL: "https://rdv.example.fr/1", slotID: SlotText("s-1"), fullUrl: nil, fullUrlFromBase: true),
            AggregatedSlot(template: other, structures: nil, start: t0 + 600, end: t0 + 1800, assumedLocalTime: true, facts: facts[1],
                           bookingURL: nil, slotID: SlotText("s-2"), fullUrl: fullUrls[0]),
            AggregatedSlot(template: template, structures: cpts, start: t0 + 900, end: t0 + 2100, assumedLocalTime: false,
                           facts: facts[0], bookingURL: "https://rdv.example.fr/2", slotID: SlotText(nil), fullUrl: nil,
                           fullUrlFromBase: true),
        ]
        #expect(rows == own && own == rows && rows.map(\.hashValue) == own.map(\.hashValue))
        #expect(rows[0].source.fullUrl == "https://e.example/fhir/Slot/s-1" && rows[1].source.fullUrl == fullUrls[0])
        #expect(rows[2].source.slot == nil && rows[2].source.fullUrl == nil) // no id: no fullUrl from the base
        #expect(rows[1].structures == other.structures && rows[2].structures == cpts && rows[0].structures == template.structures)
        #expect(rows[1].practitionerFamilyName == "MARTIN" && rows[1].assumedLocalTime && rows[1].kinds == [.pro, .snp])
        #expect(rows[0].sharesScheduleSide(with: rows[2]) && !rows[0].sharesScheduleSide(with: rows[1]))
        #expect(rows[0].hasSameSource(as: own[0]) && !rows[0].hasSameSource(as: rows[1]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try rows.map { try encoder.encode($0) } == own.map { try encoder.encode($0) })

        var written = rows[0]
        written.start += 60
        written.reasons.append("Urgence")
        written.source.slot = "s-9"
        #expect(written.start == t0 + 60 && written.reasons == ["Suivi", "Urgence"] && written.source.slot == "s-9")
        #expect(written.bookingURL == "https://rdv.example.fr/1" && written.practitioner == template.practitioner)
        #expect(rows[0] == own[0] && rows[0].start == t0 && rows[0].reasons == ["Suivi"] && rows[0].source.slot == "s-1")
        var renamed = rows[1]
        renamed.practitionerFamilyName = "DURAND"
        #expect(rows[1].practitionerFamilyName == "MARTIN" && renamed.practitionerFamilyName == "DURAND" && renamed != rows[1])
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
