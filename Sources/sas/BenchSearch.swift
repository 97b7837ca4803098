import ArgumentParser
import AsyncHTTPClient
import Directory
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Storage
import Web

/// `sas bench search`: the search API over HTTP on a 250,000-practitioner synthetic France, slots served by the
/// seven sandbox vendors in-process over mTLS with 0 ms latency.
struct SearchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Moteur de recherche : API HTTP, 250 000 praticiens, éditeurs bac à sable instantanés (mTLS).")
    @Option(help: "Nombre de praticiens synthétiques.") var practitioners = 250_000
    @Option(help: "Durée de la mesure, en secondes.") var seconds = 20.0
    @Option(help: "Requêtes simultanées (8 : la plateforme est saturée en CPU bien avant ; davantage de connexions n'ajoute que de l'attente).") var concurrency = 8
    @Option(help: "Nombre de lieux différents recherchés (les plus peuplés).") var places = 200
    @Option(name: .customLong("sandbox-port"), help: "Premier port des éditeurs bac à sable (7 ports consécutifs).") var sandboxPort = 9_301
    @Option(help: "Répertoire de travail (réutilisé : l'annuaire n'est généré qu'une fois).") var workDirectory = ".build/bench-search"
    @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?
    @Option(help: "Durée pendant laquelle un éditeur bac à sable resert une réponse identique (son propre cache), en secondes.")
    var vendorMemoSeconds = 120
    @Option(help: "Générateur de charge : wrk (processus séparé, paquet Debian) ou interne (client dans le même processus).")
    var generator = FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") ? "wrk" : "interne"

    @Option(help: "Charge d'échauffement avant la mesure, en secondes (0 : chaque URL une fois seulement). Au moins deux durées du cache de l'agrégateur (30 s) : la mesure voit alors un nœud en régime établi, dont les réponses expirent à des instants dispersés, et non la vague d'expiration synchronisée qui suit l'échauffement.")
    var echauffement = 75.0

    @Option(help: "Fenêtre de recherche : jour (comme les régulateurs : maintenant → fin de J+2, le volume de créneaux dépend de l'heure) fixe (J+1 et J+2 entiers, comparable d'une heure à l'autre) ou pire (J+1 à J+3 entiers : le volume d'une recherche lancée à minuit, la plus chargée).")
    var fenetre = "jour"

    func run() async throws {
        Bench.warnIfDebug()
        guard ["jour", "fixe", "pire"].contains(fenetre) else { throw ValidationError("--fenetre : jour, fixe ou pire.") }
        var logger = Logger(label: "bench")
        logger.logLevel = ProcessInfo.processInfo.environment["SAS_BENCH_LOG"] == nil ? .critical : .debug
        let directory = URL(fileURLWithPath: workDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let marker = directory.appendingPathComponent("practitioners")
        if (try? String(contentsOf: marker, encoding: .utf8)) != String(practitioners) {
            try? FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        let configuration = try PlatformConfiguration.load(file: nil, environment: [:], flags: [
            (key: "environment", value: "development", flag: "bench"), (key: "http.port", value: "0", flag: "bench"),
            (key: "fhir.enabled", value: "false", flag: "bench"),
            (key: "database.url", value: "sqlite:\(directory.appendingPathComponent("sas.sqlite").path)", flag: "bench"),
            (key: "pki.dev_directory", value: directory.appendingPathComponent("pki").path, flag: "bench"),
        ])
        let seedStart = ContinuousClock.now
        let sandboxes = try await DemoSandboxes.prepare(configuration: configuration, practitioners: practitioners,
                                                        firstPort: sandboxPort, personality: "instant",
                                                        memoSeconds: vendorMemoSeconds, logger: logger)
        try String(practitioners).write(to: marker, atomically: true, encoding: .utf8)
        print("Annuaire et éditeurs prêts en \(ContinuousClock.now - seedStart)")

        let database = try await openDatabase(url: configuration.databaseURL, maxConnections: 4, logger: logger)
        let app = try PlatformApp(configuration: configuration, database: database, logger: logger)
        try app.ensureDevIdentities()
        // Sandboxes first: services stop in reverse order, the platform's vendor client closing its connections before
        // the sandboxes stop (they would wait out each kept-alive connection).
        let services = try sandboxes.map { try $0.editor.application() } + app.services(pages: try await Pages.load(), fhirTLS: nil)
        let group = app.serviceGroup(services, signals: false)
        let runner = Task { try await group.run() }
        let port = await app.ports.httpPort()
        while !app.readiness.migrated { try await Task.sleep(for: .milliseconds(20)) }
        try await app.editorRegistryService.refresh()
        try await app.directory.refreshIfNeeded()
        let (_, secret) = try await app.apiTokens.create(name: "bench", scopes: ["search"], actor: "bench")
        let catalog = app.directory.catalog
        print("Index : \(catalog.index.count) sites, \(catalog.idnps.count) praticiens")

        // The most populous places, searched for general practice (80 %), pediatrics, SOS and "en sus".
        let reference = try ReferenceData.shared()
        let targets = Array(reference.geocoder.places.byPopulation().prefix(places).map(\.name))
        let kinds = ["médecin généraliste", "médecin généraliste", "médecin généraliste", "pédiatre", "SOS"]
        // Whole days in Paris: tomorrow and the day after ("fixe"), or three days from tomorrow ("pire": as many slots
        // as the default window holds for a search at midnight, its largest).
        let fixedDays: (String, String) = {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
            let formatter = DateFormatter()
            formatter.calendar = calendar
            formatter.timeZone = calendar.timeZone
            formatter.dateFormat = "yyyy-MM-dd"
            let today = calendar.startOfDay(for: Date())
            return (formatter.string(from: calendar.date(byAdding: .day, value: 1, to: today)!),
                    formatter.string(from: calendar.date(byAdding: .day, value: fenetre == "pire" ? 3 : 2, to: today)!))
        }()
        func url(_ i: Int) -> String {
            var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/search")!
            components.queryItems = [URLQueryItem(name: "what", value: kinds[i % kinds.count]),
                                     URLQueryItem(name: "where", value: targets[(i * 7919) % targets.count])]
            if i % 10 == 9 { components.queryItems!.append(URLQueryItem(name: "mode", value: "en-sus")) }
            if fenetre != "jour" {
                components.queryItems! += [URLQueryItem(name: "from", value: fixedDays.0), URLQueryItem(name: "to", value: fixedDays.1)]
            }
            return components.string!
        }
        let paths = (0..<(targets.count * kinds.count)).map { i -> String in
            let u = URLComponents(string: url(i))!
            return u.percentEncodedPath + "?" + (u.percentEncodedQuery ?? "")
        }
        let script = directory.appendingPathComponent("search.lua")
        try WrkScript.write(paths: paths, token: secret, to: script)
        if generator == "aucun" {
            // Server only, for an external load generator or a profiler (no warm-up).
            print("Serveur : http://127.0.0.1:\(port) — jeton : \(secret)")
            print("Exemple : \(url(0))")
            print("Script wrk (même mélange) : wrk -t 1 -c \(concurrency) -d 20s --latency -s \(script.path) http://127.0.0.1:\(port)")
            fflush(nil)
            try await Task.sleep(for: .seconds(seconds))
            await group.triggerGracefulShutdown()
            _ = try? await runner.value
            return
        }
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        func one(_ i: Int) async -> (ok: Bool, ms: Double, complete: Bool) {
            var request = HTTPClientRequest(url: url(i))
            request.headers.add(name: "Authorization", value: "Bearer \(secret)")
            let start = ContinuousClock.now
            guard let response = try? await client.execute(request, timeout: .seconds(30)),
                  let body = try? await response.body.collect(upTo: 16 << 20) else { return (false, 0, false) }
            let elapsed = ContinuousClock.now - start
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            return (response.status == .ok, ms, Self.contains(body, Self.completeMarker))
        }
        /// `concurrency` clients searching back to back for `seconds`, each through its own sequence of the URL mix.
        func load(seconds: Double) async -> [(ok: Bool, ms: Double, complete: Bool)] {
            let start = ContinuousClock.now
            return await withTaskGroup(of: [(ok: Bool, ms: Double, complete: Bool)].self) { g in
                for w in 0..<concurrency {
                    g.addTask {
                        var out: [(ok: Bool, ms: Double, complete: Bool)] = []
                        var i = w * 1_000_003
                        while ContinuousClock.now - start < .seconds(seconds) { out.append(await one(i)); i += 1 }
                        return out
                    }
                }
                return await g.reduce(into: []) { $0 += $1 }
            }
        }
        // Warm-up: every URL once (connection pools, vendors' first answers), then the measure (wrk in its own
        // process, or this process's client).
        await withTaskGroup(of: Void.self) { g in
            for w in 0..<concurrency {
                g.addTask { var i = w; while i < targets.count * kinds.count { _ = await one(i); i += concurrency } }
            }
        }
        // Then load for a while (see `--echauffement`), with the in-process client in both modes.
        if echauffement > 0 {
            _ = await load(seconds: echauffement)
            print(String(format: "Échauffement sous charge : %.0f s", echauffement))
        }
        if generator == "wrk" {
            // Warm-up then measure, with wrk in its own process cycling through the same URLs.
            // wrk is waited for on a thread of its own: blocking one of the two threads of Swift's cooperative pool
            // for the whole run would halve the server's capacity (it did, until 2026-11-28: wrk figures were about half
            // of the in-process client's).
            let (wrkSeconds, connections) = (Int(seconds), concurrency)
            let result = try await withCheckedThrowingContinuation { (done: CheckedContinuation<WrkScript.Result, any Error>) in
                Thread.detachNewThread {
                    done.resume(with: Result { try WrkScript.run(port: port, script: script, seconds: wrkSeconds, connections: connections) })
                }
            }
            try? await client.shutdown()
            await group.triggerGracefulShutdown()
            _ = try? await runner.value
            print(String(format: "wrk : %.0f recherches/s, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, %d erreurs (%d connexions, %.0f s)",
                         result.rate, result.p50, result.p90, result.p99, result.errors, concurrency, seconds))
            print(String(format: "RSS maximal : %.0f Mio", Bench.peakRSSMiB()))
            try Bench.record(["bench": "search", "generator": "wrk", "window": fenetre, "warmup_seconds": echauffement, "practitioners": practitioners, "concurrency": concurrency,
                              "places": targets.count, "searches_per_second": result.rate, "p50_ms": result.p50,
                              "p90_ms": result.p90, "p99_ms": result.p99, "errors": result.errors,
                              "peak_rss_mib": Bench.peakRSSMiB()], to: json)
            return
        }
        let start = ContinuousClock.now
        let results = await load(seconds: seconds)
        let wall = ContinuousClock.now - start
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        try? await client.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await runner.value
        let latencies = results.filter(\.ok).map(\.ms).sorted()
        func p(_ q: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count - 1) * q))] }
        let rate = Double(latencies.count) / wallSeconds
        let failures = results.count - latencies.count
        let complete = Double(results.filter(\.complete).count) / Double(max(1, results.count))
        print(String(format: "%d recherches en %.1f s : %.0f recherches/s, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, %d échecs, %.0f %% complètes",
                     results.count, wallSeconds, rate, p(0.5), p(0.95), p(0.99), failures, complete * 100))
        print(String(format: "RSS maximal : %.0f Mio", Bench.peakRSSMiB()))
        try Bench.record(["bench": "search", "window": fenetre, "warmup_seconds": echauffement, "practitioners": practitioners, "concurrency": concurrency, "places": targets.count,
                          "searches": results.count, "searches_per_second": rate, "p50_ms": p(0.5), "p95_ms": p(0.95),
                          "p99_ms": p(0.99), "failures": failures, "complete_share": complete,
                          "peak_rss_mib": Bench.peakRSSMiB()], to: json)
    }

    private static let completeMarker = Array("\"complete\":true".utf8)

    /// Whether `needle` occurs in the body (bytes compared in place: decoding a 55 kB page into a `String` and
    /// searching it through Foundation cost the in-process client ~7 % of the bench's CPU).
    private static func contains(_ body: ByteBuffer, _ needle: [UInt8]) -> Bool {
        body.withUnsafeReadableBytes { haystack in
            needle.withUnsafeBytes { n in
                guard let h = haystack.baseAddress, let p = n.baseAddress, n.count > 0 else { return false }
                var at = 0
                let first = Int32(n[0])
                while at + n.count <= haystack.count, let hit = memchr(h + at, first, haystack.count - at - n.count + 1) {
                    let offset = UnsafeRawPointer(hit) - h
                    if memcmp(hit, p, n.count) == 0 { return true }
                    at = offset + 1
                }
                return false
            }
        }
    }
}

