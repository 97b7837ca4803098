import ArgumentParser
import Foundation

/// The `sas` command: the platform, its operations and its tools.
@main
struct SAS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sas",
        abstract: "Plateforme numérique du Service d'accès aux soins (SAS).",
        discussion: """
            Pour un premier essai : `swift run sas demo`, puis ouvrez l'adresse affichée.
            En production : `sas serve --config /etc/sas/sas.yaml`.
            """,
        subcommands: [Serve.self, Demo.self, Migrate.self, ConfigCommand.self, PKI.self, Editors.self, Tokens.self, Accounts.self, Import.self, Seed.self, Bench.self, SandboxCommand.self, ConformanceCommand.self]
    )
}
