import Foundation
import SASDomain

/// One generated practitioner with its sites and vendor link.
public struct SyntheticRecord: Sendable, Hashable {
    /// The practitioner.
    public let practitioner: Practitioner
    /// One or two practice sites.
    public let sites: [PracticeSite]
    /// The vendor holding its agenda, nil when it uses the SAS agenda.
    public let vendorLink: VendorLink?
}

/// A whole generated directory, in memory.
public struct SyntheticDirectory: Sendable {
    /// Practitioners.
    public var practitioners: [Practitioner]
    /// Practice sites.
    public var sites: [PracticeSite]
    /// CPTS, MSP, CDS, SOS Médecins.
    public var structures: [Structure]
    /// Vendor links.
    public var vendorLinks: [VendorLink]
    /// Vendors.
    public var vendors: [Vendor]
    /// SAS territories (one per department).
    public var territories: [Territory]

    /// Spatial-index input for these sites (specialty indices from `specialties`).
    public func indexedSites(specialties: Specialties) -> [IndexedSite] {
        var byIDNPS: [IDNPS: (Int, Practitioner)] = [:]
        for (i, p) in practitioners.enumerated() { byIDNPS[p.idnps] = (i, p) }
        let linked = Set(vendorLinks.map(\.practitioner))
        return sites.compactMap { site in
            guard let (i, p) = byIDNPS[site.practitioner] else { return nil }
            return SyntheticFrance.indexedSite(site, practitioner: p, index: i, vendor: linked.contains(p.idnps),
                                               specialties: specialties)
        }
    }
}

/// Deterministic generator of a realistic synthetic France directory (same seed → same data).
///
/// Practitioners are apportioned to the places of `places.csv` in proportion to population (largest-remainder
/// method, so the split is exact), about half in general practice, the rest over common specialties and other
/// professions. Each record has its own random stream derived from (seed, index), so records can be generated
/// one at a time (``record(at:)``, ``forEachRecord(_:)``) without holding the directory in memory.
/// Postcodes outside Paris/Lyon/Marseille are synthetic (``PracticeSite/postcodeIsSynthetic``).
public struct SyntheticFrance: Sendable {
    /// Generation parameters.
    public struct Configuration: Sendable, Hashable {
        /// Number of practitioners.
        public var practitioners: Int
        /// Seed.
        public var seed: UInt64
        /// Share of practitioners taking part in the SAS.
        public var participationRate: Double
        /// Share of general practitioners.
        public var generalPracticeShare: Double
        /// Share of practitioners with a second site.
        public var secondSiteRate: Double
        /// Number of SOS Médecins associations (largest cities, at least 25 km apart).
        public var sosAssociations: Int
        /// Day from which vacation periods are drawn.
        public var referenceDate: Date

        /// Defaults: 20,000 practitioners, 40% participation, 50% GPs, 15% with two sites, 30 SOS associations.
        public init(practitioners: Int = 20_000, seed: UInt64 = 42, participationRate: Double = 0.4,
                    generalPracticeShare: Double = 0.5, secondSiteRate: Double = 0.15, sosAssociations: Int = 30,
                    referenceDate: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
            self.practitioners = practitioners
            self.seed = seed
            self.participationRate = participationRate
            self.generalPracticeShare = generalPracticeShare
            self.secondSiteRate = secondSiteRate
            self.sosAssociations = sosAssociations
            self.referenceDate = referenceDate
        }
    }

    /// Parameters.
    public let configuration: Configuration
    /// Places table.
    public let places: Places
    /// Departments table.
    public let departments: Departments
    /// Specialties table.
    public let specialties: Specialties
    /// Structures (CPTS, MSP, CDS, SOS Médecins).
    public var structures: [Structure] { territory.structures }
    /// The vendors links point to.
    public let vendors: [Vendor]
    /// SAS territories.
    public let territories: [Territory]

    let territory: SyntheticStructures
    /// cumulative[i] = number of practitioners in places 0..<i (length places + 1).
    let cumulative: [Int]
    let stride: Int

