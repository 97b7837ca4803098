import Foundation
import SASDomain

/// The short slot cache and the single-flight map, under one lock so that "is it cached, is it in flight, else
/// register a new request" is atomic.
///
/// Both work per (editor, flow, practitioner or association): a request for 25 practitioners stores 25 entries and
/// registers itself 25 times in the in-flight map, so a later search overlapping only partly (cached, in flight, or
/// new practitioners) reuses exactly what exists and asks only for the rest. Windows are rounded (start floored to the
/// quarter hour, end up to the minute); an entry serves any search whose rounded window it **covers** — a search
/// started at 10:31 is served by the answer fetched at 10:29 for "10:15 → end of D+2", a search of D+1 alone by
/// the answer for D+0 → D+2 — so the quarter-hour boundary does not make every answer unusable at once. In-flight
/// requests are shared for the same rounded window.
final class SlotCache: Sendable {
    struct Key: Hashable, Sendable {
        let editorID: String
        let flow: SlotFlow
        let subject: SearchSubject
        let window: WindowKey
    }

    /// Entries are filed per (editor, flow, subject), whatever their window.
    private struct EntryKey: Hashable, Sendable {
        let editorID: String
        let flow: SlotFlow
        let subject: SearchSubject
    }

    private struct Entry {
        let window: WindowKey
        let slots: SlotList
        let storedAt: ContinuousClock.Instant
        /// This entry's lifetime (the TTL shortened by up to `jitter`).
        let lifetime: Duration
    }

    /// The outcome of planning one editor's share of a search.
    struct Plan: Sendable {
        /// Subjects answered from the cache, with their slots.
        var cached: [SearchSubject: SlotList] = [:]
        /// In-flight requests of other searches that cover some subjects.
        var joined: [(fetch: SharedFetch, subjects: [SearchSubject])] = []
        /// New requests to start (already registered as in flight).
        var created: [SharedFetch] = []
        /// Subjects neither cached nor in flight that may not be requested (circuit open).
        var refused: [SearchSubject] = []
        /// Background requests renewing answers served stale (already registered as in flight; no search waits on
        /// them).
        var refreshing: [SharedFetch] = []
    }

    private struct State {
        var entries: [EntryKey: [Entry]] = [:]
        var entryCount = 0
        var keysBySubject: [SearchSubject: Set<EntryKey>] = [:]
        var inFlight: [Key: SharedFetch] = [:]
        var generations: [SearchSubject: UInt64] = [:]
        var nextFetchID: UInt64 = 0
    }

    private let ttl: Duration
    private let jitter: Double
    private let maxEntries: Int
    /// Windows kept per (editor, flow, subject): the newest ones (an answer also replaces those its window covers).
    static let windowsPerSubject = 4
    private let staleWhileRevalidate: Duration
    private let clock: any AggregatorClock
    private let state = Locked(State())

    init(ttl: Duration, jitter: Double = 0, maxEntries: Int, staleWhileRevalidate: Duration = .zero, clock: any AggregatorClock) {
        self.ttl = ttl
        self.staleWhileRevalidate = max(.zero, staleWhileRevalidate)
        self.jitter = min(max(jitter, 0), 0.9)
        self.maxEntries = max(1, maxEntries)
        self.clock = clock
    }

    private var enabled: Bool { ttl > .zero }

