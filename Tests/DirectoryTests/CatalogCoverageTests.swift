@testable import Directory
import Foundation
import SASDomain
import Testing

/// `DirectoryCatalog.cptsCovering` answers from an index what scanning every CPTS's area would answer.
@Suite("Catalog CPTS coverage")
struct CatalogCoverageTests {
    @Test func theIndexAnswersWhatAScanOfEveryAreaAnswers() throws {
        var rng = Xoshiro256(seed: 7)
        let places = Fixtures.places.byPopulation().prefix(300).map { $0 }
        var structures: [Structure] = []
        for i in 0..<60 {
            let seat = rng.pick(places)
            let area: InterventionArea = i % 3 == 0
                ? .radius(latitude: seat.latitude, longitude: seat.longitude, km: Double(rng.int(5...40)))
                : .places((0..<rng.int(1...25)).map { _ in rng.pick(places).id } + [seat.id, seat.id]) // repeats too
            let finess = "1" + String(format: "%08d", 10_000 + i)
            structures.append(Structure(idnst: try IDNST(parsing: finess), kind: i % 7 == 0 ? .msp : .cpts,
                                        name: "S\(i)", departmentCode: "69", latitude: seat.latitude,
                                        longitude: seat.longitude, phone: "", interventionArea: area))
        }
        let catalog = DirectoryCatalog(index: .empty, idnps: [], version: 1, structures: structures)
        var nonEmpty = 0
        for place in places.prefix(200) {
            for placeID in [Optional(place.id), nil] {
                let scanned = catalog.cpts.filter { s in
                    switch s.interventionArea {
                    case .places(let ids): return placeID.map(ids.contains) ?? false
                    case .radius(let lat, let lon, let km):
                        return Haversine.distanceKm(lat, lon, place.latitude, place.longitude) <= km
                    }
                }
                let indexed = catalog.cptsCovering(placeID: placeID, latitude: place.latitude, longitude: place.longitude)
                #expect(indexed.map(\.idnst) == scanned.map(\.idnst), "place \(place.id), id given: \(placeID != nil)")
                if !indexed.isEmpty { nonEmpty += 1 }
            }
        }
        #expect(nonEmpty > 20) // the comparison is not vacuous
        #expect(catalog.cpts.allSatisfy { $0.kind == .cpts })
    }
}
