import Agenda
import FHIR
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Identity
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SASDomain
import ServiceLifecycle
import Storage
import TLS
import Web

/// `sas bench appointments`: INT_R03 writes per second on the platform's FHIR listener, over mutual TLS with
/// keep-alive, from one vendor: new appointments (POST) and status changes (conditional PUT), each validated, stored,
/// matched to the regulator's orientations and audited in one transaction.
struct AppointmentsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appointments",
        abstract: "INT_R03 : rendez-vous écrits par seconde sur le serveur FHIR (mTLS, keep-alive), SQLite ou PostgreSQL.")
    @Option(help: "Durée de la mesure, en secondes.") var seconds = 10.0
    @Option(help: "Requêtes simultanées (connexions keep-alive).") var concurrency = 16
    @Option(help: "Orientations en cours du régulateur (candidates au rapprochement).") var orientations = 500
    @Option(name: .customLong("database-url"), help: "Base PostgreSQL (postgres://…) ; par défaut un fichier SQLite neuf.")
    var databaseURL: String?
    @Option(help: "Répertoire de travail (base SQLite et PKI de test, recréés à chaque mesure).") var workDirectory = ".build/bench-appointments"
    @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?
    @Option(name: .customLong("database-connections"), help: "Connexions PostgreSQL du nœud (database.max_connections).")
    var databaseConnections = 10
    @Flag(name: .customLong("sans-http"), help: "Diagnostic : écritures en mémoire, sans HTTP ni TLS (la part du stockage seule).")
    var withoutHTTP = false

    func run() async throws {
        Bench.warnIfDebug()
        var logger = Logger(label: "bench")
        logger.logLevel = ProcessInfo.processInfo.environment["SAS_BENCH_LOG"] == nil ? .critical : .debug
        let directory = URL(fileURLWithPath: workDirectory)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = DevPKIFiles(directory: directory.appendingPathComponent("pki"))
        let ca = try pki.initialise()
        try pki.issue("platform-fhir", with: ca, profile: .server, commonName: "localhost", organizationalUnit: "PLATEFORME SAS",
                      hostNames: ["localhost", "127.0.0.1"])
        try pki.issue("vendor", with: ca, profile: .client, commonName: "bench.editeur.test", organizationalUnit: "EDITEUR BENCH")
        // Nothing is ever deleted: each run writes its own regulator, orientations and appointment identifiers, and
        // counts only its own rows (use a throw-away PostgreSQL database all the same).
        let url = databaseURL ?? "sqlite:\(directory.appendingPathComponent("sas.sqlite").path)"
        let run = UUID().uuidString.prefix(8).lowercased()
        let configuration = try PlatformConfiguration.load(file: nil, environment: [:], flags: [
            (key: "environment", value: "development", flag: "bench"), (key: "http.port", value: "0", flag: "bench"),
            (key: "fhir.port", value: "0", flag: "bench"), (key: "database.url", value: url, flag: "bench"),
            (key: "pki.dev_directory", value: pki.directory.path, flag: "bench"),
            (key: "fhir.tls.certificate", value: pki.certificatePath("platform-fhir"), flag: "bench"),
            (key: "fhir.tls.key", value: pki.keyPath("platform-fhir"), flag: "bench"),
            (key: "fhir.tls.client_ca", value: pki.caChainPath, flag: "bench"),
            (key: "fhir.tls.allowed_clients", value: "CN=bench.editeur.test/OU=EDITEUR BENCH/PARTY=bench", flag: "bench"),
        ])
        let database = try await openDatabase(url: url, maxConnections: databaseConnections, logger: logger)
        let app = try PlatformApp(configuration: configuration, database: database, logger: logger)
        let services = try app.services(pages: try await Pages.load(), fhirTLS: try app.fhirTLSConfiguration())
        let group = app.serviceGroup(services, signals: false)
        let runner = Task { try await group.run() }
        let port = await app.ports.fhirPort()
        while !app.readiness.migrated { try await Task.sleep(for: .milliseconds(20)) }

        // One regulator with a day of vendor orientations in progress: each appointment is matched against them.
        let regulator = "8" + RPPS.withCheckDigit("99" + String(format: "%08d", Int.random(in: 0..<100_000_000)))
        let practitioner = "8" + RPPS.withCheckDigit("1000000099")
        let account = try await app.identity.accounts.create(
            email: "regulateur.bench.\(run)@sas.test", displayName: "Régulateur Bench", idnps: regulator, roles: [.regulator],
            territories: ["69"], passwordHash: nil, actor: "bench")
        let store = OrientationStore(database: database)
        let firstSlot = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 900).rounded(.up) * 900 + 3_600)
        for i in 0..<orientations {
            _ = try await store.orient(
                OrientationRequest(kind: .vendor, practitionerIDNPS: practitioner, offerName: "Dr Effecteur", vendor: "bench",
                                   slotStart: firstSlot.addingTimeInterval(Double(i) * 900)),
                regulatorID: account.id, regulatorEmail: account.email, territory: "69", sourceAddress: nil)
        }

        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.tlsConfiguration = try TLSConfigurations.client(
            caPath: pki.caChainPath, certificatePath: pki.certificatePath("vendor"), keyPath: pki.keyPath("vendor"))
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        clientConfiguration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let base = "https://127.0.0.1:\(port)"
        let iso = ISO8601DateFormatter()
        iso.timeZone = TimeZone(identifier: "Europe/Paris")
        iso.formatOptions = [.withInternetDateTime]
        let system = "urn:oid:1.2.250.1.213.1.4.999"
        let slotCount = max(1, orientations)
        let starts = (0..<slotCount).map { iso.string(from: firstSlot.addingTimeInterval(Double($0) * 900)) }
        let ends = (0..<slotCount).map { iso.string(from: firstSlot.addingTimeInterval(Double($0) * 900 + 900)) }
        let created = iso.string(from: Date())
        // Bodies from a template (the load generator must not spend the CPU the server is measured on).
        let template = try String(decoding: JSONSerialization.data(withJSONObject: [
            "resourceType": "Appointment", "meta": ["profile": ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]],
            "extension": [["url": "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator",
                           "valueReference": ["identifier": [
                            "type": ["coding": [["system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"]]],
                            "system": "urn:oid:1.2.250.1.71.4.2.1", "value": regulator]]]],
            "identifier": [["system": system, "value": "@ID@"]],
            "status": "@STATUS@", "start": "@START@", "end": "@END@", "created": created,
            "participant": [["actor": ["identifier": [
                "type": ["coding": [["system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"]]],
                "system": "urn:oid:1.2.250.1.71.4.2.1", "value": practitioner]], "status": "accepted"]],
        ] as [String: Any], options: [.withoutEscapingSlashes]), as: UTF8.self)
        // The template cut at its placeholders once; each body is a concatenation.
        var pieces: [String] = []
        var order: [String] = []
        var rest = Substring(template)
        while let range = ["@ID@", "@STATUS@", "@START@", "@END@"].compactMap({ rest.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            pieces.append(String(rest[..<range.lowerBound]))
            order.append(String(rest[range]))
            rest = rest[range.upperBound...]
        }
        pieces.append(String(rest))
        let cut = (pieces: pieces, order: order)
        @Sendable func body(_ i: Int, status: String) -> Data {
            let slot = (i / 2) % slotCount
            var text = cut.pieces[0]
            for (index, placeholder) in cut.order.enumerated() {
                switch placeholder {
                case "@ID@": text += "\(run)-\(i / 2)"
                case "@STATUS@": text += status
                case "@START@": text += starts[slot]
                default: text += ends[slot]
                }
                text += cut.pieces[index + 1]
            }
            return Data(text.utf8)
        }
        // Even writes create an appointment (POST); odd ones change its status (conditional PUT, cancelled), so half
        // of the traffic updates rows that exist (or creates them when the PUT overtakes its POST, as INT_R03 allows).
        let appointments = AppointmentStore(database: database)
        let direct = withoutHTTP
        @Sendable func write(_ i: Int) async throws -> (Int, Duration) {
            if direct {
                let started = ContinuousClock.now
                let appointment = try FHIR.FHIRJSON.decode(Appointment.self, from: body(i, status: i % 2 == 0 ? "booked" : "cancelled"))
                let (_, created) = try await appointments.upsert(try AppointmentStore.validate(appointment), editorID: "bench",
                                                                 likelyNew: i % 2 == 0)
                return (created ? 201 : 200, ContinuousClock.now - started)
            }
            var request: HTTPClientRequest
            if i % 2 == 0 {
                request = HTTPClientRequest(url: base + "/Appointment")
                request.method = .POST
                request.body = .bytes(ByteBuffer(data: body(i, status: "booked")))
            } else {
                request = HTTPClientRequest(url: base + "/Appointment?identifier=" + system + "%7C\(run)-\(i / 2)")
                request.method = .PUT
                request.body = .bytes(ByteBuffer(data: body(i, status: "cancelled")))
            }
            request.headers.add(name: "Content-Type", value: "application/fhir+json")
            let started = ContinuousClock.now
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), ContinuousClock.now - started)
        }

        // Warm-up: TLS handshakes and the first statements.
        let counter = NIOLockedValueBox(0)
        for i in 0..<(concurrency * 2) { _ = try await write(i) }
        counter.withLockedValue { $0 = concurrency * 2 }
        print("Serveur FHIR prêt (\(databaseURL == nil ? "SQLite" : "PostgreSQL"), \(orientations) orientations en cours) ; mesure de \(seconds) s, \(concurrency) connexions…")

        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: [(Int, Duration)].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var local: [(Int, Duration)] = []
                    while ContinuousClock.now < deadline {
                        let i = counter.withLockedValue { value -> Int in
                            defer { value += 1 }
                            return value
                        }
                        do {
                            local.append(try await write(i))
                        } catch {
                            print("écriture \(i) : \(error)")
                            throw error
                        }
                    }
                    return local
                }
            }
            var all: [(Int, Duration)] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let failures = results.filter { ![200, 201].contains($0.0) }
        let latencies = results.map { Double($0.1.components.seconds) * 1000 + Double($0.1.components.attoseconds) / 1e15 }.sorted()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let rate = Double(results.count) / seconds
        let written = counter.withLockedValue { $0 }
        let mine: [SQLValue] = [.text(system), .text(run + "-%")]
        let rows = try await database.query("SELECT COUNT(*) AS n FROM appointments WHERE identifier_system = ? AND identifier_value LIKE ?",
                                            mine).first?.int("n") ?? 0
        let matched = try await database.query("""
            SELECT COUNT(*) AS n FROM appointments WHERE identifier_system = ? AND identifier_value LIKE ? AND orientation_id IS NOT NULL
            """, mine).first?.int("n") ?? 0
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await runner.value

        print(String(format: "Écritures INT_R03 : %d en %.1f s → %.0f écritures/s (objectif ≥ 500/s) ; p50 %.1f ms, p99 %.1f ms",
                     results.count, seconds, rate, percentile(0.5), percentile(0.99)))
        print("Réponses en erreur : \(failures.count)\(failures.first.map { " (ex. HTTP \($0.0))" } ?? "") ; rendez-vous en base : \(rows) (attendus : \((written + 1) / 2)), rapprochés d'une orientation : \(matched)")
        print(String(format: "Mémoire résidente maximale : %.0f Mio", Bench.peakRSSMiB()))
        try Bench.record([
            "bench": "appointments", "engine": databaseURL == nil ? "sqlite" : "postgresql", "concurrency": concurrency,
            "writes": results.count, "seconds": seconds, "writes_per_second": rate, "p50_ms": percentile(0.5),
            "p99_ms": percentile(0.99), "errors": failures.count, "rows": rows, "matched": matched,
            "peak_rss_mib": Bench.peakRSSMiB(),
        ], to: json)
        if !failures.isEmpty || rows != (written + 1) / 2 {
            throw ValidationError("des écritures ont échoué ou la base ne contient pas le nombre attendu de rendez-vous")
        }
    }
}
