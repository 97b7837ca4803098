import Foundation

/// An immutable in-memory index of practice sites answering "sites within R km of a point, matching filters,
/// nearest first".
///
/// Layout: struct-of-arrays with `Float` coordinates. Sites are sorted by a key `row << 32 | lonTicks` where
/// `row` is a 0.02° latitude band and `lonTicks` the longitude in 1e-4°. A query scans, for each latitude band
/// it touches, the contiguous key range of its longitude window (two binary searches per band). Each specialty
/// has its own partition with the same layout, so a specialty-filtered query only touches sites of that
/// specialty. Candidates are pre-filtered with a conservative planar bound; the decision and the reported
/// distance are the exact haversine on the stored coordinates.
public final class SpatialIndex: Sendable {
    /// A key-sorted slice of sites (all sites, or those of one specialty).
    struct Partition: Sendable {
        var keys: [UInt64] = []
        var latitudes: [Float] = []
        var longitudes: [Float] = []
        /// Position in the main arrays.
        var sites: [UInt32] = []
    }

    static let rowDegrees: Double = 0.02
    static let lonTicksPerDegree: Double = 10_000

    /// Caller-supplied version of the data this snapshot was built from (e.g. a storage change counter).
    public let generation: UInt64
    /// Wall-clock build duration, seconds.
    public let buildSeconds: Double

    let all: Partition
    let bySpecialty: [UInt16: Partition]
    let siteIDs: [Int64]
    let practitionerIDs: [Int64]
    let professions: [UInt8]
    let flags: [UInt8]
    let specialtyOffsets: [UInt32]
    let specialtyValues: [UInt16]

    /// Number of indexed sites.
    public var count: Int { siteIDs.count }

