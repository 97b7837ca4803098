import Foundation

/// Measurements of one `sas bench directory` run.
public struct DirectoryBenchmarkReport: Sendable, Codable, CustomStringConvertible {
    /// Practitioners generated.
    public var practitioners: Int
    /// Practice sites indexed.
    public var sites: Int
    /// Radius queries run.
    public var queries: Int
    /// Loading the CSV tables and building the geocoder, ms.
    public var geocoderBuildMs: Double
    /// Generating the synthetic directory, ms.
    public var generationMs: Double
    /// Building the spatial index, ms.
    public var indexBuildMs: Double
    /// Query latency percentiles, ms (5–50 km, specialty filter, all results sorted nearest first).
    public var queryP50Ms: Double
    /// 90th percentile, ms.
    public var queryP90Ms: Double
    /// 99th percentile, ms.
    public var queryP99Ms: Double
    /// Slowest query, ms.
    public var queryMaxMs: Double
    /// Mean number of hits per query.
    public var meanHits: Double
    /// Geocoder lookup percentiles over place names (exact and with a typo), ms.
    public var geocodeP50Ms: Double
    /// 99th percentile, ms.
    public var geocodeP99Ms: Double
    /// Approximate heap held by the index arrays, MB.
    public var indexMegabytes: Double
    /// Resident set size at the end (Linux `VmRSS`), MB; nil where unavailable.
    public var rssMegabytes: Double?
    /// Peak resident set size (Linux `VmHWM`), MB; nil where unavailable.
    public var peakRSSMegabytes: Double?

    public var description: String {
        func f(_ v: Double) -> String { String(format: "%.3f", v) }
        return """
        Annuaire : \(practitioners) professionnels, \(sites) lieux d'exercice
        Géocodeur : construction \(String(format: "%.0f", geocoderBuildMs)) ms ; recherche p50 \(f(geocodeP50Ms)) ms, p99 \(f(geocodeP99Ms)) ms
        Génération synthétique : \(String(format: "%.0f", generationMs)) ms
        Index spatial : construction \(String(format: "%.0f", indexBuildMs)) ms, \(String(format: "%.1f", indexMegabytes)) Mo
        Requêtes (\(queries), 5–50 km, filtre spécialité) : p50 \(f(queryP50Ms)) ms, p90 \(f(queryP90Ms)) ms, p99 \(f(queryP99Ms)) ms, max \(f(queryMaxMs)) ms, \(String(format: "%.0f", meanHits)) résultats en moyenne
        Mémoire résidente : \(rssMegabytes.map { String(format: "%.0f Mo", $0) } ?? "n/d") (pic \(peakRSSMegabytes.map { String(format: "%.0f Mo", $0) } ?? "n/d"))
        """
    }
}

/// The directory benchmark behind `sas bench directory`.
public enum DirectoryBenchmark {
    /// Generates `practitioners` synthetic practitioners (seed 42), indexes their sites and runs `queries`
    /// radius queries around population-weighted places (radius 5/10/20/30/50 km; 70% general practice,
    /// 30% one specialist code; half also require SAS participation).
    public static func run(practitioners: Int, queries: Int, seed: UInt64 = 42) throws -> DirectoryBenchmarkReport {
        var t = ContinuousClock.now
        let places = try Places.load()
        let departments = try Departments.load()
        let specialties = try Specialties.load()
        let geocoder = OfflineGeocoder(places: places, departments: departments)
        let geocoderBuildMs = elapsedMs(since: t)

        t = ContinuousClock.now
        let generator = SyntheticFrance(configuration: .init(practitioners: practitioners, seed: seed), places: places,
                                        departments: departments, specialties: specialties)
        var sites: [IndexedSite] = []
        sites.reserveCapacity(practitioners + practitioners / 5)
        for i in 0..<generator.count {
            let r = generator.record(at: i)
            for site in r.sites {
                sites.append(SyntheticFrance.indexedSite(site, practitioner: r.practitioner, index: i,
                                                         vendor: r.vendorLink != nil, specialties: specialties))
            }
        }
        let generationMs = elapsedMs(since: t)

        t = ContinuousClock.now
        let index = SpatialIndex(sites: sites, generation: 1)
        let indexBuildMs = elapsedMs(since: t)
        let siteCount = sites.count
        sites = []

        var rng = Xoshiro256(seed: seed, stream: 0xBE4C)
        let weighted = WeightedTable(places.all.map { ($0, Double(max(1, $0.population))) })
        let gp = Specialties.generalPracticeCodes.compactMap(specialties.index(of:))
        let specialists = SyntheticFrance.specialistTable.items.compactMap(specialties.index(of:))
        let radii: [Double] = [5, 10, 20, 30, 50]
        var latencies: [Double] = []
        latencies.reserveCapacity(queries)
        var hits = 0
        for _ in 0..<queries {
            let place = weighted.pick(&rng)
            let filter = SiteFilter(specialties: rng.chance(0.7) ? gp : [rng.pick(specialists)],
                                    requiredFlags: rng.chance(0.5) ? [.participates] : [])
            let radius = rng.pick(radii)
            let q = ContinuousClock.now
            let result = index.sites(within: radius, ofLatitude: place.latitude, longitude: place.longitude, matching: filter)
            latencies.append(elapsedMs(since: q))
            hits += result.count
        }
        latencies.sort()

        var geoLatencies: [Double] = []
        for i in 0..<min(2_000, places.all.count) {
            let place = weighted.pick(&rng)
            let text = i % 2 == 0 ? place.name : place.name + "e"
            let q = ContinuousClock.now
            _ = try? geocoder.resolve(text)
            geoLatencies.append(elapsedMs(since: q))
        }
        geoLatencies.sort()

        let memory = residentMemory()
        return DirectoryBenchmarkReport(
            practitioners: practitioners, sites: siteCount, queries: queries, geocoderBuildMs: geocoderBuildMs,
            generationMs: generationMs, indexBuildMs: indexBuildMs, queryP50Ms: percentile(latencies, 0.5),
            queryP90Ms: percentile(latencies, 0.9), queryP99Ms: percentile(latencies, 0.99),
            queryMaxMs: latencies.last ?? 0, meanHits: queries > 0 ? Double(hits) / Double(queries) : 0,
            geocodeP50Ms: percentile(geoLatencies, 0.5), geocodeP99Ms: percentile(geoLatencies, 0.99),
            indexMegabytes: Double(index.approximateBytes) / 1_048_576, rssMegabytes: memory.current,
            peakRSSMegabytes: memory.peak)
    }

    static func elapsedMs(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) * 1e-15
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
    }

    /// (VmRSS, VmHWM) in MB from /proc/self/status; nil off Linux.
    static func residentMemory() -> (current: Double?, peak: Double?) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (nil, nil) }
        func value(_ key: String) -> Double? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return nil }
            return line.split(separator: " ").compactMap { Double($0) }.first.map { $0 / 1024 }
        }
        return (value("VmRSS:"), value("VmHWM:"))
    }
}
