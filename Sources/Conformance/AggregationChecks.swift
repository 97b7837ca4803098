import FHIR
import Foundation

/// The aggregation requirements (kit group 4) evaluated on one search answer. Each check returns the failed
/// assertions in French (empty: satisfied) and, for the kit's "warning" assertions, warnings.
struct AggregationChecks {
    typealias Mode = KitSearch.Mode
    typealias Node = [String: Any]

    let bundle: BundleView
    let mode: Mode
    /// The RPPS the group searched (first one for 4.5).
    let rpps: String
    /// D+2 `yyyy-MM-dd`, Paris.
    let lastDay: String
    let requestURL: String
    let now: Date

    static let hl7SlotServiceType = FHIRSystems.slotServiceTypeExtension
    static let cptsCategory = FHIRSystems.establishmentCategory

    var slotProfile: String { mode == .ps ? FHIRSystems.Profile.slot : FHIRSystems.Profile.cptsSlot }
    var slots: [Node] { bundle.byProfile(slotProfile) }
    var psSlots: [Node] { bundle.byProfile(FHIRSystems.Profile.slot) }
    var practitioners: [Node] { bundle.byProfile(FHIRSystems.Profile.practitioner) }
    var roles: [Node] { bundle.byProfile(FHIRSystems.Profile.practitionerRole) }
    var schedules: [Node] { bundle.byProfile(FHIRSystems.Profile.schedule) }
    var services: [Node] { bundle.byProfile(FHIRSystems.Profile.cptsHealthcareService) }
    var organizations: [Node] { bundle.byProfile(FHIRSystems.Profile.cptsOrganization) }

    static func strings(_ nodes: [Node], _ path: String) -> [String] { BundleView.strings(nodes, path) }
    func first(_ nodes: [Node], _ path: String) -> String? { Self.strings(nodes, path).first }
    static func count(_ n: Int, _ what: String) -> String { "\(n) \(what)" }

    // MARK: 4.2.02 — structure of the profiles (the kit calls the HL7 validator; these are the profiles' rules)

