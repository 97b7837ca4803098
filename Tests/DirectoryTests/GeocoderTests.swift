@testable import Directory
import Foundation
import Testing

@Suite("Offline geocoder")
struct GeocoderTests {
    let g = Fixtures.geocoder

    func place(_ name: String, _ department: String) throws -> Place {
        try #require(Fixtures.places.all.first { $0.name == name && $0.departmentCode == department })
    }

    @Test(arguments: [
        ("Lyon", "Lyon", "69"), ("lyon", "Lyon", "69"), ("LYON", "Lyon", "69"), ("Lyonn", "Lyon", "69"),
        ("Marseile", "Marseille", "13"), ("st etienne", "Saint-Étienne", "42"), ("Saint Etienne", "Saint-Étienne", "42"),
        ("saint-etienne", "Saint-Étienne", "42"), ("Bordeuax", "Bordeaux", "33"), ("Strasbourg", "Strasbourg", "67"),
        ("Brest", "Brest", "29"), ("Lyon 3e", "Lyon 03", "69"), ("Lyon 3", "Lyon 03", "69"),
        ("Paris 15e arrondissement", "Paris 15 Vaugirard", "75"), ("Toulouse", "Toulouse", "31"),
        ("Boulogne-Bilancourt", "Boulogne-Billancourt", "92"), ("Fort-de-France", "Fort-de-France", "972"),
        ("Lyon, France", "Lyon", "69"), ("69003 LYON CEDEX 03", "Lyon 03", "69"),
    ])
    func namesAndTyposResolveToTheCity(query: String, name: String, department: String) async throws {
        let r = try await g.geocode(query)
        #expect(r.place?.name == name, "\(query) → \(r.label)")
        #expect(r.departmentCode == department)
        #expect(r.precision == .city)
    }

    @Test func exactMatchBeatsTypoNeighbour() throws {
        // "Bresse" is one edit from "Brest" but is not a place: it must not silently become Brest unless it
        // is the only sensible reading; "Brest" itself must be Brest (29).
        let brest = try g.resolve("Brest")
        #expect(brest.place?.departmentCode == "29" && brest.score == 1)
        let bourg = try g.resolve("Bourg-en-Bresse")
        #expect(bourg.place?.name == "Bourg-en-Bresse")
    }

    @Test func addressBeforeTheCityKeepsTheStreetLine() throws {
        let lyon = try place("Lyon", "69")
        let r = try g.resolve("12 rue de la République, Lyon")
        #expect(r.place?.id == lyon.id)
        #expect(r.streetLine == "12 rue de la République")
        #expect(r.isAddressQuery && r.precision == .city)
        let noComma = try g.resolve("8 avenue Jean Jaurès Marseille")
        #expect(noComma.place?.name == "Marseille" && noComma.streetLine == "8 avenue Jean Jaurès")
        let withPostcode = try g.resolve("3 place Bellecour 69002 Lyon")
        #expect(withPostcode.place?.name == "Lyon 02" && withPostcode.postcode == "69002")
    }

    @Test func postcodesResolveToDepartmentsExceptArrondissements() throws {
        let lyon3 = try g.resolve("69003")
        #expect(lyon3.place?.name == "Lyon 03" && lyon3.precision == .city && lyon3.postcode == "69003")
        let paris = try g.resolve("75015")
        #expect(paris.place?.name == "Paris 15 Vaugirard" && paris.departmentCode == "75")
        let passy = try g.resolve("75116")
        #expect(passy.departmentCode == "75" && passy.place?.name.hasPrefix("Paris 16") == true)
        #expect(try g.resolve("13008").place?.name == "Marseille 08")
        let rural = try g.resolve("12000")
        #expect(rural.precision == .department && rural.departmentCode == "12" && rural.place == nil)
        #expect(try g.resolve("20000").departmentCode == "2A")
        #expect(try g.resolve("97400").departmentCode == "974")
        let aix = try g.resolve("13100 Aix-en-Provence")
        #expect(aix.place?.name == "Aix-en-Provence" && aix.precision == .city)
    }

