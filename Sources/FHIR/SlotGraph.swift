import Foundation
import SASDomain

/// What a Schedule leads to: the practitioner side (INT_R01/R04) or the SOS fixed point and association.
public struct ScheduleContext: Sendable {
    /// Schedule id.
    public var scheduleID: String?
    /// Practitioner IDNPS (PS/CPTS).
    public var practitioner: IDNPS?
    /// Why no IDNPS could be found, when `practitioner` is nil.
    public var practitionerIssue: (reason: EntryProblem.Reason, message: String)?
    /// Practitioner family name.
    public var familyName: String?
    /// Practitioner given name.
    public var givenName: String?
    /// Practitioner resource id.
    public var practitionerID: String?
    /// PractitionerRole resource id.
    public var roleID: String?
    /// Location id (contained or bundled).
    public var locationID: String?
    /// The consultation site.
    public var site = SlotSite()
    /// The practice (PractitionerRole.organization) or, for SOS, the association.
    public var structure: SlotStructure?
    /// Non-fatal problems met on the way (invalid structure id, missing site, cycles).
    public var issues: [(reason: EntryProblem.Reason, message: String)] = []
}

/// Graph walkers over a Bundle, memoised per Schedule and per HealthcareService reference.
///
/// INT_R01: Slot → Schedule → (Practitioner, PractitionerRole → contained Location, organization identifier).
/// INT_R04: Slot → serviceType R5 extension → HealthcareService → providedBy → Organization.
/// SOS: Slot → Schedule → Location → managingOrganization → Organization.
public struct SlotGraph: Sendable {
    /// The index used to resolve references.
    public let index: BundleIndex
    private var scheduleCache: [String: ScheduleContext] = [:]
    private var cptsCache: [String: Result<SlotStructure, SlotGraphError>] = [:]

    public init(index: BundleIndex) { self.index = index }

    /// Resolves `slot.schedule` and walks from that Schedule; nil when the Schedule cannot be found.
    public mutating func context(forScheduleOf slot: Slot, flow: SlotFlow) -> Result<ScheduleContext, SlotGraphError> {
        context(forSchedule: slot.schedule, flow: flow, memoise: true)
    }

    /// The walk from the Schedule `reference` leads to; `memoise`: remember it by reference (the fast path keeps its
    /// own walks, one per distinct reference).
    mutating func context(forSchedule reference: Reference?, flow: SlotFlow, memoise: Bool) -> Result<ScheduleContext, SlotGraphError> {
        guard let reference, let key = reference.reference ?? reference.identifier?.token else {
            return .failure(.unresolved("slot has no schedule reference"))
        }
        if memoise, let cached = scheduleCache[key] { return .success(cached) }
        let target = index.resolve(reference, expecting: "Schedule").resource
        guard case .schedule(let schedule)? = target else { return .failure(.unresolved("schedule \(key) not found")) }
        let context = flow == .sos ? sosContext(schedule) : practitionerContext(schedule)
        if memoise { scheduleCache[key] = context }
        return .success(context)
    }

