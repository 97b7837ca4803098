import Foundation
import SASDomain

/// Checks decoded enrichment entries one by one and maps the valid ones onto the directory model.
/// Any invalid field skips its whole entry (a participation with an unreadable vacation is not half-applied);
/// INSEE codes the resolver does not know are only reported.
struct EnrichmentValidator {
    let resolve: (String) -> Int?
    let onProblem: (EnrichmentProblem) -> Void
    var data = EnrichmentData()
    private var structureKinds: [String: StructureKind] = [:]
    private var practitioners: Set<String> = []
    private var links: Set<VendorLink> = []

    init(resolve: @escaping (String) -> Int?, onProblem: @escaping (EnrichmentProblem) -> Void) {
        self.resolve = resolve
        self.onProblem = onProblem
    }

    /// Reports a problem (callers `return skip(…)` to drop the entry).
    private func skip(_ path: String, _ reason: String) {
        onProblem(EnrichmentProblem(path: path, reason: reason))
    }

    private static func message(_ error: any Error) -> String {
        (error as? NationalIdentifierError)?.message ?? "identifiant illisible"
    }

    // MARK: Structures

    mutating func structure(_ e: EnrichmentFile.StructureEntry, path: String) {
        let idnst: IDNST
        do { idnst = try IDNST(parsing: e.idnst) } catch { return skip(path + ".idnst", Self.message(error)) }
        let kind = e.kind.structureKind
        switch (kind, idnst.kind) {
        case (.sosMedecins, .siret), (.cpts, .finess), (.msp, .finess), (.cds, .finess): break
        case (.sosMedecins, _):
            return skip(path + ".idnst", "une association SOS Médecins est identifiée par son SIRET (IDNST 3…)")
        default:
            return skip(path + ".idnst", "une \(e.kind.rawValue) est identifiée par son FINESS (IDNST 1…)")
        }
        guard structureKinds[idnst.value] == nil else {
            return skip(path, "structure \(idnst.value) déjà décrite plus haut, entrée ignorée")
        }
        let name = e.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return skip(path + ".name", "nom de la structure vide") }
        guard let department = FinessFields.departmentCode(e.department.trimmingCharacters(in: .whitespaces)) else {
            return skip(path + ".department", "département « \(e.department) » non reconnu")
        }
        guard Self.isValid(e.latitude, e.longitude) else {
            return skip(path, "coordonnées invalides (\(e.latitude), \(e.longitude))")
        }
        guard let area = interventionArea(e.interventionArea, path: path + ".interventionArea") else { return }
        let places = e.consultationPlaces ?? []
        if !places.isEmpty, kind != .sosMedecins {
            return skip(path + ".consultationPlaces", "les lieux de consultation fixes sont réservés à SOS Médecins")
        }
        var consultationPlaces: [ConsultationPlace] = []
        for (i, place) in places.enumerated() {
            let placePath = "\(path).consultationPlaces[\(i)]"
            guard !place.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                return skip(placePath + ".name", "nom du lieu de consultation vide")
            }
            guard Self.isPostcode(place.address.postcode) else {
                return skip(placePath + ".address.postcode", "code postal « \(place.address.postcode) » invalide")
            }
            guard Self.isValid(place.latitude, place.longitude) else {
                return skip(placePath, "coordonnées invalides (\(place.latitude), \(place.longitude))")
            }
            consultationPlaces.append(ConsultationPlace(name: place.name, address: place.address.postalAddress,
                                                        latitude: place.latitude, longitude: place.longitude))
        }
        let structure = Structure(idnst: idnst, kind: kind, name: name, departmentCode: department,
                                  latitude: e.latitude, longitude: e.longitude,
                                  phone: FinessFields.phone(e.phone ?? ""), interventionArea: area.area,
                                  consultationPlaces: consultationPlaces)
        structureKinds[idnst.value] = kind
        data.structures.append(EnrichedStructure(structure: structure, inseeCodes: area.inseeCodes))
    }

    /// The model area, or nil (reported) when the entry must be skipped. A missing area is an empty commune list.
    private func interventionArea(_ a: EnrichmentFile.Area?,
                                  path: String) -> (area: InterventionArea, inseeCodes: [String])? {
        guard let a else { return (.places([]), []) }
        let hasDisc = a.centre != nil || a.radiusKm != nil
        if let codes = a.inseeCodes {
            guard !hasDisc else {
                skip(path, "soit « inseeCodes », soit « centre » et « radiusKm », pas les deux")
                return nil
            }
            guard !codes.isEmpty else {
                skip(path + ".inseeCodes", "liste de codes INSEE vide")
                return nil
            }
            if let bad = codes.firstIndex(where: { !Self.isINSEECode($0) }) {
                skip("\(path).inseeCodes[\(bad)]", "code INSEE « \(codes[bad]) » invalide (5 caractères attendus)")
                return nil
            }
            var ids: [Int] = []
            var unknown: [String] = []
            for code in codes {
                if let id = resolve(code) { if !ids.contains(id) { ids.append(id) } } else { unknown.append(code) }
            }
            if !unknown.isEmpty {
                skip(path + ".inseeCodes", "codes INSEE sans lieu connu, laissés hors de la zone : "
                    + unknown.joined(separator: ", "))
            }
            return (.places(ids), codes)
        }
        guard let centre = a.centre, let radius = a.radiusKm else {
            skip(path, "zone d'intervention incomplète : « inseeCodes », ou « centre » et « radiusKm », attendus")
            return nil
        }
        guard Self.isValid(centre.latitude, centre.longitude) else {
            skip(path + ".centre", "coordonnées invalides (\(centre.latitude), \(centre.longitude))")
            return nil
        }
        guard radius.isFinite, radius > 0, radius <= 200 else {
            skip(path + ".radiusKm", "rayon de \(radius) km hors des bornes (entre 0 et 200 km)")
            return nil
        }
        return (.radius(latitude: centre.latitude, longitude: centre.longitude, km: radius), [])
    }

    // MARK: Participation

    mutating func participation(_ e: EnrichmentFile.Participation, path: String) {
        let idnps: IDNPS
        do { idnps = try IDNPS(parsing: e.idnps) } catch { return skip(path + ".idnps", Self.message(error)) }
        guard !practitioners.contains(idnps.value) else {
            return skip(path, "participation de \(idnps.value) déjà donnée plus haut, entrée ignorée")
        }
        var vacations: [VacationPeriod] = []
        for (i, vacation) in (e.vacations ?? []).enumerated() {
            let vacationPath = "\(path).vacations[\(i)]"
            guard let start = ParisDay.start(of: vacation.start) else {
                return skip(vacationPath + ".start", "date « \(vacation.start) » invalide (aaaa-mm-jj attendu)")
            }
            guard let lastDay = ParisDay.start(of: vacation.end), let end = ParisDay.nextDay(after: vacation.end) else {
                return skip(vacationPath + ".end", "date « \(vacation.end) » invalide (aaaa-mm-jj attendu)")
            }
            guard lastDay >= start else {
                return skip(vacationPath, "la fin (\(vacation.end)) précède le début (\(vacation.start))")
            }
            vacations.append(VacationPeriod(start: start, end: end))
        }
        let participation: SASParticipation
        if e.participates {
            guard let mode = e.mode else {
                return skip(path + ".mode", "mode de participation obligatoire quand « participates » vaut true")
            }
            let structure: IDNST?
            if mode == .individual {
                guard e.structure == nil else {
                    return skip(path + ".structure", "pas de structure pour une participation à titre individuel")
                }
                structure = nil
            } else {
                guard let raw = e.structure else {
                    return skip(path + ".structure", "structure obligatoire pour une participation via \(mode.rawValue)")
                }
                let id: IDNST
                do { id = try IDNST(parsing: raw) } catch { return skip(path + ".structure", Self.message(error)) }
                guard (mode == .sos) == (id.kind == .siret), id.kind == .siret || id.kind == .finess else {
                    return skip(path + ".structure", mode == .sos
                        ? "une association SOS Médecins est identifiée par son SIRET (IDNST 3…)"
                        : "une CPTS ou une MSP est identifiée par son FINESS (IDNST 1…)")
                }
                if let known = structureKinds[id.value], known != mode.structureKind {
                    return skip(path + ".structure", "la structure \(id.value) est de type « \(known.label) », "
                        + "incompatible avec le mode \(mode.rawValue)")
                }
                structure = id
            }
            let extra = e.acceptsExtraPatients ?? false
            if extra, mode == .msp || mode == .sos {
                return skip(path + ".acceptsExtraPatients",
                            "l'accueil de patients en sus n'est pas possible via une MSP ou SOS Médecins")
            }
            participation = SASParticipation(participates: true, mode: mode.participationMode, structure: structure,
                                             acceptsExtraPatients: extra,
                                             forfaitReorientation: e.forfaitReorientation ?? false,
                                             vacations: vacations)
        } else {
            participation = SASParticipation(participates: false, mode: nil, structure: nil,
                                             acceptsExtraPatients: false, forfaitReorientation: false,
                                             vacations: vacations)
        }
        practitioners.insert(idnps.value)
        data.participations.append(ParticipationUpdate(idnps: idnps, participation: participation))
    }

    // MARK: Vendor links

    mutating func vendorLink(_ e: EnrichmentFile.VendorLinkEntry, path: String) {
        let idnps: IDNPS
        do { idnps = try IDNPS(parsing: e.idnps) } catch { return skip(path + ".idnps", Self.message(error)) }
        let vendor = e.vendor.trimmingCharacters(in: .whitespaces)
        guard !vendor.isEmpty else { return skip(path + ".vendor", "identifiant d'éditeur vide") }
        let link = VendorLink(practitioner: idnps, vendorID: vendor)
        guard links.insert(link).inserted else { return skip(path, "lien en double, entrée ignorée") }
        data.vendorLinks.append(link)
    }

    // MARK: Field checks

    static func isValid(_ latitude: Double, _ longitude: Double) -> Bool {
        (-90...90).contains(latitude) && (-180...180).contains(longitude) && !(latitude == 0 && longitude == 0)
    }

    static func isPostcode(_ text: String) -> Bool {
        text.count == 5 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// 5 characters: digits, or `2A`/`2B` followed by 3 digits (Corsica).
    static func isINSEECode(_ text: String) -> Bool {
        let chars = Array(text.uppercased())
        guard chars.count == 5 else { return false }
        return chars.enumerated().allSatisfy { i, c in
            (c.isASCII && c.isNumber) || (i == 1 && chars[0] == "2" && (c == "A" || c == "B"))
        }
    }
}

/// Calendar days in Europe/Paris, written `yyyy-MM-dd`.
enum ParisDay {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris") ?? TimeZone(secondsFromGMT: 3600)!
        return calendar
    }()

    /// Year, month and day of a strict `yyyy-MM-dd` string naming a real date.
    static func components(_ text: String) -> DateComponents? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        let components = DateComponents(year: y, month: m, day: d)
        guard let date = calendar.date(from: components),
              calendar.dateComponents([.year, .month, .day], from: date) == components else { return nil }
        return components
    }

    /// Midnight (Paris time) at the start of the day.
    static func start(of text: String) -> Date? {
        components(text).flatMap { calendar.date(from: $0) }
    }

    /// Midnight (Paris time) at the start of the following day.
    static func nextDay(after text: String) -> Date? {
        guard let c = components(text), let day = calendar.date(from: c) else { return nil }
        return calendar.date(byAdding: .day, value: 1, to: day)
    }
}
