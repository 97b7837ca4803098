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
        try await runPlatform(configuration: configuration, logger: logger) { app in
            let http = await app.ports.httpPort()
            let fhir = configuration.fhirEnabled ? await app.ports.fhirPort() : 0
            await DemoSeed.seedIfNeeded(app: app, practitioners: practitioners, logger: logger)
            print("""

                ┌──────────────────────────────────────────────────────────────────────┐
                  Plateforme SAS — démonstration
                  Interface web  : http://127.0.0.1:\(http)/
                  Santé          : http://127.0.0.1:\(http)/healthz   /readyz   /metrics
                  FHIR (HTTPS)   : https://127.0.0.1:\(fhir)/metadata
                  Données        : \(directory.path) (réutilisées ; --reset pour repartir de zéro)
                  PKI de dév.    : \(pkiDirectory)/ca/chain.pem
                  Arrêt          : Ctrl-C
                └──────────────────────────────────────────────────────────────────────┘

                """)
            fflush(nil)
        }
    }
}

/// Seeds the demo data once per data directory.
enum DemoSeed {
    static func seedIfNeeded(app: PlatformApp, practitioners: Int, logger: Logger) async {
        // Wait for the migrations applied by the database service.
        while !app.readiness.migrated {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let settings = PlatformSettings(app.database)
        do {
            if let seeded = try await settings.get("demo.seeded_at") {
                logger.info("demo data reused", metadata: ["seeded_at": "\(seeded)"])
                return
            }
            let france = try SyntheticFrance.bundled(.init(practitioners: practitioners, seed: 42))
            let report = try await DirectorySeeder.seed(france, into: app.database)
            try await app.directory.refreshIfNeeded()
            try await AuditLog(app.database).record(AuditEntry(actor: "system", action: "demo.seed", detail: "\(report)"))
            try await settings.set("demo.seeded_at", ISO8601DateFormatter().string(from: Date()))
            logger.info("demo data seeded", metadata: ["directory": "\(report)"])
        } catch {
            logger.error("demo seeding failed", metadata: ["error": "\(error)"])
        }
    }
}
