import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Web

/// `sas serve`: runs one node of the platform.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lance un nœud de la plateforme (listeners HTTP et FHIR, tâches de fond).",
        discussion: "Arrêt propre sur SIGTERM/SIGINT : les requêtes en cours se terminent, puis la base est fermée.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        try await runPlatform(configuration: configuration, logger: logger)
    }
}

/// Opens the database and runs every service of the node until shutdown.
func runPlatform(
    configuration: PlatformConfiguration, logger: Logger,
    extraServices: [any Service] = [], onReady: (@Sendable (PlatformApp) async -> Void)? = nil
) async throws {
    let database: any Database
    do {
        database = try await openDatabase(
            url: configuration.databaseURL, maxConnections: configuration.databaseMaxConnections, logger: logger)
    } catch {
        FileHandle.standardError.write(Data("sas: impossible d'ouvrir la base de données : \(error)\n".utf8))
        throw ExitCode(69)  // EX_UNAVAILABLE
    }
    let app = try PlatformApp(configuration: configuration, database: database, logger: logger)
    let pages = try await Pages.load()
    try app.ensureDevIdentities()
    let tls = configuration.fhirEnabled ? try app.fhirTLSConfiguration() : nil
    // Services stop in reverse order: the platform first (its vendor client closes its kept-alive connections), then
    // the simulated servers, which would otherwise wait out each of those connections before stopping.
    let services = extraServices + (try app.services(pages: pages, fhirTLS: tls))
    let group = app.serviceGroup(services)
    logger.info("starting", metadata: [
        "environment": "\(configuration.environment.rawValue)",
        "http": "\(configuration.httpHost):\(configuration.httpPort)",
        "fhir": "\(configuration.fhirEnabled ? "\(configuration.fhirHost):\(configuration.fhirPort)" : "disabled")",
        "database": "\(database.safeDescription)"])
    if let onReady {
        Task { await onReady(app) }
    }
    try await group.run()
    logger.info("stopped")
}
