import Foundation
import Identity
import TLS
import Yams

/// Where a configuration value came from, for error messages.
public enum ConfigurationSource: Sendable, Equatable, CustomStringConvertible {
    case defaultValue
    case file(String)
    case environment(String)
    case flag(String)

    public var description: String {
        switch self {
        case .defaultValue: return "valeur par défaut"
        case .file(let path): return "fichier \(path)"
        case .environment(let name): return "variable d'environnement \(name)"
        case .flag(let name): return "option \(name)"
        }
    }
}

/// A configuration error naming the bad key, in French for the operator.
public enum ConfigurationError: Error, CustomStringConvertible, Sendable {
    case unknownKey(String, source: ConfigurationSource)
    case invalidValue(key: String, value: String, source: ConfigurationSource, reason: String)
    case missingValue(key: String, reason: String)
    case unreadableFile(String, reason: String)

    public var description: String {
        switch self {
        case .unknownKey(let key, let source):
            return "Configuration invalide : clé inconnue « \(key) » (\(source)). Voir `sas config --reference`."
        case .invalidValue(let key, let value, let source, let reason):
            return "Configuration invalide : la clé « \(key) » (\(source)) vaut « \(value) » : \(reason)."
        case .missingValue(let key, let reason):
            return "Configuration invalide : la clé « \(key) » est obligatoire : \(reason)."
        case .unreadableFile(let path, let reason):
            return "Configuration invalide : impossible de lire \(path) : \(reason)."
        }
    }

    /// The configuration key at fault, when there is one.
    public var key: String? {
        switch self {
        case .unknownKey(let key, _), .invalidValue(let key, _, _, _), .missingValue(let key, _): return key
        case .unreadableFile: return nil
        }
    }
}

/// The platform's validated configuration.
///
/// Precedence, lowest to highest: defaults, the YAML file, `SAS_*` environment variables, command-line flags.
public struct PlatformConfiguration: Sendable {
    /// Deployment environment.
    public enum Environment: String, Sendable { case development, recette, preproduction, production }

    public var environment: Environment
    public var httpHost: String
    public var httpPort: Int
    public var fhirEnabled: Bool
    public var fhirHost: String
    public var fhirPort: Int
    public var fhirCertificatePath: String?
    public var fhirKeyPath: String?
    public var fhirClientCAPath: String?
    public var fhirCRLPaths: [String]
    public var fhirAllowedClients: [ClientRule]
    public var editorsClientCertificatePath: String?
    public var editorsClientKeyPath: String?
    public var editorsCAPath: String?
    public var aggregatorDeadlineMilliseconds: Int
    public var aggregatorCacheSeconds: Int
    /// `aggregator.cache_stale_seconds`.
    public var aggregatorCacheStaleSeconds: Int
    /// Practitioners whose slots one search asks for, at most.
    public var searchMaxCandidates: Int
    public var devPKIDirectory: String
    /// The platform's address as browsers see it.
    public var publicURL: String
    public var secureCookies: Bool
    /// `origin` added to vendors' booking URLs.
    public var bookingOrigin: String
    public var sessionIdleMinutes: Int
    public var sessionAbsoluteHours: Int
    public var passwordMemoryKiB: Int
    public var loginMaxFailures: Int
    /// Seconds between two looks for INT_R02 deactivations and retries.
    public var regulatorSyncPollSeconds: Int
    public var loginLockoutSeconds: Int
    public var pscDiscoveryURL: String?
    /// SMTP relay (nil: e-mails go to the log).
    public var mailSMTP: SMTPMailer.Configuration?
    public var pscClientID: String?
    public var pscClientSecret: String?
    public var pscCAPath: String?
    public var adminTokenSHA256: String?
    /// Test certificates (certificate, key) the console's conformance check presents to vendors, which must refuse
    /// them: wrong CN, wrong OU, revoked.
    public var conformanceWrongCN: (String, String)?
    public var conformanceWrongOU: (String, String)?
    public var conformanceRevoked: (String, String)?
    public var conformancePSCPrefix: String
    /// INT_L02: `off` or `standin`; the platform's Hub client id; the publishing period.
    public var hubMode: String
    public var hubClientID: String
    public var hubPollSeconds: Int
    public var hubAMQPURL: String?
    public var hubTLS: (certificate: String, key: String, ca: String?)?
    public var editorsRegistryFile: String?
    public var databaseURL: String
    public var databaseMaxConnections: Int
    public var logLevel: String
    public var logFormat: String
    public var shutdownGraceSeconds: Int
    /// Where each effective value came from.
    public var sources: [String: ConfigurationSource]

