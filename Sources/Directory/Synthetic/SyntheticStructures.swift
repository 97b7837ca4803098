import Foundation
import SASDomain

/// Builds the territorial structures of the synthetic France (independent of the practitioner count):
/// CPTS covering groups of nearby communes, MSP and CDS in towns, SOS Médecins in the largest cities.
struct SyntheticStructures: Sendable {
    var structures: [Structure] = []
    /// place id → index in `structures` of the CPTS covering it.
    var cptsByPlace: [Int: Int] = [:]
    /// place id → MSP index.
    var mspByPlace: [Int: Int] = [:]
    /// place id → CDS index.
    var cdsByPlace: [Int: Int] = [:]
    /// place id → SOS association index (seat within 20 km).
    var sosByPlace: [Int: Int] = [:]

    init(places: Places, seed: UInt64, sosCount: Int) {
        var rng = Xoshiro256(seed: seed, stream: 0x5354_5255_4354)
        let byPopulation = places.all.filter { $0.population > 0 }
            .sorted { ($0.population, $1.id) > ($1.population, $0.id) }
        buildSOS(byPopulation, count: sosCount, rng: &rng)
        buildCPTS(places: places, byPopulation: byPopulation, rng: &rng)
        for place in places.all.sorted(by: { $0.id < $1.id }) {
            if (2_000..<150_000).contains(place.population), rng.chance(0.25) {
                mspByPlace[place.id] = structures.count
                structures.append(makeFINESS(.msp, name: "MSP \(place.name)", at: place, radiusKm: 10, rng: &rng))
            }
            if place.population >= 20_000, rng.chance(0.4) {
                cdsByPlace[place.id] = structures.count
                structures.append(makeFINESS(.cds, name: "Centre de santé \(place.name)", at: place, radiusKm: 8, rng: &rng))
            }
        }
        let sos = structures.indices.filter { structures[$0].kind == .sosMedecins }
        for place in places.all {
            var best: (Int, Double)?
            for i in sos {
                let d = Haversine.distanceKm(place.latitude, place.longitude, structures[i].latitude, structures[i].longitude)
                if d <= 20, best == nil || d < best!.1 { best = (i, d) }
            }
            if let best { sosByPlace[place.id] = best.0 }
        }
    }

    private mutating func buildSOS(_ byPopulation: [Place], count: Int, rng: inout Xoshiro256) {
        var seats: [Place] = []
        for place in byPopulation where seats.count < count {
            if seats.contains(where: { Haversine.distanceKm($0.latitude, $0.longitude, place.latitude, place.longitude) < 25 }) {
                continue
            }
            seats.append(place)
        }
        var usedSIRET: Set<String> = []
        for place in seats {
            var siret: String
            repeat {
                let siren = "3" + rng.digits(7)
                siret = SyntheticLuhn.withCheckDigit(SyntheticLuhn.withCheckDigit(siren) + "0001")
            } while !usedSIRET.insert(siret).inserted
            let consultations = (1...rng.int(1...3)).map { n in
                let (lat, lon) = SyntheticGeo.jitter(place.latitude, place.longitude, maxKm: 4, rng: &rng)
                return ConsultationPlace(
                    name: "Centre de consultation SOS Médecins \(place.name) \(n)",
                    address: SyntheticGeo.address(for: place, rng: &rng).0, latitude: lat, longitude: lon)
            }
            structures.append(Structure(
                idnst: try! IDNST.siret(siret), kind: .sosMedecins, name: "SOS Médecins \(place.name)",
                departmentCode: place.departmentCode, latitude: place.latitude, longitude: place.longitude,
                phone: SyntheticGeo.phone(for: place, rng: &rng),
                interventionArea: .radius(latitude: place.latitude, longitude: place.longitude, km: 20),
                consultationPlaces: consultations))
        }
    }

    /// Greedy clustering: the largest uncovered place seeds a CPTS that takes the uncovered places of its
    /// department within 6–15 km; about one seed in eight is left without CPTS (white zones).
    private mutating func buildCPTS(places: Places, byPopulation: [Place], rng: inout Xoshiro256) {
        let index = SpatialIndex(sites: places.all.map {
            IndexedSite(siteID: Int64($0.id), practitionerID: Int64($0.id), latitude: Float($0.latitude),
                        longitude: Float($0.longitude), specialties: [], profession: 0, flags: [])
        })
        var covered = Set<Int>()
        for seed in byPopulation where !covered.contains(seed.id) {
            let radius = seed.population > 200_000 ? 6.0 : (seed.population > 20_000 ? 10.0 : 15.0)
            let members = index.sites(within: radius, ofLatitude: seed.latitude, longitude: seed.longitude)
                .map { Int($0.siteID) }
                .filter { !covered.contains($0) && places.all[$0].departmentCode == seed.departmentCode }
            covered.formUnion(members)
            covered.insert(seed.id)
            guard rng.chance(0.875) else { continue }
            let area = Array(Set(members + [seed.id])).sorted()
            for id in area { cptsByPlace[id] = structures.count }
            var cpts = makeFINESS(.cpts, name: "CPTS \(seed.name)", at: seed, radiusKm: radius, rng: &rng)
            cpts.interventionArea = .places(area)
            structures.append(cpts)
        }
    }

