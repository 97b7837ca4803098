import Foundation
import SASDomain

/// The state of one search: per-editor accounts, event emission in order, and the single finish (normal or at the
/// deadline). Nothing is yielded after the finish, so late answers are dropped.
final class SearchRun: Sendable {
    private struct Account {
        let name: String
        let order: Int
        var flows: Set<SlotFlow> = []
        var pending = 0
        var slotCount = 0
        var requests = 0
        var failed = 0
        var firstFailure: EditorStatus?
        var cachedSubjects = 0
        var problems = 0
        var badEntries = 0
        var firstProblem: String?
        var lastElapsed: Duration = .zero
        var reported = false
    }

    private struct State {
        var finished = false
        var planningComplete = false
        var accounts: [String: Account] = [:]
        var slotCount = 0
        var sent = 0
        var shared = 0
        var hits = 0
        var misses = 0
        var firstBatch: Duration?
        var learned: [String: Set<IDNPS>] = [:]
        var cpu: Duration = .zero
        var ignored: [IDNST] = []
        var cutByDeadline = false
    }

    let start: ContinuousClock.Instant
    let deadline: ContinuousClock.Instant
    private let continuation: AsyncStream<AggregationEvent>.Continuation
    private let metrics: any AggregatorMetrics
    private let state = Locked(State())