    func profileStructure() -> [String] {
        var problems: [String] = []
        if bundle.json["type"] as? String != "searchset" { problems.append("Bundle.type doit valoir « searchset ».") }
        if mode == .cpts {
            if bundle.json["total"] == nil { problems.append("Bundle.total est obligatoire (sas-cpts-bundle-aggregator).") }
            if (bundle.json["link"] as? [Any])?.isEmpty ?? true { problems.append("Bundle.link est obligatoire.") }
            if bundle.entries.count < 4 { problems.append("Au moins 4 entrées attendues (reçu \(bundle.entries.count)).") }
            if bundle.entries.contains(where: { ($0["fullUrl"] as? String)?.isEmpty ?? true }) {
                problems.append("Chaque entrée doit porter un fullUrl.")
            }
        }
        let allowedSlotProfiles: Set<String> = mode == .ps ? [FHIRSystems.Profile.slot]
            : [FHIRSystems.Profile.slot, FHIRSystems.Profile.cptsSlot]
        for resource in bundle.resources {
            let type = resource["resourceType"] as? String ?? "?"
            let id = resource["id"] as? String ?? "?"
            let profiles = BundleView.profiles(resource)
            let expected: Set<String>
            switch type {
            case "Slot": expected = allowedSlotProfiles
            case "Schedule": expected = [FHIRSystems.Profile.schedule]
            case "Practitioner": expected = [FHIRSystems.Profile.practitioner]
            case "PractitionerRole": expected = [FHIRSystems.Profile.practitionerRole]
            case "HealthcareService": expected = [FHIRSystems.Profile.cptsHealthcareService]
            case "Organization": expected = [FHIRSystems.Profile.cptsOrganization]
            case "OperationOutcome": continue
            default: problems.append("\(type)/\(id) : type de ressource inattendu dans la réponse."); continue
            }
            guard profiles.count == 1, expected.contains(profiles[0]) else {
                problems.append("\(type)/\(id) : meta.profile doit contenir exactement un profil parmi \(expected.sorted().joined(separator: ", ")) (reçu \(profiles)).")
                continue
            }
            switch type {
            case "Slot":
                if resource["status"] as? String != "free" { problems.append("Slot/\(id) : status doit valoir « free ».") }
                if resource["start"] == nil || resource["end"] == nil { problems.append("Slot/\(id) : start et end sont obligatoires.") }
                if BundleView.string(resource, "schedule.reference") == nil { problems.append("Slot/\(id) : schedule est obligatoire.") }
                let kinds: Set<String> = profiles[0] == FHIRSystems.Profile.cptsSlot ? ["PUBLIC", "SNP", "PRO", "CPTS"] : ["PUBLIC", "PRO", "SNP", "PRIVATE"]
                for code in BundleView.strings([resource], "meta.security.code") where !kinds.contains(code) {
                    problems.append("Slot/\(id) : type de créneau « \(code) » hors jeu de valeurs.")
                }
                for code in BundleView.strings([resource], "appointmentType.coding.code") where !["ROUTINE", "WALKIN"].contains(code) {
                    problems.append("Slot/\(id) : appointmentType « \(code) » hors jeu de valeurs (ROUTINE, WALKIN).")
                }
            case "Practitioner":
                let identifiers = BundleView.values(resource, "identifier").compactMap { $0 as? Node }
                if !identifiers.contains(where: { $0["system"] as? String == KitSearch.idnpsSystem
                    && BundleView.strings([$0], "type.coding.code").contains("IDNPS") }) {
                    problems.append("Practitioner/\(id) : un identifiant IDNPS (système \(KitSearch.idnpsSystem), type IDNPS) est obligatoire.")
                }
            case "PractitionerRole":
                let contained = BundleView.values(resource, "contained").compactMap { $0 as? Node }
                if contained.isEmpty { problems.append("PractitionerRole/\(id) : le lieu (Location contenue) est obligatoire.") }
                if BundleView.values(resource, "location").count != 1 {
                    problems.append("PractitionerRole/\(id) : exactement un location attendu.")
                }
                if BundleView.string(resource, "practitioner.reference") == nil {
                    problems.append("PractitionerRole/\(id) : practitioner est obligatoire.")
                }
                if let system = BundleView.string(resource, "organization.identifier.system"), system != "urn:oid:1.2.250.1.71.4.2.2" {
                    problems.append("PractitionerRole/\(id) : organization.identifier.system doit être urn:oid:1.2.250.1.71.4.2.2.")
                }
                for location in contained where location["resourceType"] as? String == "Location" {
                    let address = BundleView.values(location, "address").compactMap { $0 as? Node }
                    if address.count != 1 || BundleView.values(address[0], "line").count != 1
                        || address[0]["city"] == nil || address[0]["postalCode"] == nil {
                        problems.append("PractitionerRole/\(id) : l'adresse du lieu exige une ligne, la ville et le code postal.")
                    }
                }
            case "HealthcareService":
                if BundleView.string(resource, "providedBy.reference") == nil {
                    problems.append("HealthcareService/\(id) : providedBy est obligatoire.")
                }
            case "Organization":
                let values = BundleView.strings([resource], "identifier.value")
                if values.count != 1 || !BundleView.matches(values[0], digitsAfter: "1", count: 9) {
                    problems.append("Organization/\(id) : exactement un identifiant FINESS (1 + 9 chiffres) attendu (reçu \(values)).")
                }
            default: break
            }
        }
        return problems
    }

    // MARK: 4.3 — one practitioner, one place

    /// 4.3.02: (failures, warnings).
    func cardinalities() -> ([String], [String]) {
        var problems: [String] = []
        if practitioners.count != 1 { problems.append("Practitioner : 1 attendu, \(practitioners.count) reçu(s).") }
        if schedules.count != 1 { problems.append("Schedule : 1 attendu, \(schedules.count) reçu(s).") }
        if roles.count != 1 { problems.append("PractitionerRole : 1 attendu, \(roles.count) reçu(s).") }
        let contained = roles.flatMap { BundleView.values($0, "contained") }.count
        if contained != 1 { problems.append("Ressources contenues dans PractitionerRole : 1 attendue, \(contained) reçue(s).") }
        if slots.isEmpty { problems.append("Aucun créneau au profil \(slotProfile).") }
        // The kit compares with the mode's Slot profile only; an INT_R04 answer also holds plain INT_R01 slots
        // (IG FAQ #12), which the total counts too: every Slot entry is compared.
        var warnings: [String] = []
        let total = bundle.json["total"] as? Int
        let matches = bundle.resources.filter { $0["resourceType"] as? String == "Slot" }.count
        if total != matches {
            warnings.append("Bundle.total (\(total.map(String.init) ?? "absent")) différent du nombre de créneaux (\(matches)).")
        }
        return (problems, warnings)
    }

