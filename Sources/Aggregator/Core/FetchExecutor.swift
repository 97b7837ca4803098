import FHIR
import Foundation
import SASDomain

/// Performs one shared editor request: concurrency cap, circuit breaker, transport with the time left, retries for
/// idempotent failures only, classification of the answer and normalisation of the Bundle.
struct FetchExecutor: Sendable {
    let transport: any EditorTransport
    let configuration: AggregatorConfiguration
    let limiter: EditorLimiter
    let breakers: CircuitBreakers
    let health: HealthTracker
    let metrics: any AggregatorMetrics

    /// One attempt's verdict.
    private enum Verdict {
        case answered(TransportResponse)
        case failed(EditorStatus, retryAfter: Duration?)
        case abandoned
    }

    /// The editor's own timeout (override or default), never above the IG's 7 s.
    func editorTimeout(_ editor: Editor) -> Duration {
        let own = editor.timeoutMilliseconds.map { Duration.milliseconds($0) } ?? configuration.defaultEditorTimeout
        return min(own, AggregationRequest.maximumDeadline)
    }

    func execute(_ fetch: SharedFetch) async -> FetchOutcome {
        let editor = fetch.editor
        let url: URL
        switch buildURL(fetch) {
        case .url(let built): url = built
        case .invalid(let status): return .failure(status, latency: nil, attempts: 0)
        }
        let start = ContinuousClock.now
        let editorLimit = start + editorTimeout(editor)
        guard await limiter.acquire(editor.id, limit: configuration.maxConcurrentRequestsPerEditor) else {
            return .failure(.timeout, latency: nil, attempts: 0) // abandoned while queued: the editor was not asked
        }
        defer { limiter.release(editor.id) }
        let permission = breakers.acquire(editor.id)
        guard permission != .rejected else { return .failure(.circuitOpen, latency: nil, attempts: 0) }

        var attempts = 0
        var lastFailure: EditorStatus?
        while true {
            let attemptStart = ContinuousClock.now
            let limit = min(editorLimit, fetch.latestDeadline)
            guard attemptStart < limit else {
                // Out of time before (re)sending: the last attempt's failure stands; never sent says nothing.
                if let lastFailure {
                    finish(editor, fetch.flow, permission, lastFailure, latency: .zero, countsAsAttempt: false)
                    return .failure(lastFailure, latency: attemptStart - start, attempts: attempts)
                }
                breakers.release(editor.id, permission: permission)
                return .failure(.timeout, latency: attemptStart - start, attempts: attempts)
            }
            attempts += 1
            let maxBytes = configuration.maxResponseBytes
            let raced = await DeadlineRace.run(until: limit) { [transport] in
                try await transport.get(url, editor: editor, timeout: limit - attemptStart, maxBytes: maxBytes)
            }
            let latency = ContinuousClock.now - attemptStart
            switch verdict(raced) {
            case .abandoned:
                if fetch.abandonReason == .cancelled {
                    breakers.release(editor.id, permission: permission)
                } else {
                    finish(editor, fetch.flow, permission, .timeout, latency: latency)
                }
                return .failure(.timeout, latency: ContinuousClock.now - start, attempts: attempts)
            case .failed(let status, let retryAfter):
                let typical = health.typicalLatency(editor.id) ?? configuration.assumedEditorLatency
                if let delay = retryAfter, attempts <= configuration.maxRetries,
                   ContinuousClock.now + delay + typical < min(editorLimit, fetch.latestDeadline) {
                    record(editor, fetch.flow, status.kind, latency: latency, answered: status.kind == .httpError)
                    lastFailure = status
                    do { try await Task.sleep(for: delay) } catch {
                        if fetch.abandonReason == .cancelled {
                            breakers.release(editor.id, permission: permission)
                        } else {
                            breakers.record(editor.id, permission: permission, success: false)
                        }
                        return .failure(status, latency: ContinuousClock.now - start, attempts: attempts)
                    }
                    continue
                }
                finish(editor, fetch.flow, permission, status, latency: latency)
                return .failure(status, latency: ContinuousClock.now - start, attempts: attempts)
            case .answered(let response):
                let outcome = decode(response, fetch: fetch, latency: ContinuousClock.now - start, attempts: attempts)
                switch outcome {
                case .success(let success):
                    let status: EditorStatus = success.slots.values.contains { !$0.slots.isEmpty }
                        ? .ok(slotCount: success.slots.values.reduce(0) { $0 + $1.slots.count }) : .empty
                    finish(editor, fetch.flow, permission, status, latency: latency)
                case .failure(let status, _, _):
                    finish(editor, fetch.flow, permission, status, latency: latency)
                }
                return outcome
            }
        }
    }

    private enum BuiltURL {
        case url(URL)
        case invalid(EditorStatus)
    }

    private func buildURL(_ fetch: SharedFetch) -> BuiltURL {
        guard let base = URL(string: fetch.editor.normalisedBaseURL) else {
            return .invalid(.invalidRequest("URL de base « \(fetch.editor.baseURL) » invalide"))
        }
        let window = fetch.windowKey.window
        do throws(SearchQueryError) {
            switch fetch.flow {
            case .individual, .cpts:
                let ids = fetch.subjects.compactMap { if case .practitioner(let p) = $0 { return p } else { return nil } }
                return .url(fetch.flow == .cpts
                    ? try SearchURLBuilder.cptsSlots(base: base, practitioners: ids, window: window)
                    : try SearchURLBuilder.individualSlots(base: base, practitioners: ids, window: window))
            case .sos:
                let ids = fetch.subjects.compactMap { if case .association(let a) = $0 { return a } else { return nil } }
                return .url(try SearchURLBuilder.sosSchedules(base: base, associations: ids, window: window))
            }
        } catch {
            return .invalid(.invalidRequest(error.message))
        }
    }

