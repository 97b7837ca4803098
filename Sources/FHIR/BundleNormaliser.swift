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
        let bundle = try FHIRJSON.decodeBundle(data) { r in try scan.readEntry(&r) }
        let entries = bundle.entry ?? []
        // Fast slots stay out of BundleIndex (indexing them costs more than reading them); that is only invisible
        // when no fullUrl or Slot key repeats, since then no entry is a duplicate because of a fast slot.
        guard !scan.slots.isEmpty else { return normalise(bundle: bundle, fast: nil, flow: flow, window: window, now: now) }
        guard FastSlotScan.keysAreUnique(entries, scan.slots) else { return nil }
        return normalise(bundle: bundle, fast: scan, flow: flow, window: window, now: now)
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
        normalise(bundle: bundle, fast: nil, flow: flow, window: window, now: now)
    }

    /// `fast` holds the Slot entries read by the fast path (their `BundleEntry` carries only the fullUrl).
    static func normalise(bundle: FHIRBundle, fast: FastSlotScan?, flow: SlotFlow, window: ClosedRange<Date>,
                          now: Date) -> NormalisationResult {
        let entries = bundle.entry ?? []
        var result = NormalisationResult(declaredTotal: bundle.total, entryCount: entries.count)
        result.slots.reserveCapacity(entries.count)
        if let type = bundle.type, type != "searchset" {
            result.problems.append(EntryProblem(entryIndex: nil, fullUrl: nil, reason: .bundleStructure,
                                                message: "bundle type is \(type), expected searchset"))
        }
        for issue in bundle.decodingIssues {
            result.problems.append(EntryProblem(entryIndex: nil, fullUrl: nil, reason: .bundleStructure,
                                                message: "ignored Bundle.\(issue.path ?? "?"): \(issue.message)"))
        }
        let index = BundleIndex(entries: entries)
        for (i, why) in index.duplicates.sorted(by: { $0.key < $1.key }) {
            result.problems.append(EntryProblem(entryIndex: i, fullUrl: entries[i].fullUrl, reason: .duplicateID, message: why))
        }
        var run = NormaliserRun(flow: flow, window: window, now: now, result: result, graph: SlotGraph(index: index),
                                fastSchedules: fast?.schedules ?? [])
        let fastSlots = fast?.slots ?? []
        var nextFast = 0

        for (i, entry) in entries.enumerated() {
            if nextFast < fastSlots.count, fastSlots[nextFast].entry == i {
                let slot = fastSlots[nextFast]
                nextFast += 1
                run.add(SlotFacts(slot), entry: i, fullUrl: entry.fullUrl, schedule: .fast(slot.schedule))
                continue
            }
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
            run.add(SlotFacts(slot), entry: i, fullUrl: entry.fullUrl, schedule: .model(slot))
        }
        return run.result
    }
}

/// What normalisation needs from one Slot, whichever reader produced it (mappings are pure, so computing them
/// before the drop checks changes nothing but the order of work).
struct SlotFacts {
    var id: String?
    var isFree: Bool
    var start: FHIRInstant?
    var end: FHIRInstant?
    var kinds: SlotKinds
    var service: ServiceFacts
    var specialties: [SlotSpecialty]
    var bookingMode: BookingMode?
    var bookingURL: String?

    init(_ slot: Slot) {
        id = slot.id
        isFree = slot.status == "free"
        start = slot.start
        end = slot.end
        kinds = SlotMapping.kinds(slot.meta)
        service = ServiceFacts(slot.serviceType)
        specialties = SlotMapping.specialties(slot.specialty)
        bookingMode = SlotMapping.bookingMode(slot.appointmentType)
        bookingURL = SlotMapping.bookingURL(slot.comment)
    }

