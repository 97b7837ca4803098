import Aggregator
import Directory
import Foundation
import Logging
import Sandbox
import Storage
import TLS
import Web

/// The demo's vendors: sandbox servers with different personalities, their certificates from the demo's dev PKI,
/// their agendas drawn from the demo directory, and their registration in the editor registry.
enum DemoSandboxes {
    struct Running {
        let editor: SandboxEditor
        let personality: String
    }

    /// (id, display name, personality, flows) — ids match the synthetic directory's vendor links.
    static let vendors: [(String, String, String, Set<Editor.Flow>)] = [
        ("agendaplus", "AgendaPlus Santé", "good", [.r01, .r02, .r03]),
        ("rdvmed", "RdvMed", "good", [.r01, .r04, .r02, .r03]),
        ("medicalendar", "MédiCalendar", "flaky", [.r01, .r03]),
        ("planisoins", "PlaniSoins", "slow", [.r01, .r03]),
        ("cabinetpro", "CabinetPro Agenda", "good", [.r01, .r03]),
        ("docslot", "DocSlot", "quirky", [.r01, .r03]),
        ("sos-agenda", "SOS Agenda", "good", [.sos, .r03]),
    ]

    /// Seeds the directory once, issues the vendors' certificates, builds their rosters and registers them.
    /// The test certificates the console's conformance check presents to vendors, which must refuse them: a CN and
    /// an OU not on their allow-lists, and a revoked one (same CA as the platform's).
    static let conformanceIdentities = ["conformance-wrong-cn", "conformance-wrong-ou", "conformance-revoked"]

    static func issueConformanceCertificates(pki: DevPKIFiles, ca: DevCertificateAuthority) throws {
        guard !pki.exists(identities: conformanceIdentities) else { return }
        try pki.issue("conformance-wrong-cn", with: ca, profile: .client, commonName: "intrus.localhost", organizationalUnit: "PLATEFORME SAS")
        try pki.issue("conformance-wrong-ou", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "AUTRE SERVICE")
        try pki.issue("conformance-revoked", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS")
        _ = try pki.revoke("conformance-revoked")
    }

    /// `personality` replaces every vendor's own (the search benchmark runs them all `instant`).
    static func prepare(configuration: PlatformConfiguration, practitioners: Int, firstPort: Int,
                        personality override: String? = nil, memoSeconds: Int? = nil,
                        psc: (@Sendable (_ vendor: String) -> SandboxPSCLogin?)? = nil,
                        platformFHIRBase: String? = nil,
                        logger: Logger) async throws -> [Running] {
        let database = try await openDatabase(url: configuration.databaseURL, maxConnections: 2, logger: logger)
        defer { Task { try? await database.close() } }
        try await Migrator(logger: logger).migrate(database)
        let settings = PlatformSettings(database)
        if try await settings.get("demo.seeded_at") == nil {
            let france = try SyntheticFrance.bundled(.init(practitioners: practitioners, seed: 42))
            let report = try await DirectorySeeder.seed(france, into: database)
            try await AuditLog(database).record(AuditEntry(actor: "system", action: "demo.seed", detail: "\(report)"))
            try await settings.set("demo.seeded_at", ISO8601DateFormatter().string(from: Date()))
            logger.info("demo directory seeded", metadata: ["directory": "\(report)"])
        }
        let pki = DevPKIFiles(directory: URL(fileURLWithPath: configuration.devPKIDirectory))
        let ca = pki.exists(identities: []) ? try pki.loadCA() : try pki.initialise()
        let store = EditorStore(database: database)
        try issueConformanceCertificates(pki: pki, ca: ca)
        var running: [Running] = []
        for (offset, vendor) in vendors.enumerated() {
            let (id, name, ownPersonality, flows) = vendor
            let personality = override ?? ownPersonality
            let identity = "sandbox-\(id)"
            if !pki.exists(identities: [identity]) {
                try pki.issue(identity, with: ca, profile: .serverAndClient, commonName: "\(id).sandbox.localhost",
                              organizationalUnit: "EDITEUR \(id.uppercased())", hostNames: ["localhost", "127.0.0.1"])
            }
            let roster = try await SandboxRosterLoader.load(vendor: id, includeSOS: flows.contains(.sos), database: database)
            var sandbox = SandboxEditorConfiguration(
                id: id, name: name, certificatePath: pki.certificatePath(identity), keyPath: pki.keyPath(identity),
                clientCAPath: pki.caChainPath, roster: roster)
            sandbox.port = firstPort + offset
            sandbox.faults = SandboxFaults.personality(personality) ?? SandboxFaults()
            sandbox.crlPaths = [pki.crlPath]
            sandbox.seed = UInt64(offset + 1)
            sandbox.psc = psc?(id)
            if psc != nil { sandbox.webPort = firstPort + 50 + offset }
            // Bookings are reported to the platform (INT_R03) with the vendor's own certificate.
            sandbox.platformFHIRBase = platformFHIRBase
            sandbox.platformCAPath = pki.caChainPath
            if let memoSeconds {
                sandbox.memoSeconds = memoSeconds
                sandbox.memoCapacity = 100_000
            }
            sandbox.allowedClients = [ClientRule(commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS", party: "platform")]
            let editor = SandboxEditor(configuration: sandbox, logger: logger)
            let registration = Editor(
                id: id, name: name, environment: .recette, baseURL: "https://127.0.0.1:\(firstPort + offset)/fhir",
                flows: flows, inboundCommonName: "\(id).sandbox.localhost", inboundOrganizationalUnit: "EDITEUR \(id.uppercased())")
            if let existing = try? await store.get(id) {
                // A suspension or an onboarding step decided in the console survives a restart of the demo.
                var registration = registration
                registration.onboardingState = existing.onboardingState
                registration.enabled = existing.enabled
                try await store.update(registration, actor: "demo")
            } else {
                try await store.add(registration, actor: "demo")
            }
            running.append(Running(editor: editor, personality: personality))
        }
        return running
    }
}
