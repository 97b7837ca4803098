@testable import Directory
import Foundation
import SASDomain
import Testing

/// A hand-written etalab FINESS extraction, encoded in Windows-1252 byte by byte, and what the parser makes of it.
@Suite struct FinessExtractParserTests {
    /// Encodes text as Windows-1252 without going through the code under test (Latin-1 range + Œ/œ/’).
    static func windows1252(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { scalar -> UInt8 in
            switch scalar {
            case "Œ": return 0x8C
            case "œ": return 0x9C
            case "’": return 0x92
            default:
                precondition(scalar.value < 0x100, "not encodable: \(scalar)")
                return UInt8(scalar.value)
            }
        }
    }

    /// A 32-field structureet row (trailing empty numuai).
    static func structure(_ finess: String, name: String, longName: String = "", complement: String = "",
                          number: String = "", type: String = "", street: String = "", repetition: String = "",
                          lieuDit: String = "", commune: String, department: String, departmentLabel: String,
                          routing: String, phone: String = "", category: String, categoryLabel: String) -> String {
        ["structureet", finess, "010780054", name, longName, complement, "", number, type, street, repetition, lieuDit,
         commune, department, departmentLabel, routing, phone, "", category, categoryLabel, "1101", "Agrégat",
         "26010004500012", "8610Z", "03", "ARS", "1", "Etablissement public de santé", "2019-02-13", "2019-02-13",
         "2024-02-04", ""].joined(separator: ";")
    }

    static let lines: [String] = [
        "finess;etalab;111;2026-05-12",
        // 2: CDS, Lambert-93 (coordinates of a real FINESS row, converted by pyproj: 46.22229 N, 5.20918 E).
        structure("010009876", name: "CENTRE DE SANTÉ DES MINIMES", number: "12", type: "R", street: "DES MINIMES",
                  repetition: "B", commune: "451", department: "01", departmentLabel: "AIN", routing: "01440 VIRIAT",
                  phone: "0474454647", category: "124", categoryLabel: "Centre de Santé"),
        // 3: MSP in Guadeloupe (FINESS department 9A, 3-digit commune).
        structure("970111111", name: "MSP DES ABYMES", lieuDit: "MORNE JOLIVIÈRE", commune: "101", department: "9A",
                  departmentLabel: "GUADELOUPE", routing: "97139 LES ABYMES", phone: "0590821963", category: "603",
                  categoryLabel: "Maison de santé (L.6223-3)"),
        // 4: CPTS in La Réunion.
        structure("970422222", name: "CPTS OUEST RÉUNION", commune: "411", department: "9D",
                  departmentLabel: "LA REUNION", routing: "97400 ST DENIS", phone: "0262905050", category: "604",
                  categoryLabel: "Communauté Professionnelle Territoriale de Santé (CPTS)"),
        // 5: Mayotte, CEDEX routing line; its geolocation names no projection.
        structure("980533333", name: "CENTRE DE SANTÉ DE MAMOUDZOU", commune: "611", department: "9F",
                  departmentLabel: "MAYOTTE", routing: "97600 MAMOUDZOU CEDEX", phone: "0269610000", category: "124",
                  categoryLabel: "Centre de Santé"),
        // 6: Corsica MSP without any geolocation.
        structure("2A0044444", name: "MSP D'AJACCIO", number: "3", type: "AV", street: "DU PREMIER CONSUL",
                  commune: "004", department: "2A", departmentLabel: "CORSE-DU-SUD", routing: "20000 AJACCIO",
                  phone: "04 95 00 00 00", category: "603", categoryLabel: "Maison de santé (L.6223-3)"),
        // 7: quoted name with a doubled quote, a semicolon and a Windows-1252 Œ; not a SAS structure.
        structure("690055555", name: "\"EHPAD LES SŒURS \"\"SAINT-JOSEPH\"\"; ANNEXE\"", commune: "383",
                  department: "69", departmentLabel: "RHONE", routing: "69003 LYON", category: "500",
                  categoryLabel: "EHPAD"),
        // 8: broken line (truncated).
        "structureet;750066666;750000000;CDS TRONQUÉ;;;;;;;;;056;75",
        // 9: unknown record type.
        "equipementsocial;750077777;1;2;3",
        // 10: invalid FINESS number.
        structure("0100A0024", name: "NUMÉRO INVALIDE", commune: "451", department: "01", departmentLabel: "AIN",
                  routing: "01440 VIRIAT", category: "124", categoryLabel: "Centre de Santé"),
        // 11: duplicate of line 2.
        structure("010009876", name: "DOUBLON", commune: "451", department: "01", departmentLabel: "AIN",
                  routing: "01440 VIRIAT", category: "124", categoryLabel: "Centre de Santé"),
        // 12: unterminated quote.
        "structureet;690088888;690000000;\"NOM SANS FIN;;;",
        // 13: empty line, ignored.
        "",
        // 14–18: geolocations (pyproj control values of public loaders; see ProjectionTests).
        "geolocalisation;010009876;870262.2;6571540.8;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-05-04",
        "geolocalisation;970111111;657242.9;1795384.4;2,ATLASANTE,96,BAN,EPSG:5490 RGAF09/UTM Zone 20N (Antilles);2026-05-04",
        "geolocalisation;970422222;323086.6;7679599.8;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_S40;2026-05-04",
        "geolocalisation;980533333;524819.9;8587194.7;;2026-05-04",
        "geolocalisation;690055555;;;;",
        // 19: coordinates of an establishment absent from the file.
        "geolocalisation;330099999;417000.0;6424000.0;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-05-04",
        // 20: non-numeric coordinates.
        "geolocalisation;2A0044444;X;Y;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-05-04",
        // 21: second geolocation of line 2.
        "geolocalisation;010009876;870000.0;6570000.0;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-05-04",
    ]