/// wrk (a load generator in its own process) driven with a Lua script that cycles through the search URLs.
enum WrkScript {
    struct Result {
        var rate: Double
        var p50: Double
        var p90: Double
        var p99: Double
        var errors: Int
    }

    static func write(paths: [String], token: String, to url: URL) throws {
        let list = paths.map { "  \"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",\n")
        let lua = """
            local paths = {
            \(list)
            }
            local i = 0
            request = function()
              i = i + 1
              return wrk.format("GET", paths[(i % #paths) + 1], { ["Authorization"] = "Bearer \(token)" })
            end
            """
        // No `response` callback: wrk would hand every 55 kB body to Lua (a large part of a core); failures are
        // wrk's own "Non-2xx or 3xx responses" count.
        try lua.write(to: url, atomically: true, encoding: .utf8)
    }

    static func run(port: Int, script: URL, seconds: Int, connections: Int) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        process.arguments = ["-t", "1", "-c", String(connections), "-d", "\(seconds)s", "--latency", "--timeout", "10s",
                             "-s", script.path, "http://127.0.0.1:\(port)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        func latency(_ label: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) })
            else { return 0 }
            let value = line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init) ?? ""
            if value.hasSuffix("ms") { return Double(value.dropLast(2)) ?? 0 }
            if value.hasSuffix("us") { return (Double(value.dropLast(2)) ?? 0) / 1000 }
            if value.hasSuffix("s") { return (Double(value.dropLast(1)) ?? 0) * 1000 }
            return 0
        }
        let rate = text.split(separator: "\n").first { $0.hasPrefix("Requests/sec:") }
            .flatMap { Double($0.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let non2xx = text.split(separator: "\n").first { $0.contains("Non-2xx") }
            .flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 0
        // "Socket errors: connect 0, read 0, write 0, timeout 3": every one is a failed search too.
        let socket = text.split(separator: "\n").first { $0.contains("Socket errors:") }.map { line in
            line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.reduce(0, +)
        } ?? 0
        return Result(rate: rate, p50: latency("50%"), p90: latency("90%"), p99: latency("99%"), errors: non2xx + socket)
    }

}