    /// Splits `subjects` into cached, joined and new requests of at most `batchSize` subjects.
    func plan(editor: Editor, flow: SlotFlow, subjects: [SearchSubject], window: WindowKey, batchSize: Int,
              deadline: ContinuousClock.Instant, mayRequest: Bool) -> Plan {
        let now = clock.now()
        return state.withLock { s in
            var plan = Plan()
            if enabled { plan.cached.reserveCapacity(subjects.count) }
            var misses: [SearchSubject] = []
            var renew: [SearchSubject] = []
            var joinedIndex: [UInt64: Int] = [:]
            for subject in subjects {
                let key = Key(editorID: editor.id, flow: flow, subject: subject, window: window)
                let entryKey = EntryKey(editorID: editor.id, flow: flow, subject: subject)
                if enabled, let list = s.entries[entryKey] {
                    // The newest entry whose window covers the search's.
                    var best: Entry?
                    for entry in list where entry.window.covers(window) && (best.map { entry.storedAt > $0.storedAt } ?? true) {
                        best = entry
                    }
                    if let entry = best {
                        let age = now - entry.storedAt
                        if age < entry.lifetime {
                            plan.cached[subject] = entry.slots
                            continue
                        }
                        // Just expired: served as is while one background request renews it (the search does not
                        // wait for the editor); only when the editor may be asked, and never past the grace period.
                        if mayRequest, age < entry.lifetime + staleWhileRevalidate {
                            plan.cached[subject] = entry.slots
                            if s.inFlight[key] == nil { renew.append(subject) }
                            continue
                        }
                    }
                    // Entries past their grace serve nobody any more (the list is only rewritten when one is).
                    let grace = staleWhileRevalidate
                    if list.contains(where: { now - $0.storedAt >= $0.lifetime + grace }) {
                        Self.replace(entryKey, with: list.filter { now - $0.storedAt < $0.lifetime + grace }, in: &s)
                    }
                }
                if let fetch = s.inFlight[key] {
                    if let index = joinedIndex[fetch.id] {
                        plan.joined[index].subjects.append(subject)
                    } else {
                        joinedIndex[fetch.id] = plan.joined.count
                        plan.joined.append((fetch, [subject]))
                        fetch.addInterest(deadline: deadline)
                    }
                    continue
                }
                misses.append(subject)
            }
            guard mayRequest else {
                plan.refused = misses
                return plan
            }
            let size = max(1, batchSize)
            for (list, background) in [(misses, false), (renew, true)] {
                for start in stride(from: 0, to: list.count, by: size) {
                    let chunk = Array(list[start..<min(start + size, list.count)])
                    s.nextFetchID &+= 1
                    var generations: [SearchSubject: UInt64] = [:]
                    for subject in chunk { generations[subject] = s.generations[subject, default: 0] }
                    let fetch = SharedFetch(id: s.nextFetchID, editor: editor, flow: flow, subjects: chunk, windowKey: window,
                                            generations: generations, deadline: deadline)
                    for subject in chunk {
                        s.inFlight[Key(editorID: editor.id, flow: flow, subject: subject, window: window)] = fetch
                    }
                    if background {
                        plan.refreshing.append(fetch) // no interest: nobody leaves it, it runs to its answer
                    } else {
                        fetch.addInterest(deadline: deadline)
                        plan.created.append(fetch)
                    }
                }
            }
            return plan
        }
    }

