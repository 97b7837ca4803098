import ArgumentParser
import Foundation
import Identity
import Storage
import Web

/// `sas accounts`: bootstrap and maintain accounts from the shell (the first national administrator, resets).
struct Accounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Comptes : create, list, edit, reset, disable, enable, roles.",
        discussion: "Rôles : \(Role.allCases.map(\.rawValue).joined(separator: ", ")).",
        subcommands: [Create.self, List.self, Edit.self, Reset.self, Disable.self, Enable.self, Roles.self])

    static func with<T>(_ options: ConfigOptions, _ body: (Authenticator, PlatformConfiguration) async throws -> T) async throws -> T {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        let database = try await openDatabase(url: configuration.databaseURL, logger: logger)
        do {
            try await Migrator(logger: logger).migrate(database)
            let authenticator = Authenticator(
                database: database, hasher: PasswordHasher(memoryKiB: configuration.passwordMemoryKiB, iterations: 2),
                mailer: LogMailer(logger: logger), logger: logger)
            let result = try await body(authenticator, configuration)
            try await database.close()
            return result
        } catch {
            try? await database.close()
            FileHandle.standardError.write(Data("sas: \((error as? AccountError)?.message ?? "\(error)")\n".utf8))
            throw ExitCode(1)
        }
    }

    static func roles(_ text: String) throws -> Set<Role> {
        var roles = Set<Role>()
        for name in text.split(separator: ",") {
            guard let role = Role(name: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("rôle inconnu « \(name) » (\(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            roles.insert(role)
        }
        return roles
    }

    static func find(_ authenticator: Authenticator, _ email: String) async throws -> Account {
        guard let account = try await authenticator.accounts.find(email: email) else {
            throw AccountError(.notFound, "Aucun compte « \(email) ».")
        }
        return account
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Crée un compte avec un mot de passe provisoire (affiché une fois, à changer à la première connexion).")
        @OptionGroup var options: ConfigOptions
        @Option(help: "Adresse e-mail (identifiant de connexion).") var email: String
        @Option(help: "Nom affiché.") var name: String
        @Option(help: "Rôles, séparés par des virgules.") var roles: String
        @Option(help: "Territoires (codes de département), séparés par des virgules.") var territories = ""
        @Option(help: "IDNPS (pour Pro Santé Connect).") var idnps: String?
        func run() async throws {
            let roleSet = try Accounts.roles(roles)
            let temporary = try await Accounts.with(options) { authenticator, _ in
                let account = try await authenticator.accounts.create(
                    email: email, displayName: name, idnps: idnps, roles: roleSet,
                    territories: territories.split(separator: ",").map(String.init), passwordHash: nil, actor: Editors.cliActor)
                return try await authenticator.adminReset(accountID: account.id, actor: Editors.cliActor)
            }
            print("Compte \(email) créé. Mot de passe provisoire (à changer à la première connexion) :")
            print(temporary)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liste les comptes.")
        @OptionGroup var options: ConfigOptions
        func run() async throws {
            let accounts = try await Accounts.with(options) { authenticator, _ in try await authenticator.accounts.all() }
            if accounts.isEmpty { print("Aucun compte."); return }
            for a in accounts {
                let state = a.status == .active ? "actif" : "désactivé (\(a.statusReason ?? ""))"
                print("\(a.email)\t\(state)\t\(a.roles.map(\.rawValue).sorted().joined(separator: ","))\t\(a.territories.joined(separator: ","))\t\(a.idnps ?? "-")")
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Donne un mot de passe provisoire (à changer à la connexion suivante).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Adresse e-mail.") var email: String
        func run() async throws {
            let temporary = try await Accounts.with(options) { authenticator, _ in
                try await authenticator.adminReset(accountID: try await Accounts.find(authenticator, email).id, actor: Editors.cliActor)
            }
            print("Mot de passe provisoire de \(email) (à changer à la connexion suivante) :")
            print(temporary)
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Corrige l'e-mail, le nom affiché ou l'IDNPS d'un compte (les autres champs sont gardés).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Adresse e-mail actuelle.") var email: String
        @Option(name: .customLong("new-email"), help: "Nouvelle adresse e-mail.") var newEmail: String?
        @Option(help: "Nouveau nom affiché.") var name: String?
        @Option(help: "Nouvel IDNPS (8 + RPPS ou 0 + ADELI).") var idnps: String?
        @Flag(name: .customLong("remove-idnps"), help: "Retire l'IDNPS du compte.") var removeIDNPS = false

        func validate() throws {
            guard newEmail != nil || name != nil || idnps != nil || removeIDNPS else {
                throw ValidationError("rien à changer : --new-email, --name, --idnps ou --remove-idnps")
            }
            guard !(removeIDNPS && idnps != nil) else { throw ValidationError("--idnps et --remove-idnps s'excluent") }
        }

        func run() async throws {
            let after = try await Accounts.with(options) { authenticator, _ in
                let account = try await Accounts.find(authenticator, email)
                try await authenticator.accounts.updateIdentity(
                    account.id, email: newEmail ?? account.email, displayName: name ?? account.displayName,
                    idnps: removeIDNPS ? nil : (idnps ?? account.idnps), actor: Editors.cliActor)
                return try await authenticator.accounts.find(id: account.id)
            }
            print("Compte \(after?.email ?? email) : « \(after?.displayName ?? "") », IDNPS \(after?.idnps ?? "aucun").")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Désactive un compte (ses sessions sont fermées).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Adresse e-mail.") var email: String
        @Option(help: "Motif.") var reason = "désactivé par un administrateur"
        func run() async throws {
            try await Accounts.with(options) { authenticator, _ in
                try await authenticator.accounts.disable(try await Accounts.find(authenticator, email).id, reason: reason,
                                                         actor: Editors.cliActor)
            }
            print("Compte \(email) désactivé.")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Réactive un compte.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Adresse e-mail.") var email: String
        func run() async throws {
            try await Accounts.with(options) { authenticator, _ in
                try await authenticator.accounts.enable(try await Accounts.find(authenticator, email).id, actor: Editors.cliActor)
            }
            print("Compte \(email) réactivé.")
        }
    }

    struct Roles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remplace les rôles d'un compte.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Adresse e-mail.") var email: String
        @Option(help: "Rôles, séparés par des virgules.") var roles: String
        func run() async throws {
            let roleSet = try Accounts.roles(roles)
            try await Accounts.with(options) { authenticator, _ in
                try await authenticator.accounts.setRoles(try await Accounts.find(authenticator, email).id, roles: roleSet,
                                                          actor: Editors.cliActor)
            }
            print("Rôles de \(email) : \(roleSet.map(\.rawValue).sorted().joined(separator: ", ")).")
        }
    }
}
