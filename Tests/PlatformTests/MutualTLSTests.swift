import Aggregator
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOSSL
import TLS
import Testing
import X509

/// The FHIR listener's mTLS: chain, validity, revocation, CN/OU allow-list, TLS version — each refusal a test.
@Suite("mTLS on the FHIR listener")
struct MutualTLSTests {
    /// A PKI with the platform's server certificate and a set of client identities.
    static func makePKI() throws -> DevPKIFiles {
        let pki = DevPKIFiles(directory: TestScratch.url("sas-mtls-\(UUID().uuidString)"))
        let ca = try pki.initialise()
        try pki.issue("platform", with: ca, profile: .server, commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS",
                      hostNames: ["localhost", "127.0.0.1"])
        try pki.issue("editor-a", with: ca, profile: .client, commonName: "editeur-a.test", organizationalUnit: "EDITEUR A")
        try pki.issue("wrong-cn", with: ca, profile: .client, commonName: "intrus.test", organizationalUnit: "EDITEUR A")
        try pki.issue("wrong-ou", with: ca, profile: .client, commonName: "editeur-a.test", organizationalUnit: "AUTRE")
        try pki.issue("revoked", with: ca, profile: .client, commonName: "editeur-b.test", organizationalUnit: "EDITEUR B")
        try pki.issue("expired", with: ca, profile: .client, commonName: "editeur-a.test", organizationalUnit: "EDITEUR A",
                      validFrom: Date().addingTimeInterval(-30 * 86400), validUntil: Date().addingTimeInterval(-86400))
        try pki.issue("server-only", with: ca, profile: .server, commonName: "editeur-a.test", organizationalUnit: "EDITEUR A")
        try pki.revoke("revoked")
        return pki
    }

    static func start(_ pki: DevPKIFiles) async throws -> RunningPlatform {
        try await RunningPlatform.start(settings: [
            "fhir.tls.certificate": pki.certificatePath("platform"),
            "fhir.tls.key": pki.keyPath("platform"),
            "fhir.tls.client_ca": pki.caChainPath,
            "fhir.tls.crl": pki.crlPath,
            "fhir.tls.allowed_clients": "CN=editeur-a.test/OU=EDITEUR A/PARTY=editeur-a;CN=editeur-b.test/OU=EDITEUR B/PARTY=editeur-b",
        ], fhirRoutes: { router in
            router.get("/whoami") { _, context in context.clientParty ?? "personne" }
        })
    }

    /// True when the call was refused during TLS (an alert or a closed handshake), or with 401/403 — never a 5xx.
    static func isRefused(_ platform: RunningPlatform, pki: DevPKIFiles, identity: String?, maximumTLS: TLSVersion? = nil) async throws -> Bool {
        let client = try platform.makeClient(pki: pki, identity: identity, maximumTLS: maximumTLS)
        do {
            let response = try await client.fetch(platform.fhirBaseURL + "/whoami")
            try await client.shutdown()
            #expect(response.status < 500, "a refusal must never be a 5xx")
            return response.status == 401 || response.status == 403
        } catch {
            try await client.shutdown()
            return true
        }
    }

    @Test("the registered editor's certificate is accepted and identifies the editor")
    func acceptsRegisteredEditor() async throws {
        let pki = try Self.makePKI()
        let platform = try await Self.start(pki)
        let client = try platform.makeClient(pki: pki, identity: "editor-a")
        let response = try await client.fetch(platform.fhirBaseURL + "/whoami")
        #expect(response.status == 200)
        #expect(response.body == "editeur-a")
        try await client.shutdown()
        try await platform.stop()
    }