    /// Loads and validates the configuration.
    ///
    /// - Parameters:
    ///   - file: path of a YAML file, or nil for none.
    ///   - environment: the process environment (only `SAS_*` variables are read).
    ///   - flags: values given on the command line, by key, with the flag name used.
    public static func load(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        flags: [(key: String, value: String, flag: String)] = []
    ) throws -> PlatformConfiguration {
        let keys = Dictionary(uniqueKeysWithValues: ConfigurationKey.all.map { ($0.name, $0) })
        var raw: [String: (String, ConfigurationSource)] = [:]
        for key in ConfigurationKey.all {
            if let value = key.defaultValue { raw[key.name] = (value, .defaultValue) }
        }
        if let file {
            for (key, value) in try readYAML(file) {
                guard keys[key] != nil else { throw ConfigurationError.unknownKey(key, source: .file(file)) }
                raw[key] = (value, .file(file))
            }
        }
        let known = Set(ConfigurationKey.all.map(\.environmentVariable))
        for (name, value) in environment where name.hasPrefix("SAS_") {
            guard known.contains(name) else {
                // SAS_* variables that are not configuration (e.g. test settings) are allowed only with a marker.
                if name.hasPrefix("SAS_TEST_") || name == "SAS_CONFIG" { continue }
                throw ConfigurationError.unknownKey(name, source: .environment(name))
            }
            let key = ConfigurationKey.all.first { $0.environmentVariable == name }!
            raw[key.name] = (value, .environment(name))
        }
        for flag in flags {
            guard keys[flag.key] != nil else { throw ConfigurationError.unknownKey(flag.key, source: .flag(flag.flag)) }
            raw[flag.key] = (flag.value, .flag(flag.flag))
        }
        var values: [String: String] = [:]
        var sources: [String: ConfigurationSource] = [:]
        for (name, (value, source)) in raw {
            do {
                values[name] = try keys[name]!.validate(value)
            } catch let error as ConfigurationValueError {
                throw ConfigurationError.invalidValue(key: name, value: value, source: source, reason: error.reason)
            }
            sources[name] = source
        }
        return try PlatformConfiguration(values: values, sources: sources)
    }

