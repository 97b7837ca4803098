@testable import Directory
import Foundation
import Testing

@Suite("Spatial index")
struct SpatialIndexTests {
    /// Random sites around French places, with 1–2 specialties out of 6, 3 professions and random flags.
    static func randomSites(_ n: Int, seed: UInt64) -> [IndexedSite] {
        var rng = Xoshiro256(seed: seed)
        let places = Fixtures.places.byPopulation().prefix(400).map { $0 }
        return (0..<n).map { i in
            let p = rng.pick(places)
            let (lat, lon) = SyntheticGeo.jitter(p.latitude, p.longitude, maxKm: 30, rng: &rng)
            var specialties = [UInt16(rng.int(0...5))]
            if rng.chance(0.2) { specialties.append(UInt16(rng.int(0...5))) }
            return IndexedSite(siteID: Int64(i), practitionerID: Int64(i / 2), latitude: Float(lat), longitude: Float(lon),
                               specialties: specialties, profession: rng.pick([10, 60, 70]),
                               flags: ParticipationFlags(rawValue: UInt8(truncatingIfNeeded: rng.next())))
        }
    }

    static func bruteForce(_ sites: [IndexedSite], lat: Double, lon: Double, radius: Double,
                           filter: SiteFilter) -> [Int64: Double] {
        var result: [Int64: Double] = [:]
        for s in sites {
            if !filter.specialties.isEmpty, !s.specialties.contains(where: filter.specialties.contains) { continue }
            if !filter.professions.isEmpty, !filter.professions.contains(s.profession) { continue }
            if !s.flags.isSuperset(of: filter.requiredFlags) || !s.flags.isDisjoint(with: filter.excludedFlags) { continue }
            let d = Haversine.distanceKm(lat, lon, Double(s.latitude), Double(s.longitude))
            if d <= radius { result[s.siteID] = d }
        }
        return result
    }

    @Test func haversineKnownDistance() {
        // Paris (Notre-Dame) – Lyon (Bellecour) ≈ 392 km.
        let d = Haversine.distanceKm(48.853, 2.3499, 45.7578, 4.8320)
        #expect(abs(d - 392) < 3)
        #expect(Haversine.distanceKm(45, 4, 45, 4) == 0)
    }

    @Test func matchesBruteForceOnRandomQueries() {
        let sites = Self.randomSites(20_000, seed: 11)
        let index = SpatialIndex(sites: sites)
        #expect(index.count == sites.count)
        var rng = Xoshiro256(seed: 12)
        let places = Fixtures.places.byPopulation().prefix(400).map { $0 }
        var nonEmpty = 0
        for q in 0..<200 {
            let p = rng.pick(places)
            let (lat, lon) = SyntheticGeo.jitter(p.latitude, p.longitude, maxKm: 20, rng: &rng)
            let radius = rng.pick([1.0, 5, 10, 20, 50, 120])
            var filter = SiteFilter()
            switch q % 4 {
            case 0: break
            case 1: filter.specialties = [UInt16(rng.int(0...5))]
            case 2: filter = SiteFilter(specialties: [0, 3], professions: [10], requiredFlags: [.participates])
            default: filter = SiteFilter(specialties: [1, 2, 4], excludedFlags: [.viaSOS])
            }
            let hits = index.sites(within: radius, ofLatitude: lat, longitude: lon, matching: filter)
            let expected = Self.bruteForce(sites, lat: lat, lon: lon, radius: radius, filter: filter)
            if !hits.isEmpty { nonEmpty += 1 }
            #expect(Set(hits.map(\.siteID)) == Set(expected.keys), "query \(q) r=\(radius) \(filter)")
            #expect(hits.count == Set(hits.map(\.siteID)).count, "no duplicates")
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distanceKm <= $1.distanceKm }, "nearest first")
            for h in hits.prefix(20) {
                #expect(abs(h.distanceKm - (expected[h.siteID] ?? -1)) < 1e-3)
            }
        }
        #expect(nonEmpty > 150)
    }

    @Test func limitReturnsTheNearest() {
        let sites = Self.randomSites(5_000, seed: 3)
        let index = SpatialIndex(sites: sites)
        let all = index.sites(within: 50, ofLatitude: 45.76, longitude: 4.84)
        let top = index.sites(within: 50, ofLatitude: 45.76, longitude: 4.84, limit: 10)
        #expect(all.count > 10)
        #expect(top.map(\.siteID) == all.prefix(10).map(\.siteID))
        #expect(index.sites(within: 50, ofLatitude: 45.76, longitude: 4.84, limit: 0).isEmpty)
    }

    @Test func edgeCases() {
        #expect(SpatialIndex.empty.sites(within: 10, ofLatitude: 45, longitude: 5).isEmpty)
        let site = IndexedSite(siteID: 1, practitionerID: 1, latitude: 45, longitude: 5, specialties: [2], profession: 10,
                               flags: [.participates])
        let bad = IndexedSite(siteID: 2, practitionerID: 2, latitude: .nan, longitude: 5, specialties: [2],
                              profession: 10, flags: [])
        let index = SpatialIndex(sites: [site, bad])
        #expect(index.count == 1)
        #expect(index.sites(within: 0, ofLatitude: 45, longitude: 5).map(\.siteID) == [1])
        #expect(index.sites(within: 1, ofLatitude: 45, longitude: 5, matching: SiteFilter(specialties: [3])).isEmpty)
        #expect(index.sites(within: -1, ofLatitude: 45, longitude: 5).isEmpty)
        #expect(index.allSites() == [site])
    }

    @Test func liveIndexSwapsSnapshotsAndRefusesOlderGenerations() {
        let live = LiveSpatialIndex()
        #expect(live.snapshot.count == 0)
        let v2 = Self.randomSites(100, seed: 1)
        #expect(live.rebuild(from: v2, generation: 2))
        let held = live.snapshot
        #expect(!live.rebuild(from: [], generation: 1))
        #expect(live.snapshot.count == 100)
        #expect(live.rebuild(from: Array(v2.prefix(10)), generation: 3))
        #expect(live.snapshot.count == 10 && held.count == 100)
    }

    /// (Was a timing assertion; build and query times are measured by `sas bench directory`, see BENCHMARKS.md.)
    @Test func denseSitesAtScaleGiveTheBruteForceAnswer() {
        let sites = Self.randomSites(60_000, seed: 5)
        let index = SpatialIndex(sites: sites)
        #expect(index.count == sites.count)
        for i in 0..<20 {
            let (lat, lon) = (45.76 + Double(i) * 0.05, 4.84)
            let hits = index.sites(within: 20, ofLatitude: lat, longitude: lon, matching: SiteFilter(specialties: [1]))
            let expected = Self.bruteForce(sites, lat: lat, lon: lon, radius: 20, filter: SiteFilter(specialties: [1]))
            #expect(Set(hits.map(\.siteID)) == Set(expected.keys), "query \(i)")
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distanceKm <= $1.distanceKm })
        }
    }
}
