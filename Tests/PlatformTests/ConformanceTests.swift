@testable import Conformance
import Foundation
import Logging
import Sandbox
import ServiceLifecycle
import TLS
import Testing

/// The built-in conformance check (the national kit's automatable requirements) against sandbox vendors over real
/// mTLS: the good vendor passes everything, each faulty personality fails exactly what it breaks.
@Suite("Conformance check")
struct ConformanceTests {
    /// A PSC stand-in (its own dev PKI) for the vendors' SSO redirection.
    static func startPSC() async throws -> (PSCStandIn, ServiceGroup, Task<Void, any Error>, DevPKIFiles) {
        let pki = DevPKIFiles(directory: TestScratch.url("sas-conf-psc-\(UUID().uuidString)"))
        let ca = try pki.initialise()
        try pki.issue("psc", with: ca, profile: .server, commonName: "localhost", organizationalUnit: "PSC TEST",
                      hostNames: ["localhost", "127.0.0.1"])
        let standIn = PSCStandIn(configuration: .init(certificatePath: pki.certificatePath("psc"), keyPath: pki.keyPath("psc")),
                                 logger: TestDatabases.logger)
        var configuration = ServiceGroupConfiguration(services: [.init(service: try standIn.application())], logger: TestDatabases.logger)
        configuration.maximumGracefulShutdownDuration = .seconds(2)
        let group = ServiceGroup(configuration: configuration)
        let runner = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(60)
        while standIn.port == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard standIn.port != nil else { throw CancellationError() }
        return (standIn, group, runner, pki)
    }

    static let vendors: [(id: String, personality: String)] = [
        ("bon", "good"), ("bizarre", "quirky"), ("comptes", "comptes-laxistes"), ("mtls", "mtls-laxiste"),
        ("tls", "tls-ancien"), ("lent", "lent"), ("panne", "error500"), ("sanspsc", "good"),
        ("instantane", "instant"), ("lentement", "slow"), ("instable", "flaky"), ("bloque", "hang"), ("coupe", "reset"),
        ("illisible", "invalid-json"), ("enorme", "oversized"),
    ]

    /// What a vendor whose searches all fail breaks: the valid-certificate search, the timed search and every group
    /// setup of both modes (what rests on them is not run, never passed).
    static let searchesDown = ["1.1.01", "4.1.01"]
        + ["4.2.01", "4.3.01", "4.4.01", "4.5.01", "4.6.01", "4.7.01"].map { "\($0) [PS]" }
        + ["4.2.01", "4.3.01", "4.4.01", "4.5.01", "4.6.01", "4.7.01", "4.8.1.01", "4.8.2.01", "4.9.01"].map { "\($0) [CPTS]" }

