import Directory
import Foundation
import SASDomain
import NIOConcurrencyHelpers
import Storage

/// Display details of practitioner cards, and the médecin traitant lookup, read from storage for the cards of one
/// page only (the in-memory index holds what ranking needs; names and addresses stay in the database).
public struct DirectoryReader: Sendable {
    let database: any Database
    let specialties: Specialties
    /// Details read recently, by site id (kept ``detailsSeconds``: a renamed practitioner shows within a minute).
    private let cache = NIOLockedValueBox<[Int64: (details: SiteDetails, until: ContinuousClock.Instant)]>([:])
    static let detailsSeconds = 60

    public init(database: any Database, specialties: Specialties) {
        self.database = database
        self.specialties = specialties
    }

    /// Name, specialties, address and phone of one practitioner at one site.
    public struct SiteDetails: Sendable, Hashable {
        public var name: String
        public var specialties: [String]
        public var address: [String]
        public var phone: String?
        public var additionalInfo: String?
    }

    /// Details by site id.
    public func details(sites wanted: [Int64]) async throws -> [Int64: SiteDetails] {
        guard !wanted.isEmpty else { return [:] }
        let now = ContinuousClock.now
        var result: [Int64: SiteDetails] = [:]
        cache.withLockedValue { c in
            for id in wanted { if let hit = c[id], hit.until > now { result[id] = hit.details } }
        }
        let sites = wanted.filter { result[$0] == nil }
        defer {
            let fresh = result, until = now + .seconds(Self.detailsSeconds)
            cache.withLockedValue { c in
                if c.count > 50_000 { c.removeAll(keepingCapacity: true) }
                for (id, d) in fresh { c[id] = (d, until) }
            }
        }
        let decoder = JSONDecoder()
        for start in stride(from: 0, to: sites.count, by: 500) {
            let chunk = Array(sites[start..<min(start + 500, sites.count)])
            let rows = try await database.query("""
                SELECT s.id, s.address, s.phone, p.idnps, p.civility, p.exercise_civility, p.family_name, p.given_name,
                       p.profession_code, p.specialties, p.additional_info
                FROM dir_sites s JOIN dir_practitioners p ON p.idnps = s.idnps
                WHERE s.id IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))
                """, chunk.map { .integer($0) })
            for row in rows {
                guard let id = row["id"].intValue else { continue }
                let address = row.optionalString("address").flatMap { try? decoder.decode(PostalAddress.self, from: Data($0.utf8)) }
                let codes = (row.optionalString("specialties") ?? "").split(separator: ",").map(String.init)
                var labels = codes.map { specialties[code: $0]?.short ?? $0 }
                if labels.isEmpty, let profession = row.optionalString("profession_code"),
                   let label = SpecialtySynonyms.Profession.labels[profession] {
                    labels = [label]
                }
                let civility = row.optionalString("civility") == "MME" ? "Mme" : "M."
                let prefix = row.optionalString("exercise_civility") == "DR" ? "Dr" : civility
                result[Int64(id)] = SiteDetails(
                    name: "\(prefix) \(row.optionalString("given_name") ?? "") \(row.optionalString("family_name") ?? "")",
                    specialties: labels, address: address?.lines ?? [], phone: row.optionalString("phone"),
                    additionalInfo: row.optionalString("additional_info"))
            }
        }
        return result
    }

    /// Practice sites of one practitioner.
    public func sites(of idnps: IDNPS) async throws -> [(id: Int64, latitude: Double, longitude: Double)] {
        try await database.query("SELECT id, latitude, longitude FROM dir_sites WHERE idnps = ? ORDER BY id",
                                 [.text(idnps.value)]).compactMap { row in
            guard let id = row["id"].intValue, let lat = row["latitude"].doubleValue, let lon = row["longitude"].doubleValue
            else { return nil }
            return (Int64(id), lat, lon)
        }
    }

    /// Practitioners whose name matches `text` ("Durand", "Marie Durand", "DURAND Marie"), accent- and
    /// case-insensitively on the whole name.
    public func practitioners(named text: String) async throws -> [IDNPS] {
        let tokens = TextNormalizer.tokens(text)
        let fragments = tokens.filter { $0.count >= 2 }.prefix(4).map { String($0.prefix(while: { $0.isASCII }).prefix(4)) }
            .filter { !$0.isEmpty }
        guard !fragments.isEmpty else { return [] }
        let wanted = tokens.joined(separator: " ")
        // The LIKE narrows on unaccented fragments of any word; the decision is made on normalised names below.
        let rows = try await database.query("""
            SELECT idnps, family_name, given_name FROM dir_practitioners
            WHERE \(fragments.map { _ in "lower(family_name) LIKE ?" }.joined(separator: " OR ")) LIMIT 5000
            """, fragments.map { .text("%\($0.lowercased())%") })
        var found: [IDNPS] = []
        for row in rows {
            let family = TextNormalizer.key(row.optionalString("family_name") ?? "")
            let given = TextNormalizer.key(row.optionalString("given_name") ?? "")
            guard [family, "\(given) \(family)", "\(family) \(given)"].contains(wanted),
                  let id = row.optionalString("idnps").flatMap({ try? IDNPS(parsing: $0) }) else { continue }
            if !found.contains(id) { found.append(id) }
        }
        return found.sorted()
    }
}
