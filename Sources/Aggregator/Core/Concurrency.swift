import Foundation

/// A value guarded by a lock (Foundation only; `Synchronization.Mutex` needs macOS 15).
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// How a raced operation ended.
enum RaceOutcome<T: Sendable>: Sendable {
    case value(T)
    case failure(any Error)
    case timedOut
    case cancelled
}

/// Runs an operation against a deadline without ever waiting for it past the deadline: the operation runs in its own
/// task, which is cancelled (not awaited) when the deadline passes or the caller is cancelled. This is what keeps a
/// hung editor (or a transport that ignores cancellation) from blocking a search.
enum DeadlineRace {
    static func run<T: Sendable>(until deadline: ContinuousClock.Instant,
                                 _ operation: @escaping @Sendable () async throws -> T) async -> RaceOutcome<T> {
        if Task.isCancelled { return .cancelled }
        if ContinuousClock.now >= deadline { return .timedOut }
        let gate = RaceGate<T>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RaceOutcome<T>, Never>) in
                gate.install(continuation)
                let work = Task {
                    do { gate.resolve(.value(try await operation())) } catch { gate.resolve(.failure(error)) }
                }
                let timer = Task {
                    do {
                        try await Task.sleep(until: deadline, clock: .continuous)
                        gate.resolve(.timedOut)
                    } catch {}
                }
                gate.attach([work, timer])
            }
        } onCancel: {
            gate.resolve(.cancelled)
        }
    }
}

/// First-resolution-wins hand-off between the operation, the timer and cancellation.
private final class RaceGate<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<RaceOutcome<T>, Never>?
    private var outcome: RaceOutcome<T>?
    private var tasks: [Task<Void, Never>] = []

    func install(_ continuation: CheckedContinuation<RaceOutcome<T>, Never>) {
        lock.lock()
        if let outcome {
            lock.unlock()
            continuation.resume(returning: outcome)
        } else {
            self.continuation = continuation
            lock.unlock()
        }
    }

    func attach(_ newTasks: [Task<Void, Never>]) {
        lock.lock()
        if outcome != nil {
            lock.unlock()
            newTasks.forEach { $0.cancel() }
        } else {
            tasks = newTasks
            lock.unlock()
        }
    }

    func resolve(_ result: RaceOutcome<T>) {
        lock.lock()
        guard outcome == nil else { lock.unlock(); return }
        outcome = result
        let waiting = continuation
        continuation = nil
        let running = tasks
        tasks = []
        lock.unlock()
        waiting?.resume(returning: result)
        running.forEach { $0.cancel() }
    }
}

/// FIFO cap on concurrent requests per editor; waiting is cancellable (a search whose deadline passes leaves the queue).
final class EditorLimiter: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }
    private struct Queue {
        var active = 0
        var waiters: [Waiter] = []
    }
    private struct State {
        var queues: [String: Queue] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Locked(State())

    /// Waits for a slot; false when the task was cancelled first (then no slot is held).
    func acquire(_ editorID: String, limit: Int) async -> Bool {
        let id: UInt64? = state.withLock { s in
            if s.queues[editorID, default: Queue()].active < max(1, limit) {
                s.queues[editorID, default: Queue()].active += 1
                return nil
            }
            s.nextID &+= 1
            return s.nextID
        }
        guard let id else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLock { s in
                    if Task.isCancelled { return false }
                    // A slot may have been released between the two critical sections.
                    if s.queues[editorID, default: Queue()].active < max(1, limit) {
                        s.queues[editorID, default: Queue()].active += 1
                        return true
                    }
                    s.queues[editorID, default: Queue()].waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let removed: Waiter? = state.withLock { s in
                guard let index = s.queues[editorID]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.queues[editorID]?.waiters.remove(at: index)
            }
            removed?.continuation.resume(returning: false)
        }
    }

    /// Gives a slot back (handing it to the next waiter, if any).
    func release(_ editorID: String) {
        let next: Waiter? = state.withLock { s in
            guard var queue = s.queues[editorID] else { return nil }
            defer { s.queues[editorID] = queue.active == 0 && queue.waiters.isEmpty ? nil : queue }
            if !queue.waiters.isEmpty { return queue.waiters.removeFirst() }
            queue.active = max(0, queue.active - 1)
            return nil
        }
        next?.continuation.resume(returning: true)
    }

    /// Requests in flight for an editor (for tests and the admin console).
    func active(_ editorID: String) -> Int { state.withLock { $0.queues[editorID]?.active ?? 0 } }
}

/// CPU time of the calling thread (cheap enough to bracket the synchronous parts of a search).
enum ThreadCPU {
    static func now() -> Duration {
        var spec = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return .zero }
        return .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec))
    }

    /// Runs `body` and adds its CPU time to `total`.
    static func measure<R>(_ total: inout Duration, _ body: () throws -> R) rethrows -> R {
        let start = now()
        defer { total += now() - start }
        return try body()
    }
}
