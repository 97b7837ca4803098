import Foundation
import SASDomain

/// What one request is about: a practitioner (INT_R01/R04) or an SOS association (SOS flow).
enum SearchSubject: Hashable, Sendable {
    case practitioner(IDNPS)
    case association(IDNST)
}

/// A search window rounded outwards to whole minutes: the cache and single-flight key, and the window actually
/// requested, so that every search falling in the same minutes is covered (each filters to its exact window).
struct WindowKey: Hashable, Sendable {
    let lowerMinute: Int64
    let upperMinute: Int64
    /// The lower bound is floored to this many minutes: searches started "now" share one key (and one vendor answer)
    /// for a quarter of an hour instead of a minute. The vendor is asked for the wider window; every search keeps only
    /// its own window and slots not started yet.
    static let lowerGranularityMinutes: Int64 = 15

    init(_ window: ClosedRange<Date>) {
        let minute = Int64((window.lowerBound.timeIntervalSince1970 / 60).rounded(.down))
        lowerMinute = minute - ((minute % Self.lowerGranularityMinutes) + Self.lowerGranularityMinutes) % Self.lowerGranularityMinutes
        upperMinute = Int64((window.upperBound.timeIntervalSince1970 / 60).rounded(.up))
    }

    /// Whether this window contains `other` (an answer for this window holds every slot `other` asks for).
    func covers(_ other: WindowKey) -> Bool { lowerMinute <= other.lowerMinute && upperMinute >= other.upperMinute }

    var window: ClosedRange<Date> {
        Date(timeIntervalSince1970: TimeInterval(lowerMinute * 60))...Date(timeIntervalSince1970: TimeInterval(upperMinute * 60))
    }
}

/// A successful editor answer, split per subject.
struct FetchSuccess: Sendable {
    /// Slots per asked subject, sorted by start (an asked subject without slots maps to an empty list).
    var slots: [SearchSubject: SlotList]
    /// Normaliser problems plus slots for subjects nobody asked for.
    var problemCount: Int
    /// Distinct bad entries.
    var badEntries: Int
    /// French label of the first problem.
    var firstProblem: String?
    /// Whether every slot could be attributed to an asked subject (otherwise the answer is not cached).
    var cacheable: Bool
    /// Duration of the editor call(s).
    var latency: Duration
    /// CPU spent normalising.
    var cpuTime: Duration
    /// HTTP attempts.
    var attempts: Int
}

/// The end of one editor request, shared by every search waiting on it.
enum FetchOutcome: Sendable {
    case success(FetchSuccess)
    case failure(EditorStatus, latency: Duration?, attempts: Int)
}

/// Why nobody waits on a fetch any more.
enum AbandonReason: Sendable, Equatable {
    /// Every waiting search reached its deadline: the editor was too slow.
    case deadline
    /// The searches were cancelled (client gone): says nothing about the editor.
    case cancelled
}

/// One in-flight editor request that concurrent searches share (single-flight). Searches register interest when
/// they plan; the last one to give up abandons it, which cancels the request.
final class SharedFetch: Sendable {
    let id: UInt64
    let editor: Editor
    let flow: SlotFlow
    let subjects: [SearchSubject]
    let windowKey: WindowKey
    /// Cache generations of the subjects when the request was planned (a later invalidation makes it uncacheable).
    let generations: [SearchSubject: UInt64]

    private struct State {
        var outcome: FetchOutcome?
        var waiters: [UInt64: CheckedContinuation<FetchOutcome?, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var interest = 0
        var deadlineLeaves = 0
        var latestDeadline: ContinuousClock.Instant
        var abandoned: AbandonReason?
        var task: Task<Void, Never>?
    }
    private let state: Locked<State>

    init(id: UInt64, editor: Editor, flow: SlotFlow, subjects: [SearchSubject], windowKey: WindowKey,
         generations: [SearchSubject: UInt64], deadline: ContinuousClock.Instant) {
        self.id = id
        self.editor = editor
        self.flow = flow
        self.subjects = subjects
        self.windowKey = windowKey
        self.generations = generations
        self.state = Locked(State(latestDeadline: deadline))
    }

    /// The latest deadline among the searches that joined: no attempt is worth running past it.
    var latestDeadline: ContinuousClock.Instant { state.withLock { $0.latestDeadline } }

    /// Why the fetch was abandoned, if it was.
    var abandonReason: AbandonReason? { state.withLock { $0.abandoned } }

    /// A search now waits on this fetch.
    func addInterest(deadline: ContinuousClock.Instant) {
        state.withLock { s in
            s.interest += 1
            s.latestDeadline = max(s.latestDeadline, deadline)
        }
    }

    /// Attaches the task performing the request (cancelled at once if the fetch was already abandoned).
    func setTask(_ task: Task<Void, Never>) {
        let cancelNow = state.withLock { s -> Bool in
            if s.abandoned != nil || s.outcome != nil { return s.abandoned != nil }
            s.task = task
            return false
        }
        if cancelNow { task.cancel() }
    }

    /// A search stops waiting. Returns the task to cancel when this abandons the fetch.
    func leave(cancelled: Bool) -> (abandoned: Bool, task: Task<Void, Never>?) {
        state.withLock { s in
            s.interest = max(0, s.interest - 1)
            if !cancelled { s.deadlineLeaves += 1 }
            guard s.interest == 0, s.outcome == nil, s.abandoned == nil else { return (false, nil) }
            // Cancelled only when no waiter gave up because of its deadline.
            s.abandoned = s.deadlineLeaves > 0 ? .deadline : .cancelled
            let task = s.task
            s.task = nil
            return (true, task)
        }
    }

    /// Sets the outcome (first one wins) and returns the waiters to resume outside any lock.
    func resolve(_ outcome: FetchOutcome) -> [CheckedContinuation<FetchOutcome?, Never>] {
        state.withLock { s in
            guard s.outcome == nil else { return [] }
            s.outcome = outcome
            s.task = nil
            let waiting = Array(s.waiters.values)
            s.waiters = [:]
            return waiting
        }
    }

    /// Waits for the outcome; nil when the waiting task is cancelled (e.g. by its deadline race).
    func value() async -> FetchOutcome? {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter &+= 1
            return s.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<FetchOutcome?, Never>) in
                let immediate: FetchOutcome?? = state.withLock { s in
                    if let outcome = s.outcome { return .some(outcome) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiters[id] = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiting = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiting?.resume(returning: nil)
        }
    }
}
