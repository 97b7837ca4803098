import ArgumentParser
import Conformance
import Foundation
import Logging

/// `sas conformance`: runs the automatable requirements of the national conformance kit against a vendor's FHIR
/// endpoint over mTLS — security, aggregation (INT_R01, INT_R04 with `--cpts`), regulator accounts (INT_R02) and
/// SSO — and writes a report (JSON and HTML). Exit status 1 when a required requirement fails.
struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Contrôle de conformité d'un éditeur (kit national) : sécurité, agrégation, comptes régulateurs, SSO ; rapport JSON et HTML.")
    @Option(name: .customLong("base-url"), help: "URL de base FHIR de l'éditeur (https).") var baseURL: String
    @Option(help: "Certificat client de la plateforme, enregistré chez l'éditeur (PEM).") var cert: String
    @Option(help: "Clé du certificat client (PEM).") var key: String
    @Option(help: "Autorités attendues pour le certificat serveur de l'éditeur (PEM).") var ca: String
    @Option(help: "RPPS de test : PS à un seul lieu (et une CPTS).") var rpps: String?
    @Option(help: "RPPS de test : PS à deux lieux (et deux CPTS).") var rpps2: String?
    @Option(help: "RPPS de test : premier PS de la recherche multi-PS.") var rpps3: String?
    @Option(help: "RPPS de test : second PS de la recherche multi-PS.") var rpps4: String?
    @Flag(help: "Lit les RPPS de test et les options déclarées sur l'éditeur bac à sable (/_sandbox/conformance).") var sandbox = false
    @Flag(help: "Exécute aussi le mode CPTS (INT_R04).") var cpts = false
    @Option(name: .customLong("slot-types"), help: "Types de créneaux déclarés (mode PS).") var slotTypes = "PUBLIC,PRO,SNP"
    @Option(name: .customLong("cpts-slot-types"), help: "Types de créneaux déclarés (mode CPTS).") var cptsSlotTypes = "CPTS"
    @Option(name: .customLong("consultation-types"), help: "Types de consultation déclarés.") var consultationTypes = "AMB,VR,HH"
    @Option(name: .customLong("wrong-cn-cert"), help: "Certificat de test au CN non autorisé (PEM).") var wrongCNCert: String?
    @Option(name: .customLong("wrong-cn-key")) var wrongCNKey: String?
    @Option(name: .customLong("wrong-ou-cert"), help: "Certificat de test à l'OU non autorisée (PEM).") var wrongOUCert: String?
    @Option(name: .customLong("wrong-ou-key")) var wrongOUKey: String?
    @Option(name: .customLong("revoked-cert"), help: "Certificat de test révoqué (PEM).") var revokedCert: String?
    @Option(name: .customLong("revoked-key")) var revokedKey: String?
    @Option(help: "Groupes : securite, agregation, comptes, sso (séparés par des virgules).") var groups = "securite,agregation,comptes,sso"
    @Option(help: "Valeur du paramètre origin ajouté à l'URL de prise de rendez-vous.") var origin = "sas"
    @Option(name: .customLong("psc-prefix"), help: "Début de l'URL d'autorisation Pro Santé Connect attendue (6.1.03).")
    var pscPrefix = "https://seconnecter.preproduction.santefr.esante.gouv.fr/realms/sas/protocol/openid-connect/"
    @Option(help: "Délai par requête, en secondes.") var timeout = 10
    @Option(help: "Écrit le rapport JSON dans ce fichier.") var json: String?
    @Option(help: "Écrit le rapport HTML dans ce fichier.") var html: String?

    func validate() throws {
        guard let url = URL(string: baseURL), url.scheme == "https", url.host != nil else {
            throw ValidationError("--base-url doit être une URL https (reçu : \(baseURL)).")
        }
        var files = [("--cert", cert), ("--key", key), ("--ca", ca)]
        for (name, path) in [("--wrong-cn-cert", wrongCNCert), ("--wrong-cn-key", wrongCNKey), ("--wrong-ou-cert", wrongOUCert),
                             ("--wrong-ou-key", wrongOUKey), ("--revoked-cert", revokedCert), ("--revoked-key", revokedKey)] {
            if let path { files.append((name, path)) }
        }
        for (name, path) in files where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(name) : fichier introuvable (\(path)).")
        }
        for (certificate, key, name) in [(wrongCNCert, wrongCNKey, "wrong-cn"), (wrongOUCert, wrongOUKey, "wrong-ou"), (revokedCert, revokedKey, "revoked")]
            where (certificate == nil) != (key == nil) {
            throw ValidationError("--\(name)-cert et --\(name)-key vont ensemble.")
        }
        guard (1...120).contains(timeout) else { throw ValidationError("--timeout : entre 1 et 120 secondes.") }
        let given = [rpps, rpps2, rpps3, rpps4].compactMap { $0 }
        if !given.isEmpty && given.count != 4 { throw ValidationError("--rpps, --rpps2, --rpps3 et --rpps4 vont ensemble.") }
        if sandbox && !given.isEmpty { throw ValidationError("--sandbox remplace --rpps… : choisir l'un ou l'autre.") }
        for value in given where !(value.count == 12 && value.hasPrefix("8") && value.allSatisfy(\.isNumber)) {
            throw ValidationError("RPPS « \(value) » : un IDNPS RPPS (8 suivi de 11 chiffres) est attendu.")
        }
        for name in Self.list(groups) where ConformanceCheck.Group(rawValue: name) == nil {
            throw ValidationError("Groupe inconnu « \(name) » : securite, agregation, comptes ou sso.")
        }
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        var logger = Logger(label: "conformance")
        logger.logLevel = .critical
        var settings = ConformanceCheck.Configuration(baseURL: baseURL, certificate: .init(certificatePath: cert, keyPath: key), caPath: ca)
        settings.cpts = cpts
        settings.slotTypes = Self.list(slotTypes)
        settings.cptsSlotTypes = Self.list(cptsSlotTypes)
        settings.consultationTypes = Self.list(consultationTypes)
        settings.groups = Set(Self.list(groups).compactMap(ConformanceCheck.Group.init(rawValue:)))
        settings.origin = origin
        settings.pscAuthorizationPrefix = pscPrefix
        settings.timeout = .seconds(timeout)
        if let wrongCNCert, let wrongCNKey { settings.wrongCommonName = .init(certificatePath: wrongCNCert, keyPath: wrongCNKey) }
        if let wrongOUCert, let wrongOUKey { settings.wrongOrganizationalUnit = .init(certificatePath: wrongOUCert, keyPath: wrongOUKey) }
        if let revokedCert, let revokedKey { settings.revoked = .init(certificatePath: revokedCert, keyPath: revokedKey) }
        if let rpps, let rpps2, let rpps3, let rpps4 {
            settings.practitioners = .init(rpps: rpps, rpps2: rpps2, rpps3: rpps3, rpps4: rpps4)
        }
        if sandbox {
            do { try await SandboxInputs.apply(to: &settings) } catch {
                throw ValidationError("Entrées du bac à sable illisibles : \(error)")
            }
        }
        let report = await ConformanceCheck(configuration: settings, logger: logger).run()
        let labels: [ConformanceResult.Verdict: String] = [.pass: "conforme     ", .fail: "NON CONFORME ", .warning: "avertissement",
                                                           .skipped: "non exécuté  "]
        for result in report.results {
            print("\(result.key.padding(toLength: 14, withPad: " ", startingAt: 0)) \(labels[result.verdict] ?? "")  \(result.title)")
            if result.verdict != .pass { for message in result.messages { print("      \(message)") } }
        }
        print("Résultat : \(report.summary)")
        if let json { try report.json().write(to: URL(fileURLWithPath: json)) }
        if let html { try Data(report.html().utf8).write(to: URL(fileURLWithPath: html)) }
        if !report.passed { throw ExitCode(1) }
    }
}