    @Test func inseeCodesResolveToDepartmentsOrPLMCities() throws {
        let lyon = try g.resolve("69123")
        #expect(lyon.place?.name == "Lyon" && lyon.inseeCode == "69123")
        #expect(try g.resolve("75056").place?.name == "Paris")
        #expect(try g.resolve("69383").place?.name == "Lyon 03")
        let corsica = try g.resolve("2A004")
        #expect(corsica.precision == .department && corsica.departmentCode == "2A" && corsica.inseeCode == "2A004")
        let structured = try g.resolve(postcode: "25300", city: "DOUBS")
        #expect(structured.departmentCode == "25")
    }

    @Test func departmentsByCodeAndName() throws {
        let rhone = try g.resolve("69")
        #expect(rhone.precision == .department && rhone.departmentCode == "69" && rhone.label == "Rhône (69)")
        #expect(try g.resolve("Rhône").departmentCode == "69")
        #expect(try g.resolve("rhone").precision == .department)
        #expect(try g.resolve("2a").departmentCode == "2A")
        #expect(try g.resolve("bouches du rhone").departmentCode == "13")
        // "Vienne" is a department (86) and a city (filed under 69 in the GeoNames data): the department wins,
        // the city is offered as an alternative and reachable with its department.
        let vienne = try g.resolve("Vienne")
        #expect(vienne.precision == .department && vienne.departmentCode == "86")
        #expect(vienne.alternatives.contains { $0.kind == .place && $0.label == "Vienne (69)" })
        #expect(try g.resolve("Vienne (69)").place?.name == "Vienne")
        // Paris is both: the city.
        #expect(try g.resolve("Paris").place?.name == "Paris")
    }

    @Test func departmentQualifierDisambiguatesHomonyms() throws {
        #expect(try g.resolve("Saint-Denis").departmentCode == "974")
        #expect(try g.resolve("Saint-Denis 93").place?.name == "Saint-Denis")
        let stDenis93 = try g.resolve("Saint-Denis (93)")
        #expect(Fixtures.distanceKm(stDenis93, 48.936, 2.354) < 5)
        #expect(try g.resolve("Valence 26").departmentCode == "26")
    }

    @Test(arguments: ["xqzt", "", "   ", "12345678", "zzzzzzzzzz", "qwertyuiop", "99999", "20", "xq 12",
                      "Saint-Germain-en-Lxqz", "Bellecour Lxqz"])
    func garbageIsNotFound(query: String) {
        #expect(throws: GeocodeError.self) { try g.resolve(query) }
    }

    @Test func notFoundCarriesSuggestionsAndAFrenchMessage() {
        do {
            _ = try g.resolve("Lyonnnn")
            Issue.record("expected notFound")
        } catch let GeocodeError.notFound(query, suggestions) {
            #expect(query == "Lyonnnn")
            #expect(suggestions.contains { $0.label.hasPrefix("Lyon") })
            let message = GeocodeError.notFound(query: query, suggestions: suggestions).errorDescription ?? ""
            #expect(message.contains("introuvable"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func suggestionsArePrefixMatchesByPopulation() {
        let s = g.suggest("mars", limit: 5)
        #expect(s.first?.label == "Marseille (13)")
        #expect(s.count <= 5)
        #expect(g.suggest("saint-e", limit: 3).first?.label == "Saint-Étienne (42)")
        #expect(g.suggest("69", limit: 3).first?.kind == .department)
        #expect(g.suggest("", limit: 3).isEmpty)
    }

    /// (Was a timing assertion; lookup speed is measured by `sas bench directory` instead, see BENCHMARKS.md.)
    @Test func aTrailingTypoStillFindsTheLargePlaces() throws {
        var missed: [String] = []
        // Names with a number (arrondissements) are left out: "Lyon 03x" is not a typo of a name. A name that is also a
        // department's ("Vienne") may read as the department.
        for place in Fixtures.places.byPopulation().prefix(300) where !place.name.contains(where: \.isNumber) {
            let r = try? g.resolve(place.name + "x")
            if r?.place?.name != place.name, r?.precision != .department || r?.label.hasPrefix(place.name) != true {
                missed.append("\(place.name)x → \(r?.label ?? "rien")")
            }
        }
        #expect(missed.isEmpty, "\(missed.count) : \(missed.prefix(20))")
    }
}