    init(_ slot: FastSlot) {
        id = slot.id
        isFree = slot.isFree
        start = slot.start
        end = slot.end
        kinds = slot.kinds
        service = slot.service
        specialties = slot.specialties
        bookingMode = slot.bookingMode
        bookingURL = slot.bookingURL
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

/// The per-bundle decision procedure for one slot: drop checks, graph walk, problems, domain slot.
struct NormaliserRun {
    let flow: SlotFlow
    let window: ClosedRange<Date>
    let now: Date
    var result: NormalisationResult
    var graph: SlotGraph
    var reportedScheduleIssues = Set<String>()
    /// Fast path: distinct `Slot.schedule` values (index 0 = none) and their memoised walks.
    var fastSchedules: [Reference?]
    private var fastContexts: [(Result<ScheduleContext, SlotGraphError>, [SlotStructure])?] = []

    /// Where the slot's Schedule reference comes from.
    enum ScheduleSource {
        case model(Slot)
        case fast(Int)
    }

    init(flow: SlotFlow, window: ClosedRange<Date>, now: Date, result: NormalisationResult, graph: SlotGraph,
         fastSchedules: [Reference?]) {
        self.flow = flow
        self.window = window
        self.now = now
        self.result = result
        self.graph = graph
        self.fastSchedules = fastSchedules
        fastContexts = Array(repeating: nil, count: fastSchedules.count)
    }

    /// The Schedule walk and the structures every slot of that Schedule starts with.
    private mutating func context(_ source: ScheduleSource) -> (Result<ScheduleContext, SlotGraphError>, [SlotStructure]) {
        switch source {
        case .model(let slot):
            let context = graph.context(forScheduleOf: slot, flow: flow)
            return (context, (try? context.get())?.structure.map { [$0] } ?? [])
        case .fast(let k):
            if let cached = fastContexts[k] { return cached }
            var stub = Slot() // the walk only reads `schedule`; SlotGraph memoises by reference key as before
            stub.schedule = fastSchedules[k]
            let context = graph.context(forScheduleOf: stub, flow: flow)
            let value = (context, (try? context.get())?.structure.map { [$0] } ?? [])
            fastContexts[k] = value
            return value
        }
    }

    mutating func add(_ slot: SlotFacts, entry i: Int, fullUrl: String?, schedule: ScheduleSource) {
        func problem(_ reason: EntryProblem.Reason, _ message: String) {
            result.problems.append(EntryProblem(entryIndex: i, fullUrl: fullUrl, reason: reason,
                                                message: "Slot/\(slot.id ?? "?"): \(message)"))
        }
        guard slot.isFree else { result.dropped[.notFree, default: 0] += 1; return }
        guard let start = slot.start, let end = slot.end else {
            problem(.missingElement, slot.start == nil ? "no start" : "no end")
            return
        }
        guard end.date > start.date else { result.dropped[.endNotAfterStart, default: 0] += 1; return }
        guard window.contains(start.date) else { result.dropped[.outsideWindow, default: 0] += 1; return }
        guard start.date >= now else { result.dropped[.startsInPast, default: 0] += 1; return }

        let (walk, baseStructures) = context(schedule)
        let context: ScheduleContext
        switch walk {
        case .success(let c): context = c
        case .failure(let error):
            problem(.unresolvedSchedule, error.message)
            return
        }
        if !context.issues.isEmpty, reportedScheduleIssues.insert(context.scheduleID ?? "?").inserted {
            for issue in context.issues { problem(issue.reason, issue.message) }
        }
        if flow != .sos, context.practitioner == nil {
            let issue = context.practitionerIssue ?? (.unresolvedPractitioner, "no practitioner")
            problem(issue.reason, issue.message)
            return
        }
        if flow == .sos, context.structure == nil {
            problem(.unresolvedStructure, "no SOS association behind schedule \(context.scheduleID ?? "?")")
            return
        }

        var structures = baseStructures // shared per Schedule; copied only when a CPTS is appended
        for reference in slot.service.references {
            switch graph.cptsStructure(reference) {
            case .success(let cpts): if !structures.contains(cpts) { structures.append(cpts) }
            case .failure(.invalidIdentifier(let message)): problem(.invalidIdentifier, message)
            case .failure(.unresolved(let message)): problem(.unresolvedStructure, message)
            }
        }
        result.slots.append(AggregatedSlot(
            flow: flow,
            practitioner: flow == .sos ? nil : context.practitioner,
            practitionerFamilyName: flow == .sos ? nil : context.familyName,
            practitionerGivenName: flow == .sos ? nil : context.givenName,
            structures: structures,
            site: context.site,
            start: start.date,
            end: end.date,
            assumedLocalTime: start.assumedLocalTime || end.assumedLocalTime,
            kinds: slot.kinds,
            consultationTypes: slot.service.types,
            bookingMode: slot.bookingMode,
            reasons: slot.service.reasons,
            specialties: slot.specialties,
            bookingURL: slot.bookingURL,
            source: SlotSourceIDs(slot: slot.id, fullUrl: fullUrl, schedule: context.scheduleID,
                                  practitioner: context.practitionerID, practitionerRole: context.roleID,
                                  location: context.locationID)
        ))
    }
}
