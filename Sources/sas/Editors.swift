import Aggregator
import ArgumentParser
import Foundation
import Storage

/// `sas editors`: the registry of vendors' FHIR endpoints.
struct Editors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Registre des éditeurs : add, list, enable, disable, remove.",
        subcommands: [Add.self, List.self, Enable.self, Disable.self, Remove.self])

    /// Opens the configured database and runs `body` on the registry (migrating first).
    static func withStore<T>(_ options: ConfigOptions, _ body: (EditorStore) async throws -> T) async throws -> T {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        let database = try await openDatabase(url: configuration.databaseURL, logger: logger)
        do {
            try await Migrator(logger: logger).migrate(database)
            let result = try await body(EditorStore(database: database))
            try await database.close()
            return result
        } catch {
            try? await database.close()
            FileHandle.standardError.write(Data("sas: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    static var cliActor: String { "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "inconnu") }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enregistre un éditeur.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "Identifiant (minuscules, chiffres, tirets).") var id: String
        @Option(help: "Nom affiché.") var name: String
        @Option(name: .customLong("base-url"), help: "URL de base FHIR (https).") var baseURL: String
        @Option(help: "Flux activés, séparés par des virgules : r01,r04,sos,r02,r03.") var flows: String
        @Option(help: "Environnement : recette, preproduction, production.") var environment = "production"
        @Option(name: .customLong("client-cert"), help: "Certificat client de la plateforme pour cet éditeur.") var clientCert: String?
        @Option(name: .customLong("client-key"), help: "Clé du certificat client.") var clientKey: String?
        @Option(name: .customLong("server-ca"), help: "AC attendue pour le certificat serveur de l'éditeur.") var serverCA: String?
        @Option(name: .customLong("inbound-cn"), help: "CN du certificat client de l'éditeur (flux r03).") var inboundCN: String?
        @Option(name: .customLong("inbound-ou"), help: "OU du certificat client de l'éditeur (flux r03).") var inboundOU: String?
        @Option(name: .customLong("timeout-ms"), help: "Délai propre à l'éditeur (100–7000 ms).") var timeoutMs: Int?
        @Option(name: .customLong("server-name"), help: "Nom attendu sur le certificat serveur de l'éditeur, s'il diffère de l'hôte de l'URL.")
        var serverName: String?

        func run() async throws {
            let flowSet = try Set(flows.split(separator: ",").map { raw -> Editor.Flow in
                guard let flow = Editor.Flow(rawValue: raw.trimmingCharacters(in: .whitespaces).lowercased()) else {
                    throw ValidationError("flux inconnu « \(raw) » : r01, r04, sos, r02 ou r03")
                }
                return flow
            })
            guard let env = Editor.Environment(rawValue: environment) else {
                throw ValidationError("environnement inconnu « \(environment) »")
            }
            let editor = Editor(id: id, name: name, environment: env, baseURL: baseURL, flows: flowSet,
                                clientCertificatePath: clientCert, clientKeyPath: clientKey, serverCAPath: serverCA,
                                inboundCommonName: inboundCN, inboundOrganizationalUnit: inboundOU, timeoutMilliseconds: timeoutMs,
                                serverName: serverName)
            try await Editors.withStore(options) { try await $0.add(editor, actor: Editors.cliActor) }
            print("Éditeur « \(id) » enregistré.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liste les éditeurs.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Sortie JSON.") var json = false
        func run() async throws {
            let editors = try await Editors.withStore(options) { try await $0.all() }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(editors), as: UTF8.self))
                return
            }
            if editors.isEmpty { print("Aucun éditeur enregistré."); return }
            for e in editors {
                print("\(e.id)\t\(e.enabled ? "actif" : "désactivé")\t\(e.environment.rawValue)\t\(e.flows.sorted().map(\.rawValue).joined(separator: ","))\t\(e.baseURL)\t\(e.name)")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Réactive un éditeur.")
        @OptionGroup var options: ConfigOptions
        @Argument var id: String
        func run() async throws {
            try await Editors.withStore(options) { try await $0.setEnabled(id, true, actor: Editors.cliActor) }
            print("Éditeur « \(id) » réactivé.")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Désactive un éditeur (plus interrogé, plus accepté).")
        @OptionGroup var options: ConfigOptions
        @Argument var id: String
        func run() async throws {
            try await Editors.withStore(options) { try await $0.setEnabled(id, false, actor: Editors.cliActor) }
            print("Éditeur « \(id) » désactivé.")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Supprime un éditeur et les liens praticien ↔ éditeur appris.")
        @OptionGroup var options: ConfigOptions
        @Argument var id: String
        func run() async throws {
            try await Editors.withStore(options) { try await $0.remove(id, actor: Editors.cliActor) }
            print("Éditeur « \(id) » supprimé.")
        }
    }
}