    /// Builds a snapshot. Sites with non-finite or out-of-range coordinates are skipped.
    public init(sites input: [IndexedSite], generation: UInt64 = 0) {
        let clock = ContinuousClock.now
        let valid = input.filter { $0.latitude.isFinite && $0.longitude.isFinite && abs($0.latitude) <= 90 && abs($0.longitude) <= 180 }
        let keys = valid.map { Self.key(latitude: Double($0.latitude), longitude: Double($0.longitude)) }
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var all = Partition()
        all.keys.reserveCapacity(order.count)
        all.latitudes.reserveCapacity(order.count)
        all.longitudes.reserveCapacity(order.count)
        all.sites.reserveCapacity(order.count)
        var siteIDs: [Int64] = [], practitionerIDs: [Int64] = []
        var professions: [UInt8] = [], flags: [UInt8] = []
        var offsets: [UInt32] = [0], values: [UInt16] = []
        siteIDs.reserveCapacity(order.count)
        practitionerIDs.reserveCapacity(order.count)
        professions.reserveCapacity(order.count)
        flags.reserveCapacity(order.count)
        offsets.reserveCapacity(order.count + 1)
        var bySpecialty: [UInt16: Partition] = [:]
        for (position, i) in order.enumerated() {
            let s = valid[i]
            all.keys.append(keys[i])
            all.latitudes.append(s.latitude)
            all.longitudes.append(s.longitude)
            all.sites.append(UInt32(position))
            siteIDs.append(s.siteID)
            practitionerIDs.append(s.practitionerID)
            professions.append(s.profession)
            flags.append(s.flags.rawValue)
            var seen: [UInt16] = []
            for code in s.specialties where !seen.contains(code) {
                seen.append(code)
                values.append(code)
                bySpecialty[code, default: Partition()].append(key: keys[i], latitude: s.latitude, longitude: s.longitude,
                                                               site: UInt32(position))
            }
            offsets.append(UInt32(values.count))
        }
        self.all = all
        self.bySpecialty = bySpecialty
        self.siteIDs = siteIDs
        self.practitionerIDs = practitionerIDs
        self.professions = professions
        self.flags = flags
        self.specialtyOffsets = offsets
        self.specialtyValues = values
        self.generation = generation
        let elapsed = ContinuousClock.now - clock
        self.buildSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// An empty index.
    public static let empty = SpatialIndex(sites: [])

    /// Sites within `radiusKm` of (`latitude`, `longitude`) passing `filter`, nearest first (distances as
    /// `Float`, ties in a fixed order), at most `limit` of them when given. Inclusion is decided on the exact
    /// `Double` haversine of the stored coordinates.
    public func sites(within radiusKm: Double, ofLatitude latitude: Double, longitude: Double,
                      matching filter: SiteFilter = SiteFilter(), limit: Int? = nil) -> [SpatialHit] {
        guard radiusKm >= 0, latitude.isFinite, longitude.isFinite, !siteIDs.isEmpty else { return [] }
        let kmPerDegree = Haversine.earthRadiusKm * .pi / 180
        let dLat = radiusKm / kmPerDegree
        let maxAbsLat = min(89.9, abs(latitude) + dLat)
        let cosMin = cos(maxAbsLat * .pi / 180)
        let dLon = min(180, dLat / cosMin)
        let firstRow = Self.row(latitude - dLat), lastRow = Self.row(latitude + dLat)
        let lonLow = Self.lonTicks(longitude - dLon), lonHigh = Self.lonTicks(longitude + dLon)
        let bound = radiusKm * 1.02 + 0.01
        let bound2 = Float(bound * bound)
        let qLat = Float(latitude), qLon = Float(longitude)
        let kx = Float(kmPerDegree * cosMin), ky = Float(kmPerDegree)

        // Hits packed as (Float distance bits << 32 | position): positive floats order like their bit
        // patterns, so one integer sort gives nearest first, ties by index position (deterministic).
        var hits: [UInt64] = []
        hits.reserveCapacity(256)
        let partitions: [Partition] = filter.specialties.isEmpty
            ? [all] : filter.specialties.map { bySpecialty[$0] ?? Partition() }
        for (j, part) in partitions.enumerated() where !part.keys.isEmpty {
            let earlier = filter.specialties.prefix(j)
            for row in firstRow...lastRow {
                let base = UInt64(row) << 32
                var k = Self.lowerBound(part.keys, base | lonLow)
                let end = Self.lowerBound(part.keys, base | (lonHigh + 1), from: k)
                while k < end {
                    defer { k += 1 }
                    let dy = (part.latitudes[k] - qLat) * ky
                    let dx = (part.longitudes[k] - qLon) * kx
                    if dx * dx + dy * dy > bound2 { continue }
                    let p = part.sites[k]
                    let position = Int(p)
                    guard filter.accepts(profession: professions[position], flags: flags[position]) else { continue }
                    if j > 0, hasAny(position, earlier) { continue }
                    let d = Haversine.distanceKm(latitude, longitude, Double(part.latitudes[k]), Double(part.longitudes[k]))
                    if d <= radiusKm { hits.append(UInt64(Float(d).bitPattern) << 32 | UInt64(p)) }
                }
            }
        }
        if let limit, limit < hits.count {
            hits = Self.smallest(hits, count: max(0, limit), by: <)
        } else {
            hits.sort()
        }
        return hits.map { packed in
            let i = Int(packed & 0xFFFF_FFFF)
            return SpatialHit(siteID: siteIDs[i], practitionerID: practitionerIDs[i],
                              distanceKm: Double(Float(bitPattern: UInt32(packed >> 32))),
                              latitude: all.latitudes[i], longitude: all.longitudes[i])
        }
    }

    /// Every indexed site back as an ``IndexedSite`` (for tests and brute-force checks).
    public func allSites() -> [IndexedSite] {
        (0..<count).map { i in
            IndexedSite(siteID: siteIDs[i], practitionerID: practitionerIDs[i], latitude: all.latitudes[i],
                        longitude: all.longitudes[i], specialties: specialties(at: i), profession: professions[i],
                        flags: ParticipationFlags(rawValue: flags[i]))
        }
    }

    /// Approximate heap bytes held by the arrays.
    public var approximateBytes: Int {
        func size(_ p: Partition) -> Int { p.keys.count * 8 + p.latitudes.count * 8 + p.sites.count * 4 }
        return size(all) + bySpecialty.values.reduce(0) { $0 + size($1) } + siteIDs.count * 18
            + specialtyOffsets.count * 4 + specialtyValues.count * 2
    }

    // MARK: - Internals

    func specialties(at position: Int) -> [UInt16] {
        Array(specialtyValues[Int(specialtyOffsets[position])..<Int(specialtyOffsets[position + 1])])
    }

    @inline(__always)
    private func hasAny(_ position: Int, _ codes: ArraySlice<UInt16>) -> Bool {
        var i = Int(specialtyOffsets[position])
        let end = Int(specialtyOffsets[position + 1])
        while i < end {
            if codes.contains(specialtyValues[i]) { return true }
            i += 1
        }
        return false
    }

    static func key(latitude: Double, longitude: Double) -> UInt64 {
        UInt64(row(latitude)) << 32 | lonTicks(longitude)
    }

    static func row(_ latitude: Double) -> UInt32 {
        UInt32(max(0, min(180, latitude + 90)) / rowDegrees)
    }

    static func lonTicks(_ longitude: Double) -> UInt64 {
        UInt64(max(0, min(360, longitude + 180)) * lonTicksPerDegree)
    }

    static func lowerBound(_ keys: [UInt64], _ value: UInt64, from start: Int = 0) -> Int {
        var lo = start, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if keys[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The `count` smallest elements in order (heap selection, O(n log count)).
    static func smallest<T>(_ items: [T], count: Int, by less: (T, T) -> Bool) -> [T] {
        guard count > 0 else { return [] }
        var heap: [T] = []  // max-heap of the best `count`
        heap.reserveCapacity(count)
        func siftUp(_ i: Int) {
            var c = i
            while c > 0 { let p = (c - 1) / 2; if less(heap[p], heap[c]) { heap.swapAt(p, c); c = p } else { break } }
        }
        func siftDown(_ i: Int) {
            var p = i
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < heap.count, less(heap[m], heap[l]) { m = l }
                if r < heap.count, less(heap[m], heap[r]) { m = r }
                if m == p { return }
                heap.swapAt(p, m); p = m
            }
        }
        for item in items {
            if heap.count < count { heap.append(item); siftUp(heap.count - 1) }
            else if less(item, heap[0]) { heap[0] = item; siftDown(0) }
        }
        return heap.sorted(by: less)
    }
}

extension SpatialIndex.Partition {
    mutating func append(key: UInt64, latitude: Float, longitude: Float, site: UInt32) {
        keys.append(key)
        latitudes.append(latitude)
        longitudes.append(longitude)
        sites.append(site)
    }
}