    /// FINESS numbers already given: six random digits per department collide now and then (a few percent of seeds
    /// had two structures with one number, the second then overwriting the first in storage).
    private var usedFINESS: Set<String> = []

    private mutating func makeFINESS(_ kind: StructureKind, name: String, at place: Place, radiusKm: Double,
                                     rng: inout Xoshiro256) -> Structure {
        var finess = SyntheticGeo.finess(department: place.departmentCode, rng: &rng)
        while !usedFINESS.insert(finess).inserted { finess = SyntheticGeo.finess(department: place.departmentCode, rng: &rng) }
        let (lat, lon) = SyntheticGeo.jitter(place.latitude, place.longitude, maxKm: 1, rng: &rng)
        return Structure(idnst: try! IDNST.finess(finess), kind: kind, name: name, departmentCode: place.departmentCode,
                         latitude: lat, longitude: lon, phone: SyntheticGeo.phone(for: place, rng: &rng),
                         interventionArea: .radius(latitude: lat, longitude: lon, km: radiusKm))
    }
}

/// Small geographic helpers of the generator: jitter, addresses, postcodes, phones, FINESS numbers.
enum SyntheticGeo {
    /// A point uniformly drawn in the disc of radius `maxKm` around (lat, lon).
    static func jitter(_ lat: Double, _ lon: Double, maxKm: Double, rng: inout Xoshiro256) -> (Double, Double) {
        let r = maxKm * rng.unit().squareRoot()
        let theta = rng.unit() * 2 * .pi
        let kmPerDegree = Haversine.earthRadiusKm * .pi / 180
        let dLat = r * sin(theta) / kmPerDegree
        let dLon = r * cos(theta) / (kmPerDegree * max(0.2, cos(lat * .pi / 180)))
        return (lat + dLat, lon + dLon)
    }

    /// A synthetic street address in `place`, and whether its postcode is made up.
    static func address(for place: Place, rng: inout Xoshiro256) -> (PostalAddress, Bool) {
        let (postcode, synthetic, city) = postcode(for: place, rng: &rng)
        let type = WeightedTable(NameLists.streetTypes.map { (($0.code, $0.label), $0.weight) }).pick(&rng)
        return (PostalAddress(number: String(rng.int(1...150)), repetition: rng.chance(0.08) ? "B" : "",
                              streetTypeCode: type.0, streetType: type.1, streetName: rng.pick(NameLists.streetNames),
                              postcode: postcode, city: city), synthetic)
    }

    /// Real arrondissement postcodes for Paris/Lyon/Marseille; elsewhere a synthetic one (department + "0" + 30…99,
    /// "201xx"/"202xx" in Corsica, department + 2 digits overseas) that never collides with an arrondissement code.
    static func postcode(for place: Place, rng: inout Xoshiro256) -> (String, synthetic: Bool, city: String) {
        let key = OfflineGeocoder.placeKey(place.name)
        let counts = ["paris": (75, 20), "lyon": (69, 9), "marseille": (13, 16)]
        var alias = CityCodes.arrondissementAlias(ofKey: key)
        if alias == nil, let (_, count) = counts[key] { alias = "\(key) \(rng.int(1...count))" }
        if let alias {
            let parts = alias.split(separator: " ")
            let city = String(parts[0]), n = Int(parts[1])!
            let code = String(format: "%02d0%02d", counts[city]!.0, n)
            return (code, false, "\(city.capitalized) \(n == 1 ? "1er" : "\(n)e") Arrondissement")
        }
        let d = place.departmentCode
        let tail = 30 + place.id % 70
        switch d {
        case "2A": return (String(format: "201%02d", tail), true, place.name)
        case "2B": return (String(format: "202%02d", tail), true, place.name)
        default:
            return (d.count == 3 ? d + String(format: "%02d", tail) : d + "0" + String(format: "%02d", tail), true, place.name)
        }
    }

    /// An E.164 phone number: +33 with the regional prefix in metropolitan France, overseas country codes.
    static func phone(for place: Place, rng: inout Xoshiro256) -> String {
        switch place.departmentCode {
        case "971": return "+590590" + rng.digits(6)
        case "972": return "+596596" + rng.digits(6)
        case "973": return "+594594" + rng.digits(6)
        case "974": return "+262262" + rng.digits(6)
        case "976": return "+262269" + rng.digits(6)
        default: break
        }
        let zone: String
        switch place.region {
        case "Ile-de-France": zone = "1"
        case "Bretagne", "Normandie", "Pays de la Loire", "Centre-Val de Loire": zone = "2"
        case "Hauts-de-France", "Grand Est", "Bourgogne-Franche-Comté": zone = "3"
        case "Nouvelle-Aquitaine": zone = "5"
        case "Occitanie": zone = place.longitude < 2.5 ? "5" : "4"
        default: zone = "4"
        }
        return "+33" + zone + rng.digits(8)
    }

    /// A 9-digit FINESS: department prefix ("20" for Corsica, "97" overseas), 6 digits, Luhn key.
    static func finess(department: String, rng: inout Xoshiro256) -> String {
        let prefix = department.hasPrefix("2A") || department.hasPrefix("2B") ? "20" : String(department.prefix(2))
        return SyntheticLuhn.withCheckDigit(prefix + rng.digits(6))
    }
}
