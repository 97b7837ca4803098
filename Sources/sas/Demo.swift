import ArgumentParser
import Foundation
import Logging
import Directory
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

    @Option(name: .customLong("sandbox-port"), help: "Premier port des éditeurs bac à sable (7 ports consécutifs).")
    var sandboxPort = 9_101

    func run() async throws {
        let directory = URL(fileURLWithPath: dataDirectory)
        if reset, FileManager.default.fileExists(atPath: directory.path) {
            try FileManager.default.removeItem(at: directory)
            print("Données de démonstration effacées (\(directory.path)).")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configuration: PlatformConfiguration
        do {
            configuration = try PlatformConfiguration.load(file: nil, environment: [:], flags: [
                (key: "environment", value: "development", flag: "demo"),
                (key: "http.port", value: httpPort, flag: "--http-port"),
                (key: "fhir.port", value: fhirPort, flag: "--fhir-port"),
                (key: "database.url", value: "sqlite:\(directory.appendingPathComponent("sas.sqlite").path)", flag: "demo"),
                (key: "log.format", value: logFormat, flag: "--log-format"),
                (key: "pki.dev_directory", value: directory.appendingPathComponent("pki").path, flag: "demo"),
            ])
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("sas: \(error.description)\n".utf8))
            throw ExitCode(78)
        }
        let logger = bootstrapLogging(configuration)
        let pkiDirectory = directory.appendingPathComponent("pki").path
        // Directory first (the sandbox vendors' agendas come from it), then the vendors, then the platform.
        let sandboxes = try await DemoSandboxes.prepare(
            configuration: configuration, practitioners: practitioners, firstPort: sandboxPort, logger: logger)
        try await runPlatform(configuration: configuration, logger: logger,
                              extraServices: try sandboxes.map { try $0.editor.application() }) { app in
            let http = await app.ports.httpPort()
            let fhir = configuration.fhirEnabled ? await app.ports.fhirPort() : 0
            _ = try? await app.directory.refreshIfNeeded()
            // A fresh search token on every start (the secret is never stored; older demo tokens are revoked).
            for old in (try? await app.apiTokens.all()) ?? [] where old.name == "démo" && old.revokedAt == nil {
                _ = try? await app.apiTokens.revoke(id: old.id, actor: "demo")
            }
            let secret = (try? await app.apiTokens.create(name: "démo", scopes: [APIScope.search], actor: "demo"))?.1 ?? "?"
            let vendorLines = sandboxes.map { "    \($0.editor.configuration.name) (\($0.personality)) : \($0.editor.fhirBaseURL)" }
                .joined(separator: "\n")
            print("""

                ┌──────────────────────────────────────────────────────────────────────┐
                  Plateforme SAS — démonstration
                  Interface web  : http://127.0.0.1:\(http)/
                  Santé          : http://127.0.0.1:\(http)/healthz   /readyz   /metrics
                  FHIR (HTTPS)   : https://127.0.0.1:\(fhir)/metadata
                  Données        : \(directory.path) (réutilisées ; --reset pour repartir de zéro)
                  PKI de dév.    : \(pkiDirectory)/ca/chain.pem
                  Recherche (API, jeton de démonstration) :
                    curl -H 'Authorization: Bearer \(secret)' \\
                      'http://127.0.0.1:\(http)/api/v1/search?what=generaliste&where=Lyon'
                  Éditeurs bac à sable (FHIR mTLS) :
                \(vendorLines)
                  Arrêt          : Ctrl-C
                └──────────────────────────────────────────────────────────────────────┘

                """)
            fflush(nil)
        }
    }
}