    /// Ends a fetch: unregisters it, caches a successful answer (unless invalidated meanwhile), wakes its waiters.
    func complete(_ fetch: SharedFetch, _ outcome: FetchOutcome) {
        let now = clock.now()
        let waiters = state.withLock { s in
            unregister(fetch, from: &s)
            if enabled, case .success(let success) = outcome, success.cacheable {
                let lifetime = jitter > 0 ? ttl * (1 - Double.random(in: 0...jitter)) : ttl
                for subject in fetch.subjects where s.generations[subject, default: 0] == fetch.generations[subject] {
                    let entryKey = EntryKey(editorID: fetch.editor.id, flow: fetch.flow, subject: subject)
                    // The new answer supersedes the entries its window covers (the same window included).
                    var list = (s.entries[entryKey] ?? []).filter { !fetch.windowKey.covers($0.window) }
                    list.append(Entry(window: fetch.windowKey, slots: success.slots[subject] ?? .empty, storedAt: now,
                                      lifetime: lifetime))
                    if list.count > Self.windowsPerSubject {
                        list.sort { $0.storedAt > $1.storedAt }
                        list.removeLast(list.count - Self.windowsPerSubject)
                    }
                    Self.replace(entryKey, with: list, in: &s)
                }
                if s.entryCount > maxEntries { evict(&s, now: now) }
            }
            return fetch.resolve(outcome)
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
    }

    /// A search stops waiting on `fetch`; the last one out abandons it (unregistered and its request cancelled).
    func leave(_ fetch: SharedFetch, cancelled: Bool) {
        let outcome = FetchOutcome.failure(.timeout, latency: nil, attempts: 0)
        let (task, waiters) = state.withLock { s -> (Task<Void, Never>?, [CheckedContinuation<FetchOutcome?, Never>]) in
            let (abandoned, task) = fetch.leave(cancelled: cancelled)
            guard abandoned else { return (nil, []) }
            unregister(fetch, from: &s)
            return (task, fetch.resolve(outcome))
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
        task?.cancel()
    }

    /// Forgets everything cached or in flight about a subject (a slot was booked through the platform).
    func invalidate(_ subject: SearchSubject) {
        state.withLock { s in
            s.generations[subject, default: 0] &+= 1
            for key in s.keysBySubject[subject] ?? [] { s.entryCount -= s.entries.removeValue(forKey: key)?.count ?? 0 }
            s.keysBySubject[subject] = nil
            for key in s.inFlight.keys where key.subject == subject { s.inFlight[key] = nil }
        }
    }

    /// Empties the cache (in-flight requests keep running but will not be cached).
    func invalidateAll() {
        state.withLock { s in
            for subject in Set(s.keysBySubject.keys).union(s.inFlight.keys.map(\.subject)) {
                s.generations[subject, default: 0] &+= 1
            }
            s.entries = [:]
            s.entryCount = 0
            s.keysBySubject = [:]
            s.inFlight = [:]
        }
    }

    /// Cached (editor, subject, window) entries, expired ones included until evicted.
    var entryCount: Int { state.withLock { $0.entryCount } }

    /// Requests currently registered as in flight.
    var inFlightCount: Int { state.withLock { s in Set(s.inFlight.values.map(\.id)).count } }

    private func unregister(_ fetch: SharedFetch, from s: inout State) {
        for subject in fetch.subjects {
            let key = Key(editorID: fetch.editor.id, flow: fetch.flow, subject: subject, window: fetch.windowKey)
            if s.inFlight[key] === fetch { s.inFlight[key] = nil }
        }
    }

    /// Sets the entries of one (editor, flow, subject), keeping the count and the subject index right.
    private static func replace(_ key: EntryKey, with list: [Entry], in s: inout State) {
        s.entryCount += list.count - (s.entries[key]?.count ?? 0)
        if list.isEmpty {
            s.entries[key] = nil
            s.keysBySubject[key.subject]?.remove(key)
            if s.keysBySubject[key.subject]?.isEmpty == true { s.keysBySubject[key.subject] = nil }
        } else {
            s.entries[key] = list
            s.keysBySubject[key.subject, default: []].insert(key)
        }
    }

    /// Drops expired entries, then the oldest ones down to 90 % of the cap.
    private func evict(_ s: inout State, now: ContinuousClock.Instant) {
        for (key, list) in s.entries {
            let kept = list.filter { now - $0.storedAt < $0.lifetime }
            if kept.count != list.count { Self.replace(key, with: kept, in: &s) }
        }
        let target = maxEntries * 9 / 10
        guard s.entryCount > target else { return }
        var all: [(key: EntryKey, storedAt: ContinuousClock.Instant)] = []
        for (key, list) in s.entries { for entry in list { all.append((key, entry.storedAt)) } }
        all.sort { $0.storedAt < $1.storedAt }
        let cutoff = all[all.count - target - 1].storedAt
        for key in Set(all.prefix(all.count - target).map(\.key)) {
            Self.replace(key, with: (s.entries[key] ?? []).filter { $0.storedAt > cutoff }, in: &s)
        }
    }
}
