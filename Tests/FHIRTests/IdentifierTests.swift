import Foundation
import SASDomain
import Testing

@Suite("National identifiers")
struct IdentifierTests {
    @Test func luhnCheckDigitMatchesTheStandardVector() {
        #expect(RPPS.checkDigit(forFirst10: "7992739871") == 3) // classic Luhn example 79927398713
        #expect(RPPS.isChecksumValid("79927398713"))
        #expect(RPPS.checkDigit(forFirst10: "1010005007") == 8)
        #expect(RPPS.withCheckDigit("1010005007") == "10100050078")
        #expect(RPPS.checkDigit(forFirst10: "101000500") == nil)
        #expect(RPPS.checkDigit(forFirst10: "10100A5007") == nil)
        #expect(!RPPS.isChecksumValid("1010005007"))
    }

    @Test func igExampleRPPSIsAcceptedButNotLuhnValid() throws {
        let id = try IDNPS(parsing: "810100050075")
        #expect(id.kind == .rpps)
        #expect(id.rpps11 == "10100050075")
        #expect(id.hasValidChecksum == false)
        try id.validate(strictChecksum: false)
        #expect(throws: NationalIdentifierError.invalidChecksum(value: "810100050075")) {
            try id.validate(strictChecksum: true)
        }
        #expect(try IDNPS(parsing: "810002909371").hasValidChecksum == true)
    }

    @Test(arguments: [
        ("10100050075", "810100050075", IDNPS.Kind.rpps),
        (" 810100050075\n", "810100050075", .rpps),
        ("urn:oid:1.2.250.1.71.4.2.1|810002909371", "810002909371", .rpps),
        ("0123456789", "0123456789", .adeli),
        ("123456789", "0123456789", .adeli),
        ("2A1234567", "02A1234567", .adeli),
        ("3456780581/11242343", "3456780581/11242343", .structureStaff),
        ("3620100057/70326SR", "3620100057/70326SR", .structureStaff),
    ])
    func idnpsNormalisesPrefixes(input: String, value: String, kind: IDNPS.Kind) throws {
        let id = try IDNPS(parsing: input)
        #expect(id.value == value)
        #expect(id.kind == kind)
        #expect(id.token == "urn:oid:1.2.250.1.71.4.2.1|" + value)
    }

    @Test func idnpsRejectionsArePrecise() {
        #expect(throws: NationalIdentifierError.empty) { try IDNPS(parsing: "  ") }
        #expect(throws: NationalIdentifierError.invalidCharacters(value: "81010005007X")) { try IDNPS(parsing: "81010005007X") }
        #expect(throws: NationalIdentifierError.unknownPrefix(value: "910100050075", prefix: "9")) { try IDNPS(parsing: "910100050075") }
        #expect(throws: NationalIdentifierError.invalidLength(value: "12345", length: 5)) { try IDNPS(parsing: "12345") }
        #expect(throws: NationalIdentifierError.invalidCharacters(value: "8101-0005")) { try IDNPS(parsing: "8101-0005") }
        #expect(throws: NationalIdentifierError.unexpectedKind(value: "0123456789", expected: "RPPS", actual: "ADELI")) {
            try IDNPS.rpps("0123456789")
        }
    }

    @Test func errorMessagesAreFrenchForUsersAndEnglishForLogs() {
        let error = NationalIdentifierError.invalidChecksum(value: "810100050075")
        #expect(error.message == "L'identifiant « 810100050075 » a une clé de contrôle invalide.")
        #expect(error.localizedDescription == error.message)
        #expect(error.description == "identifier '810100050075' fails its Luhn check digit")
    }

    @Test(arguments: [
        ("1810004421", "1810004421", IDNST.Kind.finess),
        ("810004421", "1810004421", .finess),
        ("2A0000015", "12A0000015", .finess),
        ("334173748400020", "334173748400020", .siret),
        ("34173748400020", "334173748400020", .siret),
        ("412345678912345", "412345678912345", .rppsRang),
        ("0123456789", "0123456789", .adeliRang),
        ("urn:oid:1.2.250.1.71.4.2.2|392080466300010", "392080466300010", .siret),
    ])
    func idnstNormalisesPrefixes(input: String, value: String, kind: IDNST.Kind) throws {
        let id = try IDNST(parsing: input)
        #expect(id.value == value)
        #expect(id.kind == kind)
    }

    @Test func idnstRejectionsAndKinds() throws {
        #expect(throws: NationalIdentifierError.unknownPrefix(value: "512345678912345", prefix: "5")) {
            try IDNST(parsing: "512345678912345")
        }
        #expect(throws: NationalIdentifierError.invalidLength(value: "12345678", length: 8)) { try IDNST(parsing: "12345678") }
        #expect(throws: NationalIdentifierError.unexpectedKind(value: "1810004421", expected: "SIRET", actual: "FINESS")) {
            try IDNST.siret("1810004421")
        }
        #expect(try IDNST.finess("810004421").value == "1810004421")
        #expect(try IDNST.siret("34173748400020").unprefixed == "34173748400020")
    }

    @Test func siretChecksum() throws {
        #expect(try IDNST(parsing: "334173748400020").hasValidChecksum == true)
        #expect(try IDNST(parsing: "373282932000074").hasValidChecksum == true)
        #expect(try IDNST(parsing: "373282932000075").hasValidChecksum == false)
        #expect(try IDNST(parsing: "1810004421").hasValidChecksum == nil)
    }

    @Test func technicalIDsAndRegulatorIdentifiers() throws {
        let id = try SASTechnicalID(parsing: " 1EF1C748-01A3-6180-B098-73283CE4E5B1 ")
        #expect(id.value == "1ef1c748-01a3-6180-b098-73283ce4e5b1")
        #expect(throws: NationalIdentifierError.notAUUID(value: "not-a-uuid")) { try SASTechnicalID(parsing: "not-a-uuid") }
        let technical = try RegulatorIdentifier(system: IdentifierSystem.sasTechnical, value: id.value)
        #expect(technical == .technical(id))
        #expect(technical.typeCode == "INTRN")
        #expect(technical.token == "urn:oid:1.2.250.1.213.3.6|1ef1c748-01a3-6180-b098-73283ce4e5b1")
        let national = try RegulatorIdentifier(system: IdentifierSystem.idnps, value: "3456780581/11242343")
        #expect(national.typeCode == "IDNPS")
        #expect(national.value == "3456780581/11242343")
    }

    @Test func codableRoundTripsKeepPrefixedValues() throws {
        let encoded = try JSONEncoder().encode([try IDNPS(parsing: "10100050075")])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["810100050075"]"#)
        let decoded = try JSONDecoder().decode([IDNST].self, from: Data(#"["810004421"]"#.utf8))
        #expect(decoded.first?.value == "1810004421")
        let kinds: SlotKinds = [.public, .cpts]
        let kindsJSON = try JSONEncoder().encode(kinds)
        #expect(String(decoding: kindsJSON, as: UTF8.self) == #"["PUBLIC","CPTS"]"#)
        #expect(try JSONDecoder().decode(SlotKinds.self, from: kindsJSON) == kinds)
    }

    @Test func domainCodesAndLabels() {
        #expect(SlotKind(code: "snp") == .snp)
        #expect(SlotKind(code: "PRIVATE") == nil)
        #expect(ConsultationType(code: "HH")?.label == "Consultation à domicile")
        #expect(BookingMode(code: "WALKIN")?.label == "Créneau sans prise de RDV possible")
        var types = ConsultationTypes()
        types.insert(.teleconsultation)
        types.insert(.ambulatory)
        #expect(types.types == [.ambulatory, .teleconsultation])
    }
}
