@testable import Directory
import Foundation
import SASDomain
import Testing

@Suite("Synthetic France")
struct SyntheticFranceTests {
    let gen = Fixtures.synthetic
    let dir = Fixtures.directory

    @Test func sameSeedSameRecordsDifferentSeedDifferentRecords() {
        let again = SyntheticFrance(configuration: .init(practitioners: 6_000, seed: 7), places: Fixtures.places,
                                    departments: Fixtures.departments, specialties: Fixtures.specialties)
        let other = SyntheticFrance(configuration: .init(practitioners: 6_000, seed: 8), places: Fixtures.places,
                                    departments: Fixtures.departments, specialties: Fixtures.specialties)
        let first = (0..<20).map(gen.record(at:))
        #expect(first == (0..<20).map(again.record(at:)))
        #expect(first != (0..<20).map(other.record(at:)))
        #expect(gen.structures == again.structures)
        #expect(dir.practitioners.prefix(20) == first.map(\.practitioner)[...])
    }

    @Test func rppsNumbersAreValidAndUnique() {
        #expect(dir.practitioners.count == 6_000)
        #expect(dir.practitioners.allSatisfy { $0.idnps.kind == .rpps && RPPS.isChecksumValid($0.rpps) })
        #expect(dir.practitioners.allSatisfy { $0.idnps.value == "8" + $0.rpps && $0.rpps.count == 11 })
        #expect(Set(dir.practitioners.map(\.idnps)).count == dir.practitioners.count)
    }

    @Test(arguments: [3, 5, 7, 11] as [UInt64])
    func structureNumbersAreUnique(seed: UInt64) {
        // Seed 5 used to give two structures one FINESS number (six random digits per department); SOS SIRETs too
        // are drawn without repeats.
        let france = SyntheticFrance(configuration: .init(practitioners: 500, seed: seed), places: Fixtures.places,
                                     departments: Fixtures.departments, specialties: Fixtures.specialties)
        #expect(Set(france.structures.map(\.idnst)).count == france.structures.count)
    }

