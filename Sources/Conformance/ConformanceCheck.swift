import Aggregator
import EditorSync
import Foundation
import Logging
import NIOSSL

/// Runs the automatable requirements of the national conformance kit (ANS SAS Inferno kit) against one vendor
/// endpoint and returns a report. Groups: security (mTLS matrix, TLS versions), capability statement, aggregation
/// (INT_R01 and, with `cpts`, INT_R04: bundle structure, references, formats, link echo, options, response time),
/// regulator accounts (INT_R02, fresh identifiers at every run) and SSO (booking page with and without `origin`).
/// Declarative questions (kit group 2) and the connected SSO test (6.2.01) are manual: reported as not run.
public struct ConformanceCheck: Sendable {
    /// The kit's groups, selectable.
    public enum Group: String, Sendable, CaseIterable, Codable {
        case securite, agregation, comptes, sso
    }

    /// The vendor's test practitioners (kit inputs `practitioner_id`…`practitioner_id4`).
    public struct Practitioners: Sendable, Codable, Equatable {
        /// One place (and, for INT_R04, one CPTS).
        public var rpps: String
        /// Two places (and two CPTS).
        public var rpps2: String
        /// Two practitioners of one search.
        public var rpps3: String
        public var rpps4: String
        public init(rpps: String, rpps2: String, rpps3: String, rpps4: String) {
            self.rpps = rpps
            self.rpps2 = rpps2
            self.rpps3 = rpps3
            self.rpps4 = rpps4
        }
    }

    public struct Configuration: Sendable {
        /// The vendor's FHIR base (https, no trailing slash needed).
        public var baseURL: String
        /// The platform's certificate registered at the vendor.
        public var certificate: ClientCertificate
        /// CA of the vendor's server certificate (added to the system roots).
        public var caPath: String
        /// Certificates the vendor must refuse (kit 1.1.02–1.1.04): same CA, wrong CN / wrong OU / revoked.
        public var wrongCommonName: ClientCertificate?
        public var wrongOrganizationalUnit: ClientCertificate?
        public var revoked: ClientCertificate?
        public var practitioners: Practitioners?
        /// Also run the INT_R04 (CPTS) mode.
        public var cpts = false
        /// What the vendor declares (kit 4.7): slot kinds (PS mode, CPTS mode) and consultation types.
        public var slotTypes = ["PUBLIC", "PRO", "SNP"]
        public var cptsSlotTypes = ["CPTS"]
        public var consultationTypes = ["AMB", "VR", "HH"]
        public var groups = Set(Group.allCases)
        /// The `origin` value added to the booking URL (the kit sends `sas-preprod` in pre-production).
        public var origin = "sas"
        /// Where the booking page must send a regulator not yet logged in: Pro Santé Connect's authorization
        /// endpoint (prefix).
        public var pscAuthorizationPrefix = "https://seconnecter.preproduction.santefr.esante.gouv.fr/realms/sas/protocol/openid-connect/"
        public var timeout: Duration = .seconds(10)

