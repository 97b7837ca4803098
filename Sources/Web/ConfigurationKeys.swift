import Foundation
/// The documented configuration keys: one table drives parsing, validation, environment variables and the README.
public struct ConfigurationKey: Sendable {
    /// Dotted key as written in `sas.yaml` (`http.port`).
    public let name: String
    /// Default value, as text; nil when the key has no default (optional setting).
    public let defaultValue: String?
    /// What the key does, for `sas config --reference` and the README.
    public let help: String
    /// Checks and normalises a value; throws a French reason on error.
    public let validate: @Sendable (String) throws -> String

    /// The environment variable that overrides the key (`SAS_HTTP_PORT`).
    public var environmentVariable: String {
        "SAS_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

/// Why a configuration value was refused (in French, for operators).
public struct ConfigurationValueError: Error, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

extension ConfigurationKey {
    /// Every key the platform understands.
    public static let all: [ConfigurationKey] = [
        .init(name: "environment", defaultValue: "development",
              help: "development | recette | preproduction | production. Production refuses generated certificates.",
              validate: oneOf(["development", "recette", "preproduction", "production"])),
        .init(name: "http.host", defaultValue: "127.0.0.1", help: "Address of the web UI and JSON API listener.",
              validate: host),
        .init(name: "http.port", defaultValue: "8080", help: "Port of the web UI and JSON API listener.",
              validate: port),
        .init(name: "fhir.enabled", defaultValue: "true", help: "Start the HTTPS listener for FHIR flows.",
              validate: boolean),
        .init(name: "fhir.host", defaultValue: "127.0.0.1", help: "Address of the FHIR (HTTPS) listener.",
              validate: host),
        .init(name: "fhir.port", defaultValue: "8443", help: "Port of the FHIR (HTTPS) listener.", validate: port),
        .init(name: "fhir.tls.certificate", defaultValue: nil,
              help: "PEM certificate chain of the FHIR listener (leaf first). Generated at run time outside production when absent.",
              validate: nonEmpty),
        .init(name: "fhir.tls.key", defaultValue: nil, help: "PEM private key of the FHIR listener.", validate: nonEmpty),
        .init(name: "fhir.tls.client_ca", defaultValue: nil,
              help: "PEM CA certificates that client certificates must chain to (mTLS). When set, a client certificate is required.",
              validate: nonEmpty),
        .init(name: "fhir.tls.crl", defaultValue: nil,
              help: "Comma-separated CRL files (PEM or DER) checked for every client certificate; re-read when they change.",
              validate: nonEmpty),
        .init(name: "fhir.tls.allowed_clients", defaultValue: nil,
              help: "Client certificates allowed on the FHIR listener besides registered editors: `CN=…/OU=…[/PARTY=…]` separated by `;`.",
              validate: nonEmpty),
        .init(name: "editors.client_certificate", defaultValue: nil,
              help: "PEM certificate chain the platform presents to vendors (INT_R01/R04/SOS/R02) unless a vendor has its own. Generated outside production when absent.",
              validate: nonEmpty),
        .init(name: "editors.client_key", defaultValue: nil, help: "Private key of `editors.client_certificate`.", validate: nonEmpty),
        .init(name: "editors.ca", defaultValue: nil,
              help: "PEM CA certificates vendors' server certificates must chain to, unless a vendor has its own.", validate: nonEmpty),
        .init(name: "aggregator.deadline_ms", defaultValue: "3000",
              help: "Global deadline of a slot search across vendors, in milliseconds (the IG allows up to 7000).",
              validate: integer(100...7000)),
        .init(name: "aggregator.cache_seconds", defaultValue: "30",
              help: "Lifetime of a vendor's answer per practitioner and window; 0 disables the cache.", validate: integer(0...600)),
        .init(name: "aggregator.cache_stale_seconds", defaultValue: "10",
              help: "How long past its lifetime a vendor's answer is still served while one background request renews it (stale-while-revalidate); 0: searches wait for the new answer.",
              validate: integer(0...120)),
        .init(name: "search.max_candidates", defaultValue: "100",
              help: "Nearest eligible practitioners whose slots one search asks for (all rings together), in lots of 25 in parallel.",
              validate: integer(5...1000)),
        .init(name: "editors.registry_file", defaultValue: nil,
              help: "JSON file of vendors (same fields as the admin API) applied to the registry at start: declarative onboarding; later changes through the API or `sas editors` are kept until the file changes the same vendor again.",
              validate: nonEmpty),
        .init(name: "admin.api_token_sha256", defaultValue: nil,
              help: "Hex SHA-256 of the operator bearer token that opens `/api/v1/admin/*` (closed when unset).",
              validate: sha256Hex),
        .init(name: "http.public_url", defaultValue: nil,
              help: "The platform's address as browsers see it (`https://sas.example.fr`), for Pro Santé Connect callbacks and reset links. Default: `http://127.0.0.1:<http.port>`.",
              validate: url),
        .init(name: "http.secure_cookies", defaultValue: "true",
              help: "Mark session cookies `Secure` (HTTPS only). Only the loopback demo turns it off.", validate: boolean),
        .init(name: "session.idle_minutes", defaultValue: "30", help: "A session unused this long ends.",
              validate: integer(5...240)),
        .init(name: "session.absolute_hours", defaultValue: "12", help: "A session ends this long after login, whatever the activity.",
              validate: integer(1...24)),
        .init(name: "password.memory_kib", defaultValue: "19456",
              help: "Argon2id memory cost of password hashes in KiB (with 2 passes, 1 lane). Raised values apply at each user's next login.",
              validate: integer(1024...1_048_576)),
        .init(name: "hub.mode", defaultValue: "off",
              help: "INT_L02 to the SAMU through Hub Santé: `off`, `amqp` (the broker of `hub.amqp_url`), or `standin` (an in-process Hub and simulated LRMs, for the demo and tests).",
              validate: oneOf(["off", "amqp", "standin"])),
        .init(name: "hub.amqp_url", defaultValue: nil,
              help: "Hub Santé broker: `amqps://messaging.hub.esante.gouv.fr:5671/<vhost>` (certificate login with `hub.tls.*`), or `amqp://user:password@host:port/<vhost>` outside production.",
              validate: nonEmpty),
        .init(name: "hub.tls.certificate", defaultValue: nil,
              help: "The platform's IGC Santé certificate for Hub Santé (SASL EXTERNAL: its CN is the Hub user).", validate: nonEmpty),
        .init(name: "hub.tls.key", defaultValue: nil, help: "Private key of `hub.tls.certificate`.", validate: nonEmpty),
        .init(name: "hub.tls.ca", defaultValue: nil, help: "CA certificates of the Hub's server certificate.", validate: nonEmpty),
        .init(name: "hub.client_id", defaultValue: "fr.health.test.ptfsas",
              help: "The platform's Hub Santé client id (`fr.health.ptfsas` in production).", validate: nonEmpty),
        .init(name: "hub.poll_seconds", defaultValue: "1",
              help: "How often each node publishes the orientation events due to the SAMU.", validate: integer(1...60)),
        .init(name: "conformance.wrong_cn_certificate", defaultValue: nil,
              help: "Test certificate (and `conformance.wrong_cn_key`) from the vendors' CA with a CN they must refuse (kit 1.1.02); the console's check skips 1.1.02 without it.",
              validate: nonEmpty),
        .init(name: "conformance.wrong_cn_key", defaultValue: nil, help: "Key of `conformance.wrong_cn_certificate`.", validate: nonEmpty),
        .init(name: "conformance.wrong_ou_certificate", defaultValue: nil,
              help: "Test certificate with an OU vendors must refuse (kit 1.1.03).", validate: nonEmpty),
        .init(name: "conformance.wrong_ou_key", defaultValue: nil, help: "Key of `conformance.wrong_ou_certificate`.", validate: nonEmpty),
        .init(name: "conformance.revoked_certificate", defaultValue: nil,
              help: "Revoked test certificate vendors must refuse (kit 1.1.04).", validate: nonEmpty),
        .init(name: "conformance.revoked_key", defaultValue: nil, help: "Key of `conformance.revoked_certificate`.", validate: nonEmpty),
        .init(name: "conformance.psc_authorization_prefix",
              defaultValue: "https://seconnecter.preproduction.santefr.esante.gouv.fr/realms/sas/protocol/openid-connect/",
              help: "Where a vendor's booking page must send a regulator not yet logged in (kit 6.1.03): the start of Pro Santé Connect's authorization URL.",
              validate: url),
        .init(name: "editors.accounts_poll_seconds", defaultValue: "5",
              help: "How often each node looks for regulator-account changes to send to vendors at once (deactivations) and for INT_R02 retries that are due.",
              validate: integer(1...300)),
        .init(name: "login.max_failures", defaultValue: "5", help: "Consecutive wrong passwords that lock an account.",
              validate: integer(3...20)),
        .init(name: "login.lockout_seconds", defaultValue: "60",
              help: "First lock-out; it doubles at each further lock-out without a successful login, up to one hour.",
              validate: integer(1...3600)),
        .init(name: "psc.discovery_url", defaultValue: nil,
              help: "Pro Santé Connect discovery document (`https://auth.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration`). PSC login is off when unset.",
              validate: url),
        .init(name: "psc.client_id", defaultValue: nil, help: "The platform's client id at Pro Santé Connect.", validate: nonEmpty),
        .init(name: "psc.client_secret", defaultValue: nil,
              help: "The client secret (also the HS256 key of id_tokens). Give it through `SAS_PSC_CLIENT_SECRET`, never in a file under version control.",
              validate: nonEmpty),
        .init(name: "psc.ca", defaultValue: nil,
              help: "PEM CA certificates Pro Santé Connect's server certificate must chain to, besides the system roots (the dev PKI for the stand-in).",
              validate: nonEmpty),
        .init(name: "booking.origin", defaultValue: "sas",
              help: "Value of the `origin` parameter added to vendors' booking URLs (`sas`, or `sas-recette`, `sas-preprod` outside production), which grants regulator rights on the vendor's page.",
              validate: { value throws in
                  let v = value.trimmingCharacters(in: .whitespaces)
                  guard v == "sas" || (v.hasPrefix("sas-") && v.count <= 40 && v.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }) else {
                      throw ConfigurationValueError("« sas » ou « sas-<environnement> » est attendu")
                  }
                  return v
              }),
        .init(name: "mail.smtp_host", defaultValue: nil,
              help: "SMTP relay for reset links and inactivity warnings. Unset: e-mails are written to the log (demo); production needs one.",
              validate: host),
        .init(name: "mail.smtp_port", defaultValue: "465", help: "Port of the SMTP relay.", validate: port),
        .init(name: "mail.smtp_tls", defaultValue: "true",
              help: "Implicit TLS to the relay (SMTPS, certificate and host name verified). `false` only for a relay on loopback.",
              validate: boolean),
        .init(name: "mail.smtp_username", defaultValue: nil, help: "SMTP user (AUTH PLAIN), if the relay needs one.", validate: nonEmpty),
        .init(name: "mail.smtp_password", defaultValue: nil,
              help: "SMTP password; give it through `SAS_MAIL_SMTP_PASSWORD`.", validate: nonEmpty),
        .init(name: "mail.from", defaultValue: "ne-pas-repondre@sas.localhost", help: "Sender of the platform's e-mails.",
              validate: nonEmpty),
        .init(name: "pki.dev_directory", defaultValue: "sas-data/pki",
              help: "Where the dev PKI lives when certificates are not configured (never used in production).",
              validate: nonEmpty),
        .init(name: "database.url", defaultValue: "sqlite:./sas-data/sas.sqlite",
              help: "sqlite:PATH (embedded) or postgres://user:password@host:5432/database?sslmode=disable|prefer|require.",
              validate: databaseURL),
        .init(name: "database.max_connections", defaultValue: "10",
              help: "PostgreSQL pool size per node.", validate: integer(1...500)),
        .init(name: "log.level", defaultValue: "info", help: "trace | debug | info | notice | warning | error | critical.",
              validate: oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"])),
        .init(name: "log.format", defaultValue: "text", help: "text (for people) or json (one object per line, for production).",
              validate: oneOf(["text", "json"])),
        .init(name: "shutdown.grace_seconds", defaultValue: "30",
              help: "How long in-flight requests and background jobs get to finish after SIGTERM/SIGINT.",
              validate: integer(1...600)),
    ]

    static func oneOf(_ values: [String]) -> @Sendable (String) throws -> String {
        { value throws in
            let v = value.lowercased()
            guard values.contains(v) else {
                throw ConfigurationValueError("valeurs possibles : \(values.joined(separator: ", "))")
            }
            return v
        }
    }

    static func integer(_ range: ClosedRange<Int>) -> @Sendable (String) throws -> String {
        { value throws in
            guard let n = Int(value.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                throw ConfigurationValueError("un entier entre \(range.lowerBound) et \(range.upperBound) est attendu")
            }
            return String(n)
        }
    }

    static let port: @Sendable (String) throws -> String = { value throws in
        guard let n = Int(value.trimmingCharacters(in: .whitespaces)), (0...65535).contains(n) else {
            throw ConfigurationValueError("un numéro de port entre 0 et 65535 est attendu (0 = port libre choisi par le système)")
        }
        return String(n)
    }

    static let host: @Sendable (String) throws -> String = { value throws in
        let v = value.trimmingCharacters(in: .whitespaces)
        guard !v.isEmpty, !v.contains(" "), !v.contains("/") else {
            throw ConfigurationValueError("une adresse IP ou un nom d'hôte est attendu")
        }
        return v
    }

    static let boolean: @Sendable (String) throws -> String = { value throws in
        switch value.lowercased() {
        case "true", "yes", "on", "1": return "true"
        case "false", "no", "off", "0": return "false"
        default: throw ConfigurationValueError("true ou false est attendu")
        }
    }

    static let nonEmpty: @Sendable (String) throws -> String = { value throws in
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigurationValueError("une valeur non vide est attendue")
        }
        return value
    }

    static let sha256Hex: @Sendable (String) throws -> String = { value throws in
        let v = value.lowercased()
        guard v.count == 64, v.allSatisfy({ $0.isHexDigit }) else {
            throw ConfigurationValueError("64 caractères hexadécimaux (SHA-256 du jeton) sont attendus, jamais le jeton lui-même")
        }
        return v
    }

    static let url: @Sendable (String) throws -> String = { value throws in
        let v = value.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: v), ["http", "https"].contains(components.scheme ?? ""),
              components.host?.isEmpty == false else {
            throw ConfigurationValueError("une URL http(s):// complète est attendue")
        }
        return v.hasSuffix("/") ? String(v.dropLast()) : v
    }

    static let databaseURL: @Sendable (String) throws -> String = { value throws in
        guard value.hasPrefix("sqlite:") || value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") else {
            throw ConfigurationValueError("sqlite:CHEMIN ou postgres://utilisateur:motdepasse@hôte:5432/base est attendu")
        }
        return value
    }
}
