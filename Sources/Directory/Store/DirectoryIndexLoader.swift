import Foundation
import Logging
import NIOConcurrencyHelpers
import SASDomain
import Storage

/// The searchable directory held in memory by each node: the spatial index of practice sites and, for each indexed
/// practitioner number, its IDNPS.
public struct DirectoryCatalog: Sendable {
    public let index: SpatialIndex
    /// IDNPS by the `practitionerID` stored in the index.
    public let idnps: [String]
    /// The storage version it was built from.
    public let version: Int
    /// SAS facts by the `practitionerID` stored in the index (same order as `idnps`).
    public let practitioners: [CatalogPractitioner]
    /// Every CPTS, MSP, CDS and SOS Médecins association.
    public let structures: [Structure]
    /// The CPTS among them (searched for coverage on every search).
    public let cpts: [Structure]
    /// The SOS Médecins associations among them (their fixed places are searched on every search).
    public let sosAssociations: [Structure]
    /// Indices into `cpts` of the CPTS covering each place id (commune lists), and of those defined by a disc.
    private let cptsByPlace: [Int: [Int]]
    private let discCPTS: [Int]
    /// What structures' managers tell regulators (by IDNST), shown on their cards.
    public var structureInfo: [String: String] = [:]

    /// Creates a catalog.
    public init(index: SpatialIndex, idnps: [String], version: Int, practitioners: [CatalogPractitioner] = [],
                structures: [Structure] = []) {
        self.index = index
        self.idnps = idnps
        self.version = version
        self.practitioners = practitioners.count == idnps.count
            ? practitioners : idnps.map { _ in CatalogPractitioner(flags: [], structure: nil, vacations: []) }
        self.structures = structures
        self.cpts = structures.filter { $0.kind == .cpts }
        self.sosAssociations = structures.filter { $0.kind == .sosMedecins && !$0.consultationPlaces.isEmpty }
        var byPlace: [Int: [Int]] = [:], discs: [Int] = []
        for (i, structure) in cpts.enumerated() {
            switch structure.interventionArea {
            case .places(let ids): for id in Set(ids) { byPlace[id, default: []].append(i) }
            case .radius: discs.append(i)
            }
        }
        cptsByPlace = byPlace
        discCPTS = discs
    }

    /// The CPTS whose intervention area covers a place (its communes, or its disc), in `cpts` order: looked up by
    /// place id instead of scanning every CPTS's commune list on every search.
    public func cptsCovering(placeID: Int?, latitude: Double, longitude: Double) -> [Structure] {
        var hits = placeID.flatMap { cptsByPlace[$0] } ?? []
        for i in discCPTS {
            guard case .radius(let lat, let lon, let km) = cpts[i].interventionArea else { continue }
            if Haversine.distanceKm(lat, lon, latitude, longitude) <= km { hits.append(i) }
        }
        hits.sort()
        return hits.map { cpts[$0] }
    }

    public static let empty = DirectoryCatalog(index: .empty, idnps: [], version: 0)
}

/// What the search needs to know about a practitioner without touching storage.
public struct CatalogPractitioner: Sendable, Hashable {
    /// Participation flags (including ``ParticipationFlags/vendorAgenda``).
    public let flags: ParticipationFlags
    /// The structure (CPTS, MSP, SOS) it participates through, if any.
    public let structure: IDNST?
    /// Declared absences.
    public let vacations: [VacationPeriod]
    /// Vendors declared as holding the agenda (`dir_vendor_links`).
    public let vendors: [String]

    /// Memberwise initialiser.
    public init(flags: ParticipationFlags, structure: IDNST?, vacations: [VacationPeriod], vendors: [String] = []) {
        self.flags = flags
        self.structure = structure
        self.vacations = vacations
        self.vendors = vendors
    }

    /// Whether a declared absence covers the whole of `window`.
    public func isAbsent(throughout window: ClosedRange<Date>) -> Bool {
        vacations.contains { $0.start <= window.lowerBound && $0.end > window.upperBound }
    }
}

