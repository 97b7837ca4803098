import Foundation
import Identity
import Logging
import Sandbox
import Storage
import TLS

/// The demo's identities: the Pro Santé Connect stand-in (with the platform and every sandbox vendor registered as
/// clients, so that SSO works) and demo accounts whose passwords are drawn afresh at every start and printed once.
enum DemoIdentity {
    /// A demo account: e-mail, display name, roles, territories, IDNPS (PSC fixture) and what it shows.
    static let accounts: [(email: String, name: String, roles: Set<Role>, territories: [String], idnps: String?)] = [
        ("regulateur@demo.sas.localhost", "Dr Claire Martin", [.regulator], ["69"], PSCProfessional.fixtures[0].idnps),
        ("ioa@demo.sas.localhost", "Sophie Bernard", [.ioa], ["69"], PSCProfessional.fixtures[2].idnps),
        ("medecin@demo.sas.localhost", "Dr Anne Roux", [.healthProfessional], ["69"], PSCProfessional.fixtures[4].idnps),
        ("gestionnaire@demo.sas.localhost", "Coordination CPTS (démo)", [.structureManager], ["69"], nil),
        ("secretariat@demo.sas.localhost", "Secrétariat du Dr Roux (démo)", [.delegate], ["69"], nil),
        ("admin@demo.sas.localhost", "Administration nationale (démo)", [.nationalAdministrator, .administrator], [], nil),
    ]

    /// Starts nothing: builds the stand-in (its dev PKI identity issued when missing), with the demo platform's
    /// client when `platform` is given.
    static func standIn(pki: DevPKIFiles, port: Int, platform: (url: String, secret: String)?,
                        logger: Logger) throws -> PSCStandIn {
        let ca = pki.exists(identities: []) ? try pki.loadCA() : try pki.initialise()
        if !pki.exists(identities: ["psc-sandbox"]) {
            try pki.issue("psc-sandbox", with: ca, profile: .server, commonName: "localhost",
                          organizationalUnit: "PRO SANTE CONNECT BAC A SABLE", hostNames: ["localhost", "127.0.0.1"])
        }
        var configuration = PSCStandIn.Configuration(certificatePath: pki.certificatePath("psc-sandbox"),
                                                     keyPath: pki.keyPath("psc-sandbox"))
        configuration.port = port
        if let platform {
            configuration.clients = [PSCClientRegistration(
                clientID: "sas-demo", secret: platform.secret, redirectURIs: [platform.url + "/connexion/psc/retour"],
                postLogoutRedirectURIs: [platform.url + "/deconnexion/retour"])]
        }
        return PSCStandIn(configuration: configuration, logger: logger)
    }

    /// Creates the demo accounts when missing and gives each a new random password (returned, never stored in clear).
    static func refreshAccounts(database: any Database, memoryKiB: Int) async throws -> [(email: String, password: String, roles: String)] {
        let store = AccountStore(database: database)
        let hasher = PasswordHasher(memoryKiB: memoryKiB, iterations: 2)
        var printed: [(String, String, String)] = []
        for account in accounts {
            let password = "Demo-" + Authenticator.randomToken(bytes: 9)
            let hash = hasher.hash(password)
            if let existing = try await store.find(email: account.email) {
                try await database.query("""
                    UPDATE accounts SET password_hash = ?, must_change_password = 0, failed_attempts = 0, lockouts = 0,
                        locked_until = NULL, status = 'active', status_reason = NULL, last_login_at = COALESCE(last_login_at, ?)
                    WHERE id = ?
                    """, [.text(hash), .date(Date()), .text(existing.id)])
            } else {
                try await store.create(email: account.email, displayName: account.name, idnps: account.idnps,
                                       roles: account.roles, territories: account.territories, passwordHash: hash,
                                       actor: "demo")
            }
            printed.append((account.email, password, account.roles.map(\.label).sorted().joined(separator: ", ")))
        }
        return printed
    }
}
