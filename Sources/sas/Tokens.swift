import ArgumentParser
import Foundation
import Storage
import Web

/// `sas tokens`: API tokens for programmatic clients (hashed at rest, scoped, revocable, audited).
struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Jetons d'API : create, list, revoke.",
        subcommands: [Create.self, List.self, Revoke.self])

    static func withStore<T>(_ options: ConfigOptions, _ body: (APITokenStore) async throws -> T) async throws -> T {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        let database = try await openDatabase(url: configuration.databaseURL, logger: logger)
        do {
            try await Migrator(logger: logger).migrate(database)
            let result = try await body(APITokenStore(database: database))
            try await database.close()
            return result
        } catch {
            try? await database.close()
            FileHandle.standardError.write(Data("sas: \((error as? AppError)?.message ?? "\(error)")\n".utf8))
            throw ExitCode(1)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Crée un jeton ; le secret n'est affiché qu'une fois.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "Nom du client (ex. « LRM SAMU 69 »).") var name: String
        @Option(help: "Portées, séparées par des virgules (\(APIScope.all.joined(separator: ", "))).") var scopes = APIScope.search
        func run() async throws {
            let list = scopes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let (token, secret) = try await Tokens.withStore(options) {
                try await $0.create(name: name, scopes: list, actor: Editors.cliActor)
            }
            print("Jeton « \(token.name) » créé (id \(token.id), portées \(token.scopes.joined(separator: ","))).")
            print("Secret (à conserver, il ne sera plus affiché) :")
            print(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liste les jetons (jamais leur secret).")
        @OptionGroup var options: ConfigOptions
        func run() async throws {
            let tokens = try await Tokens.withStore(options) { try await $0.all() }
            if tokens.isEmpty { print("Aucun jeton."); return }
            let formatter = ISO8601DateFormatter()
            for t in tokens {
                let state = t.revokedAt.map { "révoqué le \(formatter.string(from: $0))" } ?? "actif"
                let used = t.lastUsedAt.map { formatter.string(from: $0) } ?? "jamais utilisé"
                print("\(t.id)\t\(state)\t\(t.scopes.joined(separator: ","))\t\(used)\t\(t.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Révoque un jeton.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Identifiant du jeton.") var id: String
        func run() async throws {
            let done = try await Tokens.withStore(options) { try await $0.revoke(id: id, actor: Editors.cliActor) }
            guard done else {
                FileHandle.standardError.write(Data("sas: aucun jeton actif « \(id) ».\n".utf8))
                throw ExitCode(1)
            }
            print("Jeton \(id) révoqué.")
        }
    }
}
