import Aggregator
import Directory
import Foundation
import Logging
import SASDomain
import Search
import Storage
import Testing
import Web

/// A fixed synthetic directory around Lyon 3e (department 69: default radius 5 km, department radius 81 km), with
/// slots at known offsets from `now`, for exact-order tests of the search engine.
///
/// | who | what | distance | slots |
/// |---|---|---|---|
/// | A | GP, vendor | 1.0 km east | +3 h |
/// | B | GP, vendor | 2.0 km north | +1 h |
/// | C | GP, SAS agenda | 0.5 km south | +3 h (SAS agenda) |
/// | D | GP, accepts "en sus" | 1.5 km west | none |
/// | E | GP, participates | 0.8 km north | none (not listed) |
/// | F | GP, does not participate | 0.3 km | (not eligible) |
/// | G | GP, CPTS member, en sus | 3.0 km east | +2 h |
/// | H | GP, CPTS member | 4.0 km south | none |
/// | I | pediatrician, vendor | 1.2 km east | +30 min |
/// | J | GP, vendor | 6.0 km north | +4 h |
/// | P | GP in Paris, vendor (médecin traitant) | ~390 km | +5 h |
/// | M1, M2 | two GPs named "Martin" | 30 km | none |
/// | SOS | SOS Médecins fixed place | 2.5 km west | +90 min |
struct SearchFixture {
    let now: Date
    let centre: (latitude: Double, longitude: Double)
    let lyon3: Int
    let ids: [String: IDNPS]
    let cpts: IDNST
    let sos: IDNST

    static func idnps(_ n: Int) -> IDNPS {
        try! IDNPS.rpps(RPPS.withCheckDigit(String(format: "1009%06d", n)))
    }

    static func point(_ c: (latitude: Double, longitude: Double), north: Double = 0, east: Double = 0) -> (Double, Double) {
        (c.latitude + north / 111.195, c.longitude + east / (111.195 * cos(c.latitude * .pi / 180)))
    }