    /// The fixture as Windows-1252 bytes, mixed LF/CRLF endings, no final newline.
    static let bytes: Data = {
        var data = Data()
        for (i, line) in lines.enumerated() {
            data.append(contentsOf: windows1252(line))
            if i < lines.count - 1 { data.append(contentsOf: i % 3 == 0 ? [0x0D, 0x0A] : [0x0A]) }
        }
        return data
    }()

    static func parse(_ data: Data, chunkSize: Int = 1 << 20) throws -> (FinessExtract, [FinessProblem]) {
        var problems: [FinessProblem] = []
        let extract = try FinessExtractParser.parseExtract(data: data, chunkSize: chunkSize) { problems.append($0) }
        return (extract, problems)
    }

    /// Great-circle distance in metres (spherical, R = 6 371 km).
    static func metres(_ lat1: Double?, _ lon1: Double?, _ lat2: Double, _ lon2: Double) -> Double {
        guard let lat1, let lon1 else { return .infinity }
        let r = Double.pi / 180
        let h = pow(sin((lat2 - lat1) * r / 2), 2) + cos(lat1 * r) * cos(lat2 * r) * pow(sin((lon2 - lon1) * r / 2), 2)
        return 2 * 6_371_000 * asin(h.squareRoot())
    }

    @Test func parsesEstablishmentsAndJoinsCoordinates() throws {
        let (extract, _) = try Self.parse(Self.bytes)
        #expect(extract.header == FinessExtractHeader(schemaVersion: "111", date: "2026-05-12"))
        #expect(extract.sawWindows1252)
        #expect(extract.linesRead == Self.lines.count)
        let byFINESS = Dictionary(uniqueKeysWithValues: extract.establishments.map { ($0.finess, $0) })
        #expect(extract.establishments.map(\.finess)
            == ["010009876", "970111111", "970422222", "980533333", "2A0044444", "690055555"])

