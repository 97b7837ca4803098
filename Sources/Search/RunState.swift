import Aggregator
import Directory
import Foundation
import SASDomain

/// A practitioner whose slots are asked, at his nearest site in the radius.
struct Candidate: Sendable, Hashable {
    var number: Int64
    var idnps: String
    var siteID: Int64
    var distanceKm: Double
    var latitude: Double
    var longitude: Double

    var cardID: String { "ps-" + idnps + "-" + String(siteID) } // (not interpolated: built for every candidate)
    var summary: CandidateSummary {
        CandidateSummary(id: cardID, kind: .practitioner, idnps: idnps, idnst: nil, distanceKm: distanceKm,
                         latitude: latitude, longitude: longitude)
    }
}

/// A fixed consultation place of an SOS Médecins association within the radius.
struct SOSPlace: Sendable, Hashable {
    var association: IDNST
    var index: Int
    var structure: Structure
    var place: ConsultationPlace
    var distanceKm: Double

    var id: String { "sos-\(association.value)-\(index)" }
    var summary: CandidateSummary {
        CandidateSummary(id: id, kind: .sos, idnps: nil, idnst: association.value, distanceKm: distanceKm,
                         latitude: place.latitude, longitude: place.longitude)
    }
}

/// The médecin traitant, pinned.
struct Preferred: Sendable, Hashable {
    var idnps: String
    var number: Int64?
    var siteID: Int64
    var distanceKm: Double
    var latitude: Double
    var longitude: Double
    var siteCount: Int
}

/// Everything one search accumulates across its rings.
struct RunState: Sendable {
    let query: ResolvedQuery
    let catalog: DirectoryCatalog
    let maxSlots: Int

    var coveringCPTS: [Structure] = []
    var preferred: Preferred?
    var asked: Set<Int64> = []
    var candidates: [Int64: Candidate] = [:]
    var sosPlaces: [SOSPlace] = []
    var sosPlaceIDs: Set<String> = []
    var askedAssociations: Set<IDNST> = []
    var radiusKm: Double = 0
    /// Kept slots, as spans of the batches and agenda rows they came in (turned into ``OfferSlot`` only for the cards
    /// of the page: most of a search's slots are never shown, and most are never looked at one by one).
    var slotsByPractitioner: [String: [SlotSpan]] = [:]
    /// (vendor, IDNPS) of the asked practitioners the directory links to a vendor: who is left without slots when it
    /// fails (grouped only then).
    var declaredLinks: [(vendor: String, idnps: String)] = []
    var slotsBySOSPlace: [String: [SlotSpan]] = [:]
    var batches: [SlotBatch] = []
    var agendaRows: [AgendaSlot] = []
    var seenSOS: Set<SOSSlotKey> = []
    var keptSlotCount = 0
    var reports: [String: EditorStatusReport] = [:]
    var reportOrder: [String] = []
    var agendaOK = true
    var agendaCount = 0
    var agendaElapsed: Duration = .zero
    var agendaMessage: String?
    var editorFailure: String?
    var warnings: [SearchWarning] = []
    var incomplete = false
    /// Practitioner number by IDNPS, for asked practitioners.
    var numberByIDNPS: [String: Int64] = [:]

    /// Adds asked practitioners.
    mutating func add(_ list: [Candidate]) {
        for c in list {
            asked.insert(c.number)
            numberByIDNPS[c.idnps] = c.number
            if c.number >= 0, preferred?.idnps != c.idnps { candidates[c.number] = c }
        }
    }

    /// The practice site of a practitioner card, read from its id ("ps-<IDNPS>-<site id>"; an IDNPS has no dash, a
    /// site id may be negative).
    static func siteID(ofCard id: String) -> Int64? {
        guard id.hasPrefix("ps-") else { return nil }
        let rest = id.dropFirst(3)
        guard let dash = rest.firstIndex(of: "-") else { return nil }
        return Int64(rest[rest.index(after: dash)...])
    }

