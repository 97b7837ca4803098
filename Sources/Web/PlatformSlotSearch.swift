import Aggregator
import Foundation
import Logging
import NIOConcurrencyHelpers
import SASDomain
import Search
import Storage

/// The platform's entry to the aggregator: adds what storage knows about which vendor holds which agenda (links
/// learned from earlier answers and links declared in the directory), runs the search, and records the links the
/// answers teach, so that the next search asks each practitioner's vendor only.
public struct PlatformSlotSearch: EditorSlotProvider {
    let aggregator: SlotAggregator
    let database: any Database
    let logger: Logger
    let learned: LearnedLinksCache
    /// When each practitioner without a known vendor was last asked to every vendor, for the enabled vendors then
    /// registered (a registry change starts the probing afresh: a new vendor is asked about everyone).
    let probes = NIOLockedValueBox<(registry: [String], last: [String: ContinuousClock.Instant])>(([], [:]))
    /// A practitioner without a known vendor is asked to every vendor at most this often (a vendor answering with
    /// slots teaches the link; one answering nothing is not asked again for that long).
    static let probeInterval: Duration = .seconds(3600)

    public init(aggregator: SlotAggregator, database: any Database, logger: Logger) {
        self.aggregator = aggregator
        self.database = database
        self.logger = logger
        self.learned = LearnedLinksCache(database: database)
    }

    /// Search path: declared links come from the in-memory directory, learned ones from a per-node copy of
    /// `editor_links` (reloaded every ``LearnedLinksCache/reloadSeconds``; this node's own discoveries at once), so a
    /// search costs no query for routing.
    public func search(practitioners: [IDNPS], associations: [IDNST], cptsMode: Bool, window: ClosedRange<Date>,
                       deadline: Duration, declared: [IDNPS: Set<String>]) async throws -> AsyncStream<AggregationEvent> {
        var known = declared
        let learnedLinks = try await learned.links()
        for id in practitioners { if let editors = learnedLinks[id.value] { known[id, default: []].formUnion(editors) } }
        let now = ContinuousClock.now
        let registry = aggregator.editors.filter(\.enabled).map { "\($0.id)@\($0.baseURL)" }
        let asked = probes.withLockedValue { probes -> [IDNPS] in
            if probes.last.count > 500_000 || probes.registry != registry { probes = (registry, [:]) }
            return practitioners.filter { id in
                if known[id] != nil { return true }
                if let last = probes.last[id.value], now - last < Self.probeInterval { return false }
                probes.last[id.value] = now
                return true
            }
        }
        return stream(AggregationRequest(practitioners: asked, associations: associations, cptsMode: cptsMode,
                                         window: window, deadline: deadline, knownEditors: known))
    }

    /// Known vendors per practitioner: learned (`editor_links`) and declared (`dir_vendor_links`).
    public func knownEditors(for practitioners: [IDNPS]) async throws -> [IDNPS: Set<String>] {
        let values = practitioners.map(\.value)
        var known = try await EditorLinks(database: database).editors(for: values)
        for chunk in stride(from: 0, to: values.count, by: 500).map({ Array(values[$0..<min($0 + 500, values.count)]) }) {
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try await database.query("SELECT idnps, vendor FROM dir_vendor_links WHERE idnps IN (\(placeholders))",
                                                chunk.map(SQLValue.text)) {
                if let id = row.optionalString("idnps"), let vendor = row.optionalString("vendor") { known[id, default: []].insert(vendor) }
            }
        }
        var result: [IDNPS: Set<String>] = [:]
        for idnps in practitioners { if let editors = known[idnps.value] { result[idnps] = editors } }
        return result
    }

    /// Streams a search (see ``SlotAggregator/search(_:)``), recording learned links as they arrive.
    public func search(practitioners: [IDNPS], associations: [IDNST] = [], cptsMode: Bool = false,
                       window: ClosedRange<Date>, deadline: Duration) async throws -> AsyncStream<AggregationEvent> {
        let known = try await knownEditors(for: practitioners)
        return stream(AggregationRequest(practitioners: practitioners, associations: associations, cptsMode: cptsMode,
                                         window: window, deadline: deadline, knownEditors: known))
    }

    func stream(_ request: AggregationRequest) -> AsyncStream<AggregationEvent> {
        let upstream = aggregator.search(request)
        let links = EditorLinks(database: database)
        let logger = self.logger
        let learned = self.learned
        return AsyncStream { continuation in
            let task = Task {
                for await event in upstream {
                    if case .learnedLinks(let editorID, let practitioners) = event {
                        let ids = Set(practitioners.map(\.value))
                        learned.add(editorID: editorID, idnps: ids)
                        do { try await links.record(editorID: editorID, idnps: ids) } catch {
                            logger.warning("could not record learned links", metadata: ["editor": "\(editorID)", "error": "\(error)"])
                        }
                    }
                    continuation.yield(event)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// A per-node copy of the learned practitioner → vendor links.
final class LearnedLinksCache: Sendable {
    let database: any Database
    private let state = NIOLockedValueBox<(links: [String: Set<String>], loadedAt: ContinuousClock.Instant?)>(([:], nil))
    private let loading = AsyncSerialLoad()
    /// How long a loaded copy is used before it is read again (other nodes' discoveries arrive within this delay).
    static let reloadSeconds = 30

    init(database: any Database) { self.database = database }

    func links() async throws -> [String: Set<String>] {
        if let fresh = state.withLockedValue({ s -> [String: Set<String>]? in
            guard let at = s.loadedAt, ContinuousClock.now - at < .seconds(Self.reloadSeconds) else { return nil }
            return s.links
        }) { return fresh }
        return try await loading.run {
            if let fresh = self.state.withLockedValue({ s -> [String: Set<String>]? in
                guard let at = s.loadedAt, ContinuousClock.now - at < .seconds(Self.reloadSeconds) else { return nil }
                return s.links
            }) { return fresh }
            var map: [String: Set<String>] = [:]
            for row in try await self.database.query("SELECT editor_id, idnps FROM editor_links") {
                if let id = row.optionalString("idnps"), let editor = row.optionalString("editor_id") { map[id, default: []].insert(editor) }
            }
            let loaded = map
            self.state.withLockedValue { $0 = (loaded, ContinuousClock.now) }
            return loaded
        }
    }

    func add(editorID: String, idnps: Set<String>) {
        state.withLockedValue { s in for id in idnps { s.links[id, default: []].insert(editorID) } }
    }
}

/// Runs one load at a time; callers arriving during a load wait for it, then re-check.
final class AsyncSerialLoad: Sendable {
    private let busy = NIOLockedValueBox<(running: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let proceed = busy.withLockedValue { s -> Bool in
                if s.running { s.waiters.append(c); return false }
                s.running = true
                return true
            }
            if proceed { c.resume() }
        }
        defer {
            let next = busy.withLockedValue { s -> CheckedContinuation<Void, Never>? in
                if s.waiters.isEmpty { s.running = false; return nil }
                return s.waiters.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
