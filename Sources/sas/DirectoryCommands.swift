import ArgumentParser
import Directory
import Foundation
import Logging
import SASDomain
import Storage

/// A one-line progress bar on standard error, drawn only on a terminal.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let enabled = isatty(STDERR_FILENO) != 0
    private var last = -1
    private let lock = NSLock()

    init(_ label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let percent = min(100, done * 100 / total)
        lock.lock(); defer { lock.unlock() }
        guard percent != last else { return }
        last = percent
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(percent) %".utf8))
        if percent == 100 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// Opens the configured database, migrated.
func openMigratedDatabase(_ options: ConfigOptions) async throws -> (any Database, Logger) {
    let configuration = try options.load()
    let logger = bootstrapLogging(configuration)
    let database = try await openDatabase(url: configuration.databaseURL, maxConnections: 4, logger: logger)
    try await Migrator(logger: logger).migrate(database)
    return (database, logger)
}

/// `sas import`: loads national directory extractions.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Importe l'offre de soins : extraction RPPS (PS_LibreAcces), FINESS (etalab), fichier d'enrichissement SAS.",
        subcommands: [RPPS.self, FINESS.self, Enrichment.self])

    struct FINESS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "finess",
            abstract: "Importe l'extraction FINESS etalab (séparateur ;, Latin-1, Lambert-93 et projections d'outre-mer) : CPTS, MSP et centres de santé.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Fichier etalab-cs1100507-stock-….csv") var file: String
        func run() async throws {
            let (database, _) = try await openMigratedDatabase(options)
            do {
                print(try await StructureImporters(database: database).importFINESS(at: URL(fileURLWithPath: file)))
                try await database.close()
            } catch {
                try? await database.close()
                FileHandle.standardError.write(Data("sas: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Enrichment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enrichment",
            abstract: "Importe le fichier d'enrichissement SAS (JSON) : participation, structures, liens praticien ↔ éditeur.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Fichier JSON.") var file: String
        func run() async throws {
            let (database, _) = try await openMigratedDatabase(options)
            do {
                print(try await StructureImporters(database: database).importEnrichment(at: URL(fileURLWithPath: file)))
                try await database.close()
            } catch {
                try? await database.close()
                FileHandle.standardError.write(Data("sas: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct RPPS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rpps",
            abstract: "Importe une extraction RPPS « PS_LibreAcces_Personne_activite » (séparateur |, UTF-8 ou Latin-1).",
            discussion: "Idempotent : un nouvel import met à jour sans dupliquer. Tout ou rien : un fichier illisible ne laisse aucune écriture partielle.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Fichier à importer.") var file: String
        @Option(help: "Écrit le résumé complet (toutes les lignes rejetées) en JSON dans ce fichier.") var summaryJSON: String?

        func run() async throws {
            let (database, _) = try await openMigratedDatabase(options)
            let geocoder = try OfflineGeocoder(places: .load(), departments: .load())
            let importer = RPPSImporter(database: database, geocoder: geocoder, specialties: try .load())
            let bar = ProgressBar("Import RPPS")
            do {
                let summary = try await importer.importFile(at: URL(fileURLWithPath: file)) { bar.update($0, $1) }
                print(summary)
                if let summaryJSON {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    try encoder.encode(summary).write(to: URL(fileURLWithPath: summaryJSON))
                }
                try await database.close()
            } catch {
                try? await database.close()
                FileHandle.standardError.write(Data("sas: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

/// `sas seed`: a synthetic France for the demo, tests and benchmarks.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Génère une France synthétique (praticiens, lieux, CPTS, SOS Médecins, éditeurs) et l'écrit en base.",
        discussion: "Déterministe pour une graine donnée. --rpps-file écrit plutôt une extraction au format RPPS (pour tester l'import).")
    @OptionGroup var options: ConfigOptions
    @Option(help: "Nombre de praticiens.") var practitioners = 20_000
    @Option(help: "Graine du générateur.") var seed: UInt64 = 42
    @Option(name: .customLong("rpps-file"), help: "Écrit une extraction RPPS dans ce fichier au lieu d'écrire en base.")
    var rppsFile: String?
    @Option(name: .customLong("broken-per-mille"), help: "Avec --rpps-file : lignes volontairement cassées pour mille.")
    var brokenPerMille = 0

    func run() async throws {
        let france = try SyntheticFrance.bundled(.init(practitioners: practitioners, seed: seed))
        if let rppsFile {
            let url = URL(fileURLWithPath: rppsFile)
            let rows = try france.writeRPPSExtract(to: url)
            let broken = brokenPerMille > 0 ? try Self.breakLines(url, perMille: brokenPerMille, seed: seed) : []
            print("Extraction RPPS écrite : \(rppsFile) (\(rows) lignes\(broken.isEmpty ? "" : ", \(broken.count) lignes cassées"))")
            return
        }
        let (database, _) = try await openMigratedDatabase(options)
        let bar = ProgressBar("Génération")
        let report = try await DirectorySeeder.seed(france, into: database) { bar.update($0, $1) }
        print("France synthétique écrite : \(report)")
        try await database.close()
    }

    /// Corrupts about `perMille`‰ of the data lines in place (wrong field count or a bad IDNPS), deterministically.
    static func breakLines(_ url: URL, perMille: Int, seed: UInt64) throws -> [Int] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var rng = SplitMix64(seed: seed &+ 7)
        var broken: [Int] = []
        for i in 1..<lines.count where !lines[i].isEmpty && Int(rng.next() % 1000) < perMille {
            if broken.count % 2 == 0 {
                lines[i] = String(lines[i].prefix(lines[i].count / 3))
            } else {
                var fields = lines[i].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                fields[2] = "8123"
                lines[i] = fields.joined(separator: "|")
            }
            broken.append(i + 1)
        }
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return broken
    }
}
