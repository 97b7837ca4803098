import FHIR
import Foundation
import SASDomain

/// Fans a slot search out to the editors (INT_R01/R04 by 1–25 practitioners, SOS by 1–10 SIRET), all requests in
/// parallel under one global deadline, and streams normalised slots and per-editor statuses as they arrive.
///
/// Transport-independent: the platform supplies an ``EditorTransport`` (mTLS HTTP client), the editor registry, the
/// known practitioner → editor links per search, and an ``AggregatorMetrics`` sink.
public final class SlotAggregator: Sendable {
    private let configuration: AggregatorConfiguration
    private let registry: Locked<[Editor]>
    private let cache: SlotCache
    private let breakers: CircuitBreakers
    private let healthTracker: HealthTracker
    private let executor: FetchExecutor
    private let metrics: any AggregatorMetrics

    /// One editor's share of a lot that a search waits on.
    private struct Unit: Sendable {
        let editor: Editor
        let flow: SlotFlow
        let fetch: SharedFetch
        let subjects: [SearchSubject]
        let unknown: Set<IDNPS>
        let owned: Bool
    }

    /// Creates an aggregator over a registry snapshot (see ``updateEditors(_:)``).
    public init(editors: [Editor], transport: any EditorTransport, configuration: AggregatorConfiguration = AggregatorConfiguration(),
                metrics: any AggregatorMetrics = NoopAggregatorMetrics(), clock: any AggregatorClock = SystemAggregatorClock()) {
        self.configuration = configuration
        self.registry = Locked(editors)
        self.metrics = metrics
        self.cache = SlotCache(ttl: configuration.cacheTTL, jitter: configuration.cacheJitter,
                               maxEntries: configuration.cacheMaxEntries,
                               staleWhileRevalidate: configuration.cacheStaleWhileRevalidate, clock: clock)
        self.breakers = CircuitBreakers(threshold: configuration.circuitFailureThreshold, cooldown: configuration.circuitCooldown,
                                        clock: clock) { id, state in metrics.circuitStateChanged(editorID: id, to: state) }
        self.healthTracker = HealthTracker(capacity: configuration.healthSampleCount)
        self.executor = FetchExecutor(transport: transport, configuration: configuration, limiter: EditorLimiter(),
                                      breakers: breakers, health: healthTracker, metrics: metrics)
    }

    /// The registry snapshot in use.
    public var editors: [Editor] { registry.withLock { $0 } }

    /// Replaces the registry snapshot (after an admin change); searches already running keep their snapshot.
    public func updateEditors(_ editors: [Editor]) { registry.withLock { $0 = editors } }

    /// Starts a search. Events: `.batch` and `.learnedLinks` as requests finish, one `.status` per editor, then
    /// `.finished`; the stream ends at the deadline at the latest. Stopping iteration cancels the search.
    public func search(_ request: AggregationRequest) -> AsyncStream<AggregationEvent> {
        let (stream, continuation) = AsyncStream<AggregationEvent>.makeStream(bufferingPolicy: .unbounded)
        let start = ContinuousClock.now
        let run = SearchRun(start: start, deadline: start + request.deadline, continuation: continuation, metrics: metrics)
        let editors = self.editors
        let work = Task { await self.execute(request, editors: editors, run: run) }
        let timer = Task {
            do {
                try await Task.sleep(until: run.deadline, clock: .continuous)
                run.finish(deadlineReached: true)
            } catch {}
        }
        continuation.onTermination = { _ in
            work.cancel()
            timer.cancel()
        }
        return stream
    }