    /// 4.3.03 and 4.6.02.
    func rppsReturned() -> [String] {
        guard let value = first(practitioners, "identifier.value") else { return ["Aucun identifiant de Practitioner."] }
        var problems: [String] = []
        if value != rpps { problems.append("Identifiant « \(value) » différent du RPPS cherché « \(rpps) ».") }
        if !BundleView.matches(value, digitsAfter: "8", count: 11) { problems.append("« \(value) » n'est pas un IDNPS RPPS (8 suivi de 11 chiffres).") }
        return problems
    }

    /// 4.3.04.
    func dates() -> [String] {
        var problems: [String] = []
        let past = psSlots.filter { slot in (slot["start"] as? String).flatMap(BundleView.instant).map { $0 < now } ?? false }
        if !past.isEmpty { problems.append("\(past.count) créneau(x) commencent dans le passé.") }
        for slot in slots {
            let id = slot["id"] as? String ?? "?"
            guard let start = slot["start"] as? String else { problems.append("Slot/\(id) sans start."); continue }
            if String(start.prefix(10)) > lastDay { problems.append("Slot/\(id) : start \(start) après la fin de la fenêtre (\(lastDay)).") }
            if !BundleView.hasKitInstantForm(start) { problems.append("Slot/\(id) : start « \(start) » n'a pas la forme AAAA-MM-JJThh:mm:ss.sss±hh:mm.") }
            if let end = slot["end"] as? String {
                if !BundleView.hasKitInstantForm(end) { problems.append("Slot/\(id) : end « \(end) » n'a pas la forme AAAA-MM-JJThh:mm:ss.sss±hh:mm.") }
                if let s = BundleView.instant(start), let e = BundleView.instant(end), s >= e {
                    problems.append("Slot/\(id) : start n'est pas avant end.")
                }
            } else {
                problems.append("Slot/\(id) sans end.")
            }
        }
        return Array(problems.prefix(12))
    }

    /// 4.3.05.
    func references() -> [String] {
        guard let pid = first(practitioners, "id"), let rid = first(roles, "id") else { return ["Practitioner ou PractitionerRole absent."] }
        var problems: [String] = []
        if first(roles, "practitioner.reference") != "Practitioner/\(pid)" {
            problems.append("PractitionerRole.practitioner doit valoir Practitioner/\(pid) (reçu \(first(roles, "practitioner.reference") ?? "rien")).")
        }
        let actors = Self.strings(schedules, "actor.reference").joined(separator: ", ")
        if !actors.contains("PractitionerRole/\(rid)") { problems.append("Schedule.actor ne cite pas PractitionerRole/\(rid).") }
        if !actors.contains("Practitioner/\(pid)") { problems.append("Schedule.actor ne cite pas Practitioner/\(pid).") }
        if first(roles, "location.reference") != "#" + (first(roles, "contained.id") ?? "") {
            problems.append("PractitionerRole.location doit citer le lieu contenu (#\(first(roles, "contained.id") ?? "?")).")
        }
        return problems
    }

    /// 4.3.06.
    func address() -> [String] {
        var problems: [String] = []
        for (path, label) in [("contained.address.line", "ligne"), ("contained.address.city", "ville"), ("contained.address.postalCode", "code postal")]
            where Self.strings(roles, path).isEmpty {
            problems.append("Adresse du lieu sans \(label).")
        }
        if let postcode = first(roles, "contained.address.postalCode"), !BundleView.matches(postcode, digitsAfter: "", count: 5) {
            problems.append("Code postal « \(postcode) » : 5 chiffres attendus.")
        }
        return problems
    }

    /// 4.3.07: (failures, warnings).
    func linkEcho() -> ([String], [String]) {
        guard let link = BundleView.strings([bundle.json], "link.url").first, !link.isEmpty else { return (["Bundle.link.url absent."], []) }
        if KitSearch.parameters(of: link) != KitSearch.parameters(of: requestURL) {
            return (["Les paramètres de Bundle.link.url (\(link)) diffèrent de ceux de la requête."], [])
        }
        return ([], link == requestURL ? [] : ["Bundle.link.url n'est pas identique à l'URL de la requête (mêmes paramètres)."])
    }