    @Test("good vendor passes every automatable requirement in PS and CPTS modes; each faulty personality fails exactly the requirements it breaks")
    func personalities() async throws {
        let (psc, pscGroup, pscRunner, pscPKI) = try await Self.startPSC()
        let fleet = try await SandboxFleet.start(
            Self.vendors.map { ($0.id, $0.personality, SandboxRoster()) },
            prepare: { pki, ca in
                try pki.issue("wrong-cn", with: ca, profile: .client, commonName: "intrus.localhost", organizationalUnit: "PLATEFORME SAS")
                try pki.issue("wrong-ou", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "AUTRE SERVICE")
                try pki.issue("revoked", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS")
                _ = try pki.revoke("revoked")
            },
            configure: { configuration in
                configuration.webPort = 0
                if configuration.id != "sanspsc" {
                    configuration.psc = SandboxPSCLogin(discoveryURL: psc.discoveryURL, clientID: "editeur-\(configuration.id)",
                                                        clientSecret: "secret-de-test-editeur-\(configuration.id)-2026",
                                                        caPath: pscPKI.caChainPath)
                }
            })
        func settings(_ id: String) -> ConformanceCheck.Configuration {
            let pki = fleet.pki
            var settings = ConformanceCheck.Configuration(
                baseURL: fleet[id].fhirBaseURL,
                certificate: .init(certificatePath: pki.certificatePath("platform"), keyPath: pki.keyPath("platform")),
                caPath: pki.caChainPath)
            settings.wrongCommonName = .init(certificatePath: pki.certificatePath("wrong-cn"), keyPath: pki.keyPath("wrong-cn"))
            settings.wrongOrganizationalUnit = .init(certificatePath: pki.certificatePath("wrong-ou"), keyPath: pki.keyPath("wrong-ou"))
            settings.revoked = .init(certificatePath: pki.certificatePath("revoked"), keyPath: pki.keyPath("revoked"))
            settings.cpts = true
            settings.pscAuthorizationPrefix = psc.origin + "/auth"
            settings.timeout = .seconds(id == "bloque" ? 2 : 5)
            return settings
        }
        var failure: (any Error)?
        do {
            // The kit inputs come from the vendor itself, as `sas conformance --sandbox` reads them.
            var reports: [String: ConformanceReport] = [:]
            // Three runs at a time: a run times fresh mTLS connections (4.1.01), which a saturated machine would slow.
            try await withThrowingTaskGroup(of: (String, ConformanceReport).self) { group in
                var pending = Self.vendors[...]
                func launch() async throws {
                    guard let vendor = pending.popFirst() else { return }
                    var configuration = settings(vendor.id)
                    try await SandboxInputs.apply(to: &configuration)
                    group.addTask { [configuration] in (vendor.id, await ConformanceCheck(configuration: configuration).run()) }
                }
                for _ in 0..<3 { try await launch() }
                for try await (id, report) in group {
                    reports[id] = report
                    try await launch()
                }
            }
            func failed(_ id: String) -> [String] { reports[id]!.failures.map(\.key) }
            func warned(_ id: String) -> [String] { reports[id]!.warnings.map(\.key) }

            let good = reports["bon"]!
            #expect(good.passed, "\(good.failures.map { "\($0.key): \($0.messages)" })")
            #expect(good.warnings.isEmpty, "\(good.warnings.map { "\($0.key): \($0.messages)" })")
            // Only the manual connected-SSO check is not run; every group of both modes is there.
            #expect(good.skipped.map(\.key) == ["6.2.01"])
            let keys = Set(good.results.map(\.key))
            for key in ["1.1.01", "1.1.02", "1.1.03", "1.1.04", "1.1.05", "1.2.01", "3.01", "4.1.01", "4.2.02 [PS]", "4.3.07 [PS]",
                        "4.4.08 [PS]", "4.5.02 [PS]", "4.6.06 [PS]", "4.7.02 [PS]", "4.7.03 [CPTS]", "4.3.12 [CPTS]", "4.8.1.06 [CPTS]",
                        "4.8.2.06 [CPTS]", "4.9.03 [CPTS]", "5.01", "5.16", "6.1.02", "6.1.03"] {
                #expect(keys.contains(key), "missing \(key)")
            }
            #expect(good.results.count == 113, "\(good.results.count) results")

            // Busy slots, UTC instants, unprefixed RPPS, wrong total: each requirement they break, in both modes.
            let quirks = ["4.2.02", "4.3.03", "4.3.04", "4.3.09", "4.6.02"]
            #expect(Set(failed("bizarre")) == Set(quirks.map { "\($0) [PS]" } + quirks.map { "\($0) [CPTS]" }))
            #expect(Set(warned("bizarre")) == ["4.3.02 [PS]", "4.3.02 [CPTS]"])
            let quirky = reports["bizarre"]!.results.first { $0.key == "4.3.04 [PS]" }!
            #expect(quirky.messages.contains { $0.contains("Z\"") == false && $0.contains("n'a pas la forme") })
            #expect(quirky.request?.hasPrefix("GET https://127.0.0.1:") == true)
            #expect(quirky.excerpt?.contains("\"resourceType\"") == true)

            #expect(failed("comptes") == ["5.03", "5.04", "5.13", "5.14"])
            #expect(warned("comptes") == ["5.05"])
            #expect(failed("mtls") == ["1.1.02", "1.1.03"])
            #expect(failed("tls") == ["1.2.01"])
            #expect(failed("lent") == ["4.1.01"])
            #expect(failed("sanspsc") == ["6.1.03"])
            // Personalities with nothing the kit sees: everything passes.
            for id in ["instantane", "lentement"] {
                #expect(failed(id).isEmpty && warned(id).isEmpty, "\(id): \(failed(id)) \(warned(id))")
            }
            // Vendors whose searches fail (500, hang, reset) break exactly the searches; what rests on them is reported
            // as not run, never as passed; accounts, mTLS and TLS still pass.
            for id in ["panne", "bloque", "coupe"] {
                #expect(Set(failed(id)) == Set(Self.searchesDown), "\(id): \(failed(id))")
                let report = reports[id]!
                #expect(report.results.first { $0.key == "4.3.04 [PS]" }?.verdict == .skipped)
                #expect(report.results.first { $0.key == "6.1.03" }?.verdict == .skipped)
                #expect(report.results.filter { $0.key.hasPrefix("5.") }.allSatisfy { $0.verdict == .pass })
            }
            // A truncated JSON body: the searches answer 200 (1.1.01 passes) but never a Bundle.
            #expect(Set(failed("illisible")) == Set(Self.searchesDown.filter { $0 != "1.1.01" }), "\(failed("illisible"))")
            // A 20 MB Bundle is still a valid answer to the kit; only its time may exceed the second.
            #expect(Set(failed("enorme")).isSubset(of: ["4.1.01"]), "\(failed("enorme"))")
            // A flaky vendor (30 % of 503, up to 4 s late) can only break what rests on its searches.
            let searchDependent = Set(Self.searchesDown + good.results.filter { $0.id.hasPrefix("4.") || $0.id.hasPrefix("6.") }.map(\.key))
            #expect(Set(failed("instable")).isSubset(of: searchDependent), "\(failed("instable"))")

            // The report as JSON (round trip) and HTML.
            let decoded = try ConformanceReport.decode(try good.json())
            #expect(decoded.results == good.results)
            let html = reports["comptes"]!.html()
            #expect(html.contains("Non conforme : 4 exigence(s) non satisfaite(s)"))
            #expect(html.contains("POST Practitioner → 201"))
        } catch { failure = error }
        try? await fleet.stop()
        await pscGroup.triggerGracefulShutdown()
        _ = try? await pscRunner.value
        try? FileManager.default.removeItem(at: pscPKI.directory)
        if let failure { throw failure }
    }

    @Test("The kit's search URL: parameters sorted, | and + percent-encoded, : and , literal; link comparison reads + as a space")
    func kitSearchURL() {
        let url = KitSearch.url(base: "https://v.example/fhir", rpps: ["810101215225", "810002909371"], mode: .ps,
                                window: ("2026-06-09T14:03:11", "2026-06-11T23:59:59"))
        #expect(url.contains("schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810101215225,urn:oid:1.2.250.1.71.4.2.1%7C810002909371"))
        #expect(url.contains("start=ge2026-06-09T14:03:11.000%2B00:00&start=le2026-06-11T23:59:59.000%2B00:00&status=free"))
        #expect(url.hasPrefix("https://v.example/fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&schedule.actor"))
        #expect(KitSearch.parameters(of: url) == KitSearch.parameters(of: url.replacingOccurrences(of: "%2B", with: "%2b")))
        #expect(KitSearch.parameters(of: url) != KitSearch.parameters(of: url.replacingOccurrences(of: "%2B", with: "+")))
    }
}
