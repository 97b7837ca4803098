import FHIR
import Foundation
import SASDomain

/// Answers the SAS searches as a real vendor does: INT_R01 (`GET /Slot`, individual practitioners), INT_R04 (the same
/// with the CPTS includes) and the SOS Médecins `GET /Schedule` search, from the vendor's generated agenda.
public struct SandboxSearch: Sendable {
    let roster: SandboxRoster
    let agenda: SandboxAgenda
    let baseURL: String
    let bookingBase: String
    let booked: @Sendable (String) -> Bool

    /// A search the vendor refuses (400 + OperationOutcome).
    public struct BadRequest: Error, Sendable { public let text: String }

    /// Parsed query parameters (repeated names kept).
    public typealias Query = [(name: String, value: String)]

    static func values(_ query: Query, _ name: String) -> [String] { query.filter { $0.name == name }.map(\.value) }

    /// The `ge`/`le` window of the `start` parameter (INT_R01) or `_has:Slot:schedule:start` (SOS).
    static func window(_ values: [String]) throws(BadRequest) -> ClosedRange<Date> {
        var lower: Date?, upper: Date?
        for raw in values {
            // A '+' sent unencoded arrives as a space: restore it (a lenient server, as vendors are).
            let value = raw.replacingOccurrences(of: " ", with: "+")
            guard value.count > 2, let instant = FHIRInstant.parse(String(value.dropFirst(2))) else {
                throw BadRequest(text: "Paramètre start invalide : « \(raw) » (attendu ge… ou le… suivi d'une date FHIR).")
            }
            switch value.prefix(2) {
            case "ge", "gt": lower = instant.date
            case "le", "lt": upper = instant.date
            default: throw BadRequest(text: "Préfixe de date non pris en charge : « \(value.prefix(2)) » (ge ou le).")
            }
        }
        guard let lower, let upper else { throw BadRequest(text: "La fenêtre de recherche exige start=ge… et start=le….") }
        guard lower <= upper else { throw BadRequest(text: "La fenêtre de recherche est vide (ge après le).") }
        return lower...upper
    }

    /// `system|value` tokens of a comma-separated list.
    static func tokens(_ values: [String]) -> [(system: String?, value: String)] {
        values.flatMap { $0.split(separator: ",") }.map { token in
            let text = token.trimmingCharacters(in: .whitespaces)
            if let bar = text.lastIndex(of: "|") { return (String(text[..<bar]), String(text[text.index(after: bar)...])) }
            return (nil, text)
        }
    }

    /// `GET [base]/Slot?…` (INT_R01, INT_R04 when the CPTS includes are asked).
    public func slots(query: Query, selfLink: String, faults: SandboxFaults) throws(BadRequest) -> FHIRBundle {
        let window = try Self.window(Self.values(query, "start"))
        let ids = Self.tokens(Self.values(query, "schedule.actor:Practitioner.identifier"))
        guard !ids.isEmpty else { throw BadRequest(text: "Le paramètre schedule.actor:Practitioner.identifier est obligatoire.") }
        guard ids.count <= 25 else { throw BadRequest(text: "Au plus 25 identifiants par requête (reçu \(ids.count)).") }
        let includes = Self.values(query, "_include") + Self.values(query, "_include:iterate")
        let cpts = includes.contains("Slot:service-type-reference")
        var builder = SearchsetBuilder(baseURL: baseURL, selfLink: selfLink)
        var included: [Resource] = []
        var cptsIncluded = Set<IDNST>()
        for id in ids {
            // Identifiers may arrive with or without their prefix: the slots come back either way, prefixed (FAQ).
            guard let idnps = try? IDNPS(parsing: id.value), let practitioner = roster.practitioners[idnps] else { continue }
            let pid = "p-\(idnps.value)"
            var fhirPractitioner = FHIR.Practitioner(id: pid)
            fhirPractitioner.meta = Meta(profile: [FHIRSystems.Profile.practitioner])
            fhirPractitioner.identifier = [identifier(idnps, faults: faults)]
            fhirPractitioner.name = [HumanName(family: practitioner.familyName, given: [practitioner.givenName])]
            var any = false
            for (s, site) in practitioner.sites.enumerated() {
                let structures = cpts ? practitioner.allCPTS : []
                let all = practitioner.regularAgenda
                    ? agenda.regularSlots(for: idnps, siteIndex: s, cptsCount: structures.count, window: window)
                    : agenda.slots(for: idnps, siteIndex: s, inCPTS: !structures.isEmpty, window: window)
                let generated = all.filter { (faults.busySlotsMixed || $0.free) && !booked($0.id) }
                guard !generated.isEmpty else { continue }
                any = true
                let roleID = "r-\(idnps.value)-\(s)", scheduleID = "sch-\(idnps.value)-\(s)"
                included.append(.practitionerRole(role(roleID, practitionerID: pid, site: site, index: s)))
                var schedule = Schedule(id: scheduleID)
                schedule.meta = Meta(profile: [FHIRSystems.Profile.schedule])
                schedule.actor = [.to("Practitioner", pid), .to("PractitionerRole", roleID)]
                included.append(.schedule(schedule))
                for g in generated {
                    var slot = makeSlot(g, scheduleID: scheduleID, specialties: practitioner.specialties,
                                        bookingURL: "\(bookingBase)/rdv/\(idnps.value)", faults: faults)
                    for index in g.cpts ? g.cptsStructures : [] where structures.indices.contains(index) {
                        let structure = structures[index]
                        let serviceID = "hs-\(structure.idnst.value)"
                        var concept = CodeableConcept(coding: [Coding(system: FHIRSystems.establishmentCategory, code: FHIRSystems.cptsCategoryCode)])
                        concept.extension_ = [Extension(url: FHIRSystems.slotServiceTypeExtension, value: .reference(.to("HealthcareService", serviceID)))]
                        slot.serviceType = (slot.serviceType ?? []) + [concept]
                        if !cptsIncluded.contains(structure.idnst) {
                            cptsIncluded.insert(structure.idnst)
                            included.append(contentsOf: cptsResources(structure, serviceID: serviceID))
                        }
                    }
                    builder.add(.slot(slot))
                }
            }
            if any { included.append(.practitioner(fhirPractitioner)) }
        }
        for resource in included { builder.add(resource, mode: .include) }
        return builder.build()
    }

