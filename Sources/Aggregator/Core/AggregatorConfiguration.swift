import Foundation

/// Tunables of the slot aggregator (defaults follow the issue and the IG).
public struct AggregatorConfiguration: Sendable {
    /// Concurrent requests per editor; excess requests wait their turn within the deadline.
    public var maxConcurrentRequestsPerEditor: Int = 8
    /// Response size cap passed to the transport (5 MB).
    public var maxResponseBytes: Int = 5 * 1024 * 1024
    /// Per-editor timeout when the editor has no override (always capped by the search deadline).
    public var defaultEditorTimeout: Duration = .seconds(7)
    /// Consecutive failures or timeouts that open an editor's circuit.
    public var circuitFailureThreshold: Int = 5
    /// Time an open circuit waits before letting one probe through (half-open).
    public var circuitCooldown: Duration = .seconds(30)
    /// Cache lifetime of an (editor, practitioner/association, window) answer; zero disables the cache.
    public var cacheTTL: Duration = .seconds(30)
    /// Share of the lifetime by which each answer's expiry is brought forward at random (0.2: between 80 % and
    /// 100 % of `cacheTTL`), so that answers fetched together in a burst are not all fetched again at the same moment.
    public var cacheJitter: Double = 0.2
    /// How long past its lifetime an answer may still be served while one background request renews it
    /// (stale-while-revalidate): searches then never wait for an editor because an entry just expired. Zero: an
    /// expired answer is fetched again before the search can use it.
    public var cacheStaleWhileRevalidate: Duration = .zero
    /// Most cache entries kept (expired ones go first, then the oldest).
    public var cacheMaxEntries: Int = 200_000
    /// Retries after a refused/reset connection or a 503 with Retry-After (never after a timeout).
    public var maxRetries: Int = 1
    /// Pause before retrying a refused/reset connection.
    public var connectionRetryDelay: Duration = .milliseconds(50)
    /// Latency assumed for an editor without history, when deciding whether a retry fits in the time left.
    public var assumedEditorLatency: Duration = .milliseconds(200)
    /// Practitioners per INT_R01/R04 request (1…25).
    public var practitionersPerRequest: Int = 25
    /// Associations per SOS request (1…10).
    public var associationsPerRequest: Int = 10
    /// Lot size of the sequential (live-platform) mode.
    public var sequentialLotSize: Int = 25
    /// Requests remembered per editor for the health snapshot.
    public var healthSampleCount: Int = 200

    /// Defaults.
    public init() {}
}

/// Source of "now" for the circuit breaker cool-down and the cache TTL (injectable so tests can move time).
public protocol AggregatorClock: Sendable {
    /// The current monotonic instant.
    func now() -> ContinuousClock.Instant
}

/// The real monotonic clock.
public struct SystemAggregatorClock: AggregatorClock {
    /// Creates the clock.
    public init() {}

    public func now() -> ContinuousClock.Instant { ContinuousClock.now }
}
