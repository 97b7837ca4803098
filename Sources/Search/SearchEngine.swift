import Aggregator
import Directory
import Foundation
import Logging
import SASDomain

/// Tunables of the engine.
public struct SearchConfiguration: Sendable {
    /// One deadline for the whole search (all rings, all sources).
    public var deadline: Duration
    /// Nearest eligible practitioners whose slots are asked, at most (per search, all rings together).
    public var maxCandidates: Int
    /// Slots listed per card (the count is always complete).
    public var maxSlotsPerCard: Int

    public init(deadline: Duration = .seconds(3), maxCandidates: Int = 100, maxSlotsPerCard: Int = 12) {
        self.deadline = deadline
        self.maxCandidates = maxCandidates
        self.maxSlotsPerCard = maxSlotsPerCard
    }
}

/// The search engine: where (radius rings), who (directory index), when (slots from the SAS agenda and the
/// vendors, all candidates of a ring in parallel under one deadline), ranked deterministically and explained.
///
/// Ranking (see README "Search"): the médecin traitant first when given; then offers with a slot in the window by
/// earliest slot start, ties by distance then id; CPTS members are collapsed into one CPTS card when a CPTS covers
/// the searched place; SOS Médecins fixed places are cards of their own; then offers without slots that take part
/// in the SAS and accept patients "en sus", by distance.
public final class SearchEngine: Sendable {
    let resolver: QueryResolver
    let catalog: @Sendable () -> DirectoryCatalog
    let specialties: Specialties
    let editors: any EditorSlotProvider
    let agenda: any AgendaSlotProvider
    let reader: DirectoryReader
    let configuration: SearchConfiguration
    let logger: Logger

