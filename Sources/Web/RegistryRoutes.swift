import Agenda
import Foundation
import Hummingbird
import HTTPTypes
import Identity
import Storage

/// The registries of the operator console — LRM origins (`/admin/origines-lrm`), SAS territories and their SAMU
/// (`/admin/territoires`), for national administrators — and user management (`/admin/utilisateurs`) for account
/// managers and administrators within their perimeter; the same through the JSON API (`/api/v1/admin/lrm-origins`,
/// `/territories`, `/users`), opened by a session with the same permission or by the operator token.
struct RegistryRoutes {
    let origins: LRMOriginStore
    let territories: TerritoryStore
    let users: UserAdministration
    let pages: Pages
    let tokenSHA256: String?
    let publicURL: String

    var resetLink: String { publicURL + "/mot-de-passe/reinitialiser" }

    /// The account acting: the session's, or the operator token's (national scope).
    static func actor(_ context: AppRequestContext) -> Account {
        if let account = context.session?.account { return account }
        return Account(id: "api-token", email: "api-token", displayName: "Jeton d'exploitation", idnps: nil, mustChangePassword: false,
                       status: .active, statusReason: nil, roles: [.nationalAdministrator], territories: [], failedAttempts: 0,
                       lockedUntil: nil, lastLoginAt: nil, createdAt: Date(), version: 1)
    }

    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as RegistryError {
            let status: HTTPResponse.Status = error.kind == .invalid ? .unprocessableContent : (error.kind == .notFound ? .notFound : .conflict)
            throw AppError(status, code: "registry", message: error.message)
        } catch let error as UserAdministration.Refusal {
            throw AppError(HTTPResponse.Status(code: error.status), code: "account", message: error.message)
        } catch let error as AccountError {
            throw AppError(error.kind == .notFound ? .notFound : .unprocessableContent, code: "account", message: error.message)
        }
    }

    static func redirect(_ path: String, _ message: String) -> Response {
        Response(status: .seeOther, headers: [.location: path + "?message=" + RequirePermission.encode(message)])
    }

    static func roles(_ values: [String]) throws -> Set<Role> {
        var roles = Set<Role>()
        for value in values {
            guard let role = Role(rawValue: value) else {
                throw AppError(.unprocessableContent, code: "account", message: "Rôle inconnu « \(value) ».")
            }
            roles.insert(role)
        }
        return roles
    }

    static func codes(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init).filter { !$0.isEmpty }
    }

    func register(on router: Router<AppRequestContext>) {
        registerPages(on: router)
        registerAPI(on: router)
    }

    // MARK: pages

    func registerPages(on router: Router<AppRequestContext>) {
        let national = RequirePermission(permission: .operatePlatform, formCSRF: true)
        let lrm = router.group("admin/origines-lrm").add(middleware: national)
        lrm.get { request, context in
            let list = try await origins.all()
            return pages.response("lrm-origins", title: "Origines LRM", values: [
                "message": request.uri.queryParameters.get("message") ?? "", "csrf": context.session?.csrfToken ?? "",
                "rows": list.map { ["code": $0.code, "label": $0.label, "territory": $0.territory ?? "—", "enabled": $0.enabled] },
                "empty": list.isEmpty,
            ], context: context)
        }
        lrm.post { request, context in
            let form = try await FormData.read(request)
            let origin = try await Self.mapped {
                try await origins.add(code: form["code"] ?? "", label: form["libelle"] ?? "", territory: form["territoire"],
                                      actor: context.actor ?? "?")
            }
            return Self.redirect("/admin/origines-lrm", "Origine « \(origin.code) » enregistrée et active.")
        }
        lrm.post("{code}/etat") { request, context in
            let code = try context.parameters.require("code")
            let form = try await FormData.read(request)
            guard let origin = try await origins.get(code) else {
                throw AppError(.notFound, code: "registry", message: "Origine « \(code) » introuvable.")
            }
            let enabled = form["actif"] == "1"
            _ = try await Self.mapped {
                try await origins.update(code: code, label: origin.label, territory: origin.territory, enabled: enabled, actor: context.actor ?? "?")
            }
            return Self.redirect("/admin/origines-lrm", enabled
                ? "Origine « \(code) » réactivée." : "Origine « \(code) » désactivée : ce LRM voit le message de flux désactivé.")
        }
        lrm.post("{code}/supprimer") { _, context in
            let code = try context.parameters.require("code")
            try await Self.mapped { try await origins.remove(code, actor: context.actor ?? "?") }
            return Self.redirect("/admin/origines-lrm", "Origine « \(code) » supprimée.")
        }

        let territory = router.group("admin/territoires").add(middleware: national)
        territory.get { request, context in
            let list = try await territories.all()
            return pages.response("territories", title: "Territoires SAS", values: [
                "message": request.uri.queryParameters.get("message") ?? "",
                "rows": list.map { ["code": $0.code, "name": $0.name, "region": $0.region, "samu": $0.samuClientID ?? "—",
                                    "active": $0.active, "regulators": $0.regulators] },
                "configured": list.filter { $0.samuClientID != nil }.count,
            ], context: context)
        }
        territory.get("{code}") { request, context in
            let code = try context.parameters.require("code")
            guard let item = try await territories.get(code) else {
                throw AppError(.notFound, code: "registry", message: "Territoire « \(code) » inconnu.")
            }
            let attached = try await users.visible(to: Self.actor(context)).filter { $0.territories.contains(item.code) }
            return pages.response("territory", title: "Territoire \(item.code)", values: [
                "message": request.uri.queryParameters.get("message") ?? "", "csrf": context.session?.csrfToken ?? "",
                "code": item.code, "name": item.name, "region": item.region, "samu": item.samuClientID ?? "", "active": item.active,
                "accounts": attached.map { ["id": $0.id, "email": $0.email, "name": $0.displayName,
                                            "roles": $0.roles.map(\.label).sorted().joined(separator: ", "),
                                            "status": $0.status == .active ? "actif" : "désactivé"] },
                "hasAccounts": !attached.isEmpty,
            ], context: context)
        }
        territory.post("{code}") { request, context in
            let code = try context.parameters.require("code")
            let form = try await FormData.read(request)
            let item = try await Self.mapped {
                try await territories.update(code, samuClientID: form["samu"], active: form["ouvert"] != nil, actor: context.actor ?? "?")
            }
            return Self.redirect("/admin/territoires/\(item.code)", "Territoire \(item.code) mis à jour.")
        }

        let people = router.group("admin/utilisateurs").add(middleware: RequirePermission(permission: .manageAccounts, formCSRF: true))
        people.get { request, context in
            let actor = Self.actor(context)
            let list = try await users.visible(to: actor)
            return pages.response("users", title: "Utilisateurs", values: [
                "message": request.uri.queryParameters.get("message") ?? "", "csrf": context.session?.csrfToken ?? "",
                "rows": list.map { ["id": $0.id, "email": $0.email, "name": $0.displayName,
                                    "roles": $0.roles.map(\.label).sorted().joined(separator: ", "),
                                    "territories": $0.territories.joined(separator: ", "),
                                    "status": $0.status == .active ? "actif" : "désactivé", "statusCode": $0.status.rawValue] },
                "roles": UserAdministration.grantable(by: actor).sorted { $0.rawValue < $1.rawValue }.map { ["code": $0.rawValue, "label": $0.label] },
                "territories": actor.territories.joined(separator: ","),
                "national": actor.roles.contains(.nationalAdministrator),
            ], context: context)
        }
        people.post { request, context in
            let form = try await FormData.read(request)
            let roles = try Self.roles(Role.allCases.map(\.rawValue).filter { form["role_\($0)"] != nil })
            let account = try await Self.mapped {
                try await users.create(email: form["email"] ?? "", displayName: form["nom"] ?? "", idnps: form["idnps"]?.nilIfEmpty,
                                       roles: roles, territories: Self.codes(form["territoires"]), by: Self.actor(context),
                                       linkBase: resetLink, address: context.remoteAddress)
            }
            return Self.redirect("/admin/utilisateurs/\(account.id)",
                                 "Compte \(account.email) créé : un lien pour choisir son mot de passe lui a été envoyé par e-mail.")
        }
        people.get("{id}") { request, context in
            let actor = Self.actor(context)
            let account = try await Self.mapped { try await users.account(try context.parameters.require("id"), for: actor) }
            return pages.response("user", title: account.displayName, values: [
                "message": request.uri.queryParameters.get("message") ?? "", "csrf": context.session?.csrfToken ?? "",
                "id": account.id, "email": account.email, "name": account.displayName, "idnps": account.idnps ?? "—",
                "idnpsValue": account.idnps ?? "",
                "active": account.status == .active, "reason": account.statusReason ?? "",
                "territories": account.territories.joined(separator: ","), "self": account.id == actor.id,
                "roles": UserAdministration.grantable(by: actor).sorted { $0.rawValue < $1.rawValue }.map {
                    ["code": $0.rawValue, "label": $0.label, "checked": account.roles.contains($0)]
                },
                "lastLogin": account.lastLoginAt.map { EditorConsoleRoutes.formatter.string(from: $0) } ?? "jamais",
                "isManager": account.roles.contains(.structureManager),
                "structures": try await WorkspaceStore(database: users.database).managedStructures(account.id).joined(separator: ", "),
            ], context: context)
        }
        people.post("{id}/structures") { request, context in
            let id = try context.parameters.require("id")
            let form = try await FormData.read(request)
            let actor = Self.actor(context)
            let account = try await Self.mapped { try await users.account(id, for: actor) }
            guard account.roles.contains(.structureManager) else {
                throw AppError(.unprocessableContent, code: "account", message: "Ce compte n'a pas le rôle « Gestionnaire de structure ».")
            }
            try await WorkspaceRoutes.mapped {
                try await WorkspaceStore(database: users.database).setManagedStructures(
                    id, Self.codes(form["structures"]),
                    departments: UserAdministration.isNational(actor) ? nil : Set(actor.territories), actor: actor.email)
            }
            return Self.redirect("/admin/utilisateurs/\(id)", "Structures gérées mises à jour.")
        }
        people.post("{id}/identite") { request, context in
            let id = try context.parameters.require("id")
            let form = try await FormData.read(request)
            try await Self.mapped {
                try await users.updateIdentity(id, email: form["email"] ?? "", displayName: form["nom"] ?? "",
                                               idnps: form["idnps"]?.nilIfEmpty, by: Self.actor(context))
            }
            return Self.redirect("/admin/utilisateurs/\(id)", "Identité mise à jour.")
        }
        people.post("{id}/roles") { request, context in
            let id = try context.parameters.require("id")
            let form = try await FormData.read(request)
            let roles = try Self.roles(Role.allCases.map(\.rawValue).filter { form["role_\($0)"] != nil })
            try await Self.mapped { try await users.setRoles(id, roles: roles, by: Self.actor(context)) }
            return Self.redirect("/admin/utilisateurs/\(id)", "Rôles mis à jour.")
        }
        people.post("{id}/territoires") { request, context in
            let id = try context.parameters.require("id")
            let form = try await FormData.read(request)
            try await Self.mapped { try await users.setTerritories(id, territories: Self.codes(form["territoires"]), by: Self.actor(context)) }
            return Self.redirect("/admin/utilisateurs/\(id)", "Territoires mis à jour.")
        }
        for (action, disabled) in [("desactiver", true), ("reactiver", false)] {
            people.post("{id}/\(action)") { request, context in
                let id = try context.parameters.require("id")
                let form = try await FormData.read(request)
                try await Self.mapped { try await users.setDisabled(id, disabled, reason: form["motif"], by: Self.actor(context)) }
                return Self.redirect("/admin/utilisateurs/\(id)", disabled ? "Compte désactivé : ses sessions sont fermées." : "Compte réactivé.")
            }
        }
        people.post("{id}/reinitialiser") { _, context in
            let id = try context.parameters.require("id")
            try await Self.mapped { try await users.sendReset(id, by: Self.actor(context), linkBase: resetLink, address: context.remoteAddress) }
            return Self.redirect("/admin/utilisateurs/\(id)", "Lien de réinitialisation du mot de passe envoyé par e-mail.")
        }
    }

    // MARK: JSON API

    struct OriginBody: Decodable {
        var code: String?
        var label: String
        var territory: String?
        var enabled: Bool?
    }

    /// `samuClientID` absent keeps it, `null` clears it.
    struct TerritoryBody: Decodable {
        var samuClientID: String?
        var clearsSAMU = false
        var active: Bool?

        enum CodingKeys: String, CodingKey { case samuClientID, active }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            samuClientID = try c.decodeIfPresent(String.self, forKey: .samuClientID)
            clearsSAMU = c.contains(.samuClientID) && samuClientID == nil
            active = try c.decodeIfPresent(Bool.self, forKey: .active)
        }
    }

    struct UserBody: Decodable {
        var email: String
        var displayName: String
        var idnps: String?
        var roles: [String]
        var territories: [String]?
    }

    /// Each field absent is kept; `"idnps": null` clears the IDNPS.
    struct IdentityBody: Decodable {
        var email: String?
        var displayName: String?
        var idnps: String?
        var clearsIDNPS = false

        enum CodingKeys: String, CodingKey { case email, displayName, idnps }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            email = try c.decodeIfPresent(String.self, forKey: .email)
            displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
            idnps = try c.decodeIfPresent(String.self, forKey: .idnps)
            clearsIDNPS = c.contains(.idnps) && idnps == nil
        }
    }

    struct RolesBody: Decodable { var roles: [String] }
    struct TerritoriesBody: Decodable { var territories: [String] }
    struct ReasonBody: Decodable { var reason: String? }

    func registerAPI(on router: Router<AppRequestContext>) {
        let operatorOnly = BearerTokenMiddleware(tokenSHA256: tokenSHA256)
        let lrm = router.group("api/v1/admin/lrm-origins").add(middleware: operatorOnly)
        lrm.get { _, _ in try AdminEditorRoutes.json(.ok, try await origins.all()) }
        lrm.post { request, context in
            let body: OriginBody = try await AdminEditorRoutes.body(request)
            let origin = try await Self.mapped {
                try await origins.add(code: body.code ?? "", label: body.label, territory: body.territory, enabled: body.enabled ?? true,
                                      actor: context.actor ?? "api-token")
            }
            return try AdminEditorRoutes.json(.created, origin)
        }
        lrm.put("{code}") { request, context in
            let body: OriginBody = try await AdminEditorRoutes.body(request)
            let code = try context.parameters.require("code")
            let origin = try await Self.mapped {
                try await origins.update(code: code, label: body.label, territory: body.territory, enabled: body.enabled ?? true,
                                         actor: context.actor ?? "api-token")
            }
            return try AdminEditorRoutes.json(.ok, origin)
        }
        lrm.delete("{code}") { _, context in
            try await Self.mapped { try await origins.remove(try context.parameters.require("code"), actor: context.actor ?? "api-token") }
            return Response(status: .noContent)
        }

        let territory = router.group("api/v1/admin/territories").add(middleware: operatorOnly)
        territory.get { _, _ in try AdminEditorRoutes.json(.ok, try await territories.all()) }
        territory.get("{code}") { _, context in
            let code = try context.parameters.require("code")
            guard let item = try await territories.get(code) else {
                throw AppError(.notFound, code: "registry", message: "Territoire « \(code) » inconnu.")
            }
            return try AdminEditorRoutes.json(.ok, item)
        }
        territory.put("{code}") { request, context in
            let body: TerritoryBody = try await AdminEditorRoutes.body(request)
            let code = try context.parameters.require("code")
            let current = try await territories.get(code)
            let item = try await Self.mapped {
                try await territories.update(code, samuClientID: body.clearsSAMU ? nil : (body.samuClientID ?? current?.samuClientID),
                                             active: body.active ?? current?.active ?? true,
                                             actor: context.actor ?? "api-token")
            }
            return try AdminEditorRoutes.json(.ok, item)
        }

        let people = router.group("api/v1/admin/users").add(middleware: BearerTokenMiddleware(tokenSHA256: tokenSHA256, permission: .manageAccounts))
        people.get { _, context in try AdminEditorRoutes.json(.ok, try await users.visible(to: Self.actor(context)).map(Self.summary)) }
        people.post { request, context in
            let body: UserBody = try await AdminEditorRoutes.body(request)
            let roles = try Self.roles(body.roles)
            let account = try await Self.mapped {
                try await users.create(email: body.email, displayName: body.displayName, idnps: body.idnps, roles: roles,
                                       territories: body.territories ?? [], by: Self.actor(context), linkBase: resetLink,
                                       address: context.remoteAddress)
            }
            return try AdminEditorRoutes.json(.created, Self.summary(account))
        }
        people.get("{id}") { _, context in
            let account = try await Self.mapped { try await users.account(try context.parameters.require("id"), for: Self.actor(context)) }
            return try AdminEditorRoutes.json(.ok, Self.summary(account))
        }
        people.put("{id}/identity") { request, context in
            let id = try context.parameters.require("id")
            let body: IdentityBody = try await AdminEditorRoutes.body(request)
            let actor = Self.actor(context)
            let current = try await Self.mapped { try await users.account(id, for: actor) }
            try await Self.mapped {
                try await users.updateIdentity(id, email: body.email ?? current.email, displayName: body.displayName ?? current.displayName,
                                               idnps: body.clearsIDNPS ? nil : (body.idnps ?? current.idnps), by: actor)
            }
            return try AdminEditorRoutes.json(.ok, Self.summary(try await users.account(id, for: actor)))
        }
        people.put("{id}/roles") { request, context in
            let id = try context.parameters.require("id")
            let body: RolesBody = try await AdminEditorRoutes.body(request)
            let roles = try Self.roles(body.roles)
            try await Self.mapped { try await users.setRoles(id, roles: roles, by: Self.actor(context)) }
            return try AdminEditorRoutes.json(.ok, Self.summary(try await users.account(id, for: Self.actor(context))))
        }
        people.put("{id}/territories") { request, context in
            let id = try context.parameters.require("id")
            let body: TerritoriesBody = try await AdminEditorRoutes.body(request)
            try await Self.mapped { try await users.setTerritories(id, territories: body.territories, by: Self.actor(context)) }
            return try AdminEditorRoutes.json(.ok, Self.summary(try await users.account(id, for: Self.actor(context))))
        }
        for (action, disabled) in [("disable", true), ("enable", false)] {
            people.post("{id}/\(action)") { request, context in
                let id = try context.parameters.require("id")
                let body: ReasonBody = (try? await AdminEditorRoutes.body(request)) ?? ReasonBody()
                try await Self.mapped { try await users.setDisabled(id, disabled, reason: body.reason, by: Self.actor(context)) }
                return try AdminEditorRoutes.json(.ok, Self.summary(try await users.account(id, for: Self.actor(context))))
            }
        }
        people.post("{id}/reset") { _, context in
            let id = try context.parameters.require("id")
            try await Self.mapped { try await users.sendReset(id, by: Self.actor(context), linkBase: resetLink, address: context.remoteAddress) }
            return try AdminEditorRoutes.json(.accepted, ["message": "Lien de réinitialisation envoyé par e-mail."])
        }
    }

    /// What the API shows of an account (no password material, no lock-out internals).
    struct Summary: Encodable {
        var id: String
        var email: String
        var displayName: String
        var idnps: String?
        var roles: [String]
        var territories: [String]
        var status: String
        var statusReason: String?
        var lastLoginAt: Date?
    }

    static func summary(_ account: Account) -> Summary {
        Summary(id: account.id, email: account.email, displayName: account.displayName, idnps: account.idnps,
                roles: account.roles.map(\.rawValue).sorted(), territories: account.territories, status: account.status.rawValue,
                statusReason: account.statusReason, lastLoginAt: account.lastLoginAt)
    }
}
