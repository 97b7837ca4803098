import Foundation
import SASDomain

/// Turns one editor searchset Bundle into domain slots, absorbing the known vendor and spec inconsistencies
/// (digest §8) and reporting per-entry problems instead of failing the whole Bundle.
///
/// Two readers feed one decision procedure (``NormaliserRun``): the fast slot path (``FastSlotScan``), which reads
/// `Slot` entries straight from the bytes, and the full model decoder, which reads everything else and any entry
/// the fast path declines. Both give the same ``NormalisationResult`` (cross-checked by the FastPathEquivalence tests).
public enum BundleNormaliser {
    /// Decodes and normalises raw bytes; only a whole-document failure throws.
    public static func normalise(data: Data, flow: SlotFlow, window: ClosedRange<Date>,
                                 now: Date) throws(FHIRDecodingError) -> NormalisationResult {
        if let result = try normaliseFast(data: data, flow: flow, window: window, now: now) { return result }
        return try normaliseFully(data: data, flow: flow, window: window, now: now)
    }

    /// The fast path alone; nil when the bundle needs the full path (duplicate or non-ASCII fullUrls/ids).
    static func normaliseFast(data: Data, flow: SlotFlow, window: ClosedRange<Date>,
                              now: Date) throws(FHIRDecodingError) -> NormalisationResult? {
        var scan = FastSlotScan()
        let bundle = try FHIRJSON.decodeBundle(data, entryReader: { r in try scan.readEntry(&r) },
                                               entryArray: { scan.entryArrayBegins() })
        let entries = bundle.entry ?? []
        // More than one `entry` array: the last wins, but the scan saw them all.
        guard !scan.repeatedEntryArray, scan.otherPositions.count == entries.count else { return nil }
        // Fast slots stay out of BundleIndex (indexing them costs more than reading them); that is only invisible
        // when no fullUrl or Slot key repeats, since then no entry is a duplicate because of a fast slot.
        guard !scan.slots.isEmpty else { return normalise(bundle: bundle, flow: flow, window: window, now: now) }
        guard scan.keysAreUnique(entries) else { return nil }
        var fast: FastSlotScan? = consume scan // the only reference to the slots, which the normaliser then consumes
        return normalise(bundle: bundle, fast: &fast, flow: flow, window: window, now: now)
    }

    /// The reference path: every entry decoded into full models first.
    static func normaliseFully(data: Data, flow: SlotFlow, window: ClosedRange<Date>,
                               now: Date) throws(FHIRDecodingError) -> NormalisationResult {
        let bundle = try FHIRJSON.decodeBundle(data)
        return normalise(bundle: bundle, flow: flow, window: window, now: now)
    }

    /// Normalises a decoded Bundle.
    ///
    /// Keeps `free` slots with `window.lowerBound ≤ start ≤ window.upperBound`, `start ≥ now` and `end > start`
    /// (others are dropped and counted). `search.mode` and `total` are ignored on purpose: vendors omit them.
    public static func normalise(bundle: FHIRBundle, flow: SlotFlow, window: ClosedRange<Date>,
                                 now: Date) -> NormalisationResult {
        var none: FastSlotScan?
        return normalise(bundle: bundle, fast: &none, flow: flow, window: window, now: now)
    }

