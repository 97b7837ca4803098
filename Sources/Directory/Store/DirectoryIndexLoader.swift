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
/// transaction as any change) and rebuilds when it moved, so that all nodes converge within one polling period.
public final class DirectoryIndexLoader: Sendable {
    let database: any Database
    let specialties: Specialties
    let logger: Logger
    private let current = NIOLockedValueBox(DirectoryCatalog.empty)

    public init(database: any Database, specialties: Specialties, logger: Logger) {
        self.database = database
        self.specialties = specialties
        self.logger = logger
    }

    /// The catalog in use.
    public var catalog: DirectoryCatalog { current.withLockedValue { $0 } }

    /// Rebuilds when the stored version differs from the one in memory; returns true when it rebuilt.
    @discardableResult
    public func refreshIfNeeded() async throws -> Bool {
        let version = try await DirectoryStore(database: database).version()
        if version == catalog.version && catalog.index.count > 0 { return false }
        try await rebuild(version: version)
        return true
    }

    /// Rebuilds the catalog from storage.
    public func rebuild(version: Int) async throws {
        let started = ContinuousClock.now
        let rows = try await database.query("""
            SELECT s.id, s.idnps, s.latitude, s.longitude, p.specialties, p.profession_code, p.participates,
                   p.participation_mode, p.participation_structure, p.accepts_extra, p.forfait_reorientation, p.vacations,
                   p.on_vacation
            FROM dir_sites s JOIN dir_practitioners p ON p.idnps = s.idnps
            ORDER BY s.idnps, s.id
            """)
        var vendorLinks: [String: [String]] = [:]
        for row in try await database.query("SELECT idnps, vendor FROM dir_vendor_links ORDER BY idnps, vendor") {
            if let id = row.optionalString("idnps"), let vendor = row.optionalString("vendor") { vendorLinks[id, default: []].append(vendor) }
        }
        var numbers: [String: Int64] = [:]
        var idnps: [String] = []
        var sites: [IndexedSite] = []
        var practitioners: [CatalogPractitioner] = []
        sites.reserveCapacity(rows.count)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        for row in rows {
            guard let id = row["id"].intValue, let practitioner = row.optionalString("idnps"),
                  let lat = row["latitude"].doubleValue, let lon = row["longitude"].doubleValue else { continue }
            let number: Int64
            let isNew: Bool
            if let known = numbers[practitioner] { number = known; isNew = false } else {
                number = Int64(idnps.count)
                numbers[practitioner] = number
                idnps.append(practitioner)
                isNew = true
            }
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
            let vendors = vendorLinks[practitioner] ?? []
            if !vendors.isEmpty { flags.insert(.vendorAgenda) }
            if isNew {
                var vacations = row.optionalString("vacations").flatMap {
                    try? decoder.decode([VacationPeriod].self, from: Data($0.utf8))
                } ?? []
                // The "vacances" switch: absent until switched off.
                if row.bool("on_vacation") { vacations.append(VacationPeriod(start: .distantPast, end: .distantFuture)) }
                practitioners.append(CatalogPractitioner(
                    flags: flags, structure: row.optionalString("participation_structure").flatMap { try? IDNST(parsing: $0) },
                    vacations: vacations, vendors: vendors))
            }
            let codes = (row.optionalString("specialties") ?? "").split(separator: ",").compactMap { specialties.index(of: String($0)) }
            sites.append(IndexedSite(
                siteID: Int64(id), practitionerID: number, latitude: Float(lat), longitude: Float(lon),
                specialties: codes, profession: UInt8(row.optionalString("profession_code") ?? "") ?? 0, flags: flags))
        }
        let index = SpatialIndex(sites: sites, generation: UInt64(version))
        // Structures whose manager switched SAS participation off are not offered (no settings row: participating).
        let withdrawn = Set(try await database.query("SELECT idnst FROM structure_settings WHERE participates = 0")
            .compactMap { $0.optionalString("idnst") })
        let structures = try await Self.loadStructures(database, decoder: decoder).filter { !withdrawn.contains($0.idnst.value) }
        current.withLockedValue {
            $0 = DirectoryCatalog(index: index, idnps: idnps, version: version, practitioners: practitioners,
                                  structures: structures)
        }
        logger.info("directory index built", metadata: [
            "sites": "\(sites.count)", "practitioners": "\(idnps.count)", "version": "\(version)",
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
