import ArgumentParser
import Foundation
import Logging
import Web

/// Options shared by every command that reads the platform configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Fichier de configuration YAML (défaut : $SAS_CONFIG, sinon ./sas.yaml s'il existe).")
    var config: String?

    @Option(name: .customLong("http-host"), help: "Adresse du listener HTTP (http.host).")
    var httpHost: String?

    @Option(name: .customLong("http-port"), help: "Port du listener HTTP (http.port).")
    var httpPort: String?

    @Option(name: .customLong("fhir-port"), help: "Port du listener FHIR HTTPS (fhir.port).")
    var fhirPort: String?

    @Option(name: .customLong("database-url"), help: "Base de données : sqlite:CHEMIN ou postgres://… (database.url).")
    var databaseURL: String?

    @Option(name: .customLong("log-format"), help: "text ou json (log.format).")
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: "Niveau de journalisation (log.level).")
    var logLevel: String?

    @Option(name: .customLong("set"), help: "Toute clé de configuration : --set cle=valeur (répétable).")
    var settings: [String] = []

    /// The configuration file to read, if any.
    var configFile: String? {
        if let config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["SAS_CONFIG"] { return fromEnvironment }
        return FileManager.default.fileExists(atPath: "sas.yaml") ? "sas.yaml" : nil
    }

    /// Flags as configuration overrides, highest precedence.
    func flagOverrides(extra: [(String, String, String)] = []) throws -> [(key: String, value: String, flag: String)] {
        var flags: [(key: String, value: String, flag: String)] = extra.map { (key: $0.0, value: $0.1, flag: $0.2) }
        if let httpHost { flags.append((key: "http.host", value: httpHost, flag: "--http-host")) }
        if let httpPort { flags.append((key: "http.port", value: httpPort, flag: "--http-port")) }
        if let fhirPort { flags.append((key: "fhir.port", value: fhirPort, flag: "--fhir-port")) }
        if let databaseURL { flags.append((key: "database.url", value: databaseURL, flag: "--database-url")) }
        if let logFormat { flags.append((key: "log.format", value: logFormat, flag: "--log-format")) }
        if let logLevel { flags.append((key: "log.level", value: logLevel, flag: "--log-level")) }
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else {
                throw ValidationError("--set attend cle=valeur, reçu « \(setting) »")
            }
            flags.append((key: String(setting[..<equals]), value: String(setting[setting.index(after: equals)...]),
                          flag: "--set"))
        }
        return flags
    }

    /// Loads the configuration, printing a clear French error and exiting non-zero on failure.
    func load(extra: [(String, String, String)] = []) throws -> PlatformConfiguration {
        do {
            return try PlatformConfiguration.load(file: configFile, flags: try flagOverrides(extra: extra))
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("sas: \(error.description)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
    }
}

/// Bootstraps logging once per process from the configuration.
func bootstrapLogging(_ configuration: PlatformConfiguration) -> Logger {
    LoggingSetup.bootstrap(format: configuration.logFormat, level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
    var logger = Logger(label: "sas")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    return logger
}