    /// Runs a search to its end and collects everything.
    public func collect(_ request: AggregationRequest) async -> AggregationResult {
        var batches: [SlotBatch] = []
        var reports: [EditorStatusReport] = []
        for await event in search(request) {
            switch event {
            case .batch(let batch): batches.append(batch)
            case .status(let report): reports.append(report)
            case .learnedLinks: break
            case .finished(let summary): return AggregationResult(batches: batches, summary: summary)
            }
        }
        let summary = AggregationSummary(editors: reports, slotCount: batches.reduce(0) { $0 + $1.slotCount },
                                         requestsSent: 0, requestsShared: 0,
                                         cacheHits: 0, cacheMisses: 0, elapsed: .zero, firstBatchElapsed: nil,
                                         deadlineReached: false, learnedLinks: [:], ignoredAssociations: [], cpuTime: .zero)
        return AggregationResult(batches: batches, summary: summary)
    }

    /// Drops cached and in-flight answers about a practitioner (a slot was booked through the platform).
    public func invalidate(practitioner: IDNPS) { cache.invalidate(.practitioner(practitioner)) }

    /// Drops cached and in-flight answers about an SOS association.
    public func invalidate(association: IDNST) { cache.invalidate(.association(association)) }

    /// Empties the cache.
    public func invalidateAll() { cache.invalidateAll() }

    /// Circuit state of an editor.
    public func circuitState(editorID: String) -> CircuitState { breakers.state(editorID) }

    /// Health snapshot of one editor.
    public func health(editorID: String) -> EditorHealth {
        healthTracker.snapshot(editorID, circuit: breakers.state(editorID),
                               consecutiveFailures: breakers.consecutiveFailures(editorID))
    }

    /// Health snapshots of the registered editors, in registry order.
    public func health() -> [EditorHealth] { editors.map { health(editorID: $0.id) } }

    /// Cache entries held (for the admin console and tests).
    public var cacheEntryCount: Int { cache.entryCount }
    /// Editor requests in flight (searches' and background renewals).
    public var inFlightCount: Int { cache.inFlightCount }

    // MARK: - Execution

    private func execute(_ request: AggregationRequest, editors: [Editor], run: SearchRun) async {
        let lots = RequestPlanner.lots(request, lotSize: configuration.sequentialLotSize,
                                       associationLotSize: configuration.associationsPerRequest)
        run.ignore(RequestPlanner.unique(request.associations).filter { $0.kind != .siret })
        if lots.isEmpty { run.planningDone() }
        for (index, lot) in lots.enumerated() {
            if Task.isCancelled || run.isFinished { break }
            var cpu = Duration.zero
            let units = ThreadCPU.measure(&cpu) { plan(lot, request: request, editors: editors, run: run) }
            run.addCPU(cpu)
            if index == lots.count - 1 { run.planningDone() }
            await withTaskGroup(of: Void.self) { group in
                for unit in units { group.addTask { await self.wait(for: unit, request: request, run: run) } }
            }
        }
        run.finish(deadlineReached: false)
    }

    /// Routes a lot, consults the cache and the in-flight map, starts the new requests.
    private func plan(_ lot: (practitioners: [IDNPS], associations: [IDNST]), request: AggregationRequest,
                      editors: [Editor], run: SearchRun) -> [Unit] {
        let window = WindowKey(request.window)
        let now = Date()
        var units: [Unit] = []
        let groups = RequestPlanner.route(practitioners: lot.practitioners, associations: lot.associations,
                                          cptsMode: request.cptsMode, editors: editors, known: request.knownEditors)
        for group in groups {
            let batchSize = group.flow == .sos
                ? min(max(1, configuration.associationsPerRequest), SearchURLBuilder.maxAssociations)
                : min(max(1, configuration.practitionersPerRequest), SearchURLBuilder.maxPractitioners)
            let plan = cache.plan(editor: group.editor, flow: group.flow, subjects: group.subjects, window: window,
                                  batchSize: batchSize, deadline: run.deadline, mayRequest: !breakers.isRejecting(group.editor.id))
            for fetch in plan.created + plan.refreshing {
                let executor = self.executor, cache = self.cache
                fetch.setTask(Task { cache.complete(fetch, await executor.execute(fetch)) })
            }
            let joinedCount = plan.joined.reduce(0) { $0 + $1.subjects.count }
            let createdCount = plan.created.reduce(0) { $0 + $1.subjects.count }
            metrics.cacheLookups(editorID: group.editor.id, hits: plan.cached.count,
                                 misses: createdCount + joinedCount + plan.refused.count, shared: joinedCount)
            run.expect(group.editor, flow: group.flow, units: plan.created.count + plan.joined.count,
                       created: plan.created.count, joined: plan.joined.count, hits: plan.cached.count,
                       misses: createdCount + joinedCount + plan.refused.count)
            if !plan.cached.isEmpty {
                let (segments, learned) = Self.gather(group.subjects, from: plan.cached, unknown: group.unknown,
                                                      window: request.window, now: now)
                run.cached(group.editor.id, flow: group.flow, segments: segments, learned: learned)
            }
            if !plan.refused.isEmpty { run.refused(group.editor.id) }
            units += plan.created.map {
                Unit(editor: group.editor, flow: group.flow, fetch: $0, subjects: $0.subjects, unknown: group.unknown, owned: true)
            }
            units += plan.joined.map {
                Unit(editor: group.editor, flow: group.flow, fetch: $0.fetch, subjects: $0.subjects, unknown: group.unknown,
                     owned: false)
            }
        }
        return units
    }

