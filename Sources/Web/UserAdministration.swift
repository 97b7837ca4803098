import Foundation
import Identity
import Storage

/// Account management for account managers and administrators, with least privilege: a national administrator
/// manages every account; an administrator every role but national administrator, an account manager the
/// operational roles only — both only for accounts whose territories are all theirs, and with territories among theirs.
/// Nobody changes his own roles or disables himself; e-mail, name and IDNPS can be corrected. New accounts and
/// resets get a one-time link by e-mail: no password is ever shown or chosen by the manager.
public struct UserAdministration: Sendable {
    let identity: IdentityServices
    let database: any Database

    public init(identity: IdentityServices, database: any Database) {
        self.identity = identity
        self.database = database
    }

    /// A refusal with its HTTP status and French message.
    public struct Refusal: Error, Sendable {
        public let status: Int
        public let message: String
    }

    public static func grantable(by actor: Account) -> Set<Role> {
        if actor.roles.contains(.nationalAdministrator) { return Set(Role.allCases) }
        if actor.roles.contains(.administrator) { return Set(Role.allCases).subtracting([.nationalAdministrator]) }
        if actor.roles.contains(.accountManager) {
            return [.regulator, .ioa, .healthProfessional, .structureManager, .delegate, .territorialReferent]
        }
        return []
    }

    static func isNational(_ actor: Account) -> Bool { actor.roles.contains(.nationalAdministrator) }

    /// Whether `actor` may see and manage `account`.
    public static func manages(_ actor: Account, _ account: Account) -> Bool {
        if isNational(actor) { return true }
        // Every territory of the account must be the manager's: he cannot act on an account that reaches elsewhere.
        return account.roles.isSubset(of: grantable(by: actor)) && !account.territories.isEmpty
            && Set(account.territories).isSubset(of: actor.territories)
    }

    public func visible(to actor: Account) async throws -> [Account] {
        try await identity.accounts.all().filter { Self.manages(actor, $0) }
    }

    public func account(_ id: String, for actor: Account) async throws -> Account {
        guard let account = try await identity.accounts.find(id: id), Self.manages(actor, account) else {
            throw Refusal(status: 404, message: "Compte introuvable ou hors de votre périmètre.")
        }
        return account
    }

    func check(roles: Set<Role>, territories: [String], by actor: Account) throws -> [String] {
        let allowed = Self.grantable(by: actor)
        let refused = roles.subtracting(allowed)
        guard refused.isEmpty else {
            throw Refusal(status: 403, message: "Vous ne pouvez pas attribuer : \(refused.map(\.label).sorted().joined(separator: ", ")).")
        }
        let codes: [String]
        do { codes = try AccountStore.territories(territories) } catch let error as AccountError {
            throw Refusal(status: 422, message: error.message)
        }
        if !Self.isNational(actor) {
            let outside = codes.filter { !actor.territories.contains($0) }
            guard outside.isEmpty, !codes.isEmpty else {
                throw Refusal(status: 403, message: outside.isEmpty
                    ? "Indiquez au moins un de vos territoires (\(actor.territories.joined(separator: ", ")))."
                    : "Territoires hors de votre périmètre : \(outside.joined(separator: ", ")).")
            }
        }
        return codes
    }

    /// Creates an account and e-mails it a link to choose its password.
    public func create(email: String, displayName: String, idnps: String?, roles: Set<Role>, territories: [String],
                       by actor: Account, linkBase: String, address: String?) async throws -> Account {
        let codes = try check(roles: roles, territories: territories, by: actor)
        let account: Account
        do {
            account = try await identity.accounts.create(email: email, displayName: displayName, idnps: idnps, roles: roles,
                                                         territories: codes, passwordHash: nil, actor: actor.email)
        } catch let error as AccountError {
            throw Refusal(status: error.kind == .conflict ? 409 : 422, message: error.message)
        }
        try await identity.authenticator.requestReset(email: account.email, linkBase: linkBase, address: address)
        return account
    }

    /// Corrects an account's e-mail, display name and IDNPS (a manager's own included: they grant nothing).
    public func updateIdentity(_ id: String, email: String, displayName: String, idnps: String?, by actor: Account) async throws {
        _ = try await account(id, for: actor)
        do {
            try await identity.accounts.updateIdentity(id, email: email, displayName: displayName, idnps: idnps, actor: actor.email)
        } catch let error as AccountError {
            throw Refusal(status: error.kind == .conflict ? 409 : (error.kind == .notFound ? 404 : 422), message: error.message)
        }
    }

    public func setRoles(_ id: String, roles: Set<Role>, by actor: Account) async throws {
        let account = try await self.account(id, for: actor)
        guard account.id != actor.id else { throw Refusal(status: 403, message: "Vous ne pouvez pas modifier vos propres rôles.") }
        _ = try check(roles: roles, territories: account.territories, by: actor)
        do { try await identity.accounts.setRoles(id, roles: roles, actor: actor.email) } catch let error as AccountError {
            throw Refusal(status: 422, message: error.message)
        }
    }

    public func setTerritories(_ id: String, territories: [String], by actor: Account) async throws {
        let account = try await self.account(id, for: actor)
        let codes = try check(roles: account.roles, territories: territories, by: actor)
        try await identity.accounts.setTerritories(id, territories: codes, actor: actor.email)
    }

    public func setDisabled(_ id: String, _ disabled: Bool, reason: String?, by actor: Account) async throws {
        let account = try await self.account(id, for: actor)
        guard account.id != actor.id else { throw Refusal(status: 403, message: "Vous ne pouvez pas désactiver votre propre compte.") }
        if disabled {
            try await identity.accounts.disable(id, reason: reason?.nilIfEmpty ?? "désactivé par \(actor.email)", actor: actor.email)
        } else {
            try await identity.accounts.enable(id, actor: actor.email)
        }
    }

    /// Sends the account a one-time link to choose a new password.
    public func sendReset(_ id: String, by actor: Account, linkBase: String, address: String?) async throws {
        let account = try await self.account(id, for: actor)
        guard account.status == .active else { throw Refusal(status: 409, message: "Compte désactivé : réactivez-le d'abord.") }
        try await identity.authenticator.requestReset(email: account.email, linkBase: linkBase, address: address)
        try await AuditLog(database).record(AuditEntry(actor: actor.email, action: "account.reset_link", target: id, sourceAddress: address))
    }
}
