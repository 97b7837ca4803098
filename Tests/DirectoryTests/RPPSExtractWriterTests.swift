@testable import Directory
import Foundation
import Testing

@Suite("RPPS extraction writer")
struct RPPSExtractWriterTests {
    /// The header quoted verbatim in ecosystem.md §3.1 (from a public loader's test file).
    static let documentedHeader = "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|Code profession|Libellé profession|Code catégorie professionnelle|Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|Numéro FINESS établissement juridique|Identifiant technique de la structure|Raison sociale site|Enseigne commerciale site|Complément destinataire (coord. structure)|Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|Mention distribution (coord. structure)|Bureau cedex (coord. structure)|Code postal (coord. structure)|Code commune (coord. structure)|Libellé commune (coord. structure)|Code pays (coord. structure)|Libellé pays (coord. structure)|Téléphone (coord. structure)|Téléphone 2 (coord. structure)|Télécopie (coord. structure)|Adresse e-mail (coord. structure)|Code Département (structure)|Libellé Département (structure)|Ancien identifiant de la structure|Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|Code section tableau pharmaciens|Libellé section tableau pharmaciens|"

    @Test func writesHeaderAndOneRowPerPractitionerSite() throws {
        let gen = SyntheticFrance(configuration: .init(practitioners: 1_500, seed: 3), places: Fixtures.places,
                                  departments: Fixtures.departments, specialties: Fixtures.specialties)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rpps-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        let rows = try gen.writeRPPSExtract(to: url)
        let expectedRows = (0..<gen.count).reduce(0) { $0 + gen.record(at: $1).sites.count }
        #expect(rows == expectedRows)

        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(text.hasSuffix("\n"))
        #expect(lines.count == rows + 1)
        #expect(lines[0] == Self.documentedHeader)
        #expect(RPPSExtractWriter.headerLine == Self.documentedHeader)
        let columns = RPPSExtractWriter.columns.count
        #expect(columns == 52)
        for line in lines {
            #expect(line.hasSuffix("|"))
            #expect(line.split(separator: "|", omittingEmptySubsequences: false).count == columns + 1)
        }

        // Spot-check a data row by header name.
        let header = lines[0].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        func column(_ row: String, _ name: String) throws -> String {
            let fields = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return fields[try #require(header.firstIndex(of: name))]
        }
        let first = gen.record(at: 0)
        let row = lines[1]
        #expect(try column(row, "Type d'identifiant PP") == "8")
        #expect(try column(row, "Identifiant PP") == first.practitioner.rpps)
        #expect(try column(row, "Identification nationale PP") == first.practitioner.idnps.value)
        #expect(try column(row, "Code postal (coord. structure)") == first.sites[0].address.postcode)
        #expect(try column(row, "Téléphone (coord. structure)").hasPrefix("0"))

        // Every row's "Bureau cedex" geocodes back to the site's department (what the importer will do).
        for line in lines.dropFirst().prefix(400) {
            let r = try Fixtures.geocoder.resolve(try column(line, "Bureau cedex (coord. structure)"))
            #expect(r.departmentCode == (try column(line, "Code Département (structure)")), "\(line)")
        }
    }

    @Test func phonesAreWrittenInNationalFormat() {
        #expect(RPPSExtractWriter.nationalPhone("+33478123456") == "0478123456")
        #expect(RPPSExtractWriter.nationalPhone("+262262123456") == "0262123456")
    }
}