    /// `GET [base]/Schedule?…` (SOS Médecins): Schedules of the associations' fixed places, their Slots through
    /// `_revinclude` (all of them, busy and outside the window too, as a strict FHIR server does — digest §8.6),
    /// the Locations and the Organizations.
    public func sosSchedules(query: Query, selfLink: String, faults: SandboxFaults) throws(BadRequest) -> FHIRBundle {
        let window = try Self.window(Self.values(query, "_has:Slot:schedule:start"))
        let ids = Self.tokens(Self.values(query, "actor:Location.organization.identifier"))
        guard !ids.isEmpty else { throw BadRequest(text: "Le paramètre actor:Location.organization.identifier est obligatoire.") }
        guard ids.count <= 25 else { throw BadRequest(text: "Trop d'identifiants de structure (\(ids.count)).") }
        var builder = SearchsetBuilder(baseURL: baseURL, selfLink: selfLink)
        var slots = 0
        for id in ids {
            guard let siret = try? IDNST(parsing: id.value), let association = roster.associations[siret] else { continue }
            let orgID = "org-\(siret.value)"
            var organization = Organization(id: orgID)
            organization.meta = Meta(profile: [FHIRSystems.Profile.sosOrganization])
            organization.identifier = [Identifier(system: IdentifierSystem.idnst, value: faults.unprefixedIdentifiers ? siret.unprefixed : siret.value,
                                                  typeSystem: IdentifierSystem.frLocationIdentifierType, typeCode: IdentifierSystem.codeIDNST)]
            organization.name = association.structure.name
            for (p, place) in association.places.enumerated() {
                let locationID = "pfg-\(siret.value)-\(p)", scheduleID = "sch-sos-\(siret.value)-\(p)"
                var location = Location(id: locationID)
                location.meta = Meta(profile: [FHIRSystems.Profile.sosLocation])
                location.identifier = [Identifier(system: "https://sandbox.sas.localhost", value: locationID,
                                                  typeSystem: IdentifierSystem.frLocationIdentifierType, typeCode: IdentifierSystem.codeINTRN)]
                location.name = "\(association.structure.name) — point fixe \(p + 1)"
                location.address = Address(line: [place.line], city: place.city, postalCode: place.postalCode)
                if let phone = place.phone { location.telecom = [ContactPoint(system: "phone", value: phone)] }
                if let lat = place.latitude, let lon = place.longitude { location.position = .init(longitude: lon, latitude: lat) }
                location.managingOrganization = .to("Organization", orgID)
                var schedule = Schedule(id: scheduleID)
                schedule.meta = Meta(profile: [FHIRSystems.Profile.sosSchedule])
                schedule.actor = [.to("Location", locationID)]
                // _revinclude returns every Slot of the Schedule: the platform must filter (and test) that.
                let wide = window.lowerBound.addingTimeInterval(-86_400)...window.upperBound.addingTimeInterval(86_400)
                let generated = agenda.sosSlots(association: siret, placeIndex: p, window: wide).filter { !booked($0.id) }
                guard !generated.isEmpty else { continue }
                builder.add(.schedule(schedule), mode: .match)
                for g in generated {
                    var slot = makeSlot(g, scheduleID: scheduleID, specialties: [],
                                        bookingURL: "\(bookingBase)/sos/\(siret.value)/\(p)", faults: faults)
                    slot.meta?.profile = [FHIRSystems.Profile.sosSlot]
                    builder.add(.slot(slot), mode: .include)
                    slots += 1
                }
                builder.add(.location(location), mode: .include)
            }
            builder.add(.organization(organization), mode: .include)
        }
        builder.totalOverride = slots
        return builder.build()
    }