    /// Prepares a generator (structures and apportionment are computed here; records lazily).
    public init(configuration: Configuration, places: Places, departments: Departments, specialties: Specialties) {
        self.configuration = configuration
        self.places = places
        self.departments = departments
        self.specialties = specialties
        vendors = NameLists.vendors.map { Vendor(id: $0.id, name: $0.name) }
        territories = departments.all.map(Territory.init(department:))
        territory = SyntheticStructures(places: places, seed: configuration.seed, sosCount: configuration.sosAssociations)
        cumulative = Self.apportion(configuration.practitioners, places: places)
        let n = max(1, configuration.practitioners)
        stride = [7_919, 104_729, 1_299_709, 15_485_863].first { Self.gcd($0, n) == 1 } ?? 1
    }

    /// Loads the bundled tables and prepares a generator.
    public static func bundled(_ configuration: Configuration = Configuration()) throws -> SyntheticFrance {
        SyntheticFrance(configuration: configuration, places: try Places.load(), departments: try Departments.load(),
                        specialties: try Specialties.load())
    }

    /// Number of practitioners.
    public var count: Int { configuration.practitioners }

    /// Number of practitioners apportioned to a place.
    public func practitioners(inPlace id: Int) -> Int { cumulative[id + 1] - cumulative[id] }

    /// Calls `body` with every record, in order, without keeping them.
    public func forEachRecord(_ body: (SyntheticRecord) throws -> Void) rethrows {
        for i in 0..<count { try body(record(at: i)) }
    }

    /// Generates everything in memory.
    public func generate() -> SyntheticDirectory {
        var directory = SyntheticDirectory(practitioners: [], sites: [], structures: structures, vendorLinks: [],
                                           vendors: vendors, territories: territories)
        directory.practitioners.reserveCapacity(count)
        directory.sites.reserveCapacity(count + count / 5)
        forEachRecord { r in
            directory.practitioners.append(r.practitioner)
            directory.sites.append(contentsOf: r.sites)
            if let link = r.vendorLink { directory.vendorLinks.append(link) }
        }
        return directory
    }

    /// The place of record `index` (records are interleaved across places by a fixed permutation).
    public func placeID(ofRecord index: Int) -> Int {
        let slot = (index * stride) % max(1, count)
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid + 1] <= slot { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The spatial-index value of a site.
    public static func indexedSite(_ site: PracticeSite, practitioner p: Practitioner, index: Int, vendor: Bool,
                                   specialties: Specialties) -> IndexedSite {
        var flags = p.participation.flags
        if vendor { flags.insert(.vendorAgenda) }
        return IndexedSite(siteID: site.id, practitionerID: Int64(index), latitude: Float(site.latitude),
                           longitude: Float(site.longitude), specialties: p.specialtyCodes.compactMap(specialties.index(of:)),
                           profession: UInt8(p.professionCode) ?? 0, flags: flags)
    }

    // MARK: - Apportionment

    /// Largest-remainder apportionment of `total` over places by population.
    static func apportion(_ total: Int, places: Places) -> [Int] {
        let population = places.all.map { Double(max(0, $0.population)) }
        let sum = population.reduce(0, +)
        var counts = [Int](repeating: 0, count: population.count)
        if sum > 0, total > 0 {
            var remainders: [(Double, Int)] = []
            remainders.reserveCapacity(population.count)
            var assigned = 0
            for (i, p) in population.enumerated() {
                let quota = Double(total) * p / sum
                counts[i] = Int(quota)
                assigned += counts[i]
                remainders.append((quota - Double(counts[i]), i))
            }
            remainders.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
            for k in 0..<(total - assigned) { counts[remainders[k % remainders.count].1] += 1 }
        }
        var cumulative = [0]
        cumulative.reserveCapacity(counts.count + 1)
        for c in counts { cumulative.append(cumulative.last! + c) }
        return cumulative
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
