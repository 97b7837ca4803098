@testable import Directory
import Foundation
import Testing

@Suite("Reference data")
struct ReferenceDataTests {
    @Test func normaliserFoldsAccentsCaseHyphensAndSaint() {
        #expect(TextNormalizer.key("Saint-Étienne") == "saint etienne")
        #expect(TextNormalizer.key("st etienne") == "saint etienne")
        #expect(TextNormalizer.key("STE-FOY-LÈS-LYON") == "sainte foy les lyon")
        #expect(TextNormalizer.key("Côtes-d’Armor") == "cotes d armor")
        #expect(TextNormalizer.key("  Œuvre  ") == "oeuvre")
        #expect(OfflineGeocoder.placeKey("Lyon 3e arrondissement") == "lyon 3")
        #expect(OfflineGeocoder.placeKey("Lyon 03") == "lyon 3")
        #expect(OfflineGeocoder.placeKey("Paris 1er") == "paris 1")
    }

    @Test func editDistanceCountsTranspositionsAndStopsEarly() {
        #expect(EditDistance.damerauLevenshtein("lyon", "lyno", limit: 2) == 1)
        #expect(EditDistance.damerauLevenshtein("marseile", "marseille", limit: 2) == 1)
        #expect(EditDistance.damerauLevenshtein("brest", "bresse", limit: 2) == 2)
        #expect(EditDistance.damerauLevenshtein("abcdef", "uvwxyz", limit: 2) == 3)
    }

    @Test func departmentsTableHas101RowsWithRadii() throws {
        let d = Fixtures.departments
        #expect(d.all.count == 101)
        let rhone = try #require(d[code: "69"])
        #expect(rhone.name == "Rhône")
        #expect(rhone.defaultRadiusKm == 5 && rhone.enlargementKm == 3 && rhone.sasTerritory == "SAS-69")
        #expect(d[code: "2a"]?.name == "Corse-du-Sud")
        #expect(d[code: "1"]?.code == "01")
        #expect(d.named("bouches du rhone")?.code == "13")
        #expect(d[code: "973"]?.effectiveDefaultRadiusKm == 50)
        #expect(d[code: "99"] == nil)
    }

    @Test func postcodesAndINSEECodesMapToDepartments() {
        let d = Fixtures.departments
        #expect(d.departmentCode(forPostcode: "69003") == "69")
        #expect(d.departmentCode(forPostcode: "20000") == "2A")
        #expect(d.departmentCode(forPostcode: "20200") == "2B")
        #expect(d.departmentCode(forPostcode: "97200") == "972")
        #expect(d.departmentCode(forPostcode: "99999") == nil)
        #expect(d.departmentCode(forINSEE: "2A004") == "2A")
        #expect(d.departmentCode(forINSEE: "97411") == "974")
    }

    @Test func generalPracticeIsSM54() throws {
        let s = try #require(Fixtures.specialties[code: "SM54"])
        #expect(s.display == "Médecine générale (SM)")
        #expect(Fixtures.specialties.all.count == 110)
        #expect(Fixtures.specialties[code: "SP01"]?.isActive == false)
        #expect(Fixtures.specialties.index(of: "SM54") != nil)
    }

    @Test(arguments: [
        ("médecin généraliste", "SM54"), ("Généraliste", "SM54"), ("MG", "SM54"), ("medecine generale", "SM54"),
        ("pédiatre", "SM40"), ("PEDIATRE", "SM40"), ("gynéco", "SM20"), ("ophtalmo", "SM38"), ("Dermatologie", "SM15"),
        ("pediatrr", "SM40"),
    ])
    func synonymsResolveToSpecialtyCodes(text: String, code: String) throws {
        let target = try #require(Fixtures.specialties.resolve(text).first)
        #expect(target.specialtyCodes.contains(code), "\(text) → \(target)")
    }

    @Test func synonymsResolveProfessionsAndStructures() throws {
        let s = Fixtures.specialties
        #expect(try #require(s.resolve("kiné").first).professionCodes == ["70"])
        #expect(try #require(s.resolve("dentiste").first).professionCodes == ["40"])
        #expect(try #require(s.resolve("sage-femme").first).professionCodes == ["50"])
        #expect(try #require(s.resolve("SOS").first).structureKinds == [.sosMedecins])
        #expect(try #require(s.resolve("cpts").first).structureKinds == [.cpts])
        #expect(s.resolve("xqzt").isEmpty)
        #expect(s.resolve("").isEmpty)
    }

    @Test func specialtyAutocompleteUsesPrefixes() {
        let s = Fixtures.specialties
        #expect(s.suggest("gyn").contains { $0.specialtyCodes.contains("SM20") })
        #expect(s.suggest("pédia").first?.specialtyCodes.contains("SM40") == true)
        #expect(s.suggest("kin").first?.professionCodes == ["70"])
        #expect(s.suggest("géné", limit: 3).count <= 3)
        #expect(s.suggest("zzzz").isEmpty)
    }

    @Test func explicitFileURLIsAccepted() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("deps-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        try """
        code,name,region,sas_territory,area_km2,department_radius_km,centre_latitude,centre_longitude,default_radius_km,enlargement_km
        69,Rhône,Auvergne-Rhône-Alpes,SAS-69,3259,81,45.870278,4.641389,5,3
        """.write(to: url, atomically: true, encoding: .utf8)
        let d = try Departments.load(from: url)
        #expect(d.all.count == 1 && d[code: "69"]?.departmentRadiusKm == 81)
        try "code,name\n69,Rhône\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: ReferenceDataError.self) { try Departments.load(from: url) }
    }
}