    init(query: ResolvedQuery, catalog: DirectoryCatalog, maxSlots: Int) {
        self.query = query
        self.catalog = catalog
        self.maxSlots = maxSlots
    }

    // MARK: - Slots in

    func keeps(start: Date, types: ConsultationTypes, kinds: SlotKinds) -> Bool {
        guard query.window.contains(start), start >= query.now else { return false }
        return passes(types: types, kinds: kinds)
    }

    /// The consultation-type and slot-kind filters (the role sees the kinds; no kind = visible to all).
    func passes(types: ConsultationTypes, kinds: SlotKinds) -> Bool {
        if !query.consultationTypes.isEmpty, types.intersection(query.consultationTypes).isEmpty { return false }
        if !kinds.isEmpty, kinds.intersection(query.role.visibleSlotKinds).isEmpty { return false }
        return true
    }

    static func codes(_ types: ConsultationTypes) -> [String] {
        Int(types.rawValue) < typeCodes.count ? typeCodes[Int(types.rawValue)]
            : ConsultationType.allCases.filter { types.contains(ConsultationTypes($0)) }.map(\.code)
    }

    /// Consultation-type codes by set (computed once: every slot shown needs them).
    private static let typeCodes: [[String]] = (0..<(1 << ConsultationType.allCases.count)).map { raw in
        ConsultationType.allCases.filter { ConsultationTypes(rawValue: UInt8(raw)).contains(ConsultationTypes($0)) }.map(\.code)
    }

    /// Slot-kind codes by set (nil for none), in TRE_R314 order.
    static func kindCodes(_ kinds: SlotKinds) -> [String]? {
        Int(kinds.rawValue) < kindCodeTable.count ? kindCodeTable[Int(kinds.rawValue)] : kinds.kinds.map(\.code).nilIfEmpty
    }

    private static let kindCodeTable: [[String]?] = (0..<(1 << SlotKind.allCases.count)).map { raw in
        SlotKinds(rawValue: UInt8(raw)).kinds.map(\.code).nilIfEmpty
    }

    /// Whether the practitioner declared himself unavailable (period or "vacances" switch) at `date`.
    func isUnavailable(_ idnps: String, at date: Date) -> Bool {
        absences(of: idnps).contains(where: { $0.contains(date) })
    }

    /// The practitioner's declared absences (empty when unknown to the catalog).
    func absences(of idnps: String) -> [VacationPeriod] {
        guard let n = numberByIDNPS[idnps], n >= 0, Int(n) < catalog.practitioners.count else { return [] }
        return catalog.practitioners[Int(n)].vacations
    }

    mutating func addAgenda(_ slots: [AgendaSlot], ringKm: Double, elapsed: Duration, streaming: Bool) -> SlotsArrival {
        var arrival: [String: [OfferSlot]] = [:]
        for s in slots where keeps(start: s.start, types: s.consultationTypes, kinds: s.kinds) {
            if isUnavailable(s.practitioner.value, at: s.start) { continue }
            let span = SlotSpan(start: s.start, origin: .agenda(Int32(agendaRows.count)))
            agendaRows.append(s)
            slotsByPractitioner[s.practitioner.value, default: []].append(span)
            if streaming { arrival[s.practitioner.value, default: []].append(materialize(span.ref(0, in: self), withAddress: true)) }
            keptSlotCount += 1
        }
        return SlotsArrival(source: "sas", ringKm: ringKm, slots: arrival,
                            elapsedMs: Int(elapsed / .milliseconds(1)), fromCache: false)
    }

