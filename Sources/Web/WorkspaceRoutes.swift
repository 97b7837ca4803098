import Agenda
import Aggregator
import Directory
import Foundation
import Hummingbird
import HTTPTypes
import Identity
import SASDomain
import Search
import Storage

/// Who may act on which agenda: the practitioner himself (health-professional role and his IDNPS on the account),
/// the managers of a structure (structure-manager role and the structure attached to the account), and delegates
/// (delegate role and an active delegation). Nothing else is implied by another role.
struct AgendaAccess: Sendable {
    enum Right: String, Sendable {
        case owner, manager, delegate
        var label: String {
            switch self {
            case .owner: "titulaire"
            case .manager: "gestionnaire"
            case .delegate: "délégataire"
            }
        }
    }

    let workspace: WorkspaceStore

    func right(_ account: Account, on owner: AgendaOwner) async throws -> Right? {
        switch owner {
        case .practitioner(let idnps):
            if account.roles.contains(.healthProfessional), account.idnps == idnps { return .owner }
        case .structure(let idnst):
            if account.roles.contains(.structureManager), try await workspace.managedStructures(account.id).contains(idnst) {
                return .manager
            }
        }
        if account.roles.contains(.delegate), try await workspace.delegatedOwners(account.id).contains(owner) { return .delegate }
        return nil
    }

    /// The agendas the account may act on.
    func agendas(_ account: Account) async throws -> [(owner: AgendaOwner, right: Right)] {
        var list: [(AgendaOwner, Right)] = []
        if account.roles.contains(.healthProfessional), let idnps = account.idnps { list.append((.practitioner(idnps), .owner)) }
        if account.roles.contains(.structureManager) {
            list += try await workspace.managedStructures(account.id).map { (.structure($0), .manager) }
        }
        if account.roles.contains(.delegate) {
            list += try await workspace.delegatedOwners(account.id).map { ($0, .delegate) }
        }
        return list
    }

    func require(_ context: AppRequestContext, on owner: AgendaOwner) async throws -> (Account, Right) {
        guard let account = context.session?.account else {
            throw AppError(.unauthorized, code: "unauthenticated", message: "Authentification requise : connectez-vous.")
        }
        guard let right = try await right(account, on: owner) else {
            throw AppError(.forbidden, code: "forbidden",
                           message: "Vous n'avez pas accès à cet agenda : seuls son titulaire, les gestionnaires de la structure et leurs délégataires y ont accès.")
        }
        return (account, right)
    }
}

/// The health professional's and structure's workspace (`/espace`): SAS agenda (week view, single slots and
/// ranges, weekly series, edit/delete one occurrence or the series), unavailability and the "vacances" switch,
/// participation settings, structure settings/members/places, delegations.
struct WorkspaceRoutes {
    let book: AgendaBook
    let workspace: WorkspaceStore
    let accounts: AccountStore
    let editors: EditorStore
    let geocoder: OfflineGeocoder
    let pages: Pages
    /// Called after a write that changes what the search sees (this node's caches; other nodes follow the versions).
    let onAgendaChange: @Sendable () -> Void
    let onDirectoryChange: @Sendable () async -> Void

    var access: AgendaAccess { AgendaAccess(workspace: workspace) }

    static func owner(_ context: AppRequestContext) throws -> AgendaOwner {
        let type = try context.parameters.require("type"), id = try context.parameters.require("id")
        switch type {
        case "ps":
            guard let idnps = try? IDNPS(parsing: id) else {
                throw AppError(.notFound, code: "agenda", message: "Identifiant de professionnel invalide : « \(id) ».")
            }
            return .practitioner(idnps.value)
        case "structure":
            guard let idnst = try? IDNST(parsing: id) else {
                throw AppError(.notFound, code: "agenda", message: "Identifiant de structure invalide : « \(id) ».")
            }
            return .structure(idnst.value)
        default:
            throw AppError(.notFound, code: "agenda", message: "Agenda inconnu.")
        }
    }