    @Test("refused: no certificate, wrong CN, wrong OU, revoked, expired, not for client auth, TLS 1.1")
    func refusals() async throws {
        let pki = try Self.makePKI()
        let platform = try await Self.start(pki)
        #expect(try await Self.isRefused(platform, pki: pki, identity: nil), "no client certificate")
        #expect(try await Self.isRefused(platform, pki: pki, identity: "wrong-cn"), "wrong CN")
        #expect(try await Self.isRefused(platform, pki: pki, identity: "wrong-ou"), "wrong OU")
        #expect(try await Self.isRefused(platform, pki: pki, identity: "revoked"), "revoked")
        #expect(try await Self.isRefused(platform, pki: pki, identity: "expired"), "expired")
        #expect(try await Self.isRefused(platform, pki: pki, identity: "server-only"), "serverAuth-only certificate")
        #expect(try await Self.isRefused(platform, pki: pki, identity: "editor-a", maximumTLS: .tlsv11), "TLS 1.1")
        // The accepted identity still works after all those refusals (no state corrupted).
        #expect(try await !Self.isRefused(platform, pki: pki, identity: "editor-a"))
        try await platform.stop()
    }

    @Test("a certificate from another CA is refused")
    func otherCA() async throws {
        let pki = try Self.makePKI()
        let other = DevPKIFiles(directory: TestScratch.url("sas-other-\(UUID().uuidString)"))
        let otherCA = try other.initialise()
        try other.issue("editor-a", with: otherCA, profile: .client, commonName: "editeur-a.test", organizationalUnit: "EDITEUR A")
        // Trust the platform's CA for the server, present the foreign client certificate.
        let platform = try await Self.start(pki)
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try TLSConfigurations.client(
            caPath: pki.caChainPath, certificatePath: other.certificatePath("editor-a"), keyPath: other.keyPath("editor-a"))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var refused = false
        do {
            let response = try await client.fetch(platform.fhirBaseURL + "/whoami")
            refused = response.status == 401 || response.status == 403
        } catch { refused = true }
        #expect(refused)
        try await client.shutdown()
        try await platform.stop()
    }

    @Test("a registered vendor is accepted; suspended in the registry, it is refused on its next request")
    func allowListFollowsTheRegistry() async throws {
        let pki = try Self.makePKI()
        // Only editeur-b comes from configuration; editeur-a is accepted because it is a registered INT_R03 vendor.
        let platform = try await RunningPlatform.start(settings: [
            "fhir.tls.certificate": pki.certificatePath("platform"), "fhir.tls.key": pki.keyPath("platform"),
            "fhir.tls.client_ca": pki.caChainPath, "fhir.tls.crl": pki.crlPath,
            "fhir.tls.allowed_clients": "CN=editeur-b.test/OU=EDITEUR B/PARTY=editeur-b",
        ], fhirRoutes: { router in router.get("/whoami") { _, context in context.clientParty ?? "personne" } })
        let store = EditorStore(database: platform.app.database)
        try await store.add(Editor(id: "editeur-a", name: "Éditeur A", baseURL: "https://127.0.0.1:1/fhir", flows: [.r01, .r03],
                                   inboundCommonName: "editeur-a.test", inboundOrganizationalUnit: "EDITEUR A"), actor: "test")
        try await platform.app.editorRegistryService.refresh()
        #expect(try await !Self.isRefused(platform, pki: pki, identity: "editor-a"))
        try await store.setEnabled("editeur-a", false, actor: "test")
        try await platform.app.editorRegistryService.refresh()
        #expect(try await Self.isRefused(platform, pki: pki, identity: "editor-a"))
        try await platform.stop()
    }

    @Test("the published CRL is signed by the intermediate CA and lists the revoked serial")
    func crlRoundTrip() throws {
        let pki = try Self.makePKI()
        let ca = try pki.loadCA()
        let crl = try CertificateRevocationList.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: pki.crlPath))), verifiedBy: ca.intermediate.certificate)
        let revoked = try Certificate(pemEncoded: String(contentsOfFile: pki.certificatePath("revoked"), encoding: .utf8)
            .components(separatedBy: "-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----")
        #expect(crl.isRevoked(revoked.serialNumber))
        #expect(crl.entries.count == 1)
        // Another CA cannot pass for the issuer.
        #expect(throws: (any Error).self) {
            try CertificateRevocationList.parse(Array(try Data(contentsOf: URL(fileURLWithPath: pki.crlPath))),
                                                verifiedBy: ca.root.certificate)
        }
    }
}