    /// Files a vendor batch. A practitioner's segment is kept whole, as one span, when none of its type/kind profiles
    /// is filtered out and he declared no absence (the usual case: no slot is looked at); otherwise slot by slot, in
    /// runs of consecutive kept slots. SOS slots are matched to a fixed place one by one.
    mutating func addBatch(_ batch: SlotBatch, ringKm: Double, streaming: Bool) -> SlotsArrival {
        var arrival: [String: [OfferSlot]] = [:]
        let b = Int32(batches.count)
        batches.append(batch)
        var kept: [SlotSpan] = []
        let notBefore = max(query.window.lowerBound, query.now)
        for (g, segment) in batch.segments.enumerated() {
            let slots = segment.list.slots
            // The search's own window and "not started yet": the aggregator already cut its segments to them (both
            // ends checked), another provider may hand more than asked (two binary searches).
            guard !segment.range.isEmpty else { continue }
            let window: Range<Int>
            if slots[segment.range.lowerBound].start >= notBefore, slots[segment.range.upperBound - 1].start <= query.window.upperBound {
                window = segment.range
            } else {
                window = segment.list.range(startingIn: query.window, notBefore: query.now).clamped(to: segment.range)
                guard !window.isEmpty else { continue }
            }
            let segmentIndex = Int32(g)
            func span(_ range: Range<Int>) -> SlotSpan {
                SlotSpan(start: slots[range.lowerBound].start,
                         origin: .editor(batch: b, segment: segmentIndex, lower: Int32(range.lowerBound), upper: Int32(range.upperBound)))
            }
            guard batch.flow != .sos, let practitioner = segment.practitioner else {
                // A fixed place is matched once per Schedule side (site) and structures, not once per slot (an
                // association's slots, sorted by start, interleave its few fixed places: a handful of recent ones kept).
                var recent: [(slot: AggregatedSlot, placeID: String?, association: IDNST?)] = []
                for i in window where passes(types: slots[i].consultationTypes, kinds: slots[i].kinds) {
                    let s = slots[i]
                    let placeID: String?, association: IDNST?
                    if let known = recent.first(where: { s.sharesScheduleSide(with: $0.slot) && s.structures == $0.slot.structures }) {
                        (placeID, association) = (known.placeID, known.association)
                    } else {
                        association = s.structures.first(where: { $0.role == .sosAssociation })?.idnst ?? s.structures.first?.idnst
                        placeID = association.flatMap { sosPlace(for: s, association: $0) }?.id
                        if recent.count == 4 { recent.removeFirst() }
                        recent.append((s, placeID, association))
                    }
                    guard let association, let placeID else { continue }
                    guard seenSOS.insert(SOSSlotKey(editor: batch.editorID, place: placeID, start: s.start, end: s.end,
                                                    url: s.bookingURL)).inserted else { continue }
                    let one = span(i..<(i + 1))
                    slotsBySOSPlace[placeID, default: []].append(one)
                    if streaming { arrival[association.value, default: []].append(materialize(one.ref(0, in: self), withAddress: true)) }
                    keptSlotCount += 1
                }
                continue
            }
            let key = practitioner.value
            // A declared unavailability removes the practitioner from search, vendor slots included.
            let absences = absences(of: key)
            kept.removeAll(keepingCapacity: true)
            if absences.isEmpty, segment.list.profiles.allSatisfy({ passes(types: $0.consultationTypes, kinds: $0.kinds) }) {
                kept.append(span(window))
            } else {
                var runStart: Int?
                for i in window {
                    let s = slots[i]
                    let keep = passes(types: s.consultationTypes, kinds: s.kinds) && !absences.contains { $0.contains(s.start) }
                    if keep, runStart == nil { runStart = i }
                    if !keep, let start = runStart {
                        kept.append(span(start..<i))
                        runStart = nil
                    }
                }
                if let start = runStart { kept.append(span(start..<window.upperBound)) }
            }
            guard !kept.isEmpty else { continue }
            slotsByPractitioner[key, default: []].append(contentsOf: kept)
            for one in kept {
                keptSlotCount += one.count
                if streaming {
                    for k in 0..<one.count { arrival[key, default: []].append(materialize(one.ref(k, in: self), withAddress: true)) }
                }
            }
        }
        return SlotsArrival(source: batch.editorID, ringKm: ringKm, slots: arrival,
                            elapsedMs: Int(batch.elapsed / .milliseconds(1)), fromCache: batch.fromCache)
    }

