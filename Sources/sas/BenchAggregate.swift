import Aggregator
import ArgumentParser
import FHIR
import Foundation
import Logging
import SASDomain
import Sandbox
import ServiceLifecycle
import TLS

/// `sas bench aggregate`: the aggregator against 8 sandbox vendors over real mTLS on loopback.
struct AggregateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Agrégateur : 8 éditeurs bac à sable (20–300 ms, un bloqué, un en panne), parallèle vs lots successifs, cache chaud.")
    @Option(help: "Recherches mesurées par mode.") var searches = 60
    @Option(help: "Durée de la mesure cache chaud, en secondes.") var warmSeconds = 5.0
    @Option(help: "Recherches simultanées pour la mesure cache chaud.") var concurrency = 16
    @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?

    func run() async throws {
        Bench.warnIfDebug()
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let pki = DevPKIFiles(directory: FileManager.default.temporaryDirectory.appendingPathComponent("sas-bench-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let ca = try pki.initialise()
        try pki.issue("platform", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS")
        // 100 practitioners known to every vendor: 25 per search, 4 batches for the parallel/sequential comparison.
        let ids = SyntheticBundles.practitioners(count: 100, seed: 77)
        let roster = SandboxRoster(practitioners: ids.enumerated().map { i, idnps in
            .init(idnps: idnps, familyName: "BENCH\(i)", givenName: "Test", specialties: ["SM54"],
                  sites: [.init(line: "\(i + 1) rue de la Paix", postalCode: "69002", city: "Lyon", phone: "+33478000000")])
        })
        let latencies = [20, 60, 110, 160, 220, 300]
        var specs: [(String, SandboxFaults)] = latencies.enumerated().map { i, ms in
            var faults = SandboxFaults()
            faults.latencyMs = ms
            return ("vendeur-\(i + 1)", faults)
        }
        specs.append(("bloque", SandboxFaults.personality("hang")!))
        specs.append(("panne", SandboxFaults.personality("error500")!))
        var editors: [SandboxEditor] = []
        for (id, faults) in specs {
            try pki.issue("sandbox-\(id)", with: ca, profile: .server, commonName: "localhost", organizationalUnit: "EDITEUR",
                          hostNames: ["localhost", "127.0.0.1"])
            var configuration = SandboxEditorConfiguration(
                id: id, name: id, certificatePath: pki.certificatePath("sandbox-\(id)"), keyPath: pki.keyPath("sandbox-\(id)"),
                clientCAPath: pki.caChainPath, roster: roster)
            configuration.faults = faults
            configuration.allowedClients = [ClientRule(commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS", party: "platform")]
            editors.append(SandboxEditor(configuration: configuration, logger: logger))
        }
        var groupConfiguration = ServiceGroupConfiguration(services: try editors.map { .init(service: try $0.application()) }, logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        let group = ServiceGroup(configuration: groupConfiguration)
        let runner = Task { try await group.run() }
        while editors.contains(where: { $0.port == nil }) { try await Task.sleep(for: .milliseconds(10)) }
        let registry = editors.map { Editor(id: $0.configuration.id, name: $0.configuration.name, baseURL: $0.fhirBaseURL, flows: [.r01]) }
        let transport = HTTPEditorTransport(identity: .init(certificatePath: pki.certificatePath("platform"),
                                                            keyPath: pki.keyPath("platform"), caPath: pki.caChainPath), logger: logger)
        let now = Date()
        let window = now...now.addingTimeInterval(3 * 86_400)

        func measure(sequential: Bool, practitioners: [IDNPS]) async -> [AggregationSummary] {
            var configuration = AggregatorConfiguration()
            configuration.cacheTTL = .zero
            let aggregator = SlotAggregator(editors: registry, transport: transport, configuration: configuration)
            // Warm up: open the hung vendor's circuit and the connection pools, as a node in service would have.
            for _ in 0..<6 {
                _ = await aggregator.collect(AggregationRequest(practitioners: Array(practitioners.prefix(25)), window: window, deadline: .seconds(3)))
            }
            var summaries: [AggregationSummary] = []
            for _ in 0..<searches {
                let result = await aggregator.collect(AggregationRequest(
                    practitioners: practitioners, window: window, deadline: .seconds(3), sequentialBatches: sequential))
                summaries.append(result.summary)
            }
            return summaries
        }

        let parallel25 = await measure(sequential: false, practitioners: Array(ids.prefix(25)))
        let parallel100 = await measure(sequential: false, practitioners: ids)
        let sequential100 = await measure(sequential: true, practitioners: ids)

        // Warm cache: the same practitioners searched by many concurrent regulators.
        let warm = SlotAggregator(editors: registry, transport: transport)
        let request = AggregationRequest(practitioners: Array(ids.prefix(25)), window: window, deadline: .seconds(3))
        for _ in 0..<6 { _ = await warm.collect(request) }
        let warmStart = ContinuousClock.now
        let warmCount = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var n = 0
                    while ContinuousClock.now - warmStart < .seconds(warmSeconds) {
                        _ = await warm.collect(request)
                        n += 1
                    }
                    return n
                }
            }
            return await group.reduce(0, +)
        }
        let warmRate = Double(warmCount) / warmSeconds

        await transport.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await runner.value

        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
        }
        func describe(_ name: String, _ s: [AggregationSummary]) -> [String: Double] {
            let total = s.map { ms($0.elapsed) }, first = s.compactMap { $0.firstBatchElapsed.map(ms) }, cpu = s.map { ms($0.cpuTime) }
            let row = ["p50_ms": percentile(total, 0.5), "p99_ms": percentile(total, 0.99),
                       "first_batch_p50_ms": percentile(first, 0.5), "first_batch_p99_ms": percentile(first, 0.99),
                       "cpu_per_search_ms": cpu.reduce(0, +) / Double(max(1, cpu.count))]
            print(String(format: "%@ : p50 %.1f ms, p99 %.1f ms, premier lot p50 %.1f ms (p99 %.1f), CPU/recherche %.2f ms",
                         name, row["p50_ms"]!, row["p99_ms"]!, row["first_batch_p50_ms"]!, row["first_batch_p99_ms"]!, row["cpu_per_search_ms"]!))
            return row
        }
        print("8 éditeurs : 6 sains (\(latencies.map(String.init).joined(separator: ", ")) ms), 1 bloqué, 1 en panne 500 ; délai global 3 s")
        let r25 = describe("25 praticiens, parallèle", parallel25)
        let r100 = describe("100 praticiens, 4 lots en parallèle", parallel100)
        let s100 = describe("100 praticiens, 4 lots successifs (plateforme actuelle)", sequential100)
        print(String(format: "Cache chaud : %.0f recherches/s (%d recherches simultanées)", warmRate, concurrency))
        try Bench.record(["bench": "aggregate", "vendors_latency_ms": latencies, "parallel_25": r25, "parallel_100": r100,
                          "sequential_100": s100, "warm_cache_searches_per_second": warmRate, "searches_per_mode": searches,
                          "peak_rss_mib": Bench.peakRSSMiB()], to: json)
    }
}
