import Foundation
import Testing
import Web

@Suite("Configuration")
struct ConfigurationTests {
    func writeYAML(_ text: String) throws -> String {
        let path = TestScratch.url("sas-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults are documented and valid")
    func defaults() throws {
        let config = try PlatformConfiguration.load(file: nil, environment: [:])
        #expect(config.httpHost == "127.0.0.1" && config.httpPort == 8080)
        #expect(config.fhirPort == 8443 && config.fhirEnabled)
        #expect(config.databaseURL.hasPrefix("sqlite:"))
        #expect(config.sources["http.port"] == .defaultValue)
        let reference = PlatformConfiguration.referenceMarkdown()
        for key in ConfigurationKey.all { #expect(reference.contains("`\(key.name)`")) }
    }

    @Test("precedence: file < environment < flags")
    func precedence() throws {
        let file = try writeYAML("""
            http:
              port: 9000
              host: 0.0.0.0
            log:
              format: json
            """)
        let config = try PlatformConfiguration.load(
            file: file, environment: ["SAS_HTTP_PORT": "9001", "PATH": "/bin"],
            flags: [(key: "http.port", value: "9002", flag: "--http-port")])
        #expect(config.httpPort == 9002)
        #expect(config.sources["http.port"] == .flag("--http-port"))
        #expect(config.httpHost == "0.0.0.0")
        #expect(config.logFormat == "json")
        let envOnly = try PlatformConfiguration.load(file: file, environment: ["SAS_HTTP_PORT": "9001"])
        #expect(envOnly.httpPort == 9001)
        #expect(envOnly.sources["http.port"] == .environment("SAS_HTTP_PORT"))
    }

    @Test("a bad value names the key, the value and where it came from")
    func badValueNamesKey() throws {
        do {
            _ = try PlatformConfiguration.load(file: nil, environment: ["SAS_HTTP_PORT": "99999"])
            Issue.record("accepted port 99999")
        } catch let error as ConfigurationError {
            #expect(error.key == "http.port")
            #expect(error.description.contains("http.port"))
            #expect(error.description.contains("SAS_HTTP_PORT"))
            #expect(error.description.contains("99999"))
        }
        let file = try writeYAML("log:\n  format: xml\n")
        #expect(throws: ConfigurationError.self) { try PlatformConfiguration.load(file: file, environment: [:]) }
    }

    @Test("the Hub Santé link: amqp needs a broker URL, amqps the platform's certificate, production amqps; test certificates go by pairs")
    func hubAndConformanceKeys() throws {
        func refused(_ environment: [String: String]) -> Bool {
            (try? PlatformConfiguration.load(file: nil, environment: environment)) == nil
        }
        #expect(refused(["SAS_HUB_MODE": "amqp"]))
        #expect(refused(["SAS_HUB_MODE": "amqp", "SAS_HUB_AMQP_URL": "http://hub.example"]))
        #expect(refused(["SAS_HUB_MODE": "amqp", "SAS_HUB_AMQP_URL": "amqps://hub.example:5671/15-SAS"]))
        #expect(refused(["SAS_HUB_MODE": "autre"]))
        #expect(refused(["SAS_CONFORMANCE_WRONG_CN_CERTIFICATE": "/tmp/x.pem"]))
        let plain = try PlatformConfiguration.load(file: nil, environment: ["SAS_HUB_MODE": "amqp", "SAS_HUB_AMQP_URL": "amqp://u:p@127.0.0.1:5672/15-SAS"])
        #expect(plain.hubMode == "amqp" && plain.hubClientID == "fr.health.test.ptfsas")
        let tls = try PlatformConfiguration.load(file: nil, environment: [
            "SAS_HUB_MODE": "amqp", "SAS_HUB_AMQP_URL": "amqps://hub.example:5671/15-SAS",
            "SAS_HUB_TLS_CERTIFICATE": "/etc/sas/hub.crt.pem", "SAS_HUB_TLS_KEY": "/etc/sas/hub.key.pem"])
        #expect(tls.hubTLS?.certificate == "/etc/sas/hub.crt.pem")
    }

    @Test("unknown keys are refused, in the file and in SAS_* variables")
    func unknownKeys() throws {
        let file = try writeYAML("http:\n  prot: 8080\n")
        do {
            _ = try PlatformConfiguration.load(file: file, environment: [:])
            Issue.record("accepted an unknown key")
        } catch let error as ConfigurationError {
            #expect(error.key == "http.prot")
        }
        #expect(throws: ConfigurationError.self) {
            try PlatformConfiguration.load(file: nil, environment: ["SAS_HTTP_PROT": "1"])
        }
        // Test-only variables do not trip the check.
        _ = try PlatformConfiguration.load(file: nil, environment: ["SAS_TEST_POSTGRES_URL": "x"])
    }

    @Test("production requires the FHIR certificate and mTLS client CA")
    func productionRules() throws {
        do {
            _ = try PlatformConfiguration.load(file: nil, environment: ["SAS_ENVIRONMENT": "production"])
            Issue.record("production accepted without certificate")
        } catch let error as ConfigurationError {
            #expect(error.key == "fhir.tls.certificate")
        }
        #expect(throws: ConfigurationError.self) {
            try PlatformConfiguration.load(file: nil, environment: ["SAS_FHIR_TLS_CERTIFICATE": "/x.pem"])
        }
        #expect(throws: ConfigurationError.self) {
            try PlatformConfiguration.load(file: nil, environment: ["SAS_FHIR_PORT": "8080"])
        }
    }

    @Test("a missing or malformed file is explained")
    func unreadableFile() throws {
        #expect(throws: ConfigurationError.self) {
            try PlatformConfiguration.load(file: "/nonexistent/sas.yaml", environment: [:])
        }
        let file = try writeYAML("http: [unclosed\n")
        #expect(throws: ConfigurationError.self) { try PlatformConfiguration.load(file: file, environment: [:]) }
    }
}
