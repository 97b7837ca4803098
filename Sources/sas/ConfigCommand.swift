import ArgumentParser
import Foundation
import Storage
import Web

/// `sas config`: checks a configuration, or prints the reference of every key.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Vérifie la configuration effective, ou affiche la référence des clés (--reference).")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Affiche la table de référence des clés (Markdown).")
    var reference = false

    func run() async throws {
        if reference {
            print(PlatformConfiguration.referenceMarkdown())
            return
        }
        let configuration = try options.load()
        for key in ConfigurationKey.all.map(\.name).sorted() {
            let source = configuration.sources[key].map { "\($0)" } ?? "non définie"
            print("\(key) = \(Self.value(of: key, in: configuration))  (\(source))")
        }
        print("Configuration valide.")
    }

    static func value(of key: String, in c: PlatformConfiguration) -> String {
        switch key {
        case "environment": return c.environment.rawValue
        case "http.host": return c.httpHost
        case "http.port": return String(c.httpPort)
        case "fhir.enabled": return String(c.fhirEnabled)
        case "fhir.host": return c.fhirHost
        case "fhir.port": return String(c.fhirPort)
        case "fhir.tls.certificate": return c.fhirCertificatePath ?? "—"
        case "fhir.tls.key": return c.fhirKeyPath ?? "—"
        case "fhir.tls.client_ca": return c.fhirClientCAPath ?? "—"
        case "editors.client_certificate": return c.editorsClientCertificatePath ?? "—"
        case "editors.client_key": return c.editorsClientKeyPath ?? "—"
        case "editors.ca": return c.editorsCAPath ?? "—"
        case "aggregator.deadline_ms": return String(c.aggregatorDeadlineMilliseconds)
        case "aggregator.cache_seconds": return String(c.aggregatorCacheSeconds)
        case "aggregator.cache_stale_seconds": return String(c.aggregatorCacheStaleSeconds)
        case "pki.dev_directory": return c.devPKIDirectory
        case "editors.registry_file": return c.editorsRegistryFile ?? "—"
        case "admin.api_token_sha256": return c.adminTokenSHA256 == nil ? "—" : "(configuré)"
        case "database.url": return redact(c.databaseURL)
        case "database.max_connections": return String(c.databaseMaxConnections)
        case "log.level": return c.logLevel
        case "log.format": return c.logFormat
        case "shutdown.grace_seconds": return String(c.shutdownGraceSeconds)
        default: return "?"
        }
    }
}
