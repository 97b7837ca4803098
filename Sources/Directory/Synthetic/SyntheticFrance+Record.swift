import Foundation
import SASDomain

extension SyntheticFrance {
    /// Specialists other than general practice, weighted roughly like the French medical demography.
    static let specialistTable = WeightedTable<String>([
        ("SM40", 8), ("SM20", 6), ("SM19", 3), ("SM42", 10), ("SM04", 8), ("SM15", 5), ("SM38", 7), ("SM39", 4),
        ("SM44", 9), ("SM02", 10), ("SM41", 3), ("SM24", 4), ("SM48", 3), ("SM32", 3), ("SM16", 2), ("SM59", 6),
        ("SM18", 3), ("SM27", 2), ("SM12", 2), ("SM08", 4),
    ])

    /// General-practice codes: mostly SM54, some SM53 / SM26.
    static let generalPracticeTable = WeightedTable<String>([("SM54", 90), ("SM53", 7), ("SM26", 3)])

    /// Non-doctor professions (TRE_G15 code, weight).
    static let otherProfessionTable = WeightedTable<String>([
        ("60", 8), ("70", 5), ("40", 3), ("50", 2), ("91", 1), ("80", 1),
    ])

    static let professionLabels: [String: String] = [
        "10": "Médecin", "40": "Chirurgien-Dentiste", "50": "Sage-Femme", "60": "Infirmier",
        "70": "Masseur-Kinésithérapeute", "80": "Pédicure-Podologue", "91": "Orthophoniste",
    ]

    /// Registration authority per profession, as in the RPPS extraction.
    static let authorities: [String: String] = [
        "10": "CNOM/CNOM/CNOM", "40": "CNOCD/CNOCD/CNOCD", "50": "CNOSF/CNOSF/CNOSF", "60": "ONI/ONI/ONI",
        "70": "CNOMK/CNOMK/CNOMK", "80": "CNOPP/CNOPP/CNOPP", "91": "ARS/ARS/ARS",
    ]

