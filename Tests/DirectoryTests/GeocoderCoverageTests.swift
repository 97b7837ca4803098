@testable import Directory
import Foundation
import Testing

/// The acceptance loops: every department name and the 500 most populous places.
@Suite("Geocoder coverage")
struct GeocoderCoverageTests {
    let g = Fixtures.geocoder

    @Test func all101DepartmentNamesResolveWithin1Km() throws {
        #expect(Fixtures.departments.all.count == 101)
        var failures: [String] = []
        for d in Fixtures.departments.all {
            // Overseas rows carry no barycentre: the documented fallback is the most populous place.
            let expected: (Double, Double)
            if d.hasCentre {
                expected = (d.centreLatitude, d.centreLongitude)
            } else {
                let p = try #require(Fixtures.places.byPopulation().first { $0.departmentCode == d.code })
                expected = (p.latitude, p.longitude)
            }
            do {
                let r = try g.resolve(d.name)
                if r.departmentCode != d.code || Fixtures.distanceKm(r, expected.0, expected.1) > 1 {
                    failures.append("\(d.name) → \(r.label)")
                }
            } catch {
                failures.append("\(d.name) → \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func top500PlacesResolveWithin1Km() {
        let top = Fixtures.places.byPopulation().prefix(500)
        #expect(top.count == 500)
        var failures: [String] = []
        var qualified = 0
        for p in top {
            // Homonyms (another place or a department with the same name) are typed with their department,
            // as a regulator would: "Saint-Denis (75)".
            let key = OfflineGeocoder.placeKey(p.name)
            let ambiguous = (g.exact[key]?.count ?? 0) > 1
            let query = ambiguous ? "\(p.name) (\(p.departmentCode))" : p.name
            if ambiguous { qualified += 1 }
            do {
                let r = try g.resolve(query)
                let d = Fixtures.distanceKm(r, p.latitude, p.longitude)
                if d > 1 || r.precision != .city { failures.append("\(query) → \(r.label) at \(d) km") }
            } catch {
                failures.append("\(query) → \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(qualified < 60)
    }

    @Test func top500PlacesSurviveOneTypo() {
        // Drop one letter (from the middle on) of names of 8+ letters: still the same place (or a homonym within 1 km).
        var failures: [String] = []
        for p in Fixtures.places.byPopulation().prefix(500) {
            let key = OfflineGeocoder.placeKey(p.name)
            guard key.count >= 8, (g.exact[key]?.count ?? 0) == 1 else { continue }
            var chars = Array(p.name)
            guard let i = chars.indices.dropFirst(chars.count / 2).first(where: { chars[$0].isLetter }) else { continue }
            chars.remove(at: i)
            let typo = String(chars)
            guard g.exact[OfflineGeocoder.placeKey(typo)] == nil else { continue }
            if let r = try? g.resolve(typo), Fixtures.distanceKm(r, p.latitude, p.longitude) <= 1 { continue }
            failures.append(typo)
        }
        #expect(failures.count <= 5, "\(failures)")
    }
}