    /// INT_R01/R04 walk from a Schedule.
    ///
    /// The resources met are kept as `Resource` values (one reference each) and read where they are matched:
    /// copying a model struct out of its case would count a reference per field.
    public func practitionerContext(_ schedule: Schedule) -> ScheduleContext {
        var ctx = ScheduleContext(scheduleID: schedule.id)
        var practitioner: Resource?
        var role: Resource?
        var logicalIDNPS: Identifier?
        var actorLocation: Resource?
        for actor in schedule.actor ?? [] {
            let resolved = index.resolve(actor, contained: nil) // a Schedule contains nothing
            switch resolved.resource {
            case .practitioner?: practitioner = practitioner ?? resolved.resource
            case .practitionerRole?: role = role ?? resolved.resource
            case .location?: actorLocation = actorLocation ?? resolved.resource
            default:
                if case .logical(let identifier) = resolved,
                   identifier.system == IdentifierSystem.idnps || identifier.isTyped(IdentifierSystem.codeIDNPS) {
                    logicalIDNPS = logicalIDNPS ?? identifier
                }
            }
        }
        if case .practitionerRole(let role)? = role {
            ctx.roleID = role.id
            let contained = role.contained // what `#id` references from the role resolve to
            if practitioner == nil, let reference = role.practitioner {
                let resolved = index.resolve(reference, contained: contained, expecting: "Practitioner")
                if case .practitioner? = resolved.resource {
                    practitioner = resolved.resource
                } else if case .logical(let identifier) = resolved {
                    logicalIDNPS = logicalIDNPS ?? identifier
                }
            }
            var location: Resource?
            for reference in role.location ?? [] {
                let target = index.resolve(reference, contained: contained, expecting: "Location").resource
                if case .location? = target {
                    location = target
                    break
                }
            }
            location = location ?? actorLocation
            if case .location(let site)? = location { ctx.locationID = site.id }
            ctx.site = resolvedSite(location, fallbackPhone: SlotMapping.phone(role.telecom), ctx: &ctx)
            if let organization = role.organization {
                ctx.structure = practiceStructure(organization, contained: contained, ctx: &ctx)
            }
        } else {
            if case .location(let site)? = actorLocation { ctx.locationID = site.id }
            ctx.site = resolvedSite(actorLocation, fallbackPhone: nil, ctx: &ctx)
        }
        do {
            if case .practitioner(let practitioner)? = practitioner {
                ctx.practitionerID = practitioner.id
                ctx.familyName = practitioner.name?.first?.family
                ctx.givenName = practitioner.name?.first?.given?.first
                ctx.practitioner = try SlotMapping.idnps(practitioner.identifier ?? [])
                if ctx.practitioner == nil {
                    ctx.practitionerIssue = (.unresolvedPractitioner, "practitioner \(practitioner.id ?? "?") has no IDNPS")
                }
            } else if let logicalIDNPS {
                ctx.practitioner = try SlotMapping.idnps([logicalIDNPS])
            } else {
                ctx.practitionerIssue = (.unresolvedPractitioner, "schedule \(schedule.id ?? "?") leads to no practitioner")
            }
        } catch {
            ctx.practitionerIssue = (.invalidIdentifier, "practitioner IDNPS: \(error)")
        }
        return ctx
    }

    /// SOS walk from a Schedule: its Location actor, then the managing Organization (SIRET).
    public func sosContext(_ schedule: Schedule) -> ScheduleContext {
        var ctx = ScheduleContext(scheduleID: schedule.id)
        var found: Resource?
        for actor in schedule.actor ?? [] { // a Schedule contains nothing
            let target = index.resolve(actor, contained: nil, expecting: "Location").resource
            if case .location? = target {
                found = target
                break
            }
        }
        guard case .location(let location)? = found else {
            ctx.issues.append((.unresolvedLocation, "schedule \(schedule.id ?? "?") has no resolvable Location actor"))
            return ctx
        }
        ctx.locationID = location.id
        ctx.site = resolvedSite(found, fallbackPhone: nil, ctx: &ctx)
        guard let reference = location.managingOrganization,
              let resolved = Optional(index.resolve(reference, expecting: "Organization")) else { return ctx }
        switch resolved {
        case .entry(_, .organization(let organization)):
            do {
                ctx.structure = SlotStructure(role: .sosAssociation, idnst: try SlotMapping.idnst(organization.identifier),
                                              name: organization.name, phone: SlotMapping.phone(organization.telecom))
            } catch {
                ctx.issues.append((.invalidIdentifier, "SOS organization \(organization.id ?? "?"): \(error)"))
                ctx.structure = SlotStructure(role: .sosAssociation, name: organization.name,
                                              phone: SlotMapping.phone(organization.telecom))
            }
        case .logical(let identifier):
            ctx.structure = SlotStructure(role: .sosAssociation, idnst: try? SlotMapping.idnst(identifier),
                                          name: reference.display)
        default:
            break
        }
        return ctx
    }

