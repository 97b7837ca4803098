import ArgumentParser
import Directory
import FHIR
import Foundation
import Logging
import Storage

/// `sas bench`: the platform's speed and memory figures (run them on a release build: `swift run -c release sas bench …`).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mesures de performance (à lancer en build release) : fhir, directory, import, aggregate, search, password.",
        discussion: "Chaque mesure affiche ses chiffres et peut écrire un enregistrement JSON (--json).",
        subcommands: [FHIRBench.self, DirectoryBench.self, ImportBench.self, AggregateBench.self, SearchBench.self, PasswordBench.self, AppointmentsBench.self, HubBench.self])

    /// Peak resident memory of this process, in MiB (Linux `VmHWM`).
    static func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }

    /// Writes a JSON record when asked.
    static func record(_ object: [String: Any], to path: String?) throws {
        guard let path else { return }
        var record = object
        record["recorded_at"] = ISO8601DateFormatter().string(from: Date())
        #if DEBUG
        record["build"] = "debug"
        #else
        record["build"] = "release"
        #endif
        let data = try JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    static func warnIfDebug() {
        #if DEBUG
        FileHandle.standardError.write(Data("attention : build debug — les chiffres ne valent que pour un build release (swift run -c release sas bench …)\n".utf8))
        #endif
    }

    struct FHIRBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fhir", abstract: "Débit d'analyse + normalisation d'un Bundle INT_R01 réaliste (25 praticiens, 3 jours), sur un cœur.")
        @Option(help: "Durée de la mesure en secondes.") var seconds = 5.0
        @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?
        func run() async throws {
            Bench.warnIfDebug()
            let result = FHIRBenchmark.run(seconds: seconds)
            print(String(format: "FHIR parse+normalise : %.0f bundles/s, %.1f Mo/s (bundle de %d octets)",
                         result.bundlesPerSecond, result.megabytesPerSecond, result.bundleBytes))
            try Bench.record(["bench": "fhir", "bundles_per_second": result.bundlesPerSecond,
                              "megabytes_per_second": result.megabytesPerSecond, "bundle_bytes": result.bundleBytes,
                              "peak_rss_mib": Bench.peakRSSMiB()], to: json)
        }
    }

    struct DirectoryBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "directory", abstract: "Index spatial : construction et requêtes de rayon (5–50 km, filtre de spécialité).")
        @Option(help: "Nombre de praticiens synthétiques.") var practitioners = 250_000
        @Option(help: "Nombre de requêtes.") var queries = 10_000
        @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?
        func run() async throws {
            Bench.warnIfDebug()
            let report = try DirectoryBenchmark.run(practitioners: practitioners, queries: queries)
            print(report)
            print(String(format: "RSS maximal : %.0f Mio", Bench.peakRSSMiB()))
            var object = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]) ?? [:]
            object["bench"] = "directory"
            object["peak_rss_mib"] = Bench.peakRSSMiB()
            try Bench.record(object, to: json)
        }
    }

    struct ImportBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Import RPPS : génère une extraction synthétique puis l'importe (SQLite par défaut, ou --database-url).")
        @Option(help: "Nombre de praticiens.") var practitioners = 250_000
        @Option(name: .customLong("database-url"), help: "Base cible (défaut : un fichier SQLite temporaire).") var databaseURL: String?
        @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?
        func run() async throws {
            Bench.warnIfDebug()
            var logger = Logger(label: "bench")
            logger.logLevel = .warning
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sas-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let file = dir.appendingPathComponent("rpps.txt")
            let france = try SyntheticFrance.bundled(.init(practitioners: practitioners, seed: 42))
            let rows = try france.writeRPPSExtract(to: file)
            let url = databaseURL ?? "sqlite:\(dir.appendingPathComponent("bench.sqlite").path)"
            let database = try await openDatabase(url: url, maxConnections: 2, logger: logger)
            try await Migrator(logger: logger).migrate(database)
            let importer = RPPSImporter(database: database, geocoder: try OfflineGeocoder(places: .load(), departments: .load()),
                                        specialties: try .load())
            let summary = try await importer.importFile(at: file)
            try await database.close()
            let engine = url.hasPrefix("sqlite:") ? "SQLite" : "PostgreSQL"
            print(summary)
            print(String(format: "Import RPPS (%@) : %d lignes en %.1f s (%.0f lignes/s), RSS maximal %.0f Mio",
                         engine, rows, summary.seconds, Double(rows) / summary.seconds, Bench.peakRSSMiB()))
            try Bench.record(["bench": "import", "engine": engine, "rows": rows, "seconds": summary.seconds,
                              "created": summary.created, "rejected": summary.rejectedCount,
                              "peak_rss_mib": Bench.peakRSSMiB()], to: json)
        }
    }
}