    /// `fast` holds the Slot entries read by the fast path (they are not in `bundle.entry`, whose entries are at
    /// the scan's `otherPositions`); its slots and ids are handed to the domain slots, so `fast` is left without them.
    static func normalise(bundle: FHIRBundle, fast: inout FastSlotScan?, flow: SlotFlow, window: ClosedRange<Date>,
                          now: Date) -> NormalisationResult {
        let entries = bundle.entry ?? []
        let positions = fast?.takeOtherPositions() // nil: `entries` are all the Bundle's
        let total = entries.count + (fast?.slots.count ?? 0)
        var result = NormalisationResult(declaredTotal: bundle.total, entryCount: total)
        result.slots.reserveCapacity(total)
        if let type = bundle.type, type != "searchset" {
            result.problems.append(EntryProblem(entryIndex: nil, fullUrl: nil, reason: .bundleStructure,
                                                message: "bundle type is \(type), expected searchset"))
        }
        for issue in bundle.decodingIssues {
            result.problems.append(EntryProblem(entryIndex: nil, fullUrl: nil, reason: .bundleStructure,
                                                message: "ignored Bundle.\(issue.path ?? "?"): \(issue.message)"))
        }
        let index = BundleIndex(entries: entries, positions: positions)
        for (p, why) in index.duplicates.sorted(by: { $0.key < $1.key }) {
            result.problems.append(EntryProblem(entryIndex: p, fullUrl: index.entry(atPosition: p)?.fullUrl, reason: .duplicateID,
                                                message: why))
        }
        var run = NormaliserRun(flow: flow, window: window, now: now, result: result, graph: SlotGraph(index: index),
                                fastSchedules: fast?.schedules ?? [], ids: fast?.takeIDArena(), comments: fast?.comments ?? [],
                                fullUrls: fast?.fullUrls ?? [], fastSlots: fast?.slots.count ?? 0,
                                fastFacts: fast?.facts.map(\.shared) ?? [])
        let fastSlots = fast?.takeSlots() ?? []
        var nextFast = 0
        var next = 0 // in `entries`

        let fastFacts = fast?.facts ?? []
        fastSlots.withUnsafeBufferPointer { fastSlots in
            fastFacts.withUnsafeBufferPointer { fastFacts in // in place: copying a SlotFactsEntry retains its fields
                for i in 0..<total { // positions in the Bundle
                    if nextFast < fastSlots.count, fastSlots[nextFast].entry == i {
                        let slot = fastSlots.baseAddress! + nextFast
                        run.add(slot, facts: fastFacts.baseAddress! + slot.pointee.facts, entry: i,
                                schedule: .fast(slot.pointee.schedule))
                        nextFast += 1
                        continue
                    }
                    let entry = entries[next]
                    next += 1
                    if let issue = entry.decodingIssue {
                        run.result.problems.append(EntryProblem(entryIndex: i, fullUrl: entry.fullUrl, reason: .undecodableEntry,
                                                                message: issue.description))
                        continue
                    }
                    guard let resource = entry.resource else {
                        run.result.problems.append(EntryProblem(entryIndex: i, fullUrl: entry.fullUrl, reason: .missingElement,
                                                                message: "entry without resource"))
                        continue
                    }
                    guard case .slot(let slot) = resource else {
                        if case .unknown(let type, _) = resource { run.result.unknownResourceTypes[type, default: 0] += 1 }
                        continue
                    }
                    if index.duplicates[i] != nil { run.result.dropped[.duplicate, default: 0] += 1; continue }
                    var modelSlot = FastSlot(entry: i)
                    (modelSlot.isFree, modelSlot.start, modelSlot.end) = (slot.status == "free", slot.start, slot.end)
                    let strings = SlotStrings(id: SlotText(slot.id), bookingURL: SlotMapping.bookingURL(slot.comment),
                                              fullUrl: entry.fullUrl)
                    let facts = SlotFactsEntry(slot)
                    withUnsafePointer(to: modelSlot) { modelSlot in
                        withUnsafePointer(to: facts) {
                            run.add(modelSlot, facts: $0, entry: i, schedule: .model(slot), model: strings)
                        }
                    }
                }
            }
        }
        run.finish()
        return run.result
    }
}

/// What `Slot.serviceType` yields: consultation types, reasons and the CPTS (R5 extension) references.
struct ServiceFacts {
    var types: ConsultationTypes
    var reasons: [String]
    var references: [Reference]

    static let none = ServiceFacts(nil)

    init(_ serviceType: [CodeableConcept]?) {
        (types, reasons) = SlotMapping.consultation(serviceType)
        var slot = Slot()
        slot.serviceType = serviceType
        references = slot.serviceTypeReferences
    }
}

/// What one Schedule gives every slot that points to it, computed once: the graph walk's verdicts and a
/// template domain slot carrying the practitioner, site, structures and source ids (a class, so handing it to
/// each slot costs one retain instead of one per field).
final class ScheduleWalk {
    /// Why the Schedule could not be found (`unresolvedSchedule`).
    let failure: String?
    /// Key of `issues` in the once-per-Schedule report.
    let scheduleKey: String
    /// Non-fatal problems met on the walk, reported with the first slot kept up to that point.
    let issues: [(reason: EntryProblem.Reason, message: String)]
    /// Why slots of this Schedule are rejected after the issues are reported (no practitioner / SOS structure).
    let rejection: (reason: EntryProblem.Reason, message: String)?
    /// The slot fields that come from the Schedule side.
    let template: AggregatedSlot
    /// No failure, issue or rejection: the slots of this Schedule need no check of their own (read per slot
    /// instead of the three optionals above, which would each be retained and released).
    let clean: Bool