/// Builds the catalog from storage and keeps it fresh: every node polls the directory version (bumped in the same
/// transaction as any change) and, when it moved, patches the practitioners changed since its last look (their
/// participation, absences, vendors, specialties — what the workspace edits) or rebuilds everything (sites added or
/// removed, large imports), so that all nodes converge within one polling period without re-reading 300,000 rows
/// for a practitioner's settings.
public final class DirectoryIndexLoader: Sendable {
    let database: any Database
    let specialties: Specialties
    let logger: Logger
    private let current = NIOLockedValueBox(DirectoryCatalog.empty)
    /// What the last build read, for patches.
    private let built = NIOLockedValueBox<Built?>(nil)

    /// Above this many changed practitioners, a full rebuild is cheaper than a patch.
    static let patchLimit = 5_000
    /// Rows written up to this long before the last look are read again (transactions commit after they stamp).
    static let markSlackMilliseconds: Int64 = 60_000

    struct Built: Sendable {
        var sites: [IndexedSite]
        /// Range in `sites` of each practitioner number.
        var siteRanges: [Range<Int>]
        var numbers: [String: Int64]
        var idnps: [String]
        var practitioners: [CatalogPractitioner]
        var practitionerRows: Int
        var siteRows: Int
        var siteMark: Int64
        var mark: Int64
    }

    public init(database: any Database, specialties: Specialties, logger: Logger) {
        self.database = database
        self.specialties = specialties
        self.logger = logger
    }

    /// The catalog in use.
    public var catalog: DirectoryCatalog { current.withLockedValue { $0 } }

    /// Patches or rebuilds when the stored version differs from the one in memory; returns true when it did.
    @discardableResult
    public func refreshIfNeeded() async throws -> Bool {
        let version = try await DirectoryStore(database: database).version()
        if version == catalog.version && catalog.index.count > 0 { return false }
        if try await patch(version: version) { return true }
        try await rebuild(version: version)
        return true
    }

    static let practitionerColumns = """
        p.idnps, p.specialties, p.profession_code, p.participates, p.participation_mode, p.participation_structure,
        p.accepts_extra, p.forfait_reorientation, p.vacations, p.on_vacation
        """