    /// The vendor slot at a position.
    func editorSlot(batch: Int32, segment: Int32, index: Int32) -> AggregatedSlot {
        batches[Int(batch)].segments[Int(segment)].list.slots[Int(index)]
    }

    /// The JSON form of a kept slot.
    func materialize(_ ref: SlotRef, withAddress: Bool) -> OfferSlot {
        switch ref.origin {
        case .agenda(let i):
            let s = agendaRows[Int(i)]
            return OfferSlot(start: s.start, end: s.end, consultationTypes: Self.codes(s.consultationTypes), source: "sas",
                             bookingURL: nil, agendaSlotID: s.id, remaining: s.capacity > 1 ? s.remaining : nil, address: nil,
                             kinds: Self.kindCodes(s.kinds))
        case .editor(let b, let g, let i):
            let s = editorSlot(batch: b, segment: g, index: i)
            return OfferSlot(start: s.start, end: s.end, consultationTypes: Self.codes(s.consultationTypes),
                             source: batches[Int(b)].editorID, bookingURL: s.bookingURL, agendaSlotID: nil, remaining: nil,
                             address: withAddress ? Self.addressLines(s.site) : nil, kinds: Self.kindCodes(s.kinds))
        }
    }

    /// A vendor slot's place as card lines (street lines, then postcode and city), nil when empty.
    static func addressLines(_ site: SlotSite) -> [String]? {
        let lines = site.addressLines + [[site.postalCode, site.city].compactMap { $0 }.joined(separator: " ")]
        return lines.filter { !$0.isEmpty }.nilIfEmpty
    }

    /// The first `limit` slots of `spans` in time order (ties: agenda first, then arrival order), duplicates (same
    /// source, start, end and link) dropped. Each span is sorted: a merge that reads only the slots it returns.
    func offerSlots(_ spans: [SlotSpan], limit: Int, withAddress: Bool) -> [OfferSlot] {
        var out: [OfferSlot] = []
        var cursors = [Int](repeating: 0, count: spans.count)
        // A practitioner's slots mostly share one place: its lines are built once per place, not once per slot.
        var lastSite: SlotSite?
        var lastLines: [String]?
        while out.count < limit {
            var best: (span: Int, ref: SlotRef)?
            for k in spans.indices where cursors[k] < spans[k].count {
                let ref = spans[k].ref(cursors[k], in: self)
                if let current = best, (current.ref.start, current.ref.origin) <= (ref.start, ref.origin) { continue }
                best = (k, ref)
            }
            guard let best else { break }
            cursors[best.span] += 1
            var slot = materialize(best.ref, withAddress: false)
            if withAddress, case .editor(let b, let g, let i) = best.ref.origin {
                let site = editorSlot(batch: b, segment: g, index: i).site
                if site != lastSite {
                    lastSite = site
                    lastLines = Self.addressLines(site)
                }
                slot.address = lastLines
            }
            if let last = out.last, last.start == slot.start, last.end == slot.end, last.source == slot.source,
               last.bookingURL == slot.bookingURL, last.agendaSlotID == slot.agendaSlotID { continue }
            out.append(slot)
        }
        return out
    }

    /// A page card with its slots: at most `maxSlots` on the card, ``memberSlots`` per CPTS member.
    func withSlots(_ card: OfferCard) -> OfferCard {
        var c = card
        switch card.kind {
        case .practitioner:
            c.slots = offerSlots(slotsByPractitioner[card.idnps ?? ""] ?? [], limit: maxSlots, withAddress: true)
        case .sos:
            c.slots = offerSlots(slotsBySOSPlace[card.id] ?? [], limit: maxSlots, withAddress: true)
        case .cpts:
            let members = card.members ?? []
            c.slots = offerSlots(members.flatMap { slotsByPractitioner[$0.idnps ?? ""] ?? [] }, limit: maxSlots, withAddress: true)
            c.members = members.map { m in
                var m = m
                m.slots = offerSlots(slotsByPractitioner[m.idnps ?? ""] ?? [], limit: Self.memberSlots, withAddress: false)
                return m
            }
        }
        return c
    }