    init(start: ContinuousClock.Instant, deadline: ContinuousClock.Instant,
         continuation: AsyncStream<AggregationEvent>.Continuation, metrics: any AggregatorMetrics) {
        self.start = start
        self.deadline = deadline
        self.continuation = continuation
        self.metrics = metrics
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// Declares an editor's share of a lot: units to wait for and the cache accounting.
    func expect(_ editor: Editor, flow: SlotFlow, units: Int, created: Int, joined: Int, hits: Int, misses: Int) {
        state.withLock { s in
            var account = s.accounts[editor.id] ?? Account(name: editor.name, order: s.accounts.count)
            account.flows.insert(flow)
            account.pending += units
            account.requests += units
            account.cachedSubjects += hits
            s.accounts[editor.id] = account
            s.sent += created
            s.shared += joined
            s.hits += hits
            s.misses += misses
        }
    }

    /// Slots served from the cache.
    func cached(_ editorID: String, flow: SlotFlow, segments: [SlotSegment], learned: Set<IDNPS>) {
        let count = segments.reduce(0) { $0 + $1.count }
        state.withLock { s in
            guard !s.finished, count > 0 else { return }
            s.accounts[editorID]?.slotCount += count
            emit(&s, SlotBatch(editorID: editorID, flow: flow, segments: segments, problemCount: 0, elapsed: elapsed(),
                               latency: nil, fromCache: true), learned: learned)
        }
    }

    /// Subjects that could not be asked because the editor's circuit is open.
    func refused(_ editorID: String) {
        state.withLock { s in
            guard !s.finished else { return }
            s.accounts[editorID]?.requests += 1
            s.accounts[editorID]?.failed += 1
            if s.accounts[editorID]?.firstFailure == nil { s.accounts[editorID]?.firstFailure = .circuitOpen }
        }
    }

    /// A request this search waited on answered usefully.
    func succeeded(_ editorID: String, flow: SlotFlow, segments: [SlotSegment], success: FetchSuccess, owned: Bool,
                   learned: Set<IDNPS>) {
        let count = segments.reduce(0) { $0 + $1.count }
        state.withLock { s in
            if owned {
                s.cpu += success.cpuTime
                s.sent += max(0, success.attempts - 1)
            }
            guard !s.finished, var account = s.accounts[editorID] else { return }
            account.pending -= 1
            account.slotCount += count
            account.problems += success.problemCount
            account.badEntries += success.badEntries
            account.firstProblem = account.firstProblem ?? success.firstProblem
            account.lastElapsed = elapsed()
            s.accounts[editorID] = account
            emit(&s, SlotBatch(editorID: editorID, flow: flow, segments: segments, problemCount: success.problemCount,
                               elapsed: account.lastElapsed, latency: success.latency, fromCache: false), learned: learned)
            reportIfDone(&s, editorID)
        }
    }

    /// A request this search waited on failed (or the search stopped waiting at its deadline).
    func failed(_ editorID: String, status: EditorStatus, owned: Bool, attempts: Int, byDeadline: Bool = false) {
        state.withLock { s in
            if owned { s.sent += max(0, attempts - 1) }
            if byDeadline { s.cutByDeadline = true }
            guard !s.finished, var account = s.accounts[editorID] else { return }
            account.pending -= 1
            account.failed += 1
            account.firstFailure = account.firstFailure ?? status
            account.lastElapsed = elapsed()
            s.accounts[editorID] = account
            reportIfDone(&s, editorID)
        }
    }

    func addCPU(_ duration: Duration) { state.withLock { $0.cpu += duration } }

    func ignore(_ associations: [IDNST]) { state.withLock { $0.ignored = associations } }

    /// All lots are planned: editors with nothing pending can be reported.
    func planningDone() {
        state.withLock { s in
            s.planningComplete = true
            for id in s.accounts.keys.sorted(by: { s.accounts[$0]!.order < s.accounts[$1]!.order }) { reportIfDone(&s, id) }
        }
    }

    /// Ends the stream once: pending editors are reported as timeouts, then the summary.
    func finish(deadlineReached: Bool) {
        let summary: AggregationSummary? = state.withLock { s in
            guard !s.finished else { return nil }
            if deadlineReached { s.cutByDeadline = true }
            s.planningComplete = true
            let ids = s.accounts.keys.sorted { s.accounts[$0]!.order < s.accounts[$1]!.order }
            for id in ids where s.accounts[id]!.pending > 0 {
                s.cutByDeadline = true
                s.accounts[id]!.failed += s.accounts[id]!.pending
                s.accounts[id]!.pending = 0
                s.accounts[id]!.firstFailure = s.accounts[id]!.firstFailure ?? .timeout
                s.accounts[id]!.lastElapsed = elapsed()
            }
            for id in ids { reportIfDone(&s, id) }
            let summary = AggregationSummary(
                editors: ids.map { report(s.accounts[$0]!, id: $0) }, slotCount: s.slotCount, requestsSent: s.sent,
                requestsShared: s.shared, cacheHits: s.hits, cacheMisses: s.misses, elapsed: elapsed(),
                firstBatchElapsed: s.firstBatch, deadlineReached: s.cutByDeadline, learnedLinks: s.learned,
                ignoredAssociations: s.ignored, cpuTime: s.cpu)
            s.finished = true
            continuation.yield(.finished(summary))
            continuation.finish()
            return summary
        }
        if let summary {
            metrics.searchCompleted(elapsed: summary.elapsed, deadlineReached: summary.deadlineReached, slotCount: summary.slotCount,
                                    cpuTime: summary.cpuTime)
        }
    }

    private func elapsed() -> Duration { ContinuousClock.now - start }

    private func emit(_ s: inout State, _ batch: SlotBatch, learned: Set<IDNPS>) {
        let count = batch.slotCount
        s.slotCount += count
        if s.firstBatch == nil, count > 0 { s.firstBatch = batch.elapsed }
        continuation.yield(.batch(batch))
        let new = learned.subtracting(s.learned[batch.editorID] ?? [])
        guard !new.isEmpty else { return }
        s.learned[batch.editorID, default: []].formUnion(new)
        continuation.yield(.learnedLinks(editorID: batch.editorID, practitioners: new))
    }

    private func reportIfDone(_ s: inout State, _ editorID: String) {
        guard s.planningComplete, let account = s.accounts[editorID], !account.reported, account.pending == 0 else { return }
        s.accounts[editorID]!.reported = true
        continuation.yield(.status(report(account, id: editorID)))
    }

    private func report(_ account: Account, id: String) -> EditorStatusReport {
        let status: EditorStatus
        if let failure = account.firstFailure {
            status = failure
        } else if account.slotCount > 0 {
            status = .ok(slotCount: account.slotCount)
        } else if account.badEntries > 0 {
            status = .invalidBundle(badEntries: account.badEntries, reason: account.firstProblem ?? "entrées illisibles")
        } else {
            status = .empty
        }
        return EditorStatusReport(editorID: id, editorName: account.name, status: status, flows: account.flows,
                                  slotCount: account.slotCount, requestCount: account.requests,
                                  failedRequestCount: account.failed, cachedSubjects: account.cachedSubjects,
                                  problemCount: account.problems, elapsed: account.lastElapsed)
    }
}