    @Test func professionMixAndParticipationRates() {
        let n = Double(dir.practitioners.count)
        let gp = dir.practitioners.filter { Specialties.generalPracticeCodes.contains($0.specialtyCodes.first ?? "") }
        #expect(abs(Double(gp.count) / n - 0.5) < 0.05)
        let doctors = dir.practitioners.filter { $0.professionCode == "10" }
        #expect(Double(doctors.count) / n > 0.7 && Double(doctors.count) / n < 0.9)
        #expect(Set(dir.practitioners.map(\.professionCode)).count >= 5)
        let participating = dir.practitioners.filter(\.participation.participates)
        #expect(abs(Double(participating.count) / n - 0.4) < 0.04)
        let modes = Set(participating.compactMap(\.participation.mode))
        #expect(modes == Set(ParticipationMode.allCases))
        #expect(!participating.contains { ($0.participation.mode == .msp || $0.participation.mode == .sosMedecins)
            && $0.participation.acceptsExtraPatients })
        #expect(participating.contains { $0.participation.acceptsExtraPatients })
        #expect(participating.filter { $0.participation.mode != .individual }.allSatisfy { $0.participation.structure != nil })
        #expect(!dir.practitioners.filter { !$0.participation.participates }.contains { $0.participation.mode != nil })
    }

    @Test func distributionFollowsPopulation() {
        var perPlace: [Int: Int] = [:]
        for s in dir.sites where s.id % 2 == 1 { perPlace[s.placeID!, default: 0] += 1 }  // first site of each
        let ranked = perPlace.sorted { $0.value > $1.value }.prefix(3).map { Fixtures.places.all[$0.key].name }
        #expect(ranked == ["Paris", "Marseille", "Lyon"])
        // Apportionment is exact: each place gets floor or ceil of its quota.
        let total = Double(Fixtures.places.all.reduce(0) { $0 + $1.population })
        for p in Fixtures.places.byPopulation().prefix(50) {
            let quota = 6_000 * Double(p.population) / total
            #expect(abs(Double(gen.practitioners(inPlace: p.id)) - quota) <= 1)
        }
    }

    @Test func sitesAreNearTheirPlaceWithPhonesAndPostcodes() throws {
        #expect(dir.sites.count >= dir.practitioners.count && dir.sites.count < dir.practitioners.count * 13 / 10)
        for s in dir.sites.prefix(2_000) {
            let p = Fixtures.places.all[try #require(s.placeID)]
            let near = s.structure != nil ? 25.0 : 3.01
            #expect(Haversine.distanceKm(s.latitude, s.longitude, p.latitude, p.longitude) <= near)
            // +33 + 9 digits, or an overseas code (+590, +596, +594, +262) + 9 digits.
            #expect(s.phone.hasPrefix("+33") ? s.phone.count == 12 : s.phone.count == 13)
            #expect(s.phone.hasPrefix("+") && s.phone.dropFirst().allSatisfy(\.isNumber))
            #expect(s.address.postcode.count == 5)
            #expect(Fixtures.departments[code: s.departmentCode] != nil)
            if s.postcodeIsSynthetic { #expect(CityCodes.postcode(s.address.postcode) == nil) }
        }
        #expect(dir.sites.contains { !$0.postcodeIsSynthetic && $0.inseeCode != nil })
    }

    @Test func structuresHaveValidIdentifiers() {
        let sos = dir.structures.filter { $0.kind == .sosMedecins }
        #expect(sos.count == 30)
        #expect(sos.allSatisfy { $0.idnst.kind == .siret && $0.siret?.count == 14 && $0.idnst.hasValidChecksum != false })
        #expect(sos.allSatisfy { (1...3).contains($0.consultationPlaces.count) })
        #expect(sos.contains { $0.name == "SOS Médecins Paris" })
        let cpts = dir.structures.filter { $0.kind == .cpts }
        #expect(cpts.count > 300)
        #expect(cpts.allSatisfy { $0.idnst.value.hasPrefix("1") && $0.idnst.value.count == 10 })
        let covered = cpts.reduce(0) { n, c in if case .places(let ids) = c.interventionArea { n + ids.count } else { n } }
        #expect(covered > Fixtures.places.all.count / 2)
        #expect(dir.structures.contains { $0.kind == .msp } && dir.structures.contains { $0.kind == .cds })
        #expect(Set(dir.structures.map(\.idnst)).count == dir.structures.count)
    }

    @Test func vendorLinksAndTerritories() {
        let share = Double(dir.vendorLinks.count) / Double(dir.practitioners.count)
        #expect(share > 0.4 && share < 0.65)
        #expect(Set(dir.vendorLinks.map(\.vendorID)).isSubset(of: Set(dir.vendors.map(\.id))))
        #expect(dir.territories.count == 101)
        #expect(dir.territories.first { $0.id == "SAS-69" }?.defaultRadiusKm == 5)
    }

    @Test func indexedSitesFeedTheSpatialIndex() throws {
        let sites = dir.indexedSites(specialties: Fixtures.specialties)
        #expect(sites.count == dir.sites.count)
        let index = SpatialIndex(sites: sites)
        let gp = Specialties.generalPracticeCodes.compactMap(Fixtures.specialties.index(of:))
        let lyon = try Fixtures.geocoder.resolve("Lyon")
        let hits = index.sites(within: 5, ofLatitude: lyon.latitude, longitude: lyon.longitude,
                               matching: SiteFilter(specialties: gp, requiredFlags: [.participates]))
        #expect(!hits.isEmpty)
        let byID = Dictionary(uniqueKeysWithValues: sites.map { ($0.siteID, $0) })
        #expect(hits.allSatisfy { byID[$0.siteID]!.flags.contains(.participates) })
    }
}