    private func verdict(_ raced: RaceOutcome<TransportResponse>) -> Verdict {
        switch raced {
        case .timedOut: return .failed(.timeout, retryAfter: nil)
        case .cancelled: return .abandoned
        case .value(let response):
            if response.body.count > configuration.maxResponseBytes {
                return .failed(.responseTooLarge(limit: configuration.maxResponseBytes), retryAfter: nil)
            }
            if (200..<300).contains(response.status) { return .answered(response) }
            let status = EditorStatus.httpError(status: response.status, message: Self.outcomeText(response.body))
            return .failed(status, retryAfter: response.status == 503 ? response.retryAfter : nil)
        case .failure(let error):
            if error is CancellationError { return .abandoned }
            guard let error = error as? TransportError else { return .failed(.connectionFailed(String(describing: error)), retryAfter: nil) }
            switch error {
            case .connectionRefused, .connectionReset:
                return .failed(.connectionFailed(error.description), retryAfter: configuration.connectionRetryDelay)
            case .tlsFailure(let detail): return .failed(.tlsError(detail), retryAfter: nil)
            case .timeout: return .failed(.timeout, retryAfter: nil)
            case .responseTooLarge: return .failed(.responseTooLarge(limit: configuration.maxResponseBytes), retryAfter: nil)
            case .other(let detail): return .failed(.connectionFailed(detail), retryAfter: nil)
            }
        }
    }

    /// Normalises a 2xx body and splits the slots per asked subject.
    private func decode(_ response: TransportResponse, fetch: SharedFetch, latency: Duration, attempts: Int) -> FetchOutcome {
        var cpu = Duration.zero
        let normalised: Result<NormalisationResult, FHIRDecodingError> = ThreadCPU.measure(&cpu) {
            do throws(FHIRDecodingError) {
                return .success(try BundleNormaliser.normalise(data: response.body, flow: fetch.flow,
                                                               window: fetch.windowKey.window, now: Date()))
            } catch {
                return .failure(error)
            }
        }
        switch normalised {
        case .failure(let error):
            var reason = error.message
            if case .unexpectedResourceType(_, _, let outcome?) = error, let text = Self.outcomeText(outcome) {
                reason += " (\(text))"
            }
            return .failure(.invalidBundle(badEntries: nil, reason: reason), latency: latency, attempts: attempts)
        case .success(let result):
            var splitCPU = Duration.zero
            var success = ThreadCPU.measure(&splitCPU) { split(result, fetch: fetch, latency: latency, attempts: attempts) }
            success.cpuTime = cpu + splitCPU
            return .success(success)
        }
    }

    private func split(_ result: NormalisationResult, fetch: SharedFetch, latency: Duration, attempts: Int) -> FetchSuccess {
        var slots: [SearchSubject: [AggregatedSlot]] = [:]
        for subject in fetch.subjects { slots[subject] = [] }
        var unattributed = 0
        for slot in result.slots {
            let subject: SearchSubject?
            if fetch.flow == .sos {
                if let siret = slot.structures(.sosAssociation).first?.idnst {
                    subject = .association(siret)
                } else {
                    subject = fetch.subjects.count == 1 ? fetch.subjects[0] : nil
                }
            } else {
                subject = slot.practitioner.map(SearchSubject.practitioner)
            }
            if let subject, slots[subject] != nil { slots[subject]?.append(slot) } else { unattributed += 1 }
        }
        let badEntries = Set(result.problems.compactMap(\.entryIndex)).count
        return FetchSuccess(slots: slots.mapValues(SlotList.init), problemCount: result.problems.count + unattributed, badEntries: badEntries,
                            firstProblem: result.problems.first?.reason.label, cacheable: unattributed == 0,
                            latency: latency, cpuTime: .zero, attempts: attempts)
    }

    /// Final attempt: feeds the breaker, the health snapshot and the metrics.
    private func finish(_ editor: Editor, _ flow: SlotFlow, _ permission: CircuitBreakers.Permission, _ status: EditorStatus,
                        latency: Duration, countsAsAttempt: Bool = true) {
        breakers.record(editor.id, permission: permission, success: status.isSuccess)
        guard countsAsAttempt else { return }
        let answered: Bool
        switch status {
        case .timeout, .connectionFailed, .tlsError, .circuitOpen, .invalidRequest: answered = false
        default: answered = true
        }
        record(editor, flow, status.kind, latency: latency, answered: answered)
    }

    private func record(_ editor: Editor, _ flow: SlotFlow, _ kind: EditorStatus.Kind, latency: Duration, answered: Bool) {
        health.record(editor.id, outcome: kind, latency: latency)
        metrics.requestCompleted(editorID: editor.id, flow: flow, outcome: kind, latency: latency,
                                 sla: answered ? SLABucket(latency: latency) : nil)
    }

    /// The French or English text of an OperationOutcome body, if the body is one.
    static func outcomeText(_ body: Data) -> String? {
        guard !body.isEmpty, let outcome = try? FHIRJSON.decode(OperationOutcome.self, from: body) else { return nil }
        return outcomeText(outcome)
    }

    static func outcomeText(_ outcome: OperationOutcome) -> String? {
        let texts = outcome.issue.compactMap { issue -> String? in
            let text = issue.details?.text ?? issue.diagnostics
            return text?.isEmpty == false ? text : nil
        }
        guard !texts.isEmpty else { return nil }
        let joined = texts.joined(separator: " ; ")
        return joined.count > 500 ? String(joined.prefix(500)) + "…" : joined
    }
}
