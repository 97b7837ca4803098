import Directory
import Foundation
import SASDomain
import Sandbox
import Storage

/// Builds a sandbox vendor's roster from the platform's directory: the practitioners linked to that vendor, their
/// sites, the CPTS they belong to; and, for an SOS vendor, the SOS Médecins associations with their fixed places.
enum SandboxRosterLoader {
    static func load(vendor: String, includeSOS: Bool, database: any Database) async throws -> SandboxRoster {
        let structureRows = try await database.query("SELECT idnst, kind, name, phone, places FROM dir_structures")
        var structures: [String: (kind: String, structure: SandboxRoster.Structure, places: String)] = [:]
        for row in structureRows {
            guard let id = row.optionalString("idnst"), let idnst = try? IDNST(parsing: id) else { continue }
            structures[id] = (row.optionalString("kind") ?? "", .init(idnst: idnst, name: row.optionalString("name") ?? id,
                                                                        phone: row.optionalString("phone")),
                              row.optionalString("places") ?? "[]")
        }
        let rows = try await database.query("""
            SELECT p.idnps, p.family_name, p.given_name, p.specialties, p.participation_structure,
                   s.address, s.postcode, s.city, s.phone, s.latitude, s.longitude, s.structure_idnst
            FROM dir_vendor_links v JOIN dir_practitioners p ON p.idnps = v.idnps
            JOIN dir_sites s ON s.idnps = p.idnps
            WHERE v.vendor = ? ORDER BY p.idnps, s.id
            """, [.text(vendor)])
        var practitioners: [String: SandboxRoster.Practitioner] = [:]
        var order: [String] = []
        let decoder = JSONDecoder()
        for row in rows {
            guard let id = row.optionalString("idnps"), let idnps = try? IDNPS(parsing: id) else { continue }
            let address = (row.optionalString("address")?.data(using: .utf8)).flatMap { try? decoder.decode(PostalAddress.self, from: $0) }
            let site = SandboxRoster.Site(
                line: address?.streetLine ?? "", postalCode: row.optionalString("postcode") ?? "",
                city: row.optionalString("city") ?? "", phone: row.optionalString("phone"),
                latitude: row["latitude"].doubleValue, longitude: row["longitude"].doubleValue,
                organization: row.optionalString("structure_idnst").flatMap { try? IDNST(parsing: $0) })
            if practitioners[id] == nil {
                let cpts = row.optionalString("participation_structure").flatMap { structures[$0] }.flatMap {
                    $0.kind == StructureKind.cpts.rawValue ? $0.structure : nil
                }
                practitioners[id] = .init(
                    idnps: idnps, familyName: row.optionalString("family_name") ?? "", givenName: row.optionalString("given_name") ?? "",
                    specialties: (row.optionalString("specialties") ?? "").split(separator: ",").map(String.init),
                    sites: [], cpts: cpts)
                order.append(id)
            }
            practitioners[id]?.sites.append(site)
        }
        var associations: [SandboxRoster.Association] = []
        if includeSOS {
            for (_, entry) in structures where entry.kind == StructureKind.sosMedecins.rawValue {
                let places = (try? decoder.decode([ConsultationPlace].self, from: Data(entry.places.utf8))) ?? []
                associations.append(.init(structure: entry.structure, places: places.map {
                    SandboxRoster.Site(line: $0.address.streetLine, postalCode: $0.address.postcode, city: $0.address.city,
                                       phone: entry.structure.phone, latitude: $0.latitude, longitude: $0.longitude)
                }))
            }
        }
        return SandboxRoster(practitioners: order.compactMap { practitioners[$0] }, associations: associations)
    }
}