    /// A practitioner row's facts.
    func facts(_ row: SQLRow, vendors: [String], decoder: JSONDecoder) -> (CatalogPractitioner, [UInt16], UInt8) {
        var flags: ParticipationFlags = []
        if row.bool("participates") {
            flags.insert(.participates)
            switch row["participation_mode"].intValue.flatMap(ParticipationMode.init(rawValue:)) {
            case .individual?: flags.insert(.viaIndividual)
            case .cpts?: flags.insert(.viaCPTS)
            case .msp?: flags.insert(.viaMSP)
            case .sosMedecins?: flags.insert(.viaSOS)
            case nil: break
            }
            if row.bool("accepts_extra") { flags.insert(.acceptsExtra) }
            if row.bool("forfait_reorientation") { flags.insert(.forfaitReorientation) }
        }
        if !vendors.isEmpty { flags.insert(.vendorAgenda) }
        var vacations = row.optionalString("vacations").flatMap {
            try? decoder.decode([VacationPeriod].self, from: Data($0.utf8))
        } ?? []
        // The "vacances" switch: absent until switched off.
        if row.bool("on_vacation") { vacations.append(VacationPeriod(start: .distantPast, end: .distantFuture)) }
        let codes = (row.optionalString("specialties") ?? "").split(separator: ",").compactMap { specialties.index(of: String($0)) }
        return (CatalogPractitioner(flags: flags, structure: row.optionalString("participation_structure").flatMap { try? IDNST(parsing: $0) },
                                    vacations: vacations, vendors: vendors),
                codes, UInt8(row.optionalString("profession_code") ?? "") ?? 0)
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// Row counts and latest changes of the directory tables (the maxima come from the `updated_at` indexes).
    static let storageShapeSQL = """
        SELECT (SELECT COUNT(*) FROM dir_practitioners) AS p, (SELECT COUNT(*) FROM dir_sites) AS s,
               (SELECT MAX(updated_at) FROM dir_sites) AS sm, (SELECT MAX(updated_at) FROM dir_practitioners) AS pm
        """

    /// The practitioners changed since a mark, at most `patchLimit + 1`. No `ORDER BY`: sorting by IDNPS made the
    /// planner walk the primary key over every row (~270 ms at 250,000 practitioners in SQLite) instead of
    /// the `updated_at` index (well under a millisecond for a few changed rows); the rows are applied in any order.
    static let changedPractitionersSQL = """
        SELECT \(practitionerColumns) FROM dir_practitioners p WHERE p.updated_at >= ? LIMIT \(patchLimit + 1)
        """

    func storageShape() async throws -> (practitioners: Int, sites: Int, siteMark: Int64, mark: Int64) {
        let row = try await database.query(Self.storageShapeSQL).first
        return (row?["p"].intValue ?? 0, row?["s"].intValue ?? 0, Int64(row?["sm"].intValue ?? 0), Int64(row?["pm"].intValue ?? 0))
    }

    /// Applies the practitioners changed since the last look; false when a full rebuild is needed instead.
    func patch(version: Int) async throws -> Bool {
        guard var state = built.withLockedValue({ $0 }) else { return false }
        let started = ContinuousClock.now
        let shape = try await storageShape()
        guard shape.practitioners == state.practitionerRows, shape.sites == state.siteRows, shape.siteMark == state.siteMark else {
            return false
        }
        let since = state.mark - Self.markSlackMilliseconds
        let changed = try await database.query(Self.changedPractitionersSQL, [.integer(since)])
        guard changed.count <= Self.patchLimit else { return false }
        let ids = changed.compactMap { $0.optionalString("idnps") }.filter { state.numbers[$0] != nil }
        var vendorLinks: [String: [String]] = [:]
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            for row in try await database.query("""
                SELECT idnps, vendor FROM dir_vendor_links WHERE idnps IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))
                ORDER BY idnps, vendor
                """, chunk.map(SQLValue.text)) {
                if let id = row.optionalString("idnps"), let vendor = row.optionalString("vendor") { vendorLinks[id, default: []].append(vendor) }
            }
        }
        let decoder = Self.decoder()
        for row in changed {
            guard let id = row.optionalString("idnps"), let number = state.numbers[id] else { continue }
            let (practitioner, codes, profession) = facts(row, vendors: vendorLinks[id] ?? [], decoder: decoder)
            state.practitioners[Int(number)] = practitioner
            for i in state.siteRanges[Int(number)] {
                state.sites[i].flags = practitioner.flags
                state.sites[i].specialties = codes
                state.sites[i].profession = profession
            }
        }
        state.mark = max(state.mark, shape.mark)
        try await publish(state, version: version)
        built.withLockedValue { $0 = state }
        logger.info("directory index patched", metadata: [
            "practitioners": "\(changed.count)", "version": "\(version)", "elapsed": "\(ContinuousClock.now - started)"])
        return true
    }

    func publish(_ state: Built, version: Int) async throws {
        let index = SpatialIndex(sites: state.sites, generation: UInt64(version))
        // Structures whose manager switched SAS participation off are not offered (no settings row: participating).
        let settings = try await database.query("SELECT idnst, participates, additional_info FROM structure_settings")
        let withdrawn = Set(settings.filter { !$0.bool("participates") }.compactMap { $0.optionalString("idnst") })
        var info: [String: String] = [:]
        for row in settings { if let id = row.optionalString("idnst"), let text = row.optionalString("additional_info") { info[id] = text } }
        let structures = try await Self.loadStructures(database, decoder: Self.decoder()).filter { !withdrawn.contains($0.idnst.value) }
        current.withLockedValue {
            // Never roll back: a slower refresh of an older version does not replace a newer catalog.
            guard version >= $0.version else { return }
            $0 = DirectoryCatalog(index: index, idnps: state.idnps, version: version, practitioners: state.practitioners,
                                  structures: structures)
            $0.structureInfo = info
        }
    }

