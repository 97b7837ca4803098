import ArgumentParser
import Foundation
import Identity
import Logging
import Sandbox
import ServiceLifecycle
import Storage
import TLS
import Web

/// `sas sandbox`: reference servers that behave like the real vendors, for the demo, the tests and integrators.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serveurs de référence : éditeur bac à sable (FHIR INT_R01/R04/SOS/R02 en mTLS, page de réservation).",
        subcommands: [EditorServer.self, PSCServer.self])

    struct PSCServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "psc",
            abstract: "Lance un Pro Santé Connect bac à sable (fournisseur OpenID Connect, HTTPS).",
            discussion: """
                Mêmes chemins et particularités que PSC (découverte wallet-openid-configuration, acr eidas1, PKCE S256,
                userinfo JSON ou JWT, ES256 ou HS256), page de choix d'une carte CPS de test, session navigateur (SSO).
                Client : --client 'ID SECRET URL_RETOUR[,URL_RETOUR…]' (répétable).
                Pannes à chaud : PUT https://…/_sandbox/psc (JSON) ; rotation des clés : POST …/_sandbox/psc/rotate.
                """)
        @Option(help: "Port HTTPS.") var port = 9_190
        @Option(name: .customLong("pki-dir"), help: "PKI de développement (créée si absente).") var pkiDir = "sas-data/pki"
        @Option(help: "Client enregistré : « identifiant secret url[,url…] ».") var client: [String] = []

        func run() async throws {
            LoggingSetup.bootstrapForTools()
            let logger = Logger(label: "psc-sandbox")
            var clients: [PSCClientRegistration] = []
            for item in client {
                let parts = item.split(separator: " ").map(String.init)
                guard parts.count == 3 else { throw ValidationError("--client attend « identifiant secret url[,url…] »") }
                clients.append(PSCClientRegistration(clientID: parts[0], secret: parts[1],
                                                     redirectURIs: parts[2].split(separator: ",").map(String.init)))
            }
            let pki = DevPKIFiles(directory: URL(fileURLWithPath: pkiDir))
            let psc = try DemoIdentity.standIn(pki: pki, port: port, platform: nil, logger: logger)
            for registration in clients { psc.register(registration) }
            var groupConfiguration = ServiceGroupConfiguration(
                services: [.init(service: try psc.application())], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(2)
            print("Pro Santé Connect bac à sable : \(psc.discoveryURL) — \(psc.configuration.professionals.count) cartes de test, \(clients.count) client(s)")
            fflush(nil)
            try await ServiceGroup(configuration: groupConfiguration).run()
        }
    }

    struct EditorServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "editor",
            abstract: "Lance un éditeur bac à sable.",
            discussion: """
                Personnalités : \(SandboxFaults.personalities.keys.sorted().joined(separator: ", ")).
                Les pannes se changent à chaud : PUT https://…/_sandbox/faults (JSON).
                Agenda : les praticiens liés à cet éditeur dans l'annuaire (--database-url), générés de façon déterministe.
                """)
        @Option(help: "Identifiant de l'éditeur (celui des liens praticien ↔ éditeur de l'annuaire).") var id: String
        @Option(help: "Nom affiché.") var name: String?
        @Option(help: "Port HTTPS (0 : libre).") var port = 9_101
        @Option(help: "Personnalité (pannes simulées).") var personality = "good"
        @Option(name: .customLong("pki-dir"), help: "PKI de développement (créée si absente).") var pkiDir = "sas-data/pki"
        @Option(name: .customLong("database-url"), help: "Annuaire de la plateforme d'où tirer l'agenda.") var databaseURL = "sqlite:./sas-data/sas.sqlite"
        @Flag(help: "Sert aussi les associations SOS Médecins de l'annuaire.") var sos = false
        @Option(help: "Certificat client autorisé à appeler : CN=…/OU=… (répétable).") var allow: [String] = ["CN=sas.localhost/OU=PLATEFORME SAS"]

        func run() async throws {
            guard let faults = SandboxFaults.personality(personality) else {
                throw ValidationError("personnalité inconnue « \(personality) »")
            }
            LoggingSetup.bootstrapForTools()
            let logger = Logger(label: "sandbox")
            let pki = DevPKIFiles(directory: URL(fileURLWithPath: pkiDir))
            let ca = pki.exists(identities: []) ? try pki.loadCA() : try pki.initialise()
            let identity = "sandbox-\(id)"
            if !pki.exists(identities: [identity]) {
                try pki.issue(identity, with: ca, profile: .serverAndClient, commonName: "\(id).sandbox.localhost",
                              organizationalUnit: "EDITEUR \(id.uppercased())", hostNames: ["localhost", "127.0.0.1"])
            }
            let database = try await openDatabase(url: databaseURL, maxConnections: 2, logger: logger)
            let roster = try await SandboxRosterLoader.load(vendor: id, includeSOS: sos, database: database)
            try await database.close()
            var configuration = SandboxEditorConfiguration(
                id: id, name: name ?? id, certificatePath: pki.certificatePath(identity), keyPath: pki.keyPath(identity),
                clientCAPath: pki.caChainPath, roster: roster)
            configuration.port = port
            configuration.faults = faults
            configuration.crlPaths = [pki.crlPath]
            configuration.allowedClients = try allow.flatMap { try ClientAllowList.parse($0) }
            let editor = SandboxEditor(configuration: configuration, logger: logger)
            var groupConfiguration = ServiceGroupConfiguration(
                services: [.init(service: try editor.application())], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(2)
            let group = ServiceGroup(configuration: groupConfiguration)
            print("Éditeur bac à sable « \(id) » (\(personality)) : https://127.0.0.1:\(port)/fhir — \(roster.practitioners.count) praticiens, \(roster.associations.count) associations SOS")
            fflush(nil)
            try await group.run()
        }
    }
}
