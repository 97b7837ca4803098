import ArgumentParser
import Foundation
import TLS

/// `sas pki`: a development certificate authority shaped like IGC Santé, for the demo, the tests and integrators.
struct PKI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki",
        abstract: "Autorité de certification de développement (forme IGC Santé) : init, issue, revoke, crl.",
        discussion: "Ne jamais utiliser en production : les certificats de production viennent de l'IGC Santé.",
        subcommands: [Init.self, Issue.self, Revoke.self, CRL.self, List.self])

    struct Directory: ParsableArguments {
        @Option(name: .long, help: "Répertoire de la PKI.")
        var dir = "sas-data/pki"
        var files: DevPKIFiles { DevPKIFiles(directory: URL(fileURLWithPath: dir)) }
    }

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Crée une racine et une AC intermédiaire « organisations » (écrase l'existante).")
        @OptionGroup var directory: Directory
        func run() async throws {
            _ = try directory.files.initialise()
            print("AC créée : \(directory.files.caChainPath) ; LCR : \(directory.files.crlPath)")
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Émet un certificat serveur ou client (CN, OU).")
        @OptionGroup var directory: Directory
        @Argument(help: "Nom de l'identité (fichiers <nom>.crt.pem et <nom>.key.pem).") var name: String
        @Option(help: "server, client ou server-client.") var profile = "client"
        @Option(help: "Common Name (CN).") var cn: String
        @Option(help: "Organizational Unit (OU).") var ou: String
        @Option(help: "Noms d'hôte et adresses IP (subjectAltName), séparés par des virgules.") var hosts = ""
        @Option(help: "Durée de validité en jours (négatif : certificat déjà expiré, pour les tests).") var days = 825

        func run() async throws {
            guard let profile = DevCertificateAuthority.Profile(rawValue: profile) else {
                throw ValidationError("profil inconnu « \(profile) » : server, client ou server-client")
            }
            let ca = try directory.files.loadCA()
            let now = Date()
            let (from, until) = days >= 0
                ? (now.addingTimeInterval(-3600), now.addingTimeInterval(Double(days) * 86400))
                : (now.addingTimeInterval(Double(days - 1) * 86400), now.addingTimeInterval(Double(days) * 86400))
            try directory.files.issue(
                name, with: ca, profile: profile, commonName: cn, organizationalUnit: ou,
                hostNames: hosts.split(separator: ",").map(String.init), validFrom: from, validUntil: until)
            print("Émis : \(directory.files.certificatePath(name)) et \(directory.files.keyPath(name))")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Révoque une identité émise et republie la LCR.")
        @OptionGroup var directory: Directory
        @Argument(help: "Nom de l'identité à révoquer.") var name: String
        func run() async throws {
            let revocation = try directory.files.revoke(name)
            print("Révoqué : \(name) (numéro de série \(revocation.serialHex)) ; LCR : \(directory.files.crlPath)")
        }
    }

    struct CRL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Republie la liste de certificats révoqués (valable 7 jours).")
        @OptionGroup var directory: Directory
        func run() async throws {
            try directory.files.publishCRL()
            print("LCR publiée : \(directory.files.crlPath)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liste les identités révoquées.")
        @OptionGroup var directory: Directory
        func run() async throws {
            let revoked = try directory.files.revocations()
            print(revoked.isEmpty ? "Aucune révocation." : revoked.map { "\($0.name)\t\($0.serialHex)\t\($0.revokedAt)" }.joined(separator: "\n"))
        }
    }
}