    public init(resolver: QueryResolver, catalog: @escaping @Sendable () -> DirectoryCatalog, specialties: Specialties,
                editors: any EditorSlotProvider, agenda: any AgendaSlotProvider, reader: DirectoryReader,
                configuration: SearchConfiguration = SearchConfiguration(), logger: Logger) {
        self.resolver = resolver
        self.catalog = catalog
        self.specialties = specialties
        self.editors = editors
        self.agenda = agenda
        self.reader = reader
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs a search; `events`, when given, receives the progress (streaming endpoint).
    public func search(_ request: SearchRequest, now: Date = Date(),
                       events: (@Sendable (SearchEvent) async -> Void)? = nil) async throws -> SearchResponse {
        let started = ContinuousClock.now
        let deadline = started + configuration.deadline
        let query = try await resolver.resolve(request, now: now)
        let catalog = self.catalog()
        let summary = Self.summary(query)
        await events?(.query(summary))

        var run = RunState(query: query, catalog: catalog, maxSlots: configuration.maxSlotsPerCard)
        run.coveringCPTS = catalog.cptsCovering(placeID: query.place.placeID, latitude: query.place.latitude,
                                                longitude: query.place.longitude)
        try await resolvePreferred(query, catalog: catalog, into: &run)

        let filter = siteFilter(query.target, mode: query.mode)
        let wantsSOS = query.target.structureKinds.contains(.sosMedecins)
            || (query.target.structureKinds.isEmpty && !Set(query.target.specialtyCodes).isDisjoint(with: Specialties.generalPracticeCodes))
        var rings: [RingOutcome] = []
        var stopReason: String?
        for (ringIndex, radius) in query.radius.rings.enumerated() {
            let selection = selectCandidates(radius: radius, filter: filter, wantsSOS: wantsSOS, run: run)
            var newPractitioners = selection.practitioners.filter { !run.asked.contains($0.number) }
            if ringIndex == 0, let preferred = run.preferred, !run.asked.contains(preferred.number ?? -1) {
                newPractitioners.append(Candidate(number: preferred.number ?? -1, idnps: preferred.idnps,
                                                  siteID: preferred.siteID, distanceKm: preferred.distanceKm,
                                                  latitude: preferred.latitude, longitude: preferred.longitude))
            }
            let newPlaces = selection.sosPlaces.filter { !run.sosPlaceIDs.contains($0.id) }
            run.add(newPractitioners)
            for p in newPlaces { run.sosPlaceIDs.insert(p.id); run.sosPlaces.append(p) }
            let newAssociations = Array(Set(newPlaces.map(\.association))).filter { !run.askedAssociations.contains($0) }.sorted()
            run.askedAssociations.formUnion(newAssociations)
            run.radiusKm = radius
            await events?(.directory(ringKm: radius, candidates:
                newPractitioners.map { $0.summary } + newPlaces.map { $0.summary }))
            let remaining = deadline - ContinuousClock.now
            if remaining > .zero, !(newPractitioners.isEmpty && newAssociations.isEmpty) {
                await fetchSlots(practitioners: newPractitioners, associations: newAssociations, ringKm: radius,
                                 query: query, remaining: remaining, started: started, run: &run, events: events)
            }
            let withSlots = run.offersWithSlots()
            let outcome = RingOutcome(km: radius, newCandidates: newPractitioners.count + newAssociations.count,
                                      offersWithSlots: withSlots)
            rings.append(outcome)
            await events?(.ring(outcome))
            if ringIndex == query.radius.rings.count - 1 { break }
            if withSlots >= query.minimumOffers { break }
            if ContinuousClock.now >= deadline {
                stopReason = "Élargissement interrompu : le délai de recherche (\(Int(configuration.deadline / .milliseconds(1))) ms) est écoulé."
                run.incomplete = true
                break
            }
            if selection.capped {
                stopReason = "Élargissement arrêté : les \(configuration.maxCandidates) offres les plus proches ont déjà été interrogées."
                break
            }
        }

        // Rank, paginate, explain.
        var cards = run.buildCards()
        cards.sort { $0.rank < $1.rank }
        let total = cards.count
        let offersWithSlots = cards.filter { $0.firstSlot != nil }.count
        if let after = query.cursor?.after { cards.removeAll { $0.rank <= after } }
        let page = cards.prefix(query.pageSize).map(run.withSlots)
        var nextCursor: String?
        if cards.count > page.count, let last = page.last {
            nextCursor = SearchCursor(fingerprint: query.fingerprint, radiusKm: run.radiusKm, from: query.window.lowerBound,
                                      to: query.window.upperBound, after: last.rank).encoded()
        }
        let detailed = try await fillDetails(page, run: run)
        let explained = detailed.map { Explainer.explain($0, query: query, coveringPlace: query.place.label) }
        let radius = radiusOutcome(query: query, rings: rings, stopReason: stopReason)
        let sources = run.sourceStatuses()
        let response = SearchResponse(
            query: summary, radius: radius, total: total, results: explained, nextCursor: nextCursor,
            counts: SearchCounts(practitionersAsked: run.asked.count, associationsAsked: run.askedAssociations.count,
                                 offersWithSlots: offersWithSlots,
                                 slots: run.keptSlotCount),
            sources: sources, warnings: run.warnings,
            complete: !run.incomplete && !sources.contains { $0.status != "ok" },
            elapsedMs: Int((ContinuousClock.now - started) / .milliseconds(1)))
        await events?(.final(response))
        return response
    }

    // MARK: - Steps

    static func summary(_ query: ResolvedQuery) -> QuerySummary {
        QuerySummary(
            what: .init(label: query.target.label, specialtyCodes: query.target.specialtyCodes,
                        professionCodes: query.target.professionCodes,
                        structureKinds: query.target.structureKinds.map(\.rawValue), defaulted: query.targetDefaulted),
            place: query.place, windowStart: query.window.lowerBound, windowEnd: query.window.upperBound,
            consultationTypes: ConsultationType.allCases.filter { query.consultationTypes.contains(ConsultationTypes($0)) }.map(\.code),
            mode: query.mode, role: query.role, radiusPlan: query.radius)
    }

    /// What the index keeps: the specialty (or profession), and practitioners who take part in the SAS or whose
    /// agenda a vendor holds (in "en sus" mode: who take part and accept patients "en sus").
    func siteFilter(_ target: SearchTarget, mode: SearchMode) -> SiteFilter {
        SiteFilter(specialties: target.specialtyCodes.compactMap { specialties.index(of: $0) },
                   professions: target.specialtyCodes.isEmpty ? target.professionCodes.compactMap { UInt8($0) } : [],
                   requiredFlags: mode == .extra ? [.participates, .acceptsExtra] : [],
                   anyOfFlags: mode == .extra ? [] : [.participates, .vendorAgenda])
    }

    struct Selection {
        var practitioners: [Candidate]
        var sosPlaces: [SOSPlace]
        var capped: Bool
    }

    /// The nearest eligible practitioners within `radius` (at most `maxCandidates`), and SOS fixed places.
    func selectCandidates(radius: Double, filter: SiteFilter, wantsSOS: Bool, run: RunState) -> Selection {
        let query = run.query, catalog = run.catalog
        let structureOnly = !query.target.structureKinds.isEmpty && query.target.specialtyCodes.isEmpty
            && query.target.professionCodes.isEmpty
        let kinds = Set(query.target.structureKinds)
        let structureKinds = structureOnly
            ? Dictionary(catalog.structures.map { ($0.idnst, $0.kind) }, uniquingKeysWith: { a, _ in a }) : [:]
        var seen = Set<Int64>()
        var list: [Candidate] = []
        var capped = false
        // Nearest sites first; a bounded selection is enough unless duplicates (several sites of one practitioner),
        // absences or structure filters leave too few, then the whole radius is read.
        let bound = structureOnly ? nil : configuration.maxCandidates * 3
        var hits = (structureOnly && kinds == [.sosMedecins]) ? [] :
            catalog.index.sites(within: radius, ofLatitude: query.place.latitude, longitude: query.place.longitude,
                                matching: filter, limit: bound)
        var refetched = false
        var index = 0
        while true {
            if index == hits.count {
                guard !refetched, let bound, hits.count == bound else { break }
                refetched = true
                hits = catalog.index.sites(within: radius, ofLatitude: query.place.latitude, longitude: query.place.longitude,
                                           matching: filter)
                if index >= hits.count { break }
            }
            let hit = hits[index]
            index += 1
            let number = hit.practitionerID
            guard !seen.contains(number), Int(number) < catalog.practitioners.count else { continue }
            let facts = catalog.practitioners[Int(number)]
            guard facts.flags.contains(.participates) || facts.flags.contains(.vendorAgenda) else { continue }
            if facts.isAbsent(throughout: query.window) { continue }
            if run.preferred?.number == number { continue }
            if structureOnly {
                guard let s = facts.structure, let kind = structureKinds[s], kinds.contains(kind) else { continue }
                if kind == .cpts, !run.coveringCPTS.contains(where: { $0.idnst == s }) { continue }
            }
            if query.mode == .extra, !(facts.flags.contains(.participates) && facts.flags.contains(.acceptsExtra)) { continue }
            // "En sus" means now: not while he is away.
            if query.mode == .extra, facts.vacations.contains(where: { $0.contains(query.now) }) { continue }
            seen.insert(number)
            if list.count == configuration.maxCandidates { capped = true; break }
            list.append(Candidate(number: number, idnps: catalog.idnps[Int(number)], siteID: hit.siteID,
                                  distanceKm: hit.distanceKm, latitude: Double(hit.latitude), longitude: Double(hit.longitude)))
        }
        var places: [SOSPlace] = []
        if wantsSOS, query.mode == .slots {
            // A latitude band first (1° of latitude is at least 110.5 km everywhere): most places fail it without
            // the trigonometry of the exact distance.
            let band = radius / 110.5
            for s in catalog.sosAssociations {
                for (i, p) in s.consultationPlaces.enumerated() where abs(p.latitude - query.place.latitude) <= band {
                    let d = Haversine.distanceKm(query.place.latitude, query.place.longitude, p.latitude, p.longitude)
                    if d <= radius {
                        places.append(SOSPlace(association: s.idnst, index: i, structure: s, place: p, distanceKm: d))
                    }
                }
            }
            places.sort { ($0.distanceKm, $0.id) < ($1.distanceKm, $1.id) }
        }
        return Selection(practitioners: list, sosPlaces: places, capped: capped)
    }

    /// Resolves the médecin traitant (IDNPS or name) into a pinned candidate, or a warning.
    func resolvePreferred(_ query: ResolvedQuery, catalog: DirectoryCatalog, into run: inout RunState) async throws {
        guard let text = query.preferredDoctor else { return }
        var idnps: IDNPS?
        let lowered = text.lowercased()
        if lowered.hasPrefix("urn:oid:") || text.allSatisfy({ $0.isNumber }) {
            idnps = try? IDNPS(parsing: text)
            if idnps == nil {
                run.warnings.append(.init(code: "preferred_doctor_unidentified",
                                          message: "Le médecin traitant transmis (« \(text) ») n'a pas pu être identifié : identifiant invalide."))
                return
            }
        } else if lowered.contains("oid") || text.contains(":") {
            run.warnings.append(.init(code: "preferred_doctor_unidentified",
                                      message: "Le médecin traitant transmis (« \(text) ») n'a pas pu être identifié."))
            return
        } else {
            let found = try await reader.practitioners(named: text)
            if found.count > 1 {
                run.warnings.append(.init(code: "preferred_doctor_ambiguous",
                                          message: "Plusieurs praticiens s'appellent « \(text) » : le médecin traitant n'a pas pu être identifié. Précisez son RPPS."))
                return
            }
            idnps = found.first
        }
        guard let idnps else {
            run.warnings.append(.init(code: "preferred_doctor_not_found",
                                      message: "Le médecin traitant « \(text) » est introuvable dans l'annuaire."))
            return
        }
        let sites = try await reader.sites(of: idnps)
        guard let nearest = sites.min(by: {
            Haversine.distanceKm(query.place.latitude, query.place.longitude, $0.latitude, $0.longitude)
                < Haversine.distanceKm(query.place.latitude, query.place.longitude, $1.latitude, $1.longitude)
        }) else {
            run.warnings.append(.init(code: "preferred_doctor_not_found",
                                      message: "Le médecin traitant \(idnps.value) est introuvable dans l'annuaire."))
            return
        }
        let number = catalog.idnps.firstIndex(of: idnps.value).map(Int64.init)
        run.preferred = Preferred(idnps: idnps.value, number: number, siteID: nearest.id,
                                  distanceKm: Haversine.distanceKm(query.place.latitude, query.place.longitude, nearest.latitude, nearest.longitude),
                                  latitude: nearest.latitude, longitude: nearest.longitude, siteCount: sites.count)
    }

    /// Asks the SAS agenda and the vendors for one ring's new candidates, all at once under the remaining deadline.
    func fetchSlots(practitioners: [Candidate], associations: [IDNST], ringKm: Double, query: ResolvedQuery,
                    remaining: Duration, started: ContinuousClock.Instant, run: inout RunState,
                    events: (@Sendable (SearchEvent) async -> Void)?) async {
        let parsed = practitioners.compactMap { c in (try? IDNPS(parsing: c.idnps)).map { (c, $0) } }
        let ids = parsed.map(\.1)
        var declared: [IDNPS: Set<String>] = [:]
        for (c, id) in parsed where c.number >= 0 && Int(c.number) < run.catalog.practitioners.count {
            let vendors = run.catalog.practitioners[Int(c.number)].vendors
            if !vendors.isEmpty { declared[id] = Set(vendors) }
            for vendor in vendors { run.declaredLinks.append((vendor, id.value)) } // grouped only if a vendor fails
        }
        let agenda = self.agenda, window = query.window
        async let agendaSlots: Result<[AgendaSlot], any Error> = {
            do { return .success(try await agenda.freeSlots(for: ids, window: window)) } catch { return .failure(error) }
        }()
        let stream: AsyncStream<AggregationEvent>?
        do {
            stream = ids.isEmpty && associations.isEmpty ? nil : try await editors.search(
                practitioners: ids, associations: associations,
                cptsMode: query.target.structureKinds.contains(.cpts), window: window, deadline: remaining,
                declared: declared)
        } catch {
            logger.warning("slot search could not start", metadata: ["error": "\(error)"])
            run.editorFailure = "\(error)"
            stream = nil
        }
        let agendaStarted = ContinuousClock.now
        switch await agendaSlots {
        case .success(let slots):
            let arrival = run.addAgenda(slots, ringKm: ringKm, elapsed: ContinuousClock.now - started, streaming: events != nil)
            run.recordAgenda(ok: true, count: slots.count, elapsed: ContinuousClock.now - agendaStarted, message: nil)
            if !arrival.slots.isEmpty { await events?(.slots(arrival)) }
        case .failure(let error):
            logger.error("SAS agenda read failed", metadata: ["error": "\(error)"])
            run.recordAgenda(ok: false, count: 0, elapsed: ContinuousClock.now - agendaStarted, message: "\(error)")
        }
        guard let stream else { return }
        var finished = false
        for await event in stream {
            switch event {
            case .batch(let batch):
                let arrival = run.addBatch(batch, ringKm: ringKm, streaming: events != nil)
                if !arrival.slots.isEmpty { await events?(.slots(arrival)) }
            case .status(let report):
                run.record(report)
            case .learnedLinks:
                break
            case .finished(let summary):
                finished = true
                if summary.deadlineReached { run.incomplete = true }
            }
        }
        if !finished { run.incomplete = true }
    }

    func fillDetails(_ cards: [OfferCard], run: RunState) async throws -> [OfferCard] {
        var siteIDs: [Int64] = []
        for card in cards {
            if card.kind == .practitioner, let s = RunState.siteID(ofCard: card.id) { siteIDs.append(s) }
            for m in card.members ?? [] { if let s = RunState.siteID(ofCard: m.id) { siteIDs.append(s) } }
        }
        let details = try await reader.details(sites: siteIDs)
        func fill(_ card: OfferCard) -> OfferCard {
            var c = card
            if let s = RunState.siteID(ofCard: card.id), let d = details[s] {
                c.name = d.name
                c.specialties = d.specialties
                c.address = d.address
                c.phone = d.phone
                c.additionalInfo = d.additionalInfo
            }
            c.members = card.members?.map(fill)
            return c
        }
        return cards.map(fill)
    }

    func radiusOutcome(query: ResolvedQuery, rings: [RingOutcome], stopReason: String?) -> RadiusOutcome {
        let used = rings.last?.km ?? query.radius.rings.first ?? 0
        let found = rings.last?.offersWithSlots ?? 0
        let k = query.minimumOffers
        var reason: String
        if query.cursor != nil {
            reason = query.radius.basis
        } else if query.place.precision == "department" {
            reason = query.radius.basis + " \(Self.offers(found)) avec créneaux."
        } else if rings.count <= 1 {
            reason = "Rayon par défaut : \(RadiusPlan.format(used)) km ; \(Self.offers(found)) avec créneaux (objectif \(k))."
        } else {
            let steps = rings.map { "\($0.offersWithSlots) à \(RadiusPlan.format($0.km)) km" }.joined(separator: ", ")
            reason = "Rayon élargi de \(RadiusPlan.format(query.radius.defaultKm)) à \(RadiusPlan.format(used)) km pour trouver \(k) offres avec créneaux : \(steps)."
            if found < k, stopReason == nil, used == query.radius.rings.last {
                reason += " Rayon maximal du département atteint."
            }
        }
        if let stopReason { reason += " " + stopReason }
        return RadiusOutcome(km: used, defaultKm: query.radius.defaultKm, widened: rings.count > 1, rings: rings, reason: reason)
    }

    static func offers(_ n: Int) -> String { n == 0 ? "aucune offre" : n == 1 ? "1 offre" : "\(n) offres" }
}
