import Foundation
import SASDomain

/// One slot search to fan out to the editors.
public struct AggregationRequest: Sendable {
    /// Default global deadline.
    public static let defaultDeadline: Duration = .seconds(3)
    /// The IG's editor timeout: no search waits longer.
    public static let maximumDeadline: Duration = .seconds(7)

    /// Practitioners for INT_R01/R04 (duplicates are ignored).
    public var practitioners: [IDNPS]
    /// SOS Médecins associations (SIRET IDNST; other kinds are ignored and listed in the summary).
    public var associations: [IDNST]
    /// CPTS mode: editors with INT_R04 get the R04 request (with the CPTS includes).
    public var cptsMode: Bool
    /// Slot start window.
    public var window: ClosedRange<Date>
    /// Global deadline, clamped to 0…7 s.
    public var deadline: Duration
    /// Known practitioner → editor ids links (from storage); a practitioner listed here is asked only there.
    public var knownEditors: [IDNPS: Set<String>]
    /// Benchmark only: the live platform's way, lots of 25 practitioners one after the other.
    public var sequentialBatches: Bool

    /// Creates a request.
    public init(practitioners: [IDNPS] = [], associations: [IDNST] = [], cptsMode: Bool = false,
                window: ClosedRange<Date>, deadline: Duration = AggregationRequest.defaultDeadline,
                knownEditors: [IDNPS: Set<String>] = [:], sequentialBatches: Bool = false) {
        self.practitioners = practitioners
        self.associations = associations
        self.cptsMode = cptsMode
        self.window = window
        self.deadline = min(max(deadline, .zero), Self.maximumDeadline)
        self.knownEditors = knownEditors
        self.sequentialBatches = sequentialBatches
    }
}

/// The consultation types and slot kinds a slot carries (what a search filters on besides the start).
public struct SlotProfile: Sendable, Hashable {
    public var consultationTypes: ConsultationTypes
    public var kinds: SlotKinds

    public init(consultationTypes: ConsultationTypes, kinds: SlotKinds) {
        self.consultationTypes = consultationTypes
        self.kinds = kinds
    }
}

/// One subject's slots as an editor answer and the cache hold them: sorted by start (ties keep the editor's order),
/// with the distinct type/kind profiles among them, so that a search takes its window with two binary searches and
/// keeps a whole run without looking at each slot when every profile passes its filters.
public struct SlotList: Sendable, Hashable {
    /// The slots, by start.
    public let slots: [AggregatedSlot]
    /// Distinct (consultation types, kinds) pairs of `slots`.
    public let profiles: [SlotProfile]

    /// Sorts `slots` by start (stable) and collects their profiles.
    public init(_ slots: [AggregatedSlot]) {
        var sorted = slots
        if !Self.isSorted(sorted) {
            sorted = sorted.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        }
        var profiles: [SlotProfile] = []
        for slot in sorted {
            let profile = SlotProfile(consultationTypes: slot.consultationTypes, kinds: slot.kinds)
            if !profiles.contains(profile) { profiles.append(profile) }
        }
        self.slots = sorted
        self.profiles = profiles
    }

    private static func isSorted(_ slots: [AggregatedSlot]) -> Bool {
        var previous = Date.distantPast
        for slot in slots {
            if slot.start < previous { return false }
            previous = slot.start
        }
        return true
    }

    /// No slot.
    public static let empty = SlotList([])

    /// The positions of the slots starting in `window` and not before `notBefore`.
    public func range(startingIn window: ClosedRange<Date>, notBefore: Date) -> Range<Int> {
        let lower = firstIndex { $0.start >= max(window.lowerBound, notBefore) }
        let upper = firstIndex { $0.start > window.upperBound }
        return lower..<max(lower, upper)
    }