    /// Slots listed per CPTS member (the CPTS card lists the first ones of all members).
    static let memberSlots = 3

    /// The fixed place an SOS slot belongs to: nearest to the slot's coordinates, else same postcode, else the
    /// association's place nearest to the searched point.
    func sosPlace(for slot: AggregatedSlot, association: IDNST) -> SOSPlace? {
        let places = sosPlaces.filter { $0.association == association }
        if let lat = slot.site.latitude, let lon = slot.site.longitude {
            return places.min { Haversine.distanceKm(lat, lon, $0.place.latitude, $0.place.longitude)
                < Haversine.distanceKm(lat, lon, $1.place.latitude, $1.place.longitude) }
        }
        if let postcode = slot.site.postalCode, let match = places.first(where: { $0.place.address.postcode == postcode }) {
            return match
        }
        return places.first
    }

    mutating func record(_ report: EditorStatusReport) {
        if var existing = reports[report.editorID] {
            if existing.status.isSuccess && !report.status.isSuccess { existing.status = report.status }
            if existing.status.isSuccess, case .ok = report.status { existing.status = report.status }
            existing.slotCount += report.slotCount
            existing.elapsed = max(existing.elapsed, report.elapsed)
            reports[report.editorID] = existing
        } else {
            reports[report.editorID] = report
            reportOrder.append(report.editorID)
        }
    }

    mutating func recordAgenda(ok: Bool, count: Int, elapsed: Duration, message: String?) {
        agendaOK = agendaOK && ok
        agendaCount += count
        agendaElapsed = max(agendaElapsed, elapsed)
        if let message { agendaMessage = message }
    }

    func sourceStatuses() -> [SourceStatus] {
        var list = [SourceStatus(
            source: "sas", name: "Agenda SAS", status: agendaOK ? "ok" : "error", detail: agendaOK ? (agendaCount > 0 ? "ok" : "empty") : "error",
            message: agendaOK
                ? (agendaCount == 0 ? "Agenda SAS : aucun créneau sur la période" : agendaCount == 1 ? "Agenda SAS : 1 créneau disponible" : "Agenda SAS : \(agendaCount) créneaux disponibles")
                : "L'agenda SAS n'a pas pu être lu",
            slotCount: agendaCount, elapsedMs: Int(agendaElapsed / .milliseconds(1)))]
        for id in reportOrder {
            guard let r = reports[id] else { continue }
            let status: String = switch r.status.kind {
            case .ok, .empty: "ok"
            case .timeout: "timeout"
            case .circuitOpen: "circuit-open"
            default: "error"
            }
            var technical: String?
            switch r.status {
            case .connectionFailed(let d), .tlsError(let d), .invalidRequest(let d): technical = d
            default: technical = nil
            }
            var message = r.frenchDescription
            if status != "ok", case let linked = Set(declaredLinks.lazy.filter { $0.vendor == id }.map(\.idnps)), !linked.isEmpty {
                // Practitioners of this vendor shown without any slot from it.
                let missing = linked.filter { idnps in
                    !(slotsByPractitioner[idnps] ?? []).contains { span in
                        if case .editor(let b, _, _, _) = span.origin { return batches[Int(b)].editorID == id }
                        return false
                    }
                }.count
                if missing > 0 {
                    message += missing == 1 ? " — 1 praticien sans créneaux affichés" : " — \(missing) praticiens sans créneaux affichés"
                }
            }
            list.append(SourceStatus(source: id, name: r.editorName, status: status, detail: r.status.kind.rawValue,
                                     message: message, technicalDetail: technical, slotCount: r.slotCount,
                                     elapsedMs: Int(r.elapsed / .milliseconds(1))))
        }
        if let editorFailure {
            list.append(SourceStatus(source: "agregateur", name: "Agrégateur", status: "error", detail: "error",
                                     message: "La recherche de créneaux auprès des éditeurs n'a pas pu démarrer (\(editorFailure))",
                                     slotCount: 0, elapsedMs: 0))
        }
        return list
    }

    // MARK: - Cards

