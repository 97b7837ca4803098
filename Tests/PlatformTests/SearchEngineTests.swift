import Aggregator
import Directory
import Foundation
import SASDomain
import Search
import Storage
import Testing
import Web

@Suite("Search engine on a fixed directory")
struct SearchEngineTests {
    /// Runs `body` on the fixture, once per available engine (SQLite, and PostgreSQL when the test script gives one).
    func run(_ body: (SearchFixture, any Database) async throws -> Void) async throws {
        for engine in TestDatabases.engines {
            try await TestDatabases.withDatabase(engine) { database, _ in
                let fixture = try await SearchFixture.seed(database)
                try await body(fixture, database)
            }
        }
    }

    @Test("city search: exact order, slots first by earliest start, ties by distance, en-sus last")
    func citySearch() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            let r = try await engine.search(SearchRequest(what: "médecin généraliste", place: "Lyon 3e", pageSize: 20), now: f.now)
            #expect(r.results.map(f.key) == ["B", "SOS", "CPTS", "C", "A", "D"])
            #expect(r.radius.km == 5)
            #expect(r.radius.widened == false)
            #expect(r.query.place.precision == "city")
            #expect(r.total == 6)
            // C and A both start at +3 h: C is nearer (0.5 km against 1.0 km).
            #expect(r.results[3].distanceKm < r.results[4].distanceKm)
            #expect(r.results[0].pourquoi.hasPrefix("Premier créneau"))
            #expect(r.results[5].pourquoi.contains("en sus"))
            #expect(r.results[0].name == "Dr Jean Bernard")
            #expect(r.results[0].address.contains("69003 Lyon"))
            // The SAS agenda slot is offered with its occurrence id; the full range is not.
            let c = r.results[3]
            #expect(c.slots.map(\.agendaSlotID) == ["sas-c-1"])
            #expect(r.sources.map(\.source) == ["sas", "agendaplus"])
            #expect(r.sources.allSatisfy { $0.status == "ok" })
            #expect(r.complete)
            // The CPTS card holds its members, the one with a slot first.
            let cpts = r.results[2]
            #expect(cpts.members?.compactMap(\.idnps) == [f.ids["G"]!.value, f.ids["H"]!.value])
            #expect(cpts.pourquoi.contains("CPTS couvrant"))
        }
    }

    @Test("address search gives the same order and says it is an address")
    func addressSearch() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            let r = try await engine.search(SearchRequest(what: "SM54", place: "12 rue de la République, 69003 Lyon", pageSize: 20), now: f.now)
            #expect(r.query.place.precision == "address", "\(r.query.place)")
            #expect(r.query.place.placeID == f.lyon3, "\(r.query.place)")
            #expect(r.results.map(f.key) == ["B", "SOS", "CPTS", "C", "A", "D"])
        }
    }

    @Test("ring widening stops as soon as K offers with slots are found")
    func ringWidening() async throws {
        try await run { f, db in
            let provider = f.vendorSlots()
            let engine = try await f.engine(db, provider: provider)
            let r = try await engine.search(SearchRequest(what: "généraliste", place: "Lyon 3e", pageSize: 20, minimumOffers: 6), now: f.now)
            #expect(r.radius.rings.map(\.km) == [5, 7.5])
            #expect(r.radius.km == 7.5)
            #expect(r.radius.widened)
            #expect(r.radius.reason.contains("élargi de 5 à 7,5 km"))
            #expect(r.results.map(f.key) == ["B", "SOS", "CPTS", "C", "A", "J", "D"])
            // The second ring asked only the new candidate.
            #expect(provider.calls.count == 2)
            #expect(provider.calls[1] == [f.ids["J"]!.value])

            let all = try await engine.search(SearchRequest(what: "généraliste", place: "Lyon 3e", pageSize: 20, minimumOffers: 7), now: f.now)
            #expect(all.radius.rings.map(\.km) == [5, 7.5, 10, 15, 20, 81])
            #expect(all.radius.reason.contains("Rayon maximal du département atteint"))
            #expect(all.results.count == 7)
        }
    }

    @Test("department search: one disc over the department, CPTS not collapsed (no covered commune)")
    func departmentSearch() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            let r = try await engine.search(SearchRequest(what: "médecin généraliste", place: "Rhône", pageSize: 20), now: f.now)
            #expect(r.query.place.precision == "department")
            #expect(r.radius.rings.map(\.km) == [81])
            #expect(r.results.map(f.key) == ["B", "SOS", "G", "C", "A", "J", "D"])
        }
    }

    @Test("LRM case: the médecin traitant is pinned first, by IDNPS token or by name, even far away")
    func preferredDoctor() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            for doctor in ["urn:oid:1.2.250.1.71.4.2.1|\(f.ids["P"]!.value)", f.ids["P"]!.value, "Marie Curie", "CURIE"] {
                let r = try await engine.search(SearchRequest(what: "urn:oid:1.2.250.1.213.1.1.4.5|SM54", place: "Lyon 3e",
                                                              preferredDoctor: doctor, pageSize: 20), now: f.now)
                #expect(r.results.map(f.key) == ["P", "B", "SOS", "CPTS", "C", "A", "D"], "\(doctor)")
                #expect(r.results[0].preferredDoctor)
                #expect(r.results[0].pourquoi.hasPrefix("Médecin traitant"))
                #expect(r.warnings.isEmpty)
            }
            let ambiguous = try await engine.search(SearchRequest(place: "Lyon 3e", preferredDoctor: "Martin", pageSize: 20), now: f.now)
            #expect(ambiguous.warnings.map(\.code) == ["preferred_doctor_ambiguous"])
            #expect(ambiguous.results.map(f.key) == ["B", "SOS", "CPTS", "C", "A", "D"])
            let invalid = try await engine.search(SearchRequest(place: "Lyon 3e", preferredDoctor: "urn:oid:1.2.3|123"), now: f.now)
            #expect(invalid.warnings.map(\.code) == ["preferred_doctor_unidentified"])
            #expect(ambiguous.query.what.defaulted)
        }
    }

    @Test("CPTS search lists the CPTS covering the place with its members")
    func cptsSearch() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            let r = try await engine.search(SearchRequest(what: "CPTS", place: "Lyon 3e", pageSize: 20), now: f.now)
            #expect(r.results.map(f.key) == ["CPTS"])
            #expect(r.results[0].members?.map(f.key) == ["G", "H"])
            #expect(r.results[0].name == "CPTS Lyon Rive Gauche")
        }
    }

    @Test("en-sus mode, consultation type and pediatric searches")
    func modesAndFilters() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            let extra = try await engine.search(SearchRequest(place: "Lyon 3e", mode: .extra, pageSize: 20), now: f.now)
            #expect(extra.results.map(f.key) == ["CPTS", "D"])
            let home = try await engine.search(SearchRequest(place: "Lyon 3e", consultationTypes: .homeVisit, pageSize: 20), now: f.now)
            #expect(home.results.map(f.key) == ["B", "D", "CPTS"])
            let kids = try await engine.search(SearchRequest(what: "pédiatre", place: "Lyon 3e", pageSize: 20), now: f.now)
            #expect(kids.results.map(f.key) == ["I"])
        }
    }

    @Test("stable pagination with a cursor: no card repeated or skipped")
    func pagination() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let r = try await engine.search(SearchRequest(place: "Lyon 3e", pageSize: 2, cursor: cursor), now: f.now)
                seen += r.results.map(f.key)
                cursor = r.nextCursor
                pages += 1
                #expect(r.total == 6)
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == ["B", "SOS", "CPTS", "C", "A", "D"])
            // A cursor from another search is refused.
            let first = try await engine.search(SearchRequest(place: "Lyon 3e", pageSize: 2), now: f.now)
            await #expect(throws: SearchInputError.self) {
                _ = try await engine.search(SearchRequest(what: "pédiatre", place: "Lyon 3e", cursor: first.nextCursor), now: f.now)
            }
        }
    }

    @Test("bad input: unknown place or specialty with suggestions, window in the past or too long")
    func badInput() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            let typo = try await engine.search(SearchRequest(place: "Lyonn 3e"), now: f.now)
            #expect(typo.query.place.label.hasPrefix("Lyon"))
            do {
                _ = try await engine.search(SearchRequest(place: "Qwxzv Trplk"), now: f.now)
                Issue.record("expected unknown place")
            } catch let error as SearchInputError {
                #expect(error.code == .unknownPlace)
                #expect(error.message.contains("introuvable"))
            }
            do {
                _ = try await engine.search(SearchRequest(what: "zzqqxx", place: "Lyon"), now: f.now)
                Issue.record("expected unknown specialty")
            } catch let error as SearchInputError {
                #expect(error.code == .unknownSpecialty)
            }
            do {
                _ = try await engine.search(SearchRequest(what: "pédiatrie hospitalière spéciale", place: "Lyon"), now: f.now)
                Issue.record("expected unknown specialty")
            } catch let error as SearchInputError {
                #expect(error.code == .unknownSpecialty)
                #expect(error.suggestions.contains("Pédiatrie"))
            }
            for (from, to) in [(f.now.addingTimeInterval(-86_400 * 3), f.now.addingTimeInterval(-86_400)),
                               (f.now, f.now.addingTimeInterval(8 * 86_400))] {
                await #expect(throws: SearchInputError.self) {
                    _ = try await engine.search(SearchRequest(place: "Lyon", from: from, to: to), now: f.now)
                }
            }
            // No candidate: an empty result that says the radius tried.
            let empty = try await engine.search(SearchRequest(what: "dermatologue", place: "Lyon 3e"), now: f.now)
            #expect(empty.results.isEmpty)
            #expect(empty.radius.km == 81)
            #expect(empty.radius.reason.contains("81 km"))
        }
    }

    @Test("the hand-written JSON of an answer equals JSONEncoder's, value for value")
    func responseJSON() async throws {
        try await run { f, db in
            let engine = try await f.engine(db)
            for request in [SearchRequest(place: "Lyon 3e", preferredDoctor: "Martin", pageSize: 20),
                            SearchRequest(what: "CPTS", place: "Lyon 3e"),
                            SearchRequest(place: "Lyon 3e", pageSize: 2)] {
                let response = try await engine.search(request, now: f.now)
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = FastISO8601.encodingStrategy
                let reference = try JSONSerialization.jsonObject(with: try encoder.encode(response)) as? NSDictionary
                let written = try JSONSerialization.jsonObject(with: Data(ResponseJSON.encode(response))) as? NSDictionary
                #expect(reference != nil)
                #expect(written == reference)
            }
            #expect(FastISO8601.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
            #expect(FastISO8601.string(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
            #expect(FastISO8601.string(Date(timeIntervalSince1970: 1_795_799_205.9)) == "2026-11-27T17:06:45Z")
        }
    }

    @Test("a card's slots: vendors' runs kept whole or split by filters and absences, merged in time order, duplicates, past and out-of-window slots dropped")
    func slotRuns() async throws {
        for engineKind in TestDatabases.engines {
            try await TestDatabases.withDatabase(engineKind) { db, _ in
                // B is away from +2.5 h to +3.5 h.
                let f = try await SearchFixture.seed(db, absences: ["B": [(from: 2.5, to: 3.5)]])
                func slot(_ key: String, _ hours: Double, _ types: ConsultationTypes = .ambulatory, url: String? = nil) -> AggregatedSlot {
                    let start = f.now.addingTimeInterval(hours * 3600)
                    return AggregatedSlot(flow: .individual, practitioner: f.ids[key]!, start: start, end: start.addingTimeInterval(900),
                                          kinds: .snp, consultationTypes: types,
                                          bookingURL: url ?? "https://v.example/\(key)/\(Int(hours * 60))")
                }
                // Handed out of order: the batch sorts each practitioner's slots by start.
                let first = SlotBatch(editorID: "agendaplus", flow: .individual, slots: [
                    slot("A", 4), slot("A", 1), slot("A", 2, .teleconsultation), slot("A", -1), slot("A", 100),
                    slot("A", 4, url: "https://v.example/A/240"), slot("A", 5),
                    slot("B", 1), slot("B", 3), slot("B", 4),
                ], problemCount: 0, elapsed: .milliseconds(5), latency: nil, fromCache: false)
                #expect(first.segments.map(\.count) == [7, 3])
                #expect(first.segments[0].slots.map { Int($0.start.timeIntervalSince(f.now) / 3600) } == [-1, 1, 2, 4, 4, 5, 100])
                let second = SlotBatch(editorID: "autre", flow: .individual, slots: [slot("A", 1.5), slot("A", 2)],
                                       problemCount: 0, elapsed: .milliseconds(6), latency: nil, fromCache: true)
                let engine = try await f.engine(db, provider: ScriptedSlotProvider(batches: [first, second]), maxSlotsPerCard: 5)
                func card(_ r: SearchResponse, _ key: String) -> OfferCard? { r.results.first { f.key($0) == key } }
                func offsets(_ card: OfferCard?) -> [String] {
                    (card?.slots ?? []).map { "\(Int(($0.start.timeIntervalSince(f.now) / 60).rounded()))@\($0.source)" }
                }

                let all = try await engine.search(SearchRequest(what: "médecin généraliste", place: "Lyon 3e", pageSize: 20), now: f.now)
                let a = try #require(card(all, "A"))
                // Past (-1 h) and beyond the window (+100 h) dropped; ties at +2 h in arrival order; the duplicate at +4 h
                // shown once; five slots at most.
                #expect(offsets(a) == ["60@agendaplus", "90@autre", "120@agendaplus", "120@autre", "240@agendaplus"])
                #expect(a.slotCount == 7)
                #expect(a.slots[2].consultationTypes == ["VR"])
                // B's +3 h slot falls in his absence; the others stay.
                let b = try #require(card(all, "B"))
                #expect(offsets(b) == ["60@agendaplus", "240@agendaplus"])
                #expect(b.slotCount == 2)

                // A consultation-type filter splits A's run around the teleconsultation.
                let cabinet = try await engine.search(SearchRequest(what: "médecin généraliste", place: "Lyon 3e",
                                                                    consultationTypes: .ambulatory, pageSize: 20), now: f.now)
                let a2 = try #require(card(cabinet, "A"))
                #expect(offsets(a2) == ["60@agendaplus", "90@autre", "120@autre", "240@agendaplus", "300@agendaplus"])
                #expect(a2.slotCount == 6)
                #expect(cabinet.counts.slots == 9) // A 6, B 2, C 1 (SAS agenda)
            }
        }
    }

    /// SOS slots are filed to the nearest fixed place of their association once per Schedule side: an association
    /// with two places whose slots interleave in time gets each slot on its own place's card, a repeated slot once.
    @Test("SOS slots of two fixed places, interleaved in time, each go to their place's card")
    func sosSlotsOfTwoPlaces() async throws {
        for engineKind in TestDatabases.engines {
            try await TestDatabases.withDatabase(engineKind) { db, _ in
                let f = try await SearchFixture.seed(db)
                let west = SearchFixture.point(f.centre, east: -2.5), north = SearchFixture.point(f.centre, north: 2)
                let association = Structure(
                    idnst: f.sos, kind: .sosMedecins, name: "SOS Médecins Lyon", departmentCode: "69", latitude: west.0,
                    longitude: west.1, phone: "+33400003624", interventionArea: .radius(latitude: f.centre.0, longitude: f.centre.1, km: 30),
                    consultationPlaces: [
                        ConsultationPlace(name: "Point fixe Guillotière", address: PostalAddress(streetName: "place du Pont", postcode: "69007", city: "Lyon"),
                                          latitude: west.0, longitude: west.1),
                        ConsultationPlace(name: "Point fixe Croix-Rousse", address: PostalAddress(streetName: "place de la Croix-Rousse", postcode: "69004", city: "Lyon"),
                                          latitude: north.0, longitude: north.1),
                    ])
                try await db.transaction { tx in
                    try await DirectoryStore.upsert([association], on: tx, now: f.now)
                    try await DirectoryStore.bumpVersion(on: tx)
                }
                let structures = [SlotStructure(role: .sosAssociation, idnst: f.sos, name: "SOS Médecins Lyon")]
                func template(_ at: (Double, Double)) -> AggregatedSlot {
                    AggregatedSlot(flow: .sos, practitioner: nil, structures: structures,
                                   site: SlotSite(latitude: at.0, longitude: at.1), start: f.now, end: f.now)
                }
                let (a, b) = (template(west), template(north))
                func slot(_ t: AggregatedSlot, _ hours: Double) -> AggregatedSlot {
                    let start = f.now.addingTimeInterval(hours * 3600)
                    return AggregatedSlot(template: t, structures: nil, start: start, end: start.addingTimeInterval(1200),
                                          assumedLocalTime: false, kinds: .snp, consultationTypes: .ambulatory, bookingMode: nil,
                                          reasons: [], specialties: [], bookingURL: "https://sos.example/\(Int(hours * 60))",
                                          slotID: nil, fullUrl: nil)
                }
                let batch = SlotBatch(editorID: "sosvendor", flow: .sos, slots: [
                    slot(a, 1), slot(b, 1.5), slot(a, 2), slot(b, 2.5), slot(a, 2), slot(b, 3), slot(a, 3.5),
                ], problemCount: 0, elapsed: .milliseconds(5), latency: nil, fromCache: false)
                let engine = try await f.engine(db, provider: ScriptedSlotProvider(batches: [batch]))
                let r = try await engine.search(SearchRequest(what: "médecin généraliste", place: "Lyon 3e", pageSize: 20), now: f.now)
                func minutes(_ id: String) -> [Int]? {
                    r.results.first { $0.id == id }.map { $0.slots.map { Int(($0.start.timeIntervalSince(f.now) / 60).rounded()) } }
                }
                #expect(minutes("sos-\(f.sos.value)-0") == [60, 120, 210])
                #expect(minutes("sos-\(f.sos.value)-1") == [90, 150, 180])
            }
        }
    }
}

