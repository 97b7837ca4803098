import ArgumentParser
import Foundation
import Logging
import Directory
import Identity
import Sandbox
import TLS
import Storage
import Web

/// `sas demo`: everything embedded, for a newcomer.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lance la plateforme complète en local avec des données de démonstration.",
        discussion: """
            Base SQLite et PKI de développement sous ./.sas-demo/ (créées si absentes, réutilisées ensuite).
            --reset repart de zéro.
            """)

    @Flag(name: .long, help: "Efface ./.sas-demo/ et repart de zéro.")
    var reset = false

    @Option(name: .long, help: "Répertoire des données de démonstration.")
    var dataDirectory = ".sas-demo"

    @Option(name: .customLong("http-port"), help: "Port du listener HTTP.")
    var httpPort = "8080"

    @Option(name: .customLong("fhir-port"), help: "Port du listener FHIR HTTPS.")
    var fhirPort = "8443"

    @Option(name: .customLong("log-format"), help: "text ou json.")
    var logFormat = "text"

    @Option(help: "Nombre de praticiens de la France synthétique de démonstration.")
    var practitioners = 20_000

    @Option(name: .customLong("sandbox-port"), help: "Premier port des éditeurs bac à sable (7 ports consécutifs pour FHIR, les mêmes + 50 pour leurs pages web).")
    var sandboxPort = 9_101

    @Option(name: .customLong("psc-port"), help: "Port du Pro Santé Connect bac à sable (HTTPS).")
    var pscPort = 9_190

    @Option(name: .customLong("amqp-url"),
            help: "Courtier AMQP du Hub Santé à utiliser (amqp://utilisateur:mot-de-passe@hôte:port/vhost) ; par défaut, un Hub simulé en mémoire.")
    var amqpURL: String?

    func run() async throws {
        let directory = URL(fileURLWithPath: dataDirectory)
        if reset, FileManager.default.fileExists(atPath: directory.path) {
            try FileManager.default.removeItem(at: directory)
            print("Données de démonstration effacées (\(directory.path)).")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configuration: PlatformConfiguration
        let pkiDirectory = directory.appendingPathComponent("pki").path
        let pki = DevPKIFiles(directory: URL(fileURLWithPath: pkiDirectory))
        // Client secrets are drawn at every start: nothing secret is written anywhere.
        let platformSecret = Authenticator.randomToken(bytes: 24)
        let pscOrigin = "https://127.0.0.1:\(pscPort)"
        let discovery = pscOrigin + "/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
        do {
            configuration = try PlatformConfiguration.load(file: nil, environment: [:], flags: [
                (key: "environment", value: "development", flag: "demo"),
                (key: "http.port", value: httpPort, flag: "--http-port"),
                (key: "fhir.port", value: fhirPort, flag: "--fhir-port"),
                (key: "database.url", value: "sqlite:\(directory.appendingPathComponent("sas.sqlite").path)", flag: "demo"),
                (key: "log.format", value: logFormat, flag: "--log-format"),
                (key: "pki.dev_directory", value: pkiDirectory, flag: "demo"),
                (key: "http.secure_cookies", value: "false", flag: "demo"),
                (key: "psc.discovery_url", value: discovery, flag: "demo"),
                (key: "psc.client_id", value: "sas-demo", flag: "demo"),
                (key: "psc.client_secret", value: platformSecret, flag: "demo"),
                (key: "psc.ca", value: pki.caChainPath, flag: "demo"),
                // The FHIR listener requires client certificates: vendors report appointments (INT_R03) with theirs.
                (key: "fhir.tls.client_ca", value: pki.caChainPath, flag: "demo"),
                // The console's conformance check: test certificates from the demo PKI, and the PSC stand-in.
                (key: "conformance.wrong_cn_certificate", value: pki.certificatePath("conformance-wrong-cn"), flag: "demo"),
                (key: "conformance.wrong_cn_key", value: pki.keyPath("conformance-wrong-cn"), flag: "demo"),
                (key: "conformance.wrong_ou_certificate", value: pki.certificatePath("conformance-wrong-ou"), flag: "demo"),
                (key: "conformance.wrong_ou_key", value: pki.keyPath("conformance-wrong-ou"), flag: "demo"),
                (key: "conformance.revoked_certificate", value: pki.certificatePath("conformance-revoked"), flag: "demo"),
                (key: "conformance.revoked_key", value: pki.keyPath("conformance-revoked"), flag: "demo"),
                (key: "conformance.psc_authorization_prefix", value: pscOrigin + "/auth", flag: "demo"),
                // INT_L02 through an in-process Hub Santé whose simulated LRMs acknowledge every appointment.
                (key: "hub.mode", value: amqpURL == nil ? "standin" : "amqp", flag: amqpURL == nil ? "demo" : "--amqp-url"),
            ] + (amqpURL.map { [(key: "hub.amqp_url", value: $0, flag: "--amqp-url")] } ?? []))
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("sas: \(error.description)\n".utf8))
            throw ExitCode(78)
        }
        let logger = bootstrapLogging(configuration)
        let psc = try DemoIdentity.standIn(pki: pki, port: pscPort, platform: (configuration.publicURL, platformSecret), logger: logger)
        let vendorSecrets = Dictionary(uniqueKeysWithValues: DemoSandboxes.vendors.map { ($0.0, Authenticator.randomToken(bytes: 24)) })
        // Directory first (the sandbox vendors' agendas come from it), then the vendors, then the platform.
        let sandboxes = try await DemoSandboxes.prepare(
            configuration: configuration, practitioners: practitioners, firstPort: sandboxPort,
            psc: { vendor in
                SandboxPSCLogin(discoveryURL: discovery, clientID: "editeur-\(vendor)",
                                clientSecret: vendorSecrets[vendor] ?? "", caPath: pki.caChainPath)
            }, platformFHIRBase: "https://127.0.0.1:\(fhirPort)", logger: logger)
        for sandbox in sandboxes {
            let id = sandbox.editor.configuration.id
            psc.register(PSCClientRegistration(clientID: "editeur-\(id)", secret: vendorSecrets[id] ?? "",
                                               redirectURIs: [sandbox.editor.pscRedirectURI],
                                               postLogoutRedirectURIs: [sandbox.editor.origin + "/"]))
        }
        try await runPlatform(configuration: configuration, logger: logger,
                              extraServices: try sandboxes.flatMap { try $0.editor.services() } + [try psc.application()]) { app in
            let http = await app.ports.httpPort()
            let fhir = configuration.fhirEnabled ? await app.ports.fhirPort() : 0
            _ = try? await app.directory.refreshIfNeeded()
            // A fresh search token on every start (the secret is never stored; older demo tokens are revoked).
            for old in (try? await app.apiTokens.all()) ?? [] where old.name == "démo" && old.revokedAt == nil {
                _ = try? await app.apiTokens.revoke(id: old.id, actor: "demo")
            }
            let secret = (try? await app.apiTokens.create(name: "démo", scopes: [APIScope.search], actor: "demo"))?.1 ?? "?"
            let agendaSlots = (try? await DemoAgenda.refresh(database: app.database)) ?? 0
            // The SAMU of the demo accounts' territories (Hub client ids), so that orientations reach a simulated LRM.
            let territories = TerritoryStore(database: app.database, departments: app.reference.departments)
            for code in Set(DemoIdentity.accounts.flatMap(\.territories)) where (try? await territories.get(code))?.samuClientID == nil {
                _ = try? await territories.update(code, samuClientID: "fr.health.samu\(code.lowercased())0", active: true, actor: "demo")
            }
            // The sandbox vendors' test practitioners as the console's conformance inputs (as a vendor gives them).
            for sandbox in sandboxes {
                let id = sandbox.editor.configuration.id
                guard let fixture = sandbox.editor.configuration.roster.conformance,
                      (try? await app.conformanceRuns.inputs(id)) == nil else { continue }
                let cpts = DemoSandboxes.vendors.first { $0.0 == id }?.3.contains(.r04) ?? false
                try? await app.conformanceRuns.setInputs(
                    .init(rpps: fixture.rpps, rpps2: fixture.rpps2, rpps3: fixture.rpps3, rpps4: fixture.rpps4, cpts: cpts,
                          slotTypes: fixture.slotTypes, cptsSlotTypes: fixture.cptsSlotTypes, consultationTypes: fixture.consultationTypes),
                    for: id, actor: "demo")
            }
            let accounts = (try? await DemoIdentity.refreshAccounts(database: app.database,
                                                                    memoryKiB: configuration.passwordMemoryKiB)) ?? []
            do {
                try await DemoWorkspace.prepare(database: app.database)
                _ = try await app.directory.refreshIfNeeded()
            } catch {
                logger.warning("demo workspace not prepared", metadata: ["error": "\(error)"])
            }
            let accountLines = accounts.map { "    \($0.email)  \($0.password)  (\($0.roles))" }.joined(separator: "\n")
            let vendorLines = sandboxes.map { "    \($0.editor.configuration.name) (\($0.personality)) : \($0.editor.fhirBaseURL)" }
                .joined(separator: "\n")
            print("""

                ┌──────────────────────────────────────────────────────────────────────┐
                  Plateforme SAS — démonstration
                  Interface web  : http://127.0.0.1:\(http)/
                  Santé          : http://127.0.0.1:\(http)/healthz   /readyz   /metrics
                  FHIR (HTTPS, mTLS : certificat client de la PKI de démo) : https://127.0.0.1:\(fhir)/metadata
                  Données        : \(directory.path) (réutilisées ; --reset pour repartir de zéro)
                  PKI de dév.    : \(pkiDirectory)/ca/chain.pem
                  Recherche (API, jeton de démonstration) :
                    curl -H 'Authorization: Bearer \(secret)' \\
                      'http://127.0.0.1:\(http)/api/v1/search?what=generaliste&where=Lyon'
                  Espace des professionnels (agenda SAS, participation, délégations) : http://127.0.0.1:\(http)/espace
                  Espace régulateur : http://127.0.0.1:\(http)/recherche\(agendaSlots > 0 ? "  (\(agendaSlots) créneaux d'agenda SAS ajoutés près de Lyon)" : "")
                  Comptes de démonstration (mots de passe tirés à chaque démarrage) :
                \(accountLines)
                  Pro Santé Connect (bac à sable) : \(pscOrigin)/auth — cartes CPS de test
                    (Dr Claire MARTIN = compte régulateur ; « Se connecter avec Pro Santé Connect »)
                  Éditeurs bac à sable (FHIR mTLS) :
                \(vendorLines)
                  Arrêt          : Ctrl-C
                └──────────────────────────────────────────────────────────────────────┘

                """)
            fflush(nil)
        }
    }
}
