import Aggregator
import ArgumentParser
import EditorSync
import Foundation
import Logging

/// `sas conformance`: runs the automatable requirements of the national conformance kit against a vendor's FHIR
/// endpoint, over mTLS with the given client identity, and writes a report (JSON and HTML). Today: the
/// regulator-account group (INT_R02, 5.01–5.16), with fresh identifiers at each run.
struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Contrôle de conformité d'un éditeur (kit national) : comptes régulateurs INT_R02, rapport JSON et HTML.")
    @Option(name: .customLong("base-url"), help: "URL de base FHIR de l'éditeur (https).") var baseURL: String
    @Option(help: "Certificat client présenté à l'éditeur (PEM).") var cert: String
    @Option(help: "Clé du certificat client (PEM).") var key: String
    @Option(help: "Autorités attendues pour le certificat serveur de l'éditeur (PEM).") var ca: String
    @Option(help: "Délai par requête, en secondes.") var timeout = 10
    @Option(help: "Écrit le rapport JSON dans ce fichier.") var json: String?
    @Option(help: "Écrit le rapport HTML dans ce fichier.") var html: String?

    func validate() throws {
        guard let url = URL(string: baseURL), url.scheme == "https", url.host != nil else {
            throw ValidationError("--base-url doit être une URL https (reçu : \(baseURL)).")
        }
        for (name, path) in [("--cert", cert), ("--key", key), ("--ca", ca)] where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(name) : fichier introuvable (\(path)).")
        }
        guard (1...120).contains(timeout) else { throw ValidationError("--timeout : entre 1 et 120 secondes.") }
    }

    func run() async throws {
        var logger = Logger(label: "conformance")
        logger.logLevel = .critical
        let transport = HTTPEditorTransport(identity: .init(certificatePath: cert, keyPath: key, caPath: ca), logger: logger)
        let editor = Editor(id: "conformance", name: "Éditeur contrôlé", baseURL: baseURL, flows: [.r02],
                            clientCertificatePath: cert, clientKeyPath: key, serverCAPath: ca)
        let started = Date()
        let clock = ContinuousClock.now
        let steps = await RegulatorAccountKit(client: RegulatorAccountClient(transport: transport, timeout: .seconds(timeout)),
                                              editor: editor).run()
        await transport.shutdown()
        let elapsed = ContinuousClock.now - clock
        let report = ConformanceReport(baseURL: baseURL, startedAt: started,
                                       durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                       steps: steps)
        for step in steps {
            let verdict = step.passed ? "conforme    " : (step.optional ? "avertissement" : "NON CONFORME")
            print("\(step.id)  \(verdict)  \(step.title)")
            if let failure = step.failure { print("      \(failure)") }
        }
        print(report.passed
              ? "Résultat : conforme (\(steps.count - report.warnings.count)/\(steps.count), \(report.warnings.count) avertissement(s))."
              : "Résultat : non conforme — \(report.failures.count) exigence(s) non satisfaite(s).")
        if let json { try report.json().write(to: URL(fileURLWithPath: json)) }
        if let html { try Data(report.html().utf8).write(to: URL(fileURLWithPath: html)) }
        if !report.passed { throw ExitCode(1) }
    }
}