        public init(baseURL: String, certificate: ClientCertificate, caPath: String) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.certificate = certificate
            self.caPath = caPath
        }
    }

    let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "conformance")) {
        self.configuration = configuration
        self.logger = logger
    }

    var probe: Probe { Probe(caPath: configuration.caPath, timeout: configuration.timeout) }

    /// Runs the selected groups in the kit's order.
    public func run(now: Date = Date()) async -> ConformanceReport {
        let started = ContinuousClock.now
        var results: [ConformanceResult] = []
        let groups = configuration.groups
        if groups.contains(.securite) {
            results += await security()
            results.append(await capabilityStatement())
        }
        var firstBookingURL: String?
        if groups.contains(.agregation) || groups.contains(.sso) {
            let (aggregation, bookingURL) = await aggregation(now: now, report: groups.contains(.agregation))
            results += aggregation
            firstBookingURL = bookingURL
        }
        if groups.contains(.comptes) { results += await accounts() }
        if groups.contains(.sso) { results += await sso(bookingURL: firstBookingURL) }
        let elapsed = ContinuousClock.now - started
        return ConformanceReport(baseURL: configuration.baseURL, startedAt: now,
                                 durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                 results: results)
    }

    static func result(_ id: String, mode: KitSearch.Mode? = nil, group: String, title: String, optional: Bool = false,
                       problems: [String], warnings: [String] = [], request: String?, outcome: ProbeOutcome? = nil) -> ConformanceResult {
        let verdict: ConformanceResult.Verdict = problems.isEmpty ? (warnings.isEmpty ? .pass : .warning) : (optional ? .warning : .fail)
        return ConformanceResult(id: id, mode: mode?.rawValue, group: group, title: title, optional: optional, verdict: verdict,
                                 messages: problems + warnings.map { "Avertissement : " + $0 }, request: request,
                                 excerpt: problems.isEmpty ? nil : outcome?.excerpt)
    }

    // MARK: 1 — security

    func security() async -> [ConformanceResult] {
        let group = "1. Sécurité (mTLS, TLS)"
        let url = KitSearch.securityURL(base: configuration.baseURL)
        var results: [ConformanceResult] = []
        let valid = await probe.send(url, certificate: configuration.certificate)
        var problems: [String] = []
        if valid.status != 200 { problems.append("Avec le certificat valide, 200 attendu : \(valid.summary).") }
        results.append(Self.result("1.1.01", group: group, title: "Certificat valide accepté", problems: problems,
                                   request: "GET \(url)", outcome: valid))
        let negatives: [(String, String, ClientCertificate?, String)] = [
            ("1.1.02", "Certificat au CN non autorisé refusé", configuration.wrongCommonName, "--wrong-cn-cert"),
            ("1.1.03", "Certificat à l'OU non autorisée refusé", configuration.wrongOrganizationalUnit, "--wrong-ou-cert"),
            ("1.1.04", "Certificat révoqué refusé", configuration.revoked, "--revoked-cert"),
        ]
        for (id, title, certificate, option) in negatives {
            guard let certificate else {
                results.append(ConformanceResult(id: id, group: group, title: title, verdict: .skipped,
                                                 messages: ["Certificat de test non fourni (\(option))."]))
                continue
            }
            results.append(await refusal(id, title: title, url: url, certificate: certificate, group: group))
        }
        results.append(await refusal("1.1.05", title: "Appel sans certificat client refusé", url: url, certificate: nil, group: group))
        results.append(await tlsVersions(group: group))
        return results
    }

    /// Refused during TLS or with a 4xx; a 5xx, a success, a reset or a timeout fail (kit §4.1).
    func refusal(_ id: String, title: String, url: String, certificate: ClientCertificate?, group: String) async -> ConformanceResult {
        let outcome = await probe.send(url, certificate: certificate)
        var problems: [String] = []
        switch outcome {
        case .tlsRefused: break
        case .response(let status, _, _, _) where (400..<500).contains(status): break
        default: problems.append("Refus attendu (alerte TLS ou statut 4xx) : \(outcome.summary).")
        }
        return Self.result(id, group: group, title: title, problems: problems, request: "GET \(url)", outcome: outcome)
    }

    /// 1.2.01: TLS 1.0 and 1.1 refused, TLS 1.2 or 1.3 accepted. Unlike the kit, the probes present the valid client
    /// certificate, so that a server asking for it during the handshake is judged on the version alone.
    func tlsVersions(group: String) async -> ConformanceResult {
        let url = configuration.baseURL + "/metadata"
        var problems: [String] = []
        var notes: [String] = []
        for (version, label) in [(TLSVersion.tlsv1, "TLS 1.0"), (.tlsv11, "TLS 1.1")] {
            let outcome = await probe.send(url, certificate: configuration.certificate, minimumTLS: version, maximumTLS: version)
            if outcome.status != nil { problems.append("\(label) accepté : seules les versions 1.2 et 1.3 sont autorisées.") } else { notes.append("\(label) refusé") }
        }
        var modern = false
        for (version, label) in [(TLSVersion.tlsv12, "TLS 1.2"), (.tlsv13, "TLS 1.3")] {
            let outcome = await probe.send(url, certificate: configuration.certificate, minimumTLS: version, maximumTLS: version)
            if outcome.status != nil { modern = true; notes.append("\(label) accepté") } else { notes.append("\(label) refusé") }
        }
        if !modern { problems.append("Ni TLS 1.2 ni TLS 1.3 n'aboutit.") }
        var result = Self.result("1.2.01", group: group, title: "Seules les versions sécurisées de TLS (1.2, 1.3) sont acceptées",
                                 problems: problems, request: "GET \(url)")
        result.messages.append(notes.joined(separator: " ; ") + ".")
        return result
    }

    // MARK: 3 — capability statement

    func capabilityStatement() async -> ConformanceResult {
        let url = configuration.baseURL + "/metadata"
        let outcome = await probe.send(url, certificate: configuration.certificate)
        var problems: [String] = []
        if outcome.status != 200 { problems.append("200 attendu : \(outcome.summary).") }
        else if outcome.body.flatMap(BundleView.init)?.resourceType != "CapabilityStatement" {
            problems.append("La réponse n'est pas un CapabilityStatement.")
        }
        return Self.result("3.01", group: "3. CapabilityStatement", title: "Récupération du CapabilityStatement", optional: true,
                           problems: problems, request: "GET \(url)", outcome: outcome)
    }

    // MARK: 5 — regulator accounts

    func accounts() async -> [ConformanceResult] {
        var logger = logger
        logger.logLevel = .critical
        let transport = HTTPEditorTransport(identity: .init(certificatePath: configuration.certificate.certificatePath,
                                                            keyPath: configuration.certificate.keyPath, caPath: configuration.caPath),
                                            logger: logger)
        let editor = Editor(id: "conformance", name: "Éditeur contrôlé", baseURL: configuration.baseURL, flows: [.r02],
                            clientCertificatePath: configuration.certificate.certificatePath,
                            clientKeyPath: configuration.certificate.keyPath, serverCAPath: configuration.caPath)
        let steps = await RegulatorAccountKit(client: RegulatorAccountClient(transport: transport, timeout: configuration.timeout),
                                              editor: editor).run()
        await transport.shutdown()
        return steps.map { step in
            ConformanceResult(id: step.id, group: "5. Comptes régulateurs (INT_R02)", title: step.title, optional: step.optional,
                              verdict: step.passed ? .pass : (step.optional ? .warning : .fail),
                              messages: step.failure.map { [$0] } ?? [], request: step.exchanges.joined(separator: "\n"))
        }
    }
}
