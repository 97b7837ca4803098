import ArgumentParser
import Foundation
import Logging
import Storage
import Web

/// `sas migrate`: applies the pending schema migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Applique les migrations de schéma en attente (sans lancer le serveur).")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Affiche les migrations en attente sans les appliquer.")
    var dryRun = false

    func run() async throws {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        let database = try await openDatabase(url: configuration.databaseURL, logger: logger)
        let migrator = Migrator(logger: logger)
        do {
            if dryRun {
                let pending = try await migrator.pending(database)
                print(pending.isEmpty ? "Aucune migration en attente." :
                    pending.map { "en attente : \($0.version) — \($0.name)" }.joined(separator: "\n"))
            } else {
                let report = try await migrator.migrate(database)
                print("Migrations appliquées : \(report.applied.count) ; version du schéma : \(report.currentVersion).")
            }
        } catch {
            try? await database.close()
            FileHandle.standardError.write(Data("sas: migration impossible : \(error)\n".utf8))
            throw ExitCode(1)
        }
        try await database.close()
    }
}