    /// Seeds `database` and returns the fixture; `absences` gives declared unavailability periods (hours from `now`)
    /// by fixture key. `now` is cut to the whole second: the store keeps instants to the millisecond (rounded) and the
    /// ranking compares starts to the second, so with a sub-millisecond `now` the SAS agenda slot of C (stored) and the
    /// vendor slot of A (kept in memory), both at `now` + 3 h, fell in different seconds whenever `now` ended in
    /// .9995…, and A overtook C (seen once in CI). Vendors' and stored instants are never finer than the millisecond.
    static func seed(_ database: any Database, now exact: Date = Date(),
                     absences: [String: [(from: Double, to: Double)]] = [:]) async throws -> SearchFixture {
        let now = Date(timeIntervalSince1970: exact.timeIntervalSince1970.rounded(.down))
        let reference = try ReferenceData.shared()
        let lyon = try reference.geocoder.resolve("Lyon 3e")
        let centre = (lyon.latitude, lyon.longitude)
        let lyon3 = try #require(lyon.place?.id)
        let cpts = try IDNST.finess("690999991")
        let sos = try IDNST.siret("77889900011122")
        var ids: [String: IDNPS] = [:]
        var practitioners: [Practitioner] = []
        var sites: [PracticeSite] = []
        var links: [VendorLink] = []
        func add(_ key: String, _ n: Int, family: String, given: String = "Jean", specialty: String = "SM54",
                 participates: Bool = true, mode: ParticipationMode? = .individual, structure: IDNST? = nil,
                 extra: Bool = false, vendor: Bool = false, at position: (Double, Double), department: String = "69") {
            let id = idnps(n)
            ids[key] = id
            practitioners.append(Practitioner(
                idnps: id, civility: .monsieur, exerciseCivility: "DR", familyName: family, givenName: given,
                professionCode: "10", specialtyCodes: [specialty],
                participation: participates ? SASParticipation(participates: true, mode: mode, structure: structure,
                                                               acceptsExtraPatients: extra, forfaitReorientation: false,
                                                               vacations: (absences[key] ?? []).map {
                                                                   VacationPeriod(start: now.addingTimeInterval($0.from * 3600),
                                                                                  end: now.addingTimeInterval($0.to * 3600))
                                                               }) : .none))
            let address = PostalAddress(number: "\(n)", streetType: "Rue", streetName: "du Test \(key)", postcode: "69003", city: "Lyon")
            sites.append(PracticeSite(id: DirectoryStore.siteID(idnps: id.value, address: address), practitioner: id,
                                      address: address, postcodeIsSynthetic: false, inseeCode: nil, departmentCode: department,
                                      latitude: position.0, longitude: position.1, phone: "+33400000\(String(format: "%03d", n))",
                                      structure: nil, placeID: nil))
            if vendor { links.append(VendorLink(practitioner: id, vendorID: "agendaplus")) }
        }
        add("A", 1, family: "Arnaud", vendor: true, at: point(centre, east: 1.0))
        add("B", 2, family: "Bernard", vendor: true, at: point(centre, north: 2.0))
        add("C", 3, family: "Chevalier", at: point(centre, north: -0.5))
        add("D", 4, family: "Dupont", extra: true, at: point(centre, east: -1.5))
        add("E", 5, family: "Etienne", at: point(centre, north: 0.8))
        add("F", 6, family: "Fabre", participates: false, mode: nil, at: point(centre, north: 0.3))
        add("G", 7, family: "Garnier", mode: .cpts, structure: cpts, extra: true, vendor: true, at: point(centre, east: 3.0))
        add("H", 8, family: "Henry", mode: .cpts, structure: cpts, at: point(centre, north: -4.0))
        add("I", 9, family: "Imbert", specialty: "SM40", vendor: true, at: point(centre, east: 1.2))
        add("J", 10, family: "Joly", vendor: true, at: point(centre, north: 6.0))
        add("P", 11, family: "Curie", given: "Marie", vendor: true, at: (48.8566, 2.3522), department: "75")
        add("M1", 12, family: "Martin", given: "Paul", at: point(centre, north: 30))
        add("M2", 13, family: "Martin", given: "Luc", at: point(centre, north: -30))
        let sosPlace = point(centre, east: -2.5)
        let structures = [
            Structure(idnst: cpts, kind: .cpts, name: "CPTS Lyon Rive Gauche", departmentCode: "69", latitude: centre.0,
                      longitude: centre.1, phone: "+33400009999", interventionArea: .places([lyon3])),
            Structure(idnst: sos, kind: .sosMedecins, name: "SOS Médecins Lyon", departmentCode: "69", latitude: sosPlace.0,
                      longitude: sosPlace.1, phone: "+33400003624", interventionArea: .radius(latitude: centre.0, longitude: centre.1, km: 30),
                      consultationPlaces: [ConsultationPlace(name: "Point fixe Guillotière",
                                                             address: PostalAddress(streetName: "place du Pont", postcode: "69007", city: "Lyon"),
                                                             latitude: sosPlace.0, longitude: sosPlace.1)]),
        ]
        let (allPractitioners, allSites, allLinks) = (practitioners, sites, links)
        try await database.transaction { tx in
            try await DirectoryStore.upsert(allPractitioners, source: "test", keepParticipation: false, on: tx, now: now)
            try await DirectoryStore.upsert(allSites, on: tx, now: now)
            try await DirectoryStore.upsert(structures, on: tx, now: now)
            try await DirectoryStore.upsert(allLinks, on: tx)
            try await DirectoryStore.bumpVersion(on: tx)
        }
        try await StoredAgenda.insert([
            AgendaSlot(id: "sas-c-1", practitioner: ids["C"]!, siteID: sites[2].id, start: now.addingTimeInterval(3 * 3600),
                       end: now.addingTimeInterval(3 * 3600 + 900), consultationTypes: .ambulatory, kinds: .snp, capacity: 1, booked: 0),
            AgendaSlot(id: "sas-c-full", practitioner: ids["C"]!, siteID: sites[2].id, start: now.addingTimeInterval(600),
                       end: now.addingTimeInterval(1500), consultationTypes: .ambulatory, kinds: .snp, capacity: 2, booked: 2),
        ], on: database, now: now)
        return SearchFixture(now: now, centre: centre, lyon3: lyon3, ids: ids, cpts: cpts, sos: sos)
    }

    /// The vendor answers of the fixture.
    func vendorSlots() -> FixedSlotProvider {
        func slot(_ key: String, hours: Double, types: ConsultationTypes = .ambulatory) -> AggregatedSlot {
            let start = now.addingTimeInterval(hours * 3600)
            return AggregatedSlot(flow: .individual, practitioner: ids[key]!, start: start, end: start.addingTimeInterval(900),
                                  kinds: .snp, consultationTypes: types,
                                  bookingURL: "https://agendaplus.example/rdv/\(ids[key]!.value)/\(Int(hours * 60))")
        }
        let sosStart = now.addingTimeInterval(1.5 * 3600)
        let sosSlot = AggregatedSlot(flow: .sos, practitioner: nil,
                                     structures: [SlotStructure(role: .sosAssociation, idnst: sos, name: "SOS Médecins Lyon")],
                                     site: SlotSite(name: "Point fixe Guillotière", postalCode: "69007", city: "Lyon"),
                                     start: sosStart, end: sosStart.addingTimeInterval(1200), kinds: .snp,
                                     consultationTypes: .ambulatory)
        return FixedSlotProvider(
            practitioners: [
                ids["A"]!: [slot("A", hours: 3)], ids["B"]!: [slot("B", hours: 1), slot("B", hours: 6, types: .homeVisit)],
                ids["G"]!: [slot("G", hours: 2)], ids["I"]!: [slot("I", hours: 0.5)], ids["J"]!: [slot("J", hours: 4)],
                ids["P"]!: [slot("P", hours: 5)],
            ],
            associations: [sos: [sosSlot]])
    }

