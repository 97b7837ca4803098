import Aggregator
import FHIR
import Foundation
import Logging
import SASDomain
import Sandbox
import NIOCore
import NIOPosix
import ServiceLifecycle
import TLS

/// Sandbox vendors started on loopback with real mTLS, and the platform's client identity to call them.
final class SandboxFleet: Sendable {
    let pki: DevPKIFiles
    let editors: [SandboxEditor]
    let group: ServiceGroup
    let runner: Task<Void, any Error>

    /// The platform's client identity (CN sas.localhost, OU PLATEFORME SAS), trusted by every sandbox.
    var platformIdentity: HTTPEditorTransport.Identity {
        .init(certificatePath: pki.certificatePath("platform"), keyPath: pki.keyPath("platform"), caPath: pki.caChainPath)
    }

    private init(pki: DevPKIFiles, editors: [SandboxEditor], group: ServiceGroup, runner: Task<Void, any Error>) {
        self.pki = pki
        self.editors = editors
        self.group = group
        self.runner = runner
    }

    /// Synthetic practitioners (Luhn-valid RPPS) with one site each.
    static func practitioners(_ count: Int, seed: UInt64) -> [SandboxRoster.Practitioner] {
        SyntheticBundles.practitioners(count: count, seed: seed).enumerated().map { i, idnps in
            SandboxRoster.Practitioner(
                idnps: idnps, familyName: "PRATICIEN\(i)", givenName: "Test", specialties: ["SM54"],
                sites: [.init(line: "\(i + 1) rue de la République", postalCode: "69002", city: "Lyon", phone: "+33478000000",
                              latitude: 45.76, longitude: 4.83)])
        }
    }

    /// Starts one sandbox per (id, personality, roster).
    /// `prepare` issues further identities from the fleet's CA; `configure` adjusts each vendor's configuration.
    static func start(_ specs: [(id: String, personality: String, roster: SandboxRoster)],
                      prepare: (DevPKIFiles, DevCertificateAuthority) throws -> Void = { _, _ in },
                      configure: (inout SandboxEditorConfiguration) -> Void = { _ in }) async throws -> SandboxFleet {
        var logger = Logger(label: "sandbox-test")
        logger.logLevel = .critical
        let pki = DevPKIFiles(directory: TestScratch.url("sas-fleet-\(UUID().uuidString)"))
        let ca = try pki.initialise()
        try pki.issue("platform", with: ca, profile: .client, commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS")
        try prepare(pki, ca)
        var editors: [SandboxEditor] = []
        for spec in specs {
            try pki.issue("sandbox-\(spec.id)", with: ca, profile: .serverAndClient, commonName: "\(spec.id).sandbox.localhost",
                          organizationalUnit: "EDITEUR \(spec.id.uppercased())", hostNames: ["localhost", "127.0.0.1"])
            var configuration = SandboxEditorConfiguration(
                id: spec.id, name: spec.id.capitalized, certificatePath: pki.certificatePath("sandbox-\(spec.id)"),
                keyPath: pki.keyPath("sandbox-\(spec.id)"), clientCAPath: pki.caChainPath, roster: spec.roster)
            configuration.faults = SandboxFaults.personality(spec.personality)!
            configuration.allowedClients = [ClientRule(commonName: "sas.localhost", organizationalUnit: "PLATEFORME SAS", party: "platform")]
            configuration.crlPaths = [pki.crlPath]
            configure(&configuration)
            editors.append(SandboxEditor(configuration: configuration, logger: logger))
        }
        let services: [any Service] = try editors.flatMap { try $0.services() }
        var groupConfiguration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, logger: logger)
        // A "hang" vendor holds requests for an hour: give in-flight requests one second, then cancel them.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        let group = ServiceGroup(configuration: groupConfiguration)
        let runner = Task { try await group.run() }
        // A loaded CI machine can take a while to bind: wait generously, and fail loudly rather than call port 0.
        let deadline = ContinuousClock.now + .seconds(60)
        func unbound(_ editor: SandboxEditor) -> Bool {
            editor.port == nil || (editor.configuration.webPort != nil && editor.boundWebPort == nil)
        }
        while editors.contains(where: unbound) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        struct NotStarted: Error {}
        if editors.contains(where: unbound) { throw NotStarted() }
        return SandboxFleet(pki: pki, editors: editors, group: group, runner: runner)
    }

    /// The registry entries the platform would hold for these sandboxes.
    func registry(flows: Set<Editor.Flow> = [.r01, .r04, .sos, .r02]) -> [Editor] {
        editors.map { Editor(id: $0.configuration.id, name: $0.configuration.name, baseURL: $0.fhirBaseURL, flows: flows) }
    }

    subscript(id: String) -> SandboxEditor { editors.first { $0.configuration.id == id }! }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        _ = try? await runner.value
        try? FileManager.default.removeItem(at: pki.directory)
    }
}

/// A TCP listener that resets every connection as soon as it is accepted: the client's TLS handshake is cut by a
/// reset, as with a vendor whose TLS terminator crashes.
final class HandshakeResetter: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    if let socket = child as? any SocketOptionProvider {
                        _ = socket.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                    }
                    child.close(promise: nil)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async { try? await channel.close() }
}