    static func via(_ flags: ParticipationFlags) -> String? {
        if flags.contains(.viaIndividual) { return "individuel" }
        if flags.contains(.viaCPTS) { return "cpts" }
        if flags.contains(.viaMSP) { return "msp" }
        if flags.contains(.viaSOS) { return "sos-medecins" }
        return nil
    }

    static func rank(group: Int, first: Date?, distanceKm: Double, id: String) -> RankKey {
        RankKey(group: group, start: first.map { Int64($0.timeIntervalSince1970.rounded(.down)) } ?? Int64.max,
                metres: Int((distanceKm * 1000).rounded()), id: id)
    }

    func practitionerCard(id: String, idnps: String, number: Int64?, distanceKm: Double, latitude: Double, longitude: Double,
                          preferred: Bool) -> OfferCard {
        let facts = number.flatMap { Int($0) < catalog.practitioners.count ? catalog.practitioners[Int($0)] : nil }
        let flags = facts?.flags ?? []
        let spans = slotsByPractitioner[idnps] ?? []
        let first = spans.lazy.map(\.start).min()
        return OfferCard(
            id: id, kind: .practitioner, idnps: idnps, idnst: facts?.structure?.value, name: idnps, specialties: [],
            address: [], phone: nil, latitude: latitude, longitude: longitude, distanceKm: distanceKm,
            participates: flags.contains(.participates), participationVia: Self.via(flags),
            acceptsExtraPatients: flags.contains(.participates) && flags.contains(.acceptsExtra),
            forfaitReorientation: flags.contains(.forfaitReorientation), preferredDoctor: preferred, firstSlot: first,
            slotCount: spans.reduce(0) { $0 + $1.count }, slots: [], pourquoi: "", members: nil,
            rank: Self.rank(group: preferred ? 0 : (first == nil ? 2 : 1), first: first, distanceKm: distanceKm, id: id))
    }

    /// The number of cards with a slot, without building the cards (called after every ring).
    func offersWithSlots() -> Int {
        let covering = Set(coveringCPTS.map(\.idnst))
        var count = 0
        var cptsWithSlots = Set<IDNST>()
        for c in candidates.values where !(slotsByPractitioner[c.idnps]?.isEmpty ?? true) {
            let facts = catalog.practitioners[Int(c.number)]
            if let s = facts.structure, covering.contains(s), facts.flags.contains(.viaCPTS) {
                cptsWithSlots.insert(s)
            } else {
                count += 1
            }
        }
        if let p = preferred, !(slotsByPractitioner[p.idnps]?.isEmpty ?? true) { count += 1 }
        return count + cptsWithSlots.count + sosPlaces.filter { !(slotsBySOSPlace[$0.id]?.isEmpty ?? true) }.count
    }