    /// Rebuilds the catalog from storage.
    public func rebuild(version: Int) async throws {
        let started = ContinuousClock.now
        let shape = try await storageShape()
        let rows = try await database.query("""
            SELECT s.id, s.latitude, s.longitude, \(Self.practitionerColumns)
            FROM dir_sites s JOIN dir_practitioners p ON p.idnps = s.idnps
            ORDER BY s.idnps, s.id
            """)
        var vendorLinks: [String: [String]] = [:]
        for row in try await database.query("SELECT idnps, vendor FROM dir_vendor_links ORDER BY idnps, vendor") {
            if let id = row.optionalString("idnps"), let vendor = row.optionalString("vendor") { vendorLinks[id, default: []].append(vendor) }
        }
        var state = Built(sites: [], siteRanges: [], numbers: [:], idnps: [], practitioners: [], practitionerRows: shape.practitioners,
                          siteRows: shape.sites, siteMark: shape.siteMark, mark: shape.mark)
        state.sites.reserveCapacity(rows.count)
        let decoder = Self.decoder()
        var facts: (CatalogPractitioner, [UInt16], UInt8)?
        for row in rows {
            guard let id = row["id"].intValue, let practitioner = row.optionalString("idnps"),
                  let lat = row["latitude"].doubleValue, let lon = row["longitude"].doubleValue else { continue }
            let number: Int64
            if let known = state.numbers[practitioner] {
                number = known
            } else {
                number = Int64(state.idnps.count)
                state.numbers[practitioner] = number
                state.idnps.append(practitioner)
                facts = self.facts(row, vendors: vendorLinks[practitioner] ?? [], decoder: decoder)
                state.practitioners.append(facts!.0)
                state.siteRanges.append(state.sites.count..<state.sites.count)
            }
            guard let (practitionerFacts, codes, profession) = facts else { continue }
            state.sites.append(IndexedSite(
                siteID: Int64(id), practitionerID: number, latitude: Float(lat), longitude: Float(lon),
                specialties: codes, profession: profession, flags: practitionerFacts.flags))
            let range = state.siteRanges[Int(number)]
            state.siteRanges[Int(number)] = range.lowerBound..<state.sites.count
        }
        try await publish(state, version: version)
        built.withLockedValue { $0 = state }
        logger.info("directory index built", metadata: [
            "sites": "\(state.sites.count)", "practitioners": "\(state.idnps.count)", "version": "\(version)",
            "elapsed": "\(ContinuousClock.now - started)"])
    }

    /// Every stored structure (areas and consultation places decoded).
    public static func loadStructures(_ database: any Database, decoder: JSONDecoder, idnst: String? = nil) async throws -> [Structure] {
        try await database.query("""
            SELECT idnst, kind, name, department, latitude, longitude, phone, area, places FROM dir_structures
            \(idnst == nil ? "" : "WHERE idnst = ?") ORDER BY idnst
            """, idnst.map { [.text($0)] } ?? []).compactMap { row in
            guard let idnst = row.optionalString("idnst").flatMap({ try? IDNST(parsing: $0) }),
                  let kind = row.optionalString("kind").flatMap(StructureKind.init(rawValue:)),
                  let area = row.optionalString("area").flatMap({ try? decoder.decode(InterventionArea.self, from: Data($0.utf8)) })
            else { return nil }
            let places = row.optionalString("places").flatMap {
                try? decoder.decode([ConsultationPlace].self, from: Data($0.utf8))
            } ?? []
            return Structure(idnst: idnst, kind: kind, name: row.optionalString("name") ?? "",
                             departmentCode: row.optionalString("department") ?? "",
                             latitude: row["latitude"].doubleValue ?? 0, longitude: row["longitude"].doubleValue ?? 0,
                             phone: row.optionalString("phone") ?? "", interventionArea: area, consultationPlaces: places)
        }
    }
}