    /// INT_R04: the CPTS behind one serviceType R5 reference (memoised by reference).
    public mutating func cptsStructure(_ reference: Reference) -> Result<SlotStructure, SlotGraphError> {
        let key = reference.reference ?? reference.identifier?.token ?? ""
        if let cached = cptsCache[key] { return cached }
        let result: Result<SlotStructure, SlotGraphError>
        switch index.resolve(reference, expecting: "HealthcareService") {
        case .entry(_, .healthcareService(let service)):
            if let provider = service.providedBy {
                switch index.resolve(provider, expecting: "Organization") {
                case .entry(_, .organization(let organization)):
                    do {
                        let idnst = try SlotMapping.idnst(organization.identifier)
                        result = .success(SlotStructure(role: .cpts, idnst: idnst, name: organization.name,
                                                        phone: SlotMapping.phone(organization.telecom)))
                    } catch {
                        result = .failure(.invalidIdentifier("CPTS organization \(organization.id ?? "?"): \(error)"))
                    }
                case .logical(let identifier):
                    result = .success(SlotStructure(role: .cpts, idnst: try? SlotMapping.idnst(identifier), name: provider.display))
                default:
                    result = .failure(.unresolved("organization of \(key) not found"))
                }
            } else {
                result = .failure(.unresolved("\(key) has no providedBy"))
            }
        default:
            result = .failure(.unresolved("healthcare service \(key) not found"))
        }
        cptsCache[key] = result
        return result
    }

    /// The site of a Location, climbing `partOf` when it has no address (cycle-safe).
    /// `resource`: a `Location` (anything else counts as none).
    private func resolvedSite(_ resource: Resource?, fallbackPhone: String?, ctx: inout ScheduleContext) -> SlotSite {
        guard let resource, case .location(let location) = resource else {
            ctx.issues.append((.unresolvedLocation, "no consultation location"))
            return SlotSite(phone: fallbackPhone)
        }
        if location.address != nil || location.partOf == nil { return SlotMapping.site(location, fallbackPhone: fallbackPhone) }
        let walk = index.follow(from: resource, next: { $0.location?.partOf }, accept: { $0.location?.address != nil })
        switch walk {
        case .success(let parent):
            var site = SlotMapping.site(parent.location, fallbackPhone: fallbackPhone)
            site.name = location.name ?? site.name
            return site
        case .failure(.cycle):
            ctx.issues.append((.referenceCycle, "Location.partOf cycle from \(location.id ?? "?")"))
        case .failure:
            ctx.issues.append((.unresolvedLocation, "location \(location.id ?? "?") has no address"))
        }
        return SlotMapping.site(location, fallbackPhone: fallbackPhone)
    }

    private func practiceStructure(_ organization: Reference, contained: [Resource]?,
                                   ctx: inout ScheduleContext) -> SlotStructure? {
        switch index.resolve(organization, contained: contained, expecting: "Organization") {
        case .logical(let identifier):
            do { return SlotStructure(role: .practice, idnst: try SlotMapping.idnst(identifier), name: organization.display) }
            catch { ctx.issues.append((.invalidIdentifier, "practice IDNST: \(error)")) }
        case .entry(_, .organization(let org)), .contained(.organization(let org)):
            do {
                return SlotStructure(role: .practice, idnst: try SlotMapping.idnst(org.identifier), name: org.name,
                                     phone: SlotMapping.phone(org.telecom))
            } catch { ctx.issues.append((.invalidIdentifier, "practice IDNST: \(error)")) }
        default:
            break
        }
        return nil
    }
}

/// Why a graph walk stopped.
public enum SlotGraphError: Error, Hashable, Sendable {
    /// A reference could not be resolved.
    case unresolved(String)
    /// A national identifier is malformed.
    case invalidIdentifier(String)

    var message: String {
        switch self {
        case .unresolved(let m), .invalidIdentifier(let m): return m
        }
    }
}