    /// The first index whose slot satisfies `isPast` (a predicate false then true along the sorted slots).
    private func firstIndex(_ isPast: (AggregatedSlot) -> Bool) -> Int {
        var low = 0, high = slots.count
        while low < high {
            let middle = (low + high) / 2
            if isPast(slots[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// A run of one subject's slots in a batch: a range of a shared ``SlotList`` (no slot is copied).
public struct SlotSegment: Sendable, Hashable {
    /// The practitioner the slots belong to (nil for SOS associations' slots).
    public private(set) var practitioner: IDNPS?
    /// The subject's slots, by start.
    public private(set) var list: SlotList
    /// The positions in `list` that belong to the batch (always within `list`).
    public private(set) var range: Range<Int>

    public init(practitioner: IDNPS?, list: SlotList, range: Range<Int>) {
        self.practitioner = practitioner
        self.list = list
        self.range = range.clamped(to: 0..<list.slots.count)
    }

    /// The segment's slots.
    public var slots: ArraySlice<AggregatedSlot> { list.slots[range] }
    /// Number of slots.
    public var count: Int { range.count }
}

/// Slots from one request (or from the cache) for one editor and flow.
public struct SlotBatch: Sendable, Hashable {
    /// Editor id.
    public var editorID: String
    /// Flow of the slots.
    public var flow: SlotFlow
    /// Normalised slots, restricted to the practitioners/associations this search asked for, one segment per subject
    /// (each sorted by start).
    public var segments: [SlotSegment]
    /// Normaliser problems (bad entries, slots for subjects not asked for) in the editor's answer.
    public var problemCount: Int
    /// Time since the start of the search.
    public var elapsed: Duration
    /// The editor call's own duration (nil when served from the cache).
    public var latency: Duration?
    /// Served from the cache.
    public var fromCache: Bool

    /// Creates a batch from segments.
    public init(editorID: String, flow: SlotFlow, segments: [SlotSegment], problemCount: Int, elapsed: Duration,
                latency: Duration?, fromCache: Bool) {
        self.editorID = editorID
        self.flow = flow
        self.segments = segments.filter { $0.count > 0 }
        self.problemCount = problemCount
        self.elapsed = elapsed
        self.latency = latency
        self.fromCache = fromCache
    }

    /// Creates a batch from plain slots (grouped into one segment per practitioner, in order of first appearance).
    public init(editorID: String, flow: SlotFlow, slots: [AggregatedSlot], problemCount: Int, elapsed: Duration,
                latency: Duration?, fromCache: Bool) {
        var order: [IDNPS?] = []
        var groups: [IDNPS?: [AggregatedSlot]] = [:]
        for slot in slots {
            if groups[slot.practitioner] == nil { order.append(slot.practitioner) }
            groups[slot.practitioner, default: []].append(slot)
        }
        let segments = order.map { key in
            let list = SlotList(groups[key] ?? [])
            return SlotSegment(practitioner: key, list: list, range: 0..<list.slots.count)
        }
        self.init(editorID: editorID, flow: flow, segments: segments, problemCount: problemCount, elapsed: elapsed,
                  latency: latency, fromCache: fromCache)
    }

    /// All slots, segment after segment.
    public var slots: [AggregatedSlot] { segments.flatMap(\.slots) }
    /// Number of slots.
    public var slotCount: Int { segments.reduce(0) { $0 + $1.count } }
}

/// What a search stream delivers: batches as they arrive, then one status per editor, then the summary.
public enum AggregationEvent: Sendable {
    /// Slots from one request or from the cache.
    case batch(SlotBatch)
    /// An editor returned slots for practitioners whose editor was unknown: record these links.
    case learnedLinks(editorID: String, practitioners: Set<IDNPS>)
    /// Final status of one editor (after all its batches).
    case status(EditorStatusReport)
    /// Last event.
    case finished(AggregationSummary)
}

/// The end-of-search account.
public struct AggregationSummary: Sendable {
    /// One report per editor involved, in registry order.
    public var editors: [EditorStatusReport]
    /// Slots delivered.
    public var slotCount: Int
    /// Editor requests this search sent itself (retries included).
    public var requestsSent: Int
    /// In-flight requests of other searches this search joined (single-flight).
    public var requestsShared: Int
    /// (editor, practitioner/association) pairs answered from the cache.
    public var cacheHits: Int
    /// Pairs that needed a request.
    public var cacheMisses: Int
    /// Time from the call to `search` to the summary.
    public var elapsed: Duration
    /// Time to the first batch with slots, if any.
    public var firstBatchElapsed: Duration?
    /// The deadline ended the search (some editors are reported as timeouts).
    public var deadlineReached: Bool
    /// Editor id → practitioners that editor returned slots for although their editor was unknown.
    public var learnedLinks: [String: Set<IDNPS>]
    /// Associations ignored because they are not SIRET identifiers.
    public var ignoredAssociations: [IDNST]
    /// CPU time of the aggregator's own work for this search (planning, merging, normalising its requests).
    public var cpuTime: Duration

    /// Elapsed time in whole milliseconds.
    public var elapsedMilliseconds: Int { Int(elapsed / .milliseconds(1)) }

    /// Creates a summary (other slot providers than the aggregator, e.g. a replay of recorded answers).
    public init(editors: [EditorStatusReport], slotCount: Int, requestsSent: Int = 0, requestsShared: Int = 0,
                cacheHits: Int = 0, cacheMisses: Int = 0, elapsed: Duration, firstBatchElapsed: Duration? = nil,
                deadlineReached: Bool = false, learnedLinks: [String: Set<IDNPS>] = [:], ignoredAssociations: [IDNST] = [],
                cpuTime: Duration = .zero) {
        self.editors = editors
        self.slotCount = slotCount
        self.requestsSent = requestsSent
        self.requestsShared = requestsShared
        self.cacheHits = cacheHits
        self.cacheMisses = cacheMisses
        self.elapsed = elapsed
        self.firstBatchElapsed = firstBatchElapsed
        self.deadlineReached = deadlineReached
        self.learnedLinks = learnedLinks
        self.ignoredAssociations = ignoredAssociations
        self.cpuTime = cpuTime
    }
}

/// Everything a search produced, collected (see ``SlotAggregator/collect(_:)``).
public struct AggregationResult: Sendable {
    /// All batches, in arrival order.
    public var batches: [SlotBatch]
    /// The summary.
    public var summary: AggregationSummary

    /// All slots, in arrival order.
    public var slots: [AggregatedSlot] { batches.flatMap(\.slots) }

    /// The report of one editor.
    public func report(_ editorID: String) -> EditorStatusReport? { summary.editors.first { $0.editorID == editorID } }
}