    /// Waits for one (possibly shared) request until the search deadline, then reports it to the run.
    private func wait(for unit: Unit, request: AggregationRequest, run: SearchRun) async {
        let fetch = unit.fetch
        let raced = await DeadlineRace.run(until: run.deadline) { await fetch.value() }
        let outcome: FetchOutcome
        switch raced {
        case .value(let value?):
            cache.leave(fetch, cancelled: false)
            outcome = value
        case .timedOut:
            cache.leave(fetch, cancelled: false)
            run.failed(unit.editor.id, status: .timeout, owned: unit.owned, attempts: 0, byDeadline: true)
            return
        case .value(nil), .cancelled, .failure:
            // The search ended (deadline or consumer gone): only the deadline says something about the editor.
            cache.leave(fetch, cancelled: ContinuousClock.now < run.deadline)
            return
        }
        switch outcome {
        case .success(let success):
            var cpu = Duration.zero
            let (segments, learned) = ThreadCPU.measure(&cpu) {
                Self.gather(unit.subjects, from: success.slots, unknown: unit.unknown, window: request.window, now: Date())
            }
            run.addCPU(cpu)
            run.succeeded(unit.editor.id, flow: unit.flow, segments: segments, success: success, owned: unit.owned,
                          learned: learned)
        case .failure(let status, _, let attempts):
            // A shared request bounded by this very deadline fails at the same instant as our own wait would.
            let byDeadline = status == .timeout && ContinuousClock.now >= run.deadline
            run.failed(unit.editor.id, status: status, owned: unit.owned, attempts: attempts, byDeadline: byDeadline)
        }
    }

    /// The slots of `subjects` in the exact search window and not started yet (cached or shared answers cover a
    /// rounded window), as ranges of the answers' sorted lists (nothing copied); and the unknown practitioners among
    /// them that have slots (learned links).
    private static func gather(_ subjects: [SearchSubject], from slotsBySubject: [SearchSubject: SlotList],
                               unknown: Set<IDNPS>, window: ClosedRange<Date>, now: Date) -> ([SlotSegment], Set<IDNPS>) {
        var segments: [SlotSegment] = []
        segments.reserveCapacity(subjects.count)
        var learned: Set<IDNPS> = []
        for subject in subjects {
            guard let list = slotsBySubject[subject], !list.slots.isEmpty else { continue }
            let range = list.range(startingIn: window, notBefore: now)
            guard !range.isEmpty else { continue }
            let practitioner: IDNPS?
            if case .practitioner(let p) = subject { practitioner = p } else { practitioner = nil }
            segments.append(SlotSegment(practitioner: practitioner, list: list, range: range))
            if let practitioner, unknown.contains(practitioner) { learned.insert(practitioner) }
        }
        return (segments, learned)
    }
}