    /// 4.3.08.
    func bookingURLs() -> [String] {
        let missing = psSlots.filter { (($0["comment"] as? String) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        return missing.isEmpty ? [] : ["\(missing.count) créneau(x) sans URL de prise de rendez-vous (Slot.comment)."]
    }

    /// 4.3.09.
    func freeStatus() -> [String] {
        let other = slots.filter { $0["status"] as? String != "free" }
        return other.isEmpty ? [] : ["\(other.count) créneau(x) dont le statut n'est pas « free » (\(Set(other.compactMap { $0["status"] as? String }).sorted().joined(separator: ", ")))."]
    }

    /// 4.3.10.
    func appointmentTypes() -> [String] {
        let codes = Set(Self.strings(slots, "appointmentType.coding.code")).subtracting(["ROUTINE", "WALKIN"])
        return codes.isEmpty ? [] : ["appointmentType hors ROUTINE/WALKIN : \(codes.sorted().joined(separator: ", "))."]
    }

    /// 4.3.11.
    func cptsCardinalities() -> [String] {
        var problems: [String] = []
        if services.isEmpty { problems.append("Aucun HealthcareService CPTS.") }
        if organizations.isEmpty { problems.append("Aucune Organization CPTS.") }
        if services.count != organizations.count {
            problems.append("\(services.count) HealthcareService pour \(organizations.count) Organization : autant attendus.")
        }
        return problems
    }

    /// The CPTS references of a slot's serviceTypes (single-coding 604 entries, kit 4.3.12).
    static func cptsReferences(_ slot: Node, singleCodingOnly: Bool) -> [String] {
        BundleView.values(slot, "serviceType").compactMap { $0 as? Node }.flatMap { concept -> [String] in
            let codings = BundleView.values(concept, "coding").compactMap { $0 as? Node }
            if singleCodingOnly {
                guard codings.count == 1, codings[0]["code"] as? String == FHIRSystems.cptsCategoryCode else { return [] }
            }
            return BundleView.values(concept, "extension").compactMap { $0 as? Node }
                .filter { ($0["url"] as? String)?.trimmingCharacters(in: .whitespaces) == hl7SlotServiceType }
                .compactMap { BundleView.string($0, "valueReference.reference") }
        }
    }

    /// 4.3.12.
    func cptsReferencesConsistent() -> [String] {
        var problems: [String] = []
        guard let hs = first(services, "id"), let org = first(organizations, "id") else { return ["HealthcareService ou Organization CPTS absent."] }
        if first(services, "providedBy.reference") != "Organization/\(org)" {
            problems.append("HealthcareService.providedBy doit valoir Organization/\(org).")
        }
        let refs = slots.flatMap { Self.cptsReferences($0, singleCodingOnly: true) }
        if refs.isEmpty { problems.append("Aucun créneau ne référence un HealthcareService (extension Slot.serviceType, code 604).") }
        let wrong = refs.filter { $0 != "HealthcareService/\(hs)" }
        if !wrong.isEmpty { problems.append("Références inattendues : \(Set(wrong).sorted().joined(separator: ", ")) (attendu HealthcareService/\(hs)).") }
        return problems
    }

    /// 4.3.13.
    func cptsIdentifier() -> [String] {
        guard let value = first(organizations, "identifier.value") else { return ["Organization CPTS sans identifiant."] }
        return BundleView.matches(value, digitsAfter: "1", count: 9) ? [] : ["Identifiant CPTS « \(value) » : FINESS (1 + 9 chiffres) attendu."]
    }

    // MARK: 4.4 — one practitioner, two places

    func multiPlace() -> [(id: String, title: String, problems: [String])] {
        let pid = first(practitioners, "id") ?? "?"
        let roleIDs = Set(Self.strings(roles, "id"))
        var refs: [String] = []
        for role in roles where BundleView.string(role, "practitioner.reference") != "Practitioner/\(pid)" {
            refs.append("PractitionerRole/\(role["id"] as? String ?? "?") ne cite pas Practitioner/\(pid).")
        }
        var scheduleRoles: [String] = []
        var schedulePractitioner: [String] = []
        for schedule in schedules {
            let actors = Self.strings([schedule], "actor.reference")
            for actor in actors where actor.hasPrefix("PractitionerRole/") && !roleIDs.contains(String(actor.dropFirst("PractitionerRole/".count))) {
                scheduleRoles.append("Schedule/\(schedule["id"] as? String ?? "?") cite \(actor), absent du Bundle.")
            }
            let practitionerActors = actors.filter { $0.hasPrefix("Practitioner/") }
            if practitionerActors != ["Practitioner/\(pid)"] {
                schedulePractitioner.append("Schedule/\(schedule["id"] as? String ?? "?") : un seul acteur Practitioner/\(pid) attendu (reçu \(practitionerActors)).")
            }
        }
        let locations = Self.strings(roles, "location.reference")
        let containedIDs = roles.flatMap { BundleView.values($0, "contained").compactMap { $0 as? Node } }
            .filter { $0["resourceType"] as? String == "Location" }.compactMap { $0["id"] as? String }
        var locationProblems: [String] = []
        if locations.count != containedIDs.count || zip(locations, containedIDs).contains(where: { $0 != "#" + $1 }) {
            locationProblems.append("Les PractitionerRole.location (\(locations)) ne citent pas les lieux contenus (\(containedIDs.map { "#" + $0 })).")
        }
        return [
            ("4.4.02", "Vérification de la présence d'une seule ressource Practitioner",
             practitioners.count == 1 ? [] : ["Practitioner : 1 attendu, \(practitioners.count) reçu(s)."]),
            ("4.4.03", "Vérification de la présence de deux ressources PractitionerRole",
             roles.count == 2 ? [] : ["PractitionerRole : 2 attendus, \(roles.count) reçu(s)."]),
            ("4.4.04", "Vérification de la présence de deux ressources Schedule",
             schedules.count == 2 ? [] : ["Schedule : 2 attendus, \(schedules.count) reçu(s)."]),
            ("4.4.05", "Cohérence des références PractitionerRole → Practitioner", refs),
            ("4.4.06", "Cohérence des références Schedule → PractitionerRole", scheduleRoles),
            ("4.4.07", "Cohérence des références Schedule → Practitioner", schedulePractitioner),
            ("4.4.08", "Cohérence des références PractitionerRole → Location", locationProblems),
        ]
    }

    // MARK: 4.6 — optional fields

    func names() -> ([String], [String]) {
        let family = Self.strings(practitioners, "name.family").isEmpty ? ["Nom (name.family) absent."] : []
        let given = (first(practitioners, "name.given") ?? "").isEmpty ? ["Prénom (name.given) absent ou vide."] : []
        return (family, given)
    }

    /// 4.6.05 (optional).
    func phone() -> [String] {
        guard let phone = first(roles, "telecom.value"), !phone.isEmpty else { return ["Téléphone (PractitionerRole.telecom) absent."] }
        let ok = ["+33", "+262", "+590", "+596", "+594"].contains { BundleView.matches(phone, digitsAfter: $0, count: 9) }
        return ok ? [] : ["Téléphone « \(phone) » : format international +33XXXXXXXXX (ou DROM) attendu."]
    }

    /// 4.6.06.
    func structureIdentifier() -> [String] {
        guard let value = first(roles, "organization.identifier.value"), !value.isEmpty else {
            return ["Identifiant de structure (PractitionerRole.organization.identifier) absent."]
        }
        let ok = BundleView.matches(value, digitsAfter: "1", count: 9) || BundleView.matches(value, digitsAfter: "3", count: 14)
            || BundleView.matches(value, digitsAfter: "4", count: 14)
        return ok ? [] : ["IDNST « \(value) » : FINESS (1…), SIRET (3…) ou RPPS rang (4…) attendu."]
    }

    // MARK: 4.7 — declared options

    static func compare(returned: Set<String>, declared: Set<String>, what: String) -> [String] {
        var problems: [String] = []
        let missing = declared.subtracting(returned), extra = returned.subtracting(declared)
        if !missing.isEmpty { problems.append("\(what) déclarés mais non retournés : \(missing.sorted().joined(separator: ", ")).") }
        if !extra.isEmpty { problems.append("\(what) retournés mais non déclarés : \(extra.sorted().joined(separator: ", ")).") }
        return problems
    }

    func slotTypes(declared: [String]) -> [String] {
        let returned = Set(Self.strings(mode == .ps ? psSlots : slots, "meta.security.code").map { $0.uppercased() }).subtracting(["604"])
        return Self.compare(returned: returned, declared: Set(declared.map { $0.uppercased() }), what: "Types de créneaux")
    }

    func consultationTypes(declared: [String]) -> [String] {
        let returned = Set(Self.strings(slots, "serviceType.coding.code").map { $0.uppercased() }).subtracting(["604"])
        return Self.compare(returned: returned, declared: Set(declared.map { $0.uppercased() }), what: "Types de consultation")
    }

    // MARK: 4.8 — one practitioner in two CPTS

    func twoCPTS(sharedSlot: Bool) -> [(id: String, title: String, problems: [String])] {
        let prefix = sharedSlot ? "4.8.2" : "4.8.1"
        let serviceRefs = Set(Self.strings(services, "id").map { "HealthcareService/" + $0 })
        let orgRefs = Set(Self.strings(organizations, "id").map { "Organization/" + $0 })
        let kinds = Set(Self.strings(slots, "meta.security.code"))
        let serviceTypes = slots.flatMap { BundleView.values($0, "serviceType").compactMap { $0 as? Node } }
        let has604 = serviceTypes.contains { concept in
            BundleView.values(concept, "coding").compactMap { $0 as? Node }.contains {
                $0["system"] as? String == Self.cptsCategory && $0["code"] as? String == FHIRSystems.cptsCategoryCode
            }
        }
        var refProblems: [String] = []
        if sharedSlot {
            let ok = slots.contains { slot in
                let refs = Self.cptsReferences(slot, singleCodingOnly: false)
                return Set(refs).count >= 2 && refs.allSatisfy(serviceRefs.contains)
            }
            if !ok { refProblems.append("Aucun créneau ne référence deux HealthcareService CPTS du Bundle.") }
        } else if !slots.contains(where: { Self.cptsReferences($0, singleCodingOnly: false).contains(where: serviceRefs.contains) }) {
            refProblems.append("Aucun créneau ne référence un HealthcareService CPTS du Bundle.")
        }
        let providers = Self.strings(services, "providedBy.reference")
        var orgProblems: [String] = []
        if !providers.allSatisfy(orgRefs.contains) { orgProblems.append("Des HealthcareService.providedBy ne citent aucune Organization du Bundle.") }
        if Set(providers).count < 2 { orgProblems.append("Deux CPTS distinctes attendues (providedBy : \(Set(providers).sorted())).") }
        return [
            ("\(prefix).02", "Présence de deux ressources HealthcareService",
             services.count >= 2 ? [] : ["HealthcareService CPTS : 2 attendus, \(services.count) reçu(s)."]),
            ("\(prefix).03", "Présence de deux ressources Organization",
             organizations.count >= 2 ? [] : ["Organization CPTS : 2 attendues, \(organizations.count) reçue(s)."]),
            ("\(prefix).04", "Présence du code CPTS dans les créneaux",
             kinds.subtracting(["CPTS"]).isEmpty ? [] : ["Types de créneaux CPTS autres que « CPTS » : \(kinds.subtracting(["CPTS"]).sorted().joined(separator: ", "))."]),
            ("\(prefix).05", "Validation du serviceType des créneaux",
             serviceTypes.isEmpty ? ["Aucun serviceType sur les créneaux CPTS."]
                : (has604 ? [] : ["Aucun serviceType de catégorie 604 (TRE_R66)."])),
            ("\(prefix).06", "Cohérence des références serviceType → HealthcareService", refProblems),
            ("\(prefix).07", "Cohérence des références HealthcareService → Organization", orgProblems),
        ]
    }

    // MARK: 4.9 — CPTS organisation

    func cptsName() -> [String] { first(organizations, "name") == nil ? ["Nom de la CPTS (Organization.name) absent."] : [] }
    func cptsPhone() -> [String] { first(organizations, "telecom.value") == nil ? ["Téléphone de la CPTS (Organization.telecom) absent."] : [] }
}