    init(_ walk: Result<ScheduleContext, SlotGraphError>, flow: SlotFlow) {
        let context: ScheduleContext
        switch walk {
        case .success(let c):
            context = c
            failure = nil
        case .failure(let error):
            context = ScheduleContext()
            failure = error.message
        }
        scheduleKey = context.scheduleID ?? "?"
        issues = context.issues
        if flow != .sos, context.practitioner == nil {
            rejection = context.practitionerIssue ?? (.unresolvedPractitioner, "no practitioner")
        } else if flow == .sos, context.structure == nil {
            rejection = (.unresolvedStructure, "no SOS association behind schedule \(context.scheduleID ?? "?")")
        } else {
            rejection = nil
        }
        clean = failure == nil && issues.isEmpty && rejection == nil
        template = AggregatedSlot(
            flow: flow,
            practitioner: flow == .sos ? nil : context.practitioner,
            practitionerFamilyName: flow == .sos ? nil : context.familyName,
            practitionerGivenName: flow == .sos ? nil : context.givenName,
            structures: context.structure.map { [$0] } ?? [],
            site: context.site,
            start: .distantPast,
            end: .distantPast,
            source: SlotSourceIDs(schedule: context.scheduleID, practitioner: context.practitionerID,
                                  practitionerRole: context.roleID, location: context.locationID)
        )
    }
}

/// The per-bundle decision procedure for one slot: drop checks, graph walk, problems, domain slot.
struct NormaliserRun {
    let flow: SlotFlow
    let window: ClosedRange<Date>
    let now: Date
    var result: NormalisationResult
    var graph: SlotGraph
    var reportedScheduleIssues = Set<String>()
    /// Fast path: distinct `Slot.schedule` values (index 0 = none) and their memoised walks.
    let fastSchedules: [Reference?]
    private var fastWalks: [ScheduleWalk?]
    /// The fast slots' ids, booking URLs and fullUrls (see ``FastSlot``).
    let ids: TextArena?
    let comments: [String?]
    let fullUrls: [String]
    /// The fast slots, stored together (see ``SlotRows``); those read by the full path meanwhile are kept apart,
    /// with the number of rows before them, and merged in order by ``finish()``.
    private var rows: SlotRowsBuilder?
    /// Per fast Schedule reference: its walk is done, without failure, issue or rejection, and its template is
    /// registered in `rows` (then its slots need neither the walk nor a check).
    private var cleanRowTemplates: [Bool]
    private var modelSlots: [(rowsBefore: Int, slot: AggregatedSlot)] = []

    /// Where the slot's Schedule reference comes from.
    enum ScheduleSource {
        indirect case model(Slot) // boxed: the enum stays one word, read per slot
        case fast(Int)
    }

    init(flow: SlotFlow, window: ClosedRange<Date>, now: Date, result: NormalisationResult, graph: SlotGraph,
         fastSchedules: [Reference?], ids: TextArena? = nil, comments: [String?] = [], fullUrls: [String] = [],
         fastSlots: Int = 0, fastFacts: [AggregatedSlot.SharedFacts] = []) {
        self.flow = flow
        self.window = window
        self.now = now
        self.result = result
        self.graph = graph
        self.fastSchedules = fastSchedules
        self.ids = ids
        self.comments = comments
        self.fullUrls = fullUrls
        if let ids, !comments.isEmpty {
            rows = SlotRowsBuilder(ids: ids, facts: fastFacts, bookingURLs: comments, fullUrls: fullUrls, capacity: fastSlots)
        }
        fastWalks = Array(repeating: nil, count: fastSchedules.count)
        cleanRowTemplates = Array(repeating: false, count: fastSchedules.count)
    }

    private mutating func walk(_ source: ScheduleSource) -> ScheduleWalk {
        switch source {
        case .model(let slot):
            return ScheduleWalk(graph.context(forScheduleOf: slot, flow: flow), flow: flow)
        case .fast(let k):
            if let cached = fastWalks[k] { return cached }
            let walk = ScheduleWalk(graph.context(forSchedule: fastSchedules[k], flow: flow, memoise: false), flow: flow)
            fastWalks[k] = walk
            return walk
        }
    }

    /// The strings of a fast slot, from the scan's tables.
    private func strings(_ slot: UnsafePointer<FastSlot>) -> SlotStrings {
        var id = SlotText(nil)
        if let span = slot.pointee.arenaID, let ids {
            id = SlotText(arena: ids, offset: span.lowerBound, length: span.count) ?? SlotText(slot.pointee.idString(ids.bytes))
        }
        let k = slot.pointee.fullUrl
        return SlotStrings(id: id, bookingURL: comments[slot.pointee.comment], fullUrl: k > 0 ? fullUrls[k - 1] : nil)
    }

