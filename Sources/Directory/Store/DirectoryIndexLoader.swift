import Foundation
import Logging
import NIOConcurrencyHelpers
import Storage

/// The searchable directory held in memory by each node: the spatial index of practice sites and, for each indexed
/// practitioner number, its IDNPS.
public struct DirectoryCatalog: Sendable {
    public let index: SpatialIndex
    /// IDNPS by the `practitionerID` stored in the index.
    public let idnps: [String]
    /// The storage version it was built from.
    public let version: Int

    public static let empty = DirectoryCatalog(index: .empty, idnps: [], version: 0)
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
                   p.participation_mode, p.accepts_extra, p.forfait_reorientation,
                   (SELECT COUNT(*) FROM dir_vendor_links v WHERE v.idnps = p.idnps) AS vendors
            FROM dir_sites s JOIN dir_practitioners p ON p.idnps = s.idnps
            ORDER BY s.idnps, s.id
            """)
        var numbers: [String: Int64] = [:]
        var idnps: [String] = []
        var sites: [IndexedSite] = []
        sites.reserveCapacity(rows.count)
        for row in rows {
            guard let id = row["id"].intValue, let practitioner = row.optionalString("idnps"),
                  let lat = row["latitude"].doubleValue, let lon = row["longitude"].doubleValue else { continue }
            let number: Int64
            if let known = numbers[practitioner] { number = known } else {
                number = Int64(idnps.count)
                numbers[practitioner] = number
                idnps.append(practitioner)
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
            if (row["vendors"].intValue ?? 0) > 0 { flags.insert(.vendorAgenda) }
            let codes = (row.optionalString("specialties") ?? "").split(separator: ",").compactMap { specialties.index(of: String($0)) }
            sites.append(IndexedSite(
                siteID: Int64(id), practitionerID: number, latitude: Float(lat), longitude: Float(lon),
                specialties: codes, profession: UInt8(row.optionalString("profession_code") ?? "") ?? 0, flags: flags))
        }
        let index = SpatialIndex(sites: sites, generation: UInt64(version))
        current.withLockedValue { $0 = DirectoryCatalog(index: index, idnps: idnps, version: version) }
        logger.info("directory index built", metadata: [
            "sites": "\(sites.count)", "practitioners": "\(idnps.count)", "version": "\(version)",
            "elapsed": "\(ContinuousClock.now - started)"])
    }
}
