import Foundation
import SASDomain
import Storage

/// The care offer in storage: practitioners, practice sites, structures, vendor links.
///
/// National-directory fields (names, profession, specialties, sites) and SAS fields (participation, en sus,
/// vacations) are written by different sources; an RPPS re-import never overwrites what the SAS enrichment set.
public struct DirectoryStore: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    static let practitionerColumns = [
        "idnps", "civility", "exercise_civility", "family_name", "given_name", "profession_code", "specialties",
        "participates", "participation_mode", "participation_structure", "accepts_extra", "forfait_reorientation",
        "vacations", "source", "updated_at",
    ]

    /// Writes practitioners. With `keepParticipation`, existing rows keep their SAS participation fields.
    public static func upsert(_ practitioners: [Practitioner], source: String, keepParticipation: Bool,
                              on executor: any SQLExecutor, now: Date = Date()) async throws {
        let identity = ["civility", "exercise_civility", "family_name", "given_name", "profession_code", "specialties",
                        "source", "updated_at"]
        let sas = ["participates", "participation_mode", "participation_structure", "accepts_extra",
                   "forfait_reorientation", "vacations"]
        let updated = keepParticipation ? identity : identity + sas
        let writer = BulkWriter(
            table: "dir_practitioners", columns: practitionerColumns,
            conflict: "ON CONFLICT (idnps) DO UPDATE SET " + updated.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        try await writer.write(lastOccurrences(practitioners, by: \.idnps).map { p in
            let part = p.participation
            return [.text(p.idnps.value), .text(p.civility.rawValue), .optional(p.exerciseCivility), .text(p.familyName),
                    .text(p.givenName), .text(p.professionCode), .text(p.specialtyCodes.joined(separator: ",")),
                    .bool(part.participates), part.mode.map { .int($0.rawValue) } ?? .null,
                    .optional(part.structure?.value), .bool(part.acceptsExtraPatients), .bool(part.forfaitReorientation),
                    .optional(part.vacations.isEmpty ? nil : encodeJSON(part.vacations)), .text(source), .date(now)]
        }, on: executor)
    }

    /// Writes SAS participation for existing practitioners; returns the IDNPS that are unknown.
    public static func updateParticipation(_ entries: [(IDNPS, SASParticipation)], on executor: any SQLExecutor,
                                           now: Date = Date()) async throws -> [IDNPS] {
        var unknown: [IDNPS] = []
        for (idnps, part) in entries {
            let rows = try await executor.query("""
                UPDATE dir_practitioners SET participates = ?, participation_mode = ?, participation_structure = ?,
                    accepts_extra = ?, forfait_reorientation = ?, vacations = ?, updated_at = ?
                WHERE idnps = ? RETURNING idnps
                """, [.bool(part.participates), part.mode.map { .int($0.rawValue) } ?? .null, .optional(part.structure?.value),
                      .bool(part.acceptsExtraPatients), .bool(part.forfaitReorientation),
                      .optional(part.vacations.isEmpty ? nil : encodeJSON(part.vacations)), .date(now), .text(idnps.value)])
            if rows.isEmpty { unknown.append(idnps) }
        }
        return unknown
    }

    /// Writes practice sites (id is stable for a practitioner and an address, so re-imports update in place).
    public static func upsert(_ sites: [PracticeSite], on executor: any SQLExecutor, now: Date = Date()) async throws {
        let columns = ["id", "idnps", "structure_idnst", "address", "postcode", "insee_code", "city", "department",
                       "latitude", "longitude", "phone", "updated_at"]
        let writer = BulkWriter(
            table: "dir_sites", columns: columns,
            conflict: "ON CONFLICT (id) DO UPDATE SET " + columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        try await writer.write(lastOccurrences(sites, by: \.id).map { s in
            [.integer(s.id), .text(s.practitioner.value), .optional(s.structure?.value), .text(encodeJSON(s.address)),
             .text(s.address.postcode), .optional(s.inseeCode), .text(s.address.city), .text(s.departmentCode),
             .real(s.latitude), .real(s.longitude), .optional(s.phone.isEmpty ? nil : s.phone), .date(now)]
        }, on: executor)
    }

    /// Writes structures (CPTS, MSP, CDS, SOS Médecins).
    public static func upsert(_ structures: [Structure], on executor: any SQLExecutor, now: Date = Date()) async throws {
        let columns = ["idnst", "kind", "name", "department", "latitude", "longitude", "phone", "area", "places", "updated_at"]
        let writer = BulkWriter(
            table: "dir_structures", columns: columns,
            conflict: "ON CONFLICT (idnst) DO UPDATE SET " + columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        try await writer.write(lastOccurrences(structures, by: \.idnst).map { s in
            [.text(s.idnst.value), .text(s.kind.rawValue), .text(s.name), .text(s.departmentCode), .real(s.latitude),
             .real(s.longitude), .optional(s.phone.isEmpty ? nil : s.phone), .text(encodeJSON(s.interventionArea)),
             .text(encodeJSON(s.consultationPlaces)), .date(now)]
        }, on: executor)
    }

    /// The items with their key seen for the last time, in that order. A key twice in one multi-row
    /// `INSERT … ON CONFLICT DO UPDATE` is an error in PostgreSQL ("cannot affect row a second time") while SQLite
    /// applies both rows in turn: keeping the last one gives both engines SQLite's outcome (the later row wins).
    static func lastOccurrences<T, K: Hashable>(_ items: [T], by key: (T) -> K) -> [T] {
        var last: [K: Int] = [:]
        last.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { last[key(item)] = i }
        if last.count == items.count { return items }
        return items.indices.filter { last[key(items[$0])] == $0 }.map { items[$0] }
    }

    /// Writes practitioner ↔ vendor links (which booking software holds the agenda).
    public static func upsert(_ links: [VendorLink], on executor: any SQLExecutor) async throws {
        let writer = BulkWriter(table: "dir_vendor_links", columns: ["idnps", "vendor"], conflict: "ON CONFLICT (idnps, vendor) DO NOTHING")
        try await writer.write(links.map { [.text($0.practitioner.value), .text($0.vendorID)] }, on: executor)
    }

    /// Marks the directory as changed, so that every node rebuilds its search index.
    public static func bumpVersion(on executor: any SQLExecutor) async throws {
        try await PlatformSettings(executor).increment("directory.version")
    }

    /// The directory version (0 before the first write).
    public func version() async throws -> Int {
        try await PlatformSettings(database).get("directory.version").flatMap(Int.init) ?? 0
    }

    /// IDNPS of every practitioner already stored.
    public func existingIDNPS() async throws -> Set<String> {
        Set(try await database.query("SELECT idnps FROM dir_practitioners").compactMap { $0.optionalString("idnps") })
    }

    /// Counts, for summaries and the admin console.
    public func counts() async throws -> (practitioners: Int, sites: Int, structures: Int) {
        let row = try await database.query("""
            SELECT (SELECT COUNT(*) FROM dir_practitioners) AS p, (SELECT COUNT(*) FROM dir_sites) AS s,
                   (SELECT COUNT(*) FROM dir_structures) AS st
            """).first
        return (row?["p"].intValue ?? 0, row?["s"].intValue ?? 0, row?["st"].intValue ?? 0)
    }

    /// A stable site id for a practitioner and an address (FNV-1a, 63 bits).
    public static func siteID(idnps: String, address: PostalAddress) -> Int64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in "\(idnps)|\(TextNormalizer.key(address.streetLine))|\(address.postcode)|\(TextNormalizer.key(address.city))".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100000001b3
        }
        return Int64(bitPattern: hash & 0x7fff_ffff_ffff_ffff)
    }

    static func encodeJSON<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }
}