    /// `read` and `facts` point to the slot and its facts (pointers: passing a `SlotFactsEntry` by value would
    /// retain each of its fields); `model`: the strings of a slot read by the full path (nil: a fast slot's).
    mutating func add(_ read: UnsafePointer<FastSlot>, facts: UnsafePointer<SlotFactsEntry>, entry i: Int,
                      schedule: ScheduleSource, model: SlotStrings? = nil) {
        func problem(_ reason: EntryProblem.Reason, _ message: String) {
            let own = model ?? strings(read)
            let fullUrl = read.pointee.fullUrlFromBase ? (facts.pointee.fullUrlBase ?? "") + (own.id.string ?? "") : own.fullUrl
            result.problems.append(EntryProblem(entryIndex: i, fullUrl: fullUrl, reason: reason,
                                                message: "Slot/\(own.id.string ?? "?"): \(message)"))
        }
        guard read.pointee.isFree else { result.dropped[.notFree, default: 0] += 1; return }
        guard let start = read.pointee.start, let end = read.pointee.end else {
            problem(.missingElement, read.pointee.start == nil ? "no start" : "no end")
            return
        }
        guard end.date > start.date else { result.dropped[.endNotAfterStart, default: 0] += 1; return }
        guard window.contains(start.date) else { result.dropped[.outsideWindow, default: 0] += 1; return }
        guard start.date >= now else { result.dropped[.startsInPast, default: 0] += 1; return }
        let assumedLocalTime = start.assumedLocalTime || end.assumedLocalTime

        // The common case: a fast slot of a Schedule already walked without any problem, no CPTS reference.
        if model == nil, case .fast(let key) = schedule, cleanRowTemplates[key], !facts.pointee.hasReferences {
            appendRow(read, key: key, structures: nil, start: start.date, end: end.date, assumedLocalTime: assumedLocalTime)
            return
        }
        let walk = walk(schedule)
        if !walk.clean {
            if let failure = walk.failure {
                problem(.unresolvedSchedule, failure)
                return
            }
            if !walk.issues.isEmpty, reportedScheduleIssues.insert(walk.scheduleKey).inserted {
                for issue in walk.issues { problem(issue.reason, issue.message) }
            }
            if let rejection = walk.rejection {
                problem(rejection.reason, rejection.message)
                return
            }
        }

        var structures: [SlotStructure]? // nil: the template's
        if facts.pointee.hasReferences {
            var extended = walk.template.structures
            for reference in facts.pointee.references {
                switch graph.cptsStructure(reference) {
                case .success(let cpts): if !extended.contains(cpts) { extended.append(cpts) }
                case .failure(.invalidIdentifier(let message)): problem(.invalidIdentifier, message)
                case .failure(.unresolved(let message)): problem(.unresolvedStructure, message)
                }
            }
            structures = extended
        }
        if model == nil, rows != nil, case .fast(let key) = schedule { // a row: its strings are indices into the scan's tables
            rows!.register(templateKey: key, template: walk.template)
            cleanRowTemplates[key] = walk.clean
            appendRow(read, key: key, structures: structures, start: start.date, end: end.date, assumedLocalTime: assumedLocalTime)
            return
        }
        // A slot read by the full path: a storage of its own (sharing the template's Schedule side).
        let (id, bookingURL, fullUrl) = (model ?? strings(read)).parts()
        let slot = AggregatedSlot(
            template: walk.template, structures: structures, start: start.date, end: end.date,
            assumedLocalTime: assumedLocalTime, facts: facts.pointee.shared,
            bookingURL: consume bookingURL, slotID: consume id, fullUrl: consume fullUrl,
            fullUrlFromBase: read.pointee.fullUrlFromBase)
        if let count = rows?.count { modelSlots.append((count, slot)) } else { result.slots.append(slot) }
    }

    /// Appends a fast slot as a row (its template registered under `key`).
    private mutating func appendRow(_ read: UnsafePointer<FastSlot>, key: Int, structures: [SlotStructure]?, start: Date, end: Date,
                                    assumedLocalTime: Bool) {
        let k = read.pointee.fullUrl
        rows!.append(templateKey: key, structures: structures, start: start, end: end, assumedLocalTime: assumedLocalTime,
                     facts: read.pointee.facts, bookingURL: read.pointee.comment, id: read.pointee.arenaID,
                     fullUrl: k > 0 ? k - 1 : nil, fullUrlFromBase: read.pointee.fullUrlFromBase)
    }

    /// Puts the rows and the slots read by the full path into `result.slots`, in bundle order.
    mutating func finish() {
        guard let builder = rows else { return }
        rows = nil
        let table = builder.build()
        var slots: [AggregatedSlot] = []
        swap(&slots, &result.slots) // empty, with the capacity reserved for the bundle's entries
        slots.reserveCapacity(slots.count + table.count + modelSlots.count)
        var next = 0
        for (before, slot) in modelSlots {
            while next < before { slots.append(AggregatedSlot(rows: table, row: next)); next += 1 }
            slots.append(slot)
        }
        while next < table.count { slots.append(AggregatedSlot(rows: table, row: next)); next += 1 }
        modelSlots = []
        result.slots = slots
    }
}