    /// An engine over `database` with the fixture's vendor answers.
    func engine(_ database: any Database, provider: (any EditorSlotProvider)? = nil, maxCandidates: Int = 100,
                maxSlotsPerCard: Int = 12) async throws -> SearchEngine {
        let reference = try ReferenceData.shared()
        let loader = DirectoryIndexLoader(database: database, specialties: reference.specialties, logger: TestDatabases.logger)
        try await loader.refreshIfNeeded()
        return SearchEngine(
            resolver: QueryResolver(specialties: reference.specialties, geocoder: reference.geocoder),
            catalog: { loader.catalog }, specialties: reference.specialties, editors: provider ?? vendorSlots(),
            agenda: StoredAgenda(database: database),
            reader: DirectoryReader(database: database, specialties: reference.specialties),
            configuration: SearchConfiguration(deadline: .seconds(3), maxCandidates: maxCandidates, maxSlotsPerCard: maxSlotsPerCard), logger: TestDatabases.logger)
    }

    /// Card → fixture key ("A", "SOS", "CPTS").
    func key(_ card: OfferCard) -> String {
        switch card.kind {
        case .cpts: return "CPTS"
        case .sos: return "SOS"
        case .practitioner: return ids.first { $0.value.value == card.idnps }?.key ?? "?"
        }
    }
}

/// Vendor answers replayed from memory (the engine's boundary; the wire is covered by the sandbox tests): one batch
/// per call with the slots of the asked practitioners and associations, then an `ok` status.
final class FixedSlotProvider: EditorSlotProvider, @unchecked Sendable {
    let practitioners: [IDNPS: [AggregatedSlot]]
    let associations: [IDNST: [AggregatedSlot]]
    private let lock = NSLock()
    private var _calls: [[String]] = []

    init(practitioners: [IDNPS: [AggregatedSlot]], associations: [IDNST: [AggregatedSlot]]) {
        self.practitioners = practitioners
        self.associations = associations
    }

    /// The subjects asked, per call.
    var calls: [[String]] { lock.withLock { _calls } }

    func search(practitioners asked: [IDNPS], associations askedAssociations: [IDNST], cptsMode: Bool,
                window: ClosedRange<Date>, deadline: Duration, declared: [IDNPS: Set<String>]) async throws -> AsyncStream<AggregationEvent> {
        lock.withLock { _calls.append(asked.map(\.value) + askedAssociations.map(\.value)) }
        let slots = asked.flatMap { practitioners[$0] ?? [] } + askedAssociations.flatMap { associations[$0] ?? [] }
        return AsyncStream { continuation in
            continuation.yield(.batch(SlotBatch(editorID: "agendaplus", flow: .individual, slots: slots, problemCount: 0,
                                                elapsed: .milliseconds(5), latency: .milliseconds(5), fromCache: false)))
            let report = EditorStatusReport(editorID: "agendaplus", editorName: "AgendaPlus",
                                            status: slots.isEmpty ? .empty : .ok(slotCount: slots.count), flows: [.individual],
                                            slotCount: slots.count, requestCount: 1, failedRequestCount: 0, cachedSubjects: 0,
                                            problemCount: 0, elapsed: .milliseconds(5))
            continuation.yield(.status(report))
            continuation.yield(.finished(AggregationSummary(editors: [report], slotCount: slots.count, elapsed: .milliseconds(5))))
            continuation.finish()
        }
    }
}

/// Batches handed as given, one after the other, each followed by its editor's `ok` status (several vendors, or
/// batches holding more than the search asked, which the engine must filter itself).
struct ScriptedSlotProvider: EditorSlotProvider {
    let batches: [SlotBatch]

    func search(practitioners: [IDNPS], associations: [IDNST], cptsMode: Bool, window: ClosedRange<Date>,
                deadline: Duration, declared: [IDNPS: Set<String>]) async throws -> AsyncStream<AggregationEvent> {
        let asked = Set(practitioners)
        let batches = self.batches.map { batch in
            var b = batch
            b.segments = batch.segments.filter { $0.practitioner.map(asked.contains) ?? !associations.isEmpty }
            return b
        }
        return AsyncStream { continuation in
            var reports: [EditorStatusReport] = []
            for batch in batches {
                continuation.yield(.batch(batch))
                let report = EditorStatusReport(editorID: batch.editorID, editorName: batch.editorID,
                                                status: batch.slotCount == 0 ? .empty : .ok(slotCount: batch.slotCount),
                                                flows: [batch.flow], slotCount: batch.slotCount, requestCount: 1,
                                                failedRequestCount: 0, cachedSubjects: 0, problemCount: 0,
                                                elapsed: .milliseconds(5))
                reports.append(report)
                continuation.yield(.status(report))
            }
            continuation.yield(.finished(AggregationSummary(editors: reports, slotCount: batches.reduce(0) { $0 + $1.slotCount },
                                                            elapsed: .milliseconds(5))))
            continuation.finish()
        }
    }
}