    private init(values: [String: String], sources: [String: ConfigurationSource]) throws {
        environment = Environment(rawValue: values["environment"]!)!
        httpHost = values["http.host"]!
        httpPort = Int(values["http.port"]!)!
        fhirEnabled = values["fhir.enabled"] == "true"
        fhirHost = values["fhir.host"]!
        fhirPort = Int(values["fhir.port"]!)!
        fhirCertificatePath = values["fhir.tls.certificate"]
        fhirKeyPath = values["fhir.tls.key"]
        fhirClientCAPath = values["fhir.tls.client_ca"]
        fhirCRLPaths = values["fhir.tls.crl"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        do {
            fhirAllowedClients = try values["fhir.tls.allowed_clients"].map(ClientAllowList.parse) ?? []
        } catch let error as ClientAllowList.AllowListError {
            throw ConfigurationError.invalidValue(
                key: "fhir.tls.allowed_clients", value: error.item,
                source: sources["fhir.tls.allowed_clients"] ?? .defaultValue, reason: error.description)
        }
        editorsClientCertificatePath = values["editors.client_certificate"]
        editorsClientKeyPath = values["editors.client_key"]
        editorsCAPath = values["editors.ca"]
        aggregatorDeadlineMilliseconds = Int(values["aggregator.deadline_ms"]!)!
        aggregatorCacheSeconds = Int(values["aggregator.cache_seconds"]!)!
        aggregatorCacheStaleSeconds = Int(values["aggregator.cache_stale_seconds"]!)!
        searchMaxCandidates = Int(values["search.max_candidates"]!)!
        devPKIDirectory = values["pki.dev_directory"]!
        publicURL = values["http.public_url"] ?? "http://127.0.0.1:\(values["http.port"]!)"
        secureCookies = values["http.secure_cookies"] == "true"
        bookingOrigin = values["booking.origin"]!
        sessionIdleMinutes = Int(values["session.idle_minutes"]!)!
        sessionAbsoluteHours = Int(values["session.absolute_hours"]!)!
        passwordMemoryKiB = Int(values["password.memory_kib"]!)!
        loginMaxFailures = Int(values["login.max_failures"]!)!
        regulatorSyncPollSeconds = Int(values["editors.accounts_poll_seconds"]!)!
        func pair(_ name: String) -> (String, String)? {
            guard let certificate = values["conformance.\(name)_certificate"], let key = values["conformance.\(name)_key"] else { return nil }
            return (certificate, key)
        }
        conformanceWrongCN = pair("wrong_cn")
        conformanceWrongOU = pair("wrong_ou")
        conformanceRevoked = pair("revoked")
        conformancePSCPrefix = values["conformance.psc_authorization_prefix"]!
        hubMode = values["hub.mode"]!
        hubClientID = values["hub.client_id"]!
        hubPollSeconds = Int(values["hub.poll_seconds"]!)!
        hubAMQPURL = values["hub.amqp_url"]
        hubTLS = values["hub.tls.certificate"].flatMap { certificate in
            values["hub.tls.key"].map { (certificate, $0, values["hub.tls.ca"]) }
        }
        loginLockoutSeconds = Int(values["login.lockout_seconds"]!)!
        pscDiscoveryURL = values["psc.discovery_url"]
        if let smtpHost = values["mail.smtp_host"] {
            let smtp = SMTPMailer.Configuration(
                host: smtpHost, port: Int(values["mail.smtp_port"]!)!, tls: values["mail.smtp_tls"] == "true",
                username: values["mail.smtp_username"], password: values["mail.smtp_password"], from: values["mail.from"]!)
            do {
                _ = try SMTPMailer(configuration: smtp)
            } catch let error as SMTPMailer.SMTPError {
                throw ConfigurationError.invalidValue(key: "mail.smtp_tls", value: values["mail.smtp_tls"]!,
                                                      source: sources["mail.smtp_tls"] ?? .defaultValue, reason: error.description)
            }
            mailSMTP = smtp
        } else {
            mailSMTP = nil
        }
        pscClientID = values["psc.client_id"]
        pscClientSecret = values["psc.client_secret"]
        pscCAPath = values["psc.ca"]
        adminTokenSHA256 = values["admin.api_token_sha256"]
        editorsRegistryFile = values["editors.registry_file"]
        databaseURL = values["database.url"]!
        databaseMaxConnections = Int(values["database.max_connections"]!)!
        logLevel = values["log.level"]!
        logFormat = values["log.format"]!
        shutdownGraceSeconds = Int(values["shutdown.grace_seconds"]!)!
        self.sources = sources
        if values["hub.mode"] == "amqp" {
            guard let url = values["hub.amqp_url"], let parsed = URLComponents(string: url), ["amqp", "amqps"].contains(parsed.scheme ?? ""),
                  parsed.host != nil else {
                throw ConfigurationError.missingValue(key: "hub.amqp_url", reason: "hub.mode = amqp exige une URL amqps://hôte:port/vhost")
            }
            if parsed.scheme == "amqps" && values["hub.tls.certificate"] == nil {
                throw ConfigurationError.missingValue(key: "hub.tls.certificate", reason: "la connexion amqps au Hub se fait avec le certificat de la plateforme")
            }
            if parsed.scheme == "amqp" && values["environment"] == "production" {
                throw ConfigurationError.missingValue(key: "hub.amqp_url", reason: "en production, le Hub Santé exige amqps (TLS et certificat)")
            }
        }
        for name in ["wrong_cn", "wrong_ou", "revoked"]
            where (values["conformance.\(name)_certificate"] == nil) != (values["conformance.\(name)_key"] == nil) {
            throw ConfigurationError.missingValue(
                key: values["conformance.\(name)_certificate"] == nil ? "conformance.\(name)_certificate" : "conformance.\(name)_key",
                reason: "le certificat de test et sa clé vont ensemble")
        }
        if (fhirCertificatePath == nil) != (fhirKeyPath == nil) {
            throw ConfigurationError.missingValue(
                key: fhirCertificatePath == nil ? "fhir.tls.certificate" : "fhir.tls.key",
                reason: "le certificat et la clé du listener FHIR vont ensemble")
        }
        if environment == .production && fhirEnabled && fhirCertificatePath == nil {
            throw ConfigurationError.missingValue(
                key: "fhir.tls.certificate", reason: "en production, le certificat IGC Santé du listener FHIR doit être fourni")
        }
        if environment == .production && fhirEnabled && fhirClientCAPath == nil {
            throw ConfigurationError.missingValue(
                key: "fhir.tls.client_ca", reason: "en production, les flux FHIR exigent l'authentification mutuelle (mTLS)")
        }
        if (editorsClientCertificatePath == nil) != (editorsClientKeyPath == nil) {
            throw ConfigurationError.missingValue(
                key: editorsClientCertificatePath == nil ? "editors.client_certificate" : "editors.client_key",
                reason: "le certificat client de la plateforme et sa clé vont ensemble")
        }
        if environment == .production && (editorsClientCertificatePath == nil || editorsCAPath == nil) {
            throw ConfigurationError.missingValue(
                key: editorsClientCertificatePath == nil ? "editors.client_certificate" : "editors.ca",
                reason: "en production, l'identité IGC Santé de la plateforme et l'AC des éditeurs doivent être fournies")
        }
        if pscDiscoveryURL != nil && (pscClientID == nil || pscClientSecret == nil) {
            throw ConfigurationError.missingValue(
                key: pscClientID == nil ? "psc.client_id" : "psc.client_secret",
                reason: "la connexion Pro Santé Connect demande l'identifiant et le secret du client")
        }
        if environment == .production && !secureCookies {
            throw ConfigurationError.invalidValue(
                key: "http.secure_cookies", value: "false", source: sources["http.secure_cookies"] ?? .defaultValue,
                reason: "en production, les cookies de session sont réservés à HTTPS")
        }
        if httpPort != 0 && fhirEnabled && httpPort == fhirPort && httpHost == fhirHost {
            throw ConfigurationError.invalidValue(
                key: "fhir.port", value: String(fhirPort), source: sources["fhir.port"] ?? .defaultValue,
                reason: "le listener FHIR ne peut pas partager le port du listener HTTP")
        }
    }

    /// Reads a YAML file into dotted keys (`http: {port: 8080}` → `http.port`).
    static func readYAML(_ path: String) throws -> [(String, String)] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError.unreadableFile(path, reason: "fichier introuvable ou illisible")
        }
        let document: Any?
        do { document = try Yams.load(yaml: text) } catch {
            throw ConfigurationError.unreadableFile(path, reason: "YAML invalide (\(error))")
        }
        guard let document else { return [] }
        guard let root = document as? [String: Any] else {
            throw ConfigurationError.unreadableFile(path, reason: "le document doit être une table de clés")
        }
        var out: [(String, String)] = []
        func walk(_ node: [String: Any], prefix: String) throws {
            for (key, value) in node {
                let name = prefix.isEmpty ? key : "\(prefix).\(key)"
                switch value {
                case let table as [String: Any]: try walk(table, prefix: name)
                case let string as String: out.append((name, string))
                case let int as Int: out.append((name, String(int)))
                case let bool as Bool: out.append((name, bool ? "true" : "false"))
                case let double as Double: out.append((name, String(double)))
                default:
                    throw ConfigurationError.invalidValue(
                        key: name, value: "\(value)", source: .file(path), reason: "une valeur simple est attendue")
                }
            }
        }
        try walk(root, prefix: "")
        return out
    }

    /// A Markdown table of every key, for the README.
    public static func referenceMarkdown() -> String {
        var lines = ["| Key | Environment variable | Default | Meaning |", "|---|---|---|---|"]
        for key in ConfigurationKey.all {
            lines.append("| `\(key.name)` | `\(key.environmentVariable)` | \(key.defaultValue.map { "`\($0)`" } ?? "—") | \(key.help) |")
        }
        return lines.joined(separator: "\n")
    }
}