        let cds = try #require(byFINESS["010009876"])
        #expect(cds.idnst.value == "1010009876")
        #expect(cds.name == "CENTRE DE SANTÉ DES MINIMES")
        #expect(cds.categoryCode == "124" && cds.categoryLabel == "Centre de Santé")
        #expect(cds.address == PostalAddress(number: "12", repetition: "B", streetTypeCode: "R", streetType: "Rue",
                                             streetName: "DES MINIMES", postcode: "01440", city: "VIRIAT"))
        #expect(cds.inseeCode == "01451" && cds.departmentCode == "01")
        #expect(cds.phone == "+33474454647")
        #expect(cds.siret == "26010004500012")
        #expect(cds.projection == .lambert93)
        #expect(Self.metres(cds.latitude, cds.longitude, 46.22229, 5.20918) < 10)
        #expect(cds.line == 2)

        let msp = try #require(byFINESS["970111111"])
        #expect(msp.departmentCode == "971" && msp.inseeCode == "97101")
        #expect(msp.address.complement == "MORNE JOLIVIÈRE")
        #expect(msp.phone == "+590590821963")
        #expect(msp.projection == .utm20N)
        #expect(Self.metres(msp.latitude, msp.longitude, 16.23400, -61.52874) < 10)

        let cpts = try #require(byFINESS["970422222"])
        #expect(cpts.departmentCode == "974" && cpts.inseeCode == "97411")
        #expect(cpts.phone == "+262262905050")
        #expect(cpts.projection == .utm40S)
        #expect(Self.metres(cpts.latitude, cpts.longitude, -20.97571, 55.29821) < 10)

        let mayotte = try #require(byFINESS["980533333"])
        #expect(mayotte.departmentCode == "976" && mayotte.inseeCode == "97611")
        #expect(mayotte.address.postcode == "97600" && mayotte.address.city == "MAMOUDZOU" && mayotte.isCedex)
        #expect(mayotte.projection == .utm38S) // from the department: sourcecoordet is empty
        #expect(Self.metres(mayotte.latitude, mayotte.longitude, -12.77989, 45.22868) < 10)

        let corsica = try #require(byFINESS["2A0044444"])
        #expect(corsica.idnst.value == "12A0044444")
        #expect(corsica.departmentCode == "2A" && corsica.inseeCode == "2A004")
        #expect(corsica.address.streetType == "Avenue" && corsica.phone == "+33495000000")
        #expect(!corsica.isGeolocated && corsica.projection == nil)

        let ehpad = try #require(byFINESS["690055555"])
        #expect(ehpad.name == "EHPAD LES SŒURS \"SAINT-JOSEPH\"; ANNEXE")
        #expect(ehpad.inseeCode == "69383" && !ehpad.isGeolocated)
    }

    @Test func reportsEveryRejectedLineWithItsReason() throws {
        // Geolocation rows are read in a first pass; coordinates of an unknown establishment are reported last.
        let (_, reported) = try Self.parse(Self.bytes)
        #expect(reported.last?.line == 19)
        let problems = reported.sorted { $0.line < $1.line }
        let expected: [(Int, String)] = [
            (8, "nombre de champs inattendu pour structureet : 14 au lieu de 32"),
            (9, "type d'enregistrement inconnu « equipementsocial »"),
            (10, "numéro FINESS d'établissement invalide « 0100A0024 »"),
            (11, "établissement 010009876 en double"),
            (12, "guillemet non fermé"),
            (19, "géolocalisation d'un établissement absent du fichier (330099999)"),
            (20, "coordonnées non numériques"),
            (21, "géolocalisation en double pour l'établissement 010009876"),
        ]
        #expect(problems.map(\.line) == expected.map(\.0))
        for (problem, (line, text)) in zip(problems, expected) {
            #expect(problem.reason.contains(text), "line \(line): \(problem.reason)")
        }
        #expect(problems.first?.description.hasPrefix("ligne 8 : ") == true)
    }

    @Test(arguments: [1, 7, 64, 4_096])
    func chunkSizeDoesNotChangeTheResult(chunkSize: Int) throws {
        let (reference, referenceProblems) = try Self.parse(Self.bytes)
        let (extract, problems) = try Self.parse(Self.bytes, chunkSize: chunkSize)
        #expect(extract.establishments == reference.establishments)
        #expect(problems == referenceProblems)
    }

    @Test func readsFromAFileAndFromUTF8() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("etalab-cs1100507-stock-\(UUID().uuidString).csv")
        try Self.bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var problems: [FinessProblem] = []
        let fromFile = try FinessExtractParser.parse(url: url) { problems.append($0) }
        #expect(fromFile == (try Self.parse(Self.bytes)).0.establishments)
        #expect(problems.count == 8)

        let utf8 = Data(Self.lines.joined(separator: "\n").utf8)
        let (extract, _) = try Self.parse(utf8)
        #expect(!extract.sawWindows1252)
        #expect(extract.establishments.map(\.name) == fromFile.map(\.name))
    }

    @Test func mapsSASStructuresOnly() throws {
        let (extract, _) = try Self.parse(Self.bytes)
        let structures = extract.establishments.compactMap { $0.toStructure() }
        #expect(structures.map(\.idnst.value) == ["1010009876", "1970111111", "1970422222", "1980533333"])
        #expect(structures.map(\.kind) == [.cds, .msp, .cpts, .cds])
        let cpts = try #require(structures.first { $0.kind == .cpts })
        #expect(cpts.departmentCode == "974" && cpts.phone == "+262262905050" && cpts.finess == "970422222")
        #expect(cpts.interventionArea == .places([]))
        // The Corsican MSP has no coordinates, the EHPAD is not a SAS structure.
        let corsica = try #require(extract.establishments.first { $0.departmentCode == "2A" })
        #expect(corsica.structureKind == .msp && corsica.toStructure() == nil)
        let area = InterventionArea.radius(latitude: 41.9, longitude: 8.7, km: 10)
        #expect(extract.establishments[0].toStructure(interventionArea: area)?.interventionArea == area)
    }

    @Test func dropsCoordinatesOutsideTheTerritory() throws {
        let text = [
            Self.structure("970400001", name: "CDS", commune: "411", department: "9D", departmentLabel: "LA REUNION",
                           routing: "97400 ST DENIS", category: "124", categoryLabel: "Centre de Santé"),
            "geolocalisation;970400001;870262.2;6571540.8;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-05-04",
        ].joined(separator: "\n")
        let (extract, problems) = try Self.parse(Data(text.utf8))
        #expect(extract.header == nil)
        #expect(extract.establishments.count == 1 && !extract.establishments[0].isGeolocated)
        #expect(problems.map(\.line) == [2])
        #expect(problems.first?.reason.contains("hors du département 974") == true)
    }

    @Test func joinsCoordinatesListedBeforeTheirEstablishment() throws {
        let text = [
            "finess;etalab;98;2026-05-12",
            "geolocalisation;010009876;870262.2;6571540.8;;2026-05-04",
            Self.structure("010009876", name: "CDS", commune: "451", department: "01", departmentLabel: "AIN",
                           routing: "01440 VIRIAT", category: "124", categoryLabel: "Centre de Santé"),
        ].joined(separator: "\n")
        let (extract, problems) = try Self.parse(Data(text.utf8))
        #expect(problems.isEmpty)
        let only = try #require(extract.establishments.first)
        #expect(only.projection == .lambert93)
        #expect(Self.metres(only.latitude, only.longitude, 46.22229, 5.20918) < 10)
    }

    @Test func refusesAFileThatIsNotAFINESSExtraction() {
        let rpps = Data("Type d'identifiant PP|Identifiant PP|Identification nationale PP|\n".utf8)
            + Data(Self.lines[1...].joined(separator: "\n").utf8)
        var delivered = 0
        #expect(throws: FinessExtractError.self) {
            _ = try FinessExtractParser.forEach(data: rpps, onProblem: { _ in }) { _ in delivered += 1 }
        }
        #expect(delivered == 0)
    }

    struct Stop: Error {}

    @Test func streamsEstablishmentsWithStatistics() throws {
        var names: [String] = []
        let info = try FinessExtractParser.forEach(data: Self.bytes, chunkSize: 100, onProblem: { _ in }) {
            names.append($0.name)
        }
        #expect(names.count == 6 && names.first == "CENTRE DE SANTÉ DES MINIMES")
        #expect(info.establishments == 6 && info.geolocated == 4 && info.linesRead == Self.lines.count)
        #expect(info.header?.date == "2026-05-12" && info.sawWindows1252)
        // An error thrown by the consumer stops the reading.
        var seen = 0
        #expect(throws: Stop.self) {
            _ = try FinessExtractParser.forEach(data: Self.bytes, onProblem: { _ in }) { _ in
                seen += 1
                if seen == 2 { throw Stop() }
            }
        }
        #expect(seen == 2)
    }

    @Test func fieldHelpers() {
        #expect(FinessFields.inseeCode(department: "01", commune: "451") == "01451")
        #expect(FinessFields.inseeCode(department: "2B", commune: "033") == "2B033")
        #expect(FinessFields.inseeCode(department: "9B", commune: "209") == "97209")
        #expect(FinessFields.inseeCode(department: "971", commune: "01") == "97101")
        #expect(FinessFields.inseeCode(department: "9A", commune: "123") == "97701") // Saint-Barthélemy
        #expect(FinessFields.inseeCode(department: "9A", commune: "127") == "97801") // Saint-Martin
        #expect(FinessFields.inseeCode(department: "9A", commune: "209") == nil)
        #expect(FinessFields.inseeCode(department: "01", commune: "") == nil)
        #expect(FinessFields.departmentCode("9C") == "973" && FinessFields.departmentCode("1") == "01")
        #expect(FinessFields.departmentCode("XX") == nil)
        let lyon = FinessFields.routingLine("69003 LYON CEDEX 03")
        #expect(lyon.postcode == "69003" && lyon.city == "LYON" && lyon.cedex)
        let plain = FinessFields.routingLine("13100 AIX EN PROVENCE")
        #expect(plain.postcode == "13100" && plain.city == "AIX EN PROVENCE" && !plain.cedex)
        #expect(FinessFields.phone("01 45 67 89 10") == "+33145678910")
        #expect(FinessFields.phone("0596748677") == "+596596748677")
        #expect(FinessFields.phone("0694000000") == "+594694000000")
        #expect(FinessFields.phone("0639000000") == "+262639000000")
        #expect(FinessFields.phone("3615") == "3615")
        #expect(FinessFields.phone("") == "")
        #expect(SemicolonRecordReader.windows1252Scalar(0x80) == "€" && SemicolonRecordReader.windows1252Scalar(0xE9) == "é")
    }
}