    /// The record at `index` (0-based), generated from its own random stream.
    public func record(at index: Int) -> SyntheticRecord {
        var rng = Xoshiro256(seed: configuration.seed, stream: UInt64(index) &+ 1)
        let place = places.all[placeID(ofRecord: index)]

        // Profession and specialties.
        var profession = "10"
        var codes: [String]
        let draw = rng.unit()
        if draw < configuration.generalPracticeShare {
            codes = [Self.generalPracticeTable.pick(&rng)]
            if rng.chance(0.03) { codes.append(rng.pick(["SM18", "SM57", "SM59"])) }
        } else if draw < configuration.generalPracticeShare + (1 - configuration.generalPracticeShare) * 0.6 {
            codes = [Self.specialistTable.pick(&rng)]
        } else {
            profession = Self.otherProfessionTable.pick(&rng)
            codes = profession == "40" && rng.chance(0.1) ? ["SCD01"] : (profession == "60" && rng.chance(0.05) ? ["SI08"] : [])
        }
        let femaleShare = ["50": 0.97, "60": 0.87, "91": 0.95][profession] ?? 0.5
        let civility: Civility = rng.chance(femaleShare) ? .madame : .monsieur
        let given = rng.pick(civility == .madame ? NameLists.femaleGivenNames : NameLists.maleGivenNames)
        let family = rng.pick(NameLists.familyNames)
        let serial = (index &* 7_368_787 &+ Int(configuration.seed % 100_000_000)) % 100_000_000
        let rpps = RPPS.withCheckDigit("10" + String(format: "%08d", serial))
        let idnps = try! IDNPS.rpps(rpps)

        // SAS participation.
        var participation = SASParticipation.none
        var siteStructure: Int?
        var atCDS = false
        if rng.chance(configuration.participationRate) {
            var mode = ParticipationMode.individual
            let isGP = Specialties.generalPracticeCodes.contains(codes.first ?? "")
            if isGP, let s = territory.sosByPlace[place.id], rng.chance(0.12) {
                mode = .sosMedecins; siteStructure = s
            } else if let m = territory.mspByPlace[place.id], rng.chance(0.3) {
                mode = .msp; siteStructure = m
            } else if territory.cptsByPlace[place.id] != nil, rng.chance(0.5) {
                mode = .cpts
            } else if let c = territory.cdsByPlace[place.id], rng.chance(0.1) {
                atCDS = true; siteStructure = c
            }
            let all = territory.structures
            let cpts = mode == .cpts ? territory.cptsByPlace[place.id].map { all[$0].idnst } : nil
            let via = mode == .individual ? nil : siteStructure.map { all[$0].idnst }
            var vacations: [VacationPeriod] = []
            if rng.chance(0.1) {
                let start = configuration.referenceDate.addingTimeInterval(Double(rng.int(0...180)) * 86_400)
                vacations.append(VacationPeriod(start: start, end: start.addingTimeInterval(Double(rng.int(7...21)) * 86_400)))
            }
            participation = SASParticipation(
                participates: true, mode: mode, structure: mode == .cpts ? cpts : via,
                acceptsExtraPatients: mode != .msp && mode != .sosMedecins && !atCDS && rng.chance(0.5),
                forfaitReorientation: rng.chance(0.25), vacations: vacations)
        }

        let practitioner = Practitioner(
            idnps: idnps, civility: civility, exerciseCivility: profession == "10" || profession == "40" ? "DR" : nil,
            familyName: family, givenName: given, professionCode: profession, specialtyCodes: codes,
            participation: participation)

        // Sites.
        let siteCount = rng.chance(configuration.secondSiteRate) ? 2 : 1
        var sites: [PracticeSite] = []
        for k in 0..<siteCount {
            let structure = k == 0 ? siteStructure.map { territory.structures[$0] } : nil
            let structureID = structure?.idnst
            var (address, synthetic) = SyntheticGeo.address(for: place, rng: &rng)
            var lat: Double, lon: Double
            if let structure, let fixed = structure.consultationPlaces.isEmpty ? nil : rng.pick(structure.consultationPlaces) {
                (lat, lon) = (fixed.latitude, fixed.longitude)
                address = fixed.address
                address.complement = fixed.name
            } else if let structure {
                (lat, lon) = (structure.latitude, structure.longitude)
                address.complement = structure.name
            } else {
                (lat, lon) = SyntheticGeo.jitter(place.latitude, place.longitude,
                                                 maxKm: place.population > 100_000 ? 3 : 2, rng: &rng)
            }
            synthetic = synthetic && !Self.isArrondissementPostcode(address.postcode)
            sites.append(PracticeSite(
                id: Int64(index) * 2 + Int64(k) + 1, practitioner: idnps, address: address, postcodeIsSynthetic: synthetic,
                inseeCode: Self.arrondissementINSEE(postcode: address.postcode),
                departmentCode: synthetic ? place.departmentCode : String(address.postcode.prefix(2)),
                latitude: lat, longitude: lon, phone: SyntheticGeo.phone(for: place, rng: &rng),
                structure: structureID, placeID: place.id))
        }

        let vendorShare = participation.participates ? 0.65 : 0.45
        let link = rng.chance(vendorShare)
            ? VendorLink(practitioner: idnps, vendorID: WeightedTable(NameLists.vendors.map { ($0.id, $0.weight) }).pick(&rng))
            : nil
        return SyntheticRecord(practitioner: practitioner, sites: sites, vendorLink: link)
    }

    static func isArrondissementPostcode(_ code: String) -> Bool { CityCodes.postcode(code) != nil }

    /// INSEE code of a Paris/Lyon/Marseille arrondissement postcode (75015 → 75115, 69003 → 69383, 13001 → 13201).
    static func arrondissementINSEE(postcode: String) -> String? {
        guard let t = CityCodes.postcode(postcode), let n = t.arrondissement else { return nil }
        switch t.city {
        case "paris": return String(format: "751%02d", n)
        case "lyon": return "6938\(n)"
        default: return String(format: "132%02d", n)
        }
    }
}