    /// Every card, unranked: practitioners (CPTS members folded into their CPTS card), SOS places, the médecin traitant.
    func buildCards() -> [OfferCard] {
        var cards: [OfferCard] = []
        var members: [IDNST: [OfferCard]] = [:]
        let covering = Set(coveringCPTS.map(\.idnst))
        for c in candidates.values {
            let facts = catalog.practitioners[Int(c.number)]
            let member = facts.structure.map { covering.contains($0) && facts.flags.contains(.viaCPTS) } ?? false
            // Most candidates have neither a slot nor "en sus": no card is built for them.
            if !member, slotsByPractitioner[c.idnps]?.isEmpty ?? true,
               !(facts.flags.contains(.participates) && facts.flags.contains(.acceptsExtra)) { continue }
            let card = practitionerCard(id: c.cardID, idnps: c.idnps, number: c.number, distanceKm: c.distanceKm,
                                        latitude: c.latitude, longitude: c.longitude, preferred: false)
            if member, let s = facts.structure {
                members[s, default: []].append(card)
                continue
            }
            if card.firstSlot != nil || card.acceptsExtraPatients { cards.append(card) }
        }
        if let p = preferred {
            cards.append(practitionerCard(id: "ps-\(p.idnps)-\(p.siteID)", idnps: p.idnps, number: p.number,
                                          distanceKm: p.distanceKm, latitude: p.latitude, longitude: p.longitude, preferred: true))
        }
        for cpts in coveringCPTS {
            guard var list = members[cpts.idnst], !list.isEmpty else { continue }
            list.sort { $0.rank < $1.rank }
            let first = list.compactMap(\.firstSlot).min()
            let nearest = list.min { $0.distanceKm < $1.distanceKm }!
            let id = "cpts-\(cpts.idnst.value)"
            if query.mode == .slots, first == nil, !list.contains(where: \.participates) { continue }
            var card = OfferCard(
                id: id, kind: .cpts, idnps: nil, idnst: cpts.idnst.value, name: cpts.name, specialties: [],
                address: [], phone: cpts.phone.nilIfEmpty, latitude: nearest.latitude, longitude: nearest.longitude,
                distanceKm: nearest.distanceKm, participates: true, participationVia: "cpts", acceptsExtraPatients: true,
                forfaitReorientation: false, preferredDoctor: false, firstSlot: first,
                slotCount: list.reduce(0) { $0 + $1.slotCount }, slots: [], pourquoi: "",
                members: list,
                rank: Self.rank(group: first == nil ? 2 : 1, first: first, distanceKm: nearest.distanceKm, id: id))
            card.additionalInfo = catalog.structureInfo[cpts.idnst.value]
            cards.append(card)
        }
        for place in sosPlaces {
            let spans = slotsBySOSPlace[place.id] ?? []
            guard let first = spans.lazy.map(\.start).min() else { continue }
            var card = OfferCard(
                id: place.id, kind: .sos, idnps: nil, idnst: place.association.value,
                name: "\(place.structure.name) — \(place.place.name)", specialties: ["Médecine générale"],
                address: place.place.address.lines, phone: place.structure.phone.nilIfEmpty,
                latitude: place.place.latitude, longitude: place.place.longitude, distanceKm: place.distanceKm,
                participates: true, participationVia: "sos-medecins", acceptsExtraPatients: false,
                forfaitReorientation: false, preferredDoctor: false, firstSlot: first, slotCount: spans.reduce(0) { $0 + $1.count },
                slots: [], pourquoi: "", members: nil,
                rank: Self.rank(group: 1, first: first, distanceKm: place.distanceKm, id: place.id))
            card.additionalInfo = catalog.structureInfo[place.association.value]
            cards.append(card)
        }
        return cards
    }
}

/// One kept slot: its start (for ordering) and where it is.
struct SlotRef: Sendable {
    enum Origin: Sendable, Comparable {
        case agenda(Int32)
        case editor(batch: Int32, segment: Int32, index: Int32)
    }

    let start: Date
    let origin: Origin
}

/// Kept slots filed together: one SAS agenda row, or consecutive positions of one batch segment (sorted by start).
struct SlotSpan: Sendable {
    enum Origin: Sendable {
        case agenda(Int32)
        case editor(batch: Int32, segment: Int32, lower: Int32, upper: Int32)
    }

    /// The first slot's start.
    let start: Date
    let origin: Origin

    var count: Int {
        switch origin {
        case .agenda: 1
        case .editor(_, _, let lower, let upper): Int(upper - lower)
        }
    }

    /// The `k`-th slot of the span.
    func ref(_ k: Int, in run: RunState) -> SlotRef {
        switch origin {
        case .agenda(let i):
            return SlotRef(start: start, origin: .agenda(i))
        case .editor(let b, let g, let lower, _):
            let index = lower + Int32(k)
            return SlotRef(start: k == 0 ? start : run.editorSlot(batch: b, segment: g, index: index).start,
                           origin: .editor(batch: b, segment: g, index: index))
        }
    }
}

/// De-duplication key of SOS slots (one association's slots may be matched to several places' requests).
struct SOSSlotKey: Hashable, Sendable {
    let editor: String
    let place: String
    let start: Date
    let end: Date
    let url: String?
}

extension Array {
    var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}