    static func path(_ owner: AgendaOwner) -> String {
        switch owner {
        case .practitioner(let id): "/espace/agenda/ps/\(id)"
        case .structure(let id): "/espace/agenda/structure/\(id)"
        }
    }

    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as AgendaError {
            let status: HTTPResponse.Status = switch error.kind {
            case .invalid: .unprocessableContent
            case .conflict: .conflict
            case .notFound: .notFound
            case .forbidden: .forbidden
            }
            throw AppError(status, code: "agenda", message: error.message)
        }
    }

    static func redirect(_ path: String, _ message: String) -> Response {
        Response(status: .seeOther, headers: [.location: path + (path.contains("?") ? "&" : "?") + "message=" + RequirePermission.encode(message)])
    }

    /// Form fields, keeping repeated names (check boxes).
    static func fields(_ request: Request) async throws -> (first: [String: String], all: [String: [String]]) {
        let text = String(buffer: try await request.body.collect(upTo: 64 * 1024))
        var all: [String: [String]] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if kv.count == 2 { all[kv[0], default: []].append(kv[1]) }
        }
        return (all.compactMapValues(\.first), all)
    }

    static func types(_ values: [String]) -> ConsultationTypes {
        ConsultationTypes(values.compactMap { value -> ConsultationType? in
            switch value {
            case "cabinet": .ambulatory
            case "domicile": .homeVisit
            case "teleconsultation": .teleconsultation
            default: nil
            }
        })
    }

    /// Parses the time and capacity fields of the slot forms (French errors).
    static func timing(_ form: [String: String]) throws -> (day: LocalDay, start: Int, end: Int, capacity: Int) {
        guard let day = form["jour"].flatMap(LocalDay.init) else {
            throw AppError(.unprocessableContent, code: "agenda", message: "Date invalide : saisissez une date au format AAAA-MM-JJ.")
        }
        guard let start = form["debut"].flatMap(ParisClock.parseClock), let end = form["fin"].flatMap(ParisClock.parseClock) else {
            throw AppError(.unprocessableContent, code: "agenda", message: "Heure invalide : saisissez l'heure de début et de fin au format HH:MM.")
        }
        let kind = form["type"] ?? "creneau"
        var capacity = 1
        if kind == "plage" {
            guard let n = form["capacite"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
                throw AppError(.unprocessableContent, code: "agenda", message: "Indiquez le nombre maximal de patients de la plage.")
            }
            capacity = n
            if n == 1 {
                throw AppError(.unprocessableContent, code: "agenda", message: "Une plage reçoit au moins 2 patients : pour un seul patient, choisissez « créneau ».")
            }
        }
        return (day, start, end, capacity)
    }

    static func site(_ form: [String: String]) throws -> Int64? {
        guard let text = form["lieu"], !text.isEmpty else { return nil }
        guard let id = Int64(text) else { throw AppError(.unprocessableContent, code: "agenda", message: "Lieu d'exercice invalide.") }
        return id
    }

    func register(on router: Router<AppRequestContext>) {
        let group = router.group("espace").add(middleware: RequirePermission(permission: .manageOwnAgenda, formCSRF: true))
        group.get { request, context in
            guard let account = context.session?.account else { throw AppError(.unauthorized, code: "unauthenticated", message: "Connectez-vous.") }
            let list = try await access.agendas(account)
            if list.count == 1, request.uri.queryParameters.get("message") == nil {
                return Response(status: .seeOther, headers: [.location: Self.path(list[0].owner)])
            }
            var rows: [[String: Any]] = []
            for (owner, right) in list { rows.append(["link": Self.path(owner), "label": try await label(owner), "right": right.label]) }
            return pages.response("workspace", title: "Mon espace", values: [
                "message": request.uri.queryParameters.get("message") ?? "", "rows": rows, "empty": rows.isEmpty,
                "noIDNPS": account.roles.contains(.healthProfessional) && account.idnps == nil,
            ], context: context)
        }
        registerAgenda(on: group)
        registerSettings(on: group)
        registerStructure(on: group)
        registerDelegations(on: group)
    }

    func label(_ owner: AgendaOwner) async throws -> String {
        switch owner {
        case .practitioner(let id):
            return try await workspace.settings(id).map { "\($0.name) (\(id))" } ?? "Professionnel \(id) (absent de l'annuaire)"
        case .structure(let id):
            return try await workspace.structure(id).map { "\($0.structure.name) — \($0.structure.kind.label)" } ?? "Structure \(id)"
        }
    }

    // MARK: agenda

    func registerAgenda(on group: RouterGroup<AppRequestContext>) {
        group.get("agenda/{type}/{id}") { request, context in
            let owner = try Self.owner(context)
            let (_, right) = try await access.require(context, on: owner)
            let week = request.uri.queryParameters.get("semaine").flatMap(LocalDay.init)?.monday ?? ParisClock.day(of: Date()).monday
            return try await agendaPage(owner, right: right, week: week, context: context,
                                        message: request.uri.queryParameters.get("message"), error: nil, form: [:])
        }
        group.post("agenda/{type}/{id}/creneaux") { request, context in
            let owner = try Self.owner(context)
            let (account, right) = try await access.require(context, on: owner)
            let (form, all) = try await Self.fields(request)
            do {
                let t = try Self.timing(form)
                let practitioner: IDNPS
                var structure: IDNST?
                switch owner {
                case .practitioner(let id):
                    practitioner = try IDNPS(parsing: id)
                case .structure(let id):
                    guard let text = form["praticien"], let member = try? IDNPS(parsing: text),
                          let view = try await workspace.structure(id), view.members.contains(where: { $0.idnps == member.value }) else {
                        throw AppError(.unprocessableContent, code: "agenda", message: "Choisissez le professionnel de la structure qui assure ce créneau.")
                    }
                    practitioner = member
                    structure = try IDNST(parsing: id)
                }
                var until: LocalDay?
                if form["repeter"] == "1" {
                    guard let last = form["jusqu_au"].flatMap(LocalDay.init) else {
                        throw AppError(.unprocessableContent, code: "agenda", message: "Une récurrence hebdomadaire a une date de fin (un an au plus) : indiquez-la.")
                    }
                    until = last
                }
                let draft = SlotDraft(practitioner: practitioner, structure: structure, siteID: try Self.site(form), day: t.day,
                                      startMinute: t.start, endMinute: t.end, capacity: t.capacity,
                                      consultationTypes: Self.types(all["modalite"] ?? []), repeatUntil: until)
                let made = try await Self.mapped {
                    try await book.create(draft, actor: account.email, sourceAddress: context.remoteAddress)
                }
                onAgendaChange()
                let what = t.capacity == 1 ? "Créneau" : "Plage de \(t.capacity) patients"
                let message = made.series == nil
                    ? "\(what) ajouté le \(t.day.frenchLabel) de \(ParisClock.clock(t.start)) à \(ParisClock.clock(t.end)) : il est visible des régulateurs."
                    : "\(what) ajouté chaque \(t.day.frenchLabel.split(separator: " ")[0]) de \(ParisClock.clock(t.start)) à \(ParisClock.clock(t.end)) jusqu'au \(until!.frenchLabel) (\(made.occurrences.count) occurrences)."
                _ = right
                return Self.redirect(Self.path(owner) + "?semaine=\(t.day.monday)", message)
            } catch let error as AppError where error.status == .unprocessableContent || error.status == .conflict {
                let week = form["jour"].flatMap(LocalDay.init)?.monday ?? ParisClock.day(of: Date()).monday
                var kept = form
                kept["modalites"] = (all["modalite"] ?? []).joined(separator: ",")
                return try await agendaPage(owner, right: right, week: week, context: context, message: nil, error: error.message,
                                            form: kept, status: error.status)
            }
        }
        group.get("agenda/{type}/{id}/creneaux/{slot}") { request, context in
            let owner = try Self.owner(context)
            let (_, right) = try await access.require(context, on: owner)
            let occurrence = try await ownedOccurrence(try context.parameters.require("slot"), of: owner)
            return try await editPage(owner, right: right, occurrence: occurrence, context: context, error: nil,
                                      message: request.uri.queryParameters.get("message"))
        }
        group.post("agenda/{type}/{id}/creneaux/{slot}") { request, context in
            let owner = try Self.owner(context)
            let (account, right) = try await access.require(context, on: owner)
            let occurrence = try await ownedOccurrence(try context.parameters.require("slot"), of: owner)
            let (form, all) = try await Self.fields(request)
            do {
                let t = try Self.timing(form)
                guard let version = form["version"].flatMap(Int.init) else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Version du créneau manquante : rechargez la page.")
                }
                var change = SlotChange(day: t.day, startMinute: t.start, endMinute: t.end, capacity: t.capacity,
                                        consultationTypes: Self.types(all["modalite"] ?? []), siteID: try Self.site(form))
                let message: String
                if form["portee"] == "serie", let seriesID = occurrence.seriesID {
                    guard let seriesVersion = form["version_serie"].flatMap(Int.init) else {
                        throw AppError(.unprocessableContent, code: "agenda", message: "Version de la récurrence manquante : rechargez la page.")
                    }
                    change.repeatUntil = form["jusqu_au"].flatMap(LocalDay.init)
                    let result = try await Self.mapped {
                        try await book.updateSeries(seriesID, expectedVersion: seriesVersion, to: change, actor: account.email,
                                                    sourceAddress: context.remoteAddress)
                    }
                    message = "Récurrence modifiée à partir d'aujourd'hui" + (result.kept > 0 ? " ; \(result.kept) occurrence(s) avec des patients orientés restent inchangées." : ".")
                } else {
                    _ = try await Self.mapped {
                        try await book.update(occurrence.id, expectedVersion: version, to: change, actor: account.email,
                                              sourceAddress: context.remoteAddress)
                    }
                    message = "Créneau du \(t.day.frenchLabel) modifié."
                }
                onAgendaChange()
                return Self.redirect(Self.path(owner) + "?semaine=\(t.day.monday)", message)
            } catch let error as AppError where error.status == .unprocessableContent || error.status == .conflict {
                let fresh = try await book.occurrence(occurrence.id) ?? occurrence
                return try await editPage(owner, right: right, occurrence: fresh, context: context, error: error.message,
                                          message: nil, status: error.status)
            }
        }
        group.post("agenda/{type}/{id}/creneaux/{slot}/supprimer") { request, context in
            let owner = try Self.owner(context)
            let (account, _) = try await access.require(context, on: owner)
            let occurrence = try await ownedOccurrence(try context.parameters.require("slot"), of: owner)
            let form = try await FormData.read(request)
            let message: String
            if form["portee"] == "serie", let seriesID = occurrence.seriesID {
                let result = try await Self.mapped {
                    try await book.deleteSeries(seriesID, expectedVersion: form["version_serie"].flatMap(Int.init), actor: account.email,
                                                sourceAddress: context.remoteAddress)
                }
                message = "Récurrence supprimée : \(result.deleted) occurrence(s) à venir retirée(s)"
                    + (result.kept > 0 ? ", \(result.kept) gardée(s) car des patients y sont orientés." : ".")
            } else {
                try await Self.mapped {
                    try await book.delete(occurrence.id, expectedVersion: form["version"].flatMap(Int.init), actor: account.email,
                                          sourceAddress: context.remoteAddress)
                }
                message = "Créneau du \(occurrence.day.frenchLabel) à \(ParisClock.clock(occurrence.startMinute)) supprimé."
            }
            onAgendaChange()
            return Self.redirect(Self.path(owner) + "?semaine=\(occurrence.day.monday)", message)
        }
    }

    /// The occurrence, when it belongs to this agenda.
    func ownedOccurrence(_ id: String, of owner: AgendaOwner) async throws -> AgendaOccurrence {
        guard let occurrence = try await book.occurrence(id) else {
            throw AppError(.notFound, code: "agenda", message: "Ce créneau n'existe plus.")
        }
        switch owner {
        case .practitioner(let p) where occurrence.practitioner == p: return occurrence
        case .structure(let s) where occurrence.structure == s:
            // Only while the practitioner holding it is still a member.
            guard try await workspace.structure(s)?.members.contains(where: { $0.idnps == occurrence.practitioner }) == true else {
                throw AppError(.forbidden, code: "forbidden", message: "Ce professionnel n'est plus membre de la structure : son créneau ne se gère plus ici.")
            }
            return occurrence
        default: throw AppError(.notFound, code: "agenda", message: "Ce créneau n'appartient pas à cet agenda.")
        }
    }

    static let hours = Array(6...22)

    func agendaPage(_ owner: AgendaOwner, right: AgendaAccess.Right, week: LocalDay, context: AppRequestContext,
                    message: String?, error: String?, form: [String: String], status: HTTPResponse.Status = .ok) async throws -> Response {
        let from = ParisClock.instant(week, minute: 0), to = ParisClock.instant(week.adding(days: 7), minute: 0)
        var practitioner: String?, structure: String?
        var sites: [SiteChoice] = []
        var members: [(idnps: String, name: String)] = []
        switch owner {
        case .practitioner(let id):
            practitioner = id
            guard try await workspace.settings(id) != nil else {
                throw AppError(.notFound, code: "agenda", message: "Votre identifiant \(id) n'est pas dans l'annuaire SAS : contactez votre référent territorial.")
            }
            sites = try await workspace.sites(id)
        case .structure(let id):
            structure = id
            guard let view = try await workspace.structure(id) else {
                throw AppError(.notFound, code: "agenda", message: "Structure \(id) inconnue de l'annuaire.")
            }
            members = view.members
        }
        let occurrences = try await book.occurrences(practitioner: practitioner, structure: structure, from: from, to: to)
        let now = Date()
        let days = (0..<7).map { week.adding(days: $0) }
        let memberNames = Dictionary(members.map { ($0.idnps, $0.name) }, uniquingKeysWith: { a, _ in a })
        func entry(_ o: AgendaOccurrence) -> [String: Any] {
            [
                "id": o.id, "start": ParisClock.clock(o.startMinute), "end": ParisClock.clock(o.endMinute),
                "range": o.capacity > 1, "capacity": o.capacity, "booked": o.booked, "full": o.booked >= o.capacity,
                "modalities": AgendaBook.describe(o.consultationTypes), "series": o.seriesID != nil,
                "past": o.end <= now, "who": memberNames[o.practitioner] ?? "",
                "edit": Self.path(owner) + "/creneaux/\(o.id)",
                "label": "\(o.day.frenchLabel) \(ParisClock.clock(o.startMinute))–\(ParisClock.clock(o.endMinute))",
            ]
        }
        let byDay = Dictionary(grouping: occurrences, by: \.day)
        let grid: [[String: Any]] = Self.hours.map { hour in
            ["hour": String(format: "%02d:00", hour), "cells": days.map { day -> [String: Any] in
                let inCell = (byDay[day] ?? []).filter {
                    let m = $0.startMinute
                    return hour == Self.hours.first! ? m < (hour + 1) * 60 : (hour == Self.hours.last! ? m >= hour * 60 : m / 60 == hour)
                }
                return ["day": day.description, "hour": String(format: "%02d:00", hour),
                        "end": String(format: "%02d:00", min(hour + 1, 24)), "slots": inCell.map(entry),
                        "label": "\(day.frenchLabel) à \(hour) h",
                        "past": ParisClock.instant(day, minute: (hour + 1) * 60) <= now]
            }]
        }
        let modalities = Set((form["modalites"] ?? "cabinet").split(separator: ",").map(String.init))
        let defaultDay = max(ParisClock.day(of: now), week)
        let values: [String: Any] = [
            "title": try await label(owner), "right": right.label, "path": Self.path(owner),
            "message": message ?? "", "error": error ?? "", "csrf": context.session?.csrfToken ?? "",
            "weekLabel": "Semaine du \(week.frenchLabel)", "previous": week.adding(days: -7).description,
            "next": week.adding(days: 7).description, "today": ParisClock.day(of: now).monday.description,
            "days": days.map { ["label": $0.frenchLabel, "short": String($0.frenchLabel.split(separator: " ").prefix(2).joined(separator: " ")),
                                "date": $0.description] },
            "grid": grid,
            "list": occurrences.map(entry), "emptyWeek": occurrences.isEmpty,
            "isStructure": structure != nil, "isPractitioner": practitioner != nil,
            "members": members.map { ["idnps": $0.idnps, "name": $0.name, "selected": form["praticien"] == $0.idnps] },
            "noMembers": structure != nil && members.isEmpty,
            "sites": sites.map { ["id": String($0.id), "label": $0.label, "selected": form["lieu"] == String($0.id)] },
            "hasSites": !sites.isEmpty,
            "form": [
                "jour": form["jour"] ?? defaultDay.description, "debut": form["debut"] ?? "", "fin": form["fin"] ?? "",
                "plage": form["type"] == "plage", "capacite": form["capacite"] ?? "3", "repeter": form["repeter"] == "1",
                "jusqu_au": form["jusqu_au"] ?? "", "cabinet": modalities.contains("cabinet"),
                "domicile": modalities.contains("domicile"), "teleconsultation": modalities.contains("teleconsultation"),
            ] as [String: Any],
            "settingsLink": practitioner.map { "/espace/participation/\($0)" } ?? structure.map { "/espace/structure/\($0)" } ?? "",
            "delegationsLink": right == .delegate ? "" : "/espace/delegations/\(owner.key)",
        ]
        return pages.response("agenda", title: "Agenda SAS", values: values, context: context, status: status)
    }

    func editPage(_ owner: AgendaOwner, right: AgendaAccess.Right, occurrence o: AgendaOccurrence, context: AppRequestContext,
                  error: String?, message: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let series = try await o.seriesID.asyncMap { try await book.series($0) } ?? nil
        let sites = try await workspace.sites(o.practitioner)
        return pages.response("agenda-slot", title: "Modifier un créneau", values: [
            "title": try await label(owner), "path": Self.path(owner), "csrf": context.session?.csrfToken ?? "",
            "error": error ?? "", "message": message ?? "", "id": o.id, "version": o.version,
            "label": "\(o.day.frenchLabel) de \(ParisClock.clock(o.startMinute)) à \(ParisClock.clock(o.endMinute))",
            "jour": o.day.description, "debut": ParisClock.clock(o.startMinute), "fin": ParisClock.clock(o.endMinute),
            "plage": o.capacity > 1, "capacite": o.capacity, "booked": o.booked, "hasBooked": o.booked > 0,
            "cabinet": o.consultationTypes.contains(.ambulatory), "domicile": o.consultationTypes.contains(.homeVisit),
            "teleconsultation": o.consultationTypes.contains(.teleconsultation),
            "sites": sites.map { ["id": String($0.id), "label": $0.label, "selected": o.siteID == $0.id] }, "hasSites": !sites.isEmpty,
            "series": series.map { s -> [String: Any] in
                ["version": s.version, "until": s.lastDay.description,
                 "label": "chaque \(s.firstDay.frenchLabel.split(separator: " ")[0]) de \(ParisClock.clock(s.startMinute)) à \(ParisClock.clock(s.endMinute)), du \(s.firstDay.frenchLabel) au \(s.lastDay.frenchLabel)"]
            } ?? [:],
            "hasSeries": series != nil, "week": o.day.monday.description,
        ], context: context, status: status)
    }

    // MARK: participation, unavailability

    func registerSettings(on group: RouterGroup<AppRequestContext>) {
        group.get("participation/{idnps}") { request, context in
            let idnps = try context.parameters.require("idnps")
            let (_, right) = try await access.require(context, on: .practitioner(idnps))
            return try await settingsPage(idnps, right: right, context: context, message: request.uri.queryParameters.get("message"),
                                          error: nil)
        }
        group.post("participation/{idnps}") { request, context in
            let idnps = try context.parameters.require("idnps")
            let (account, right) = try await access.require(context, on: .practitioner(idnps))
            let (form, all) = try await Self.fields(request)
            do {
                guard let version = form["version"].flatMap(Int.init) else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Version des réglages manquante : rechargez la page.")
                }
                var hours: Int?
                if let text = form["heures"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                    guard let n = Int(text) else {
                        throw AppError(.unprocessableContent, code: "agenda", message: "Nombre d'heures par semaine invalide : « \(text) ».")
                    }
                    hours = n
                }
                let known = Set(try await editors.all().filter(\.enabled).map(\.id))
                let participates = form["participe"] == "1"
                let mode = form["via"].flatMap(Int.init).flatMap(ParticipationMode.init(rawValue:))
                _ = try await Self.mapped {
                    try await workspace.updateParticipation(
                        idnps, expectedVersion: version,
                        form: .init(participates: participates, mode: mode, structure: form["structure"],
                                    acceptsExtraPatients: form["en_sus"] == "1", forfaitReorientation: form["forfait"] == "1",
                                    hoursPerWeek: hours, additionalInfo: form["infos"], vendors: all["logiciel"] ?? []),
                        knownVendors: known, actor: account.email, sourceAddress: context.remoteAddress)
                }
                await onDirectoryChange()
                return Self.redirect("/espace/participation/\(idnps)", "Réglages enregistrés : les régulateurs les voient dès maintenant.")
            } catch let error as AppError where error.status == .unprocessableContent || error.status == .conflict {
                return try await settingsPage(idnps, right: right, context: context, message: nil, error: error.message, status: error.status)
            }
        }
        group.post("participation/{idnps}/invitations/{idnst}") { request, context in
            let idnps = try context.parameters.require("idnps"), idnst = try context.parameters.require("idnst")
            let (account, right) = try await access.require(context, on: .practitioner(idnps))
            guard right == .owner else {
                throw AppError(.forbidden, code: "forbidden", message: "Seul le professionnel lui-même répond à une invitation d'une structure.")
            }
            let accept = try await FormData.read(request)["reponse"] == "accepter"
            do {
                try await Self.mapped {
                    try await workspace.answer(idnst, idnps: idnps, accept: accept, actor: account.email, sourceAddress: context.remoteAddress)
                }
            } catch let error as AppError where error.status == .conflict {
                return try await settingsPage(idnps, right: right, context: context, message: nil, error: error.message, status: error.status)
            }
            await onDirectoryChange()
            return Self.redirect("/espace/participation/\(idnps)", accept
                ? "Vous participez désormais au SAS via cette structure." : "Invitation refusée.")
        }
        group.post("participation/{idnps}/vacances") { request, context in
            let idnps = try context.parameters.require("idnps")
            let (account, _) = try await access.require(context, on: .practitioner(idnps))
            let form = try await FormData.read(request)
            let on = form["actif"] == "1"
            try await Self.mapped { try await workspace.setVacation(idnps, on: on, actor: account.email, sourceAddress: context.remoteAddress) }
            await onDirectoryChange()
            return Self.redirect("/espace/participation/\(idnps)", on
                ? "Mode vacances activé : vous n'apparaissez plus dans les recherches des régulateurs." : "Mode vacances désactivé : vous apparaissez de nouveau dans les recherches.")
        }
        group.post("participation/{idnps}/indisponibilites") { request, context in
            let idnps = try context.parameters.require("idnps")
            let (account, right) = try await access.require(context, on: .practitioner(idnps))
            let form = try await FormData.read(request)
            do {
                guard let first = form["du"].flatMap(LocalDay.init), let last = form["au"].flatMap(LocalDay.init) else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Dates invalides : saisissez le premier et le dernier jour (AAAA-MM-JJ).")
                }
                try await Self.mapped {
                    try await workspace.addUnavailability(idnps, from: first, through: last, actor: account.email, sourceAddress: context.remoteAddress)
                }
                await onDirectoryChange()
                return Self.redirect("/espace/participation/\(idnps)", "Indisponibilité du \(first.frenchLabel) au \(last.frenchLabel) enregistrée : vous n'apparaissez pas dans les recherches pendant cette période.")
            } catch let error as AppError where error.status == .unprocessableContent || error.status == .conflict {
                return try await settingsPage(idnps, right: right, context: context, message: nil, error: error.message, status: error.status)
            }
        }
        group.post("participation/{idnps}/indisponibilites/supprimer") { request, context in
            let idnps = try context.parameters.require("idnps")
            let (account, _) = try await access.require(context, on: .practitioner(idnps))
            let form = try await FormData.read(request)
            guard let ms = form["debut"].flatMap(Double.init) else {
                throw AppError(.unprocessableContent, code: "agenda", message: "Indisponibilité à supprimer non précisée.")
            }
            try await Self.mapped {
                try await workspace.removeUnavailability(idnps, start: Date(timeIntervalSince1970: ms / 1000), actor: account.email,
                                                         sourceAddress: context.remoteAddress)
            }
            await onDirectoryChange()
            return Self.redirect("/espace/participation/\(idnps)", "Indisponibilité supprimée.")
        }
    }

    func settingsPage(_ idnps: String, right: AgendaAccess.Right, context: AppRequestContext, message: String?, error: String?,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let s = try await workspace.settings(idnps) else {
            throw AppError(.notFound, code: "agenda", message: "Professionnel \(idnps) absent de l'annuaire SAS.")
        }
        let editors = try await self.editors.all().filter(\.enabled).sorted { $0.name < $1.name }
        // The structures of his departments (and the one he participates through), not the whole country's.
        let departments = try await workspace.departments(idnps)
        let structures = try await workspace.structures().filter {
            $0.kind != .cds && (departments.contains($0.departmentCode) || $0.idnst == s.participation.structure)
        }
        let now = Date()
        return pages.response("participation", title: "Participation au SAS", values: [
            "name": s.name, "idnps": idnps, "right": right.label, "csrf": context.session?.csrfToken ?? "",
            "message": message ?? "", "error": error ?? "", "version": s.version,
            "participe": s.participation.participates, "enSus": s.participation.acceptsExtraPatients,
            "forfait": s.participation.forfaitReorientation, "heures": s.hoursPerWeek.map(String.init) ?? "",
            "infos": s.additionalInfo ?? "", "vacances": s.onVacation,
            "modes": ParticipationMode.allCases.map { ["code": $0.rawValue, "label": $0.label, "selected": s.participation.mode == $0] },
            "structures": structures.map { ["id": $0.idnst.value, "label": "\($0.name) — \($0.kind.label) (\($0.departmentCode))",
                                             "selected": s.participation.structure == $0.idnst] },
            "editors": editors.map { ["id": $0.id, "name": $0.name, "checked": s.vendors.contains($0.id)] },
            "hasEditors": !editors.isEmpty,
            "periods": s.participation.vacations.map { p -> [String: Any] in
                let last = ParisClock.day(of: p.end.addingTimeInterval(-1))
                return ["from": ParisClock.day(of: p.start).frenchLabel, "to": last.frenchLabel,
                        "start": String(Int64((p.start.timeIntervalSince1970 * 1000).rounded())), "current": p.contains(now),
                        "past": p.end <= now]
            },
            "hasPeriods": !s.participation.vacations.isEmpty, "agenda": "/espace/agenda/ps/\(idnps)",
            "invitations": try await workspace.invitations(of: idnps).map { ["idnst": $0.idnst, "label": $0.label] },
            "isOwner": right == .owner,
            "today": ParisClock.day(of: now).description,
        ], context: context, status: status)
    }

    // MARK: structures

    func registerStructure(on group: RouterGroup<AppRequestContext>) {
        group.get("structure/{idnst}") { request, context in
            let idnst = try context.parameters.require("idnst")
            let (_, right) = try await access.require(context, on: .structure(idnst))
            return try await structurePage(idnst, right: right, context: context, message: request.uri.queryParameters.get("message"), error: nil)
        }
        group.post("structure/{idnst}") { request, context in
            let idnst = try context.parameters.require("idnst")
            let (account, right) = try await access.require(context, on: .structure(idnst))
            let form = try await FormData.read(request)
            do {
                let hours = try form["heures"].flatMap { text -> Int? in
                    let t = text.trimmingCharacters(in: .whitespaces)
                    if t.isEmpty { return nil }
                    guard let n = Int(t) else { throw AppError(.unprocessableContent, code: "agenda", message: "Nombre d'heures invalide : « \(t) ».") }
                    return n
                }
                try await Self.mapped {
                    try await workspace.updateStructure(idnst, expectedVersion: form["version"].flatMap(Int.init) ?? 0,
                                                        participates: form["participe"] == "1", hoursPerWeek: hours,
                                                        additionalInfo: form["infos"], actor: account.email, sourceAddress: context.remoteAddress)
                }
                await onDirectoryChange()
                return Self.redirect("/espace/structure/\(idnst)", "Réglages de la structure enregistrés.")
            } catch let error as AppError where error.status == .unprocessableContent || error.status == .conflict {
                return try await structurePage(idnst, right: right, context: context, message: nil, error: error.message, status: error.status)
            }
        }
        group.post("structure/{idnst}/membres") { request, context in
            let idnst = try context.parameters.require("idnst")
            let (account, right) = try await access.require(context, on: .structure(idnst))
            let form = try await FormData.read(request)
            do {
                let text = (form["idnps"] ?? "").trimmingCharacters(in: .whitespaces)
                guard let idnps = try? IDNPS(parsing: text.count == 11 ? "8" + text : text) else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Numéro RPPS ou identifiant national invalide : « \(text) ».")
                }
                try await Self.mapped { try await workspace.invite(idnst, idnps: idnps.value, actor: account.email, sourceAddress: context.remoteAddress) }
                return Self.redirect("/espace/structure/\(idnst)", "Invitation envoyée à \(idnps.value) : il devient membre quand il l'accepte depuis son espace.")
            } catch let error as AppError where [.unprocessableContent, .conflict, .notFound].contains(error.status) {
                return try await structurePage(idnst, right: right, context: context, message: nil, error: error.message, status: error.status)
            }
        }
        group.post("structure/{idnst}/membres/{idnps}/retirer") { _, context in
            let idnst = try context.parameters.require("idnst"), idnps = try context.parameters.require("idnps")
            let (account, _) = try await access.require(context, on: .structure(idnst))
            try await Self.mapped { try await workspace.removeMember(idnst, idnps: idnps, actor: account.email, sourceAddress: context.remoteAddress) }
            await onDirectoryChange()
            return Self.redirect("/espace/structure/\(idnst)", "Professionnel \(idnps) retiré de la structure.")
        }
        group.post("structure/{idnst}/lieux") { request, context in
            let idnst = try context.parameters.require("idnst")
            let (account, right) = try await access.require(context, on: .structure(idnst))
            let form = try await FormData.read(request)
            do {
                guard let view = try await workspace.structure(idnst) else { throw AppError(.notFound, code: "agenda", message: "Structure inconnue.") }
                let name = (form["nom"] ?? "").trimmingCharacters(in: .whitespaces)
                let street = (form["adresse"] ?? "").trimmingCharacters(in: .whitespaces)
                let postcode = (form["code_postal"] ?? "").trimmingCharacters(in: .whitespaces)
                let city = (form["ville"] ?? "").trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, name.count <= 120, !street.isEmpty, street.count <= 200 else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Indiquez le nom (120 caractères au plus) et l'adresse du lieu de consultation.")
                }
                guard postcode.count == 5, postcode.allSatisfy(\.isNumber) else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Code postal invalide : « \(postcode) ».")
                }
                let located: GeocodeResult
                do { located = try geocoder.resolve(postcode: postcode, city: city.isEmpty ? nil : city) } catch {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Commune introuvable pour \(postcode) \(city) : vérifiez le code postal et la ville.")
                }
                let place = ConsultationPlace(name: name, address: PostalAddress(streetName: street, postcode: postcode,
                                                                                 city: located.place?.name ?? city),
                                              latitude: located.latitude, longitude: located.longitude)
                _ = view
                try await Self.mapped {
                    try await workspace.addConsultationPlace(idnst, place, actor: account.email, sourceAddress: context.remoteAddress)
                }
                await onDirectoryChange()
                return Self.redirect("/espace/structure/\(idnst)", "Lieu de consultation « \(name) » ajouté.")
            } catch let error as AppError where error.status == .unprocessableContent {
                return try await structurePage(idnst, right: right, context: context, message: nil, error: error.message, status: error.status)
            }
        }
        group.post("structure/{idnst}/lieux/supprimer") { request, context in
            let idnst = try context.parameters.require("idnst")
            let (account, _) = try await access.require(context, on: .structure(idnst))
            let name = try await FormData.read(request)["nom"] ?? ""
            try await Self.mapped {
                try await workspace.removeConsultationPlace(idnst, named: name, actor: account.email, sourceAddress: context.remoteAddress)
            }
            await onDirectoryChange()
            return Self.redirect("/espace/structure/\(idnst)", "Lieu « \(name) » supprimé.")
        }
    }

    func structurePage(_ idnst: String, right: AgendaAccess.Right, context: AppRequestContext, message: String?, error: String?,
                       status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let view = try await workspace.structure(idnst) else {
            throw AppError(.notFound, code: "agenda", message: "Structure \(idnst) inconnue de l'annuaire.")
        }
        return pages.response("structure", title: view.structure.name, values: [
            "name": view.structure.name, "kind": view.structure.kind.label, "idnst": idnst, "right": right.label,
            "csrf": context.session?.csrfToken ?? "", "message": message ?? "", "error": error ?? "",
            "version": view.version, "participe": view.participates, "heures": view.hoursPerWeek.map(String.init) ?? "",
            "infos": view.additionalInfo ?? "", "phone": view.structure.phone,
            "members": view.members.map { ["idnps": $0.idnps, "name": $0.name] }, "hasMembers": !view.members.isEmpty,
            "acceptsMembers": view.structure.kind != .cds,
            "isSOS": view.structure.kind == .sosMedecins,
            "places": view.structure.consultationPlaces.map { p in
                ["name": p.name, "address": p.address.lines.joined(separator: ", ")]
            },
            "invited": try await workspace.pendingInvitations(of: idnst), "hasInvited": try await !workspace.pendingInvitations(of: idnst).isEmpty,
            "hasPlaces": !view.structure.consultationPlaces.isEmpty,
            "agenda": "/espace/agenda/structure/\(idnst)",
            "delegations": right == .delegate ? "" : "/espace/delegations/\(AgendaOwner.structure(idnst).key)",
        ], context: context, status: status)
    }

    // MARK: delegations

    func registerDelegations(on group: RouterGroup<AppRequestContext>) {
        @Sendable func owner(_ context: AppRequestContext) async throws -> (AgendaOwner, Account) {
            guard let owner = AgendaOwner(key: try context.parameters.require("owner")) else {
                throw AppError(.notFound, code: "agenda", message: "Agenda inconnu.")
            }
            let (account, right) = try await access.require(context, on: owner)
            guard right != .delegate else {
                throw AppError(.forbidden, code: "forbidden", message: "Un délégataire ne peut pas déléguer à son tour : demandez au titulaire de l'agenda.")
            }
            return (owner, account)
        }
        group.get("delegations/{owner}") { request, context in
            let (owner, _) = try await owner(context)
            return try await delegationsPage(owner, context: context, message: request.uri.queryParameters.get("message"), error: nil)
        }
        group.post("delegations/{owner}") { request, context in
            let (owner, account) = try await owner(context)
            let form = try await FormData.read(request)
            let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            do {
                guard let delegate = try await accounts.find(email: email), delegate.status == .active else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Aucun compte actif pour « \(email) » : demandez sa création à votre gestionnaire de comptes.")
                }
                guard delegate.roles.contains(.delegate) else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Le compte \(email) n'a pas le rôle « Délégataire » : demandez-le à votre gestionnaire de comptes.")
                }
                guard delegate.id != account.id else {
                    throw AppError(.unprocessableContent, code: "agenda", message: "Vous ne pouvez pas vous déléguer votre propre agenda.")
                }
                _ = try await Self.mapped { try await workspace.grant(owner, to: delegate.id, actor: account.email, sourceAddress: context.remoteAddress) }
                return Self.redirect("/espace/delegations/\(owner.key)", "Délégation accordée à \(email) : ce compte peut gérer l'agenda et les réglages.")
            } catch let error as AppError where error.status == .unprocessableContent || error.status == .conflict {
                return try await delegationsPage(owner, context: context, message: nil, error: error.message, status: error.status)
            }
        }
        group.post("delegations/{owner}/{delegation}/revoquer") { _, context in
            let (owner, account) = try await owner(context)
            try await Self.mapped {
                try await workspace.revoke(try context.parameters.require("delegation"), of: owner, actor: account.email,
                                           sourceAddress: context.remoteAddress)
            }
            return Self.redirect("/espace/delegations/\(owner.key)", "Délégation révoquée : ce compte n'a plus accès à l'agenda.")
        }
    }

    func delegationsPage(_ owner: AgendaOwner, context: AppRequestContext, message: String?, error: String?,
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await workspace.delegations(owner)
        return pages.response("delegations", title: "Délégations", values: [
            "title": try await label(owner), "owner": owner.key, "csrf": context.session?.csrfToken ?? "",
            "message": message ?? "", "error": error ?? "", "agenda": Self.path(owner),
            "rows": list.map { d -> [String: Any] in
                ["id": d.id, "email": d.delegateEmail, "grantedBy": d.grantedBy,
                 "grantedAt": EditorConsoleRoutes.formatter.string(from: d.grantedAt), "active": d.revokedAt == nil,
                 "revokedAt": d.revokedAt.map { EditorConsoleRoutes.formatter.string(from: $0) } ?? ""]
            },
            "empty": list.isEmpty,
        ], context: context, status: status)
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