    func identifier(_ idnps: IDNPS, faults: SandboxFaults) -> Identifier {
        Identifier(system: IdentifierSystem.idnps, value: faults.unprefixedIdentifiers ? idnps.unprefixed : idnps.value,
                   typeSystem: IdentifierSystem.frV20203, typeCode: IdentifierSystem.codeIDNPS)
    }

    func role(_ id: String, practitionerID: String, site: SandboxRoster.Site, index: Int) -> PractitionerRole {
        var location = Location(id: "loc\(index)")
        location.meta = Meta(profile: [FHIRSystems.Profile.location])
        location.identifier = [Identifier(system: "https://sandbox.sas.localhost", value: "\(id)-loc",
                                          typeSystem: IdentifierSystem.frLocationIdentifierType, typeCode: IdentifierSystem.codeINTRN)]
        location.address = Address(line: [site.line], city: site.city, postalCode: site.postalCode)
        if let lat = site.latitude, let lon = site.longitude { location.position = .init(longitude: lon, latitude: lat) }
        var role = PractitionerRole(id: id)
        role.meta = Meta(profile: [FHIRSystems.Profile.practitionerRole])
        role.contained = [.location(location)]
        role.practitioner = .to("Practitioner", practitionerID)
        role.location = [.contained("loc\(index)")]
        if let organization = site.organization {
            role.organization = Reference(identifier: Identifier(system: IdentifierSystem.idnst, value: organization.value,
                                                                 typeSystem: IdentifierSystem.frV20203, typeCode: IdentifierSystem.codeIDNST))
        }
        if let phone = site.phone { role.telecom = [ContactPoint(system: "phone", value: phone)] }
        return role
    }

    func cptsResources(_ structure: SandboxRoster.Structure, serviceID: String) -> [Resource] {
        let orgID = "cpts-\(structure.idnst.value)"
        var service = HealthcareService(id: serviceID)
        service.meta = Meta(profile: [FHIRSystems.Profile.cptsHealthcareService])
        service.providedBy = .to("Organization", orgID)
        var organization = Organization(id: orgID)
        organization.meta = Meta(profile: [FHIRSystems.Profile.cptsOrganization])
        organization.identifier = [Identifier(system: IdentifierSystem.idnst, value: structure.idnst.value,
                                              typeSystem: IdentifierSystem.frV20203, typeCode: IdentifierSystem.codeIDNST)]
        organization.name = structure.name
        if let phone = structure.phone { organization.telecom = [ContactPoint(system: "phone", value: phone)] }
        return [.healthcareService(service), .organization(organization)]
    }

    func makeSlot(_ g: SandboxAgenda.GeneratedSlot, scheduleID: String, specialties: [String], bookingURL: String,
                  faults: SandboxFaults) -> Slot {
        var slot = Slot(id: g.id)
        slot.meta = Meta(profile: [g.cpts ? FHIRSystems.Profile.cptsSlot : FHIRSystems.Profile.slot],
                         security: g.kinds.map { Coding(system: SlotKind.system, code: $0.code) })
        var types = [CodeableConcept(coding: g.consultationTypes.map { Coding(system: ConsultationType.system, code: $0) })]
        if let reason = g.reason { types.append(CodeableConcept(text: reason)) }
        slot.serviceType = types
        if !specialties.isEmpty {
            slot.specialty = [CodeableConcept(coding: specialties.map { Coding(system: FHIRSystems.specialtyR38, code: $0) })]
        }
        slot.appointmentType = CodeableConcept(coding: [Coding(system: BookingMode.system, code: g.walkIn ? "WALKIN" : "ROUTINE")])
        slot.schedule = .to("Schedule", scheduleID)
        slot.status = g.free ? "free" : "busy"
        let zone: FHIRTimeZone = faults.utcInstants ? .utc : .paris
        slot.start = FHIRInstant(g.start, timeZone: zone)
        slot.end = FHIRInstant(g.end, timeZone: zone)
        if !g.walkIn { slot.comment = bookingURL + "?creneau=" + g.id }
        return slot
    }
}
