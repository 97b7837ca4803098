import Foundation

/// Holds the current ``SpatialIndex`` snapshot and swaps it atomically when the directory changes.
///
/// Readers take a snapshot (a reference to an immutable index) and query it without holding the lock;
/// a refresh builds a new snapshot off-lock and publishes it only if it is newer than the current one,
/// so concurrent refreshes (several nodes reacting to the same storage change) cannot roll the index back.
public final class LiveSpatialIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var current: SpatialIndex

    /// Starts with `initial` (empty by default).
    public init(_ initial: SpatialIndex = .empty) {
        current = initial
    }

    /// The snapshot to query.
    public var snapshot: SpatialIndex {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// Publishes `index` if its generation is not older than the current one; returns whether it was published.
    @discardableResult
    public func publish(_ index: SpatialIndex) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard index.generation >= current.generation else { return false }
        current = index
        return true
    }

    /// Builds a snapshot from `sites` (outside the lock) and publishes it.
    @discardableResult
    public func rebuild(from sites: [IndexedSite], generation: UInt64) -> Bool {
        publish(SpatialIndex(sites: sites, generation: generation))
    }

    /// Convenience: queries the current snapshot.
    public func sites(within radiusKm: Double, ofLatitude latitude: Double, longitude: Double,
                      matching filter: SiteFilter = SiteFilter(), limit: Int? = nil) -> [SpatialHit] {
        snapshot.sites(within: radiusKm, ofLatitude: latitude, longitude: longitude, matching: filter, limit: limit)
    }
}
