import FHIR
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SASDomain
import TLS

/// The request context of the sandbox vendor's routes (the connection is needed to inject a reset).
public struct SandboxRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Configuration of one sandbox vendor.
public struct SandboxEditorConfiguration: Sendable {
    public var id: String
    public var name: String
    public var host = "127.0.0.1"
    /// 0 for any free port (read it from ``SandboxEditor/port()``).
    public var port = 0
    public var certificatePath: String
    public var keyPath: String
    /// The CA that the platform's client certificate must chain to (mTLS); nil disables client authentication.
    public var clientCAPath: String?
    public var crlPaths: [String] = []
    /// CN/OU of the platform certificates allowed to call.
    public var allowedClients: [ClientRule] = []
    public var faults = SandboxFaults()
    public var seed: UInt64 = 1
    /// How long an identical search is answered from memory (cleared on booking), and how many answers are kept.
    public var memoSeconds = 2
    public var memoCapacity = 256
    public var roster: SandboxRoster

    public init(id: String, name: String, certificatePath: String, keyPath: String, clientCAPath: String?, roster: SandboxRoster) {
        self.id = id
        self.name = name
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
        self.roster = roster
    }
}

/// A reference vendor ("éditeur") server speaking the SAS FHIR flows over mTLS, with fault injection.
public final class SandboxEditor: Sendable {
    public let configuration: SandboxEditorConfiguration
    public let accounts = RegulatorAccounts()
    let faultsBox: NIOLockedValueBox<SandboxFaults>
    let bookedSlots = NIOLockedValueBox<Set<String>>([])
    let bound = NIOLockedValueBox<Int?>(nil)
    let logger: Logger
    /// Requests served per path, for tests.
    let counters = NIOLockedValueBox<[String: Int]>([:])
    /// Identical searches within two seconds get the same bytes (a vendor may cache; benchmarks then measure the
    /// platform, not the sandbox's JSON encoding). Cleared by every booking.
    let memo = NIOLockedValueBox<[String: (at: ContinuousClock.Instant, faults: SandboxFaults, data: Data)]>([:])

    public init(configuration: SandboxEditorConfiguration, logger: Logger) {
        self.configuration = configuration
        self.faultsBox = NIOLockedValueBox(configuration.faults)
        var logger = logger
        logger[metadataKey: "sandbox_editor"] = .string(configuration.id)
        self.logger = logger
    }

    /// The faults in force.
    public var faults: SandboxFaults {
        get { faultsBox.withLockedValue { $0 } }
    }

    /// Replaces the faults at run time.
    public func setFaults(_ faults: SandboxFaults) { faultsBox.withLockedValue { $0 = faults } }

    /// The bound port once the server runs.
    public var port: Int? { bound.withLockedValue { $0 } }

    /// `https://host:port`.
    public var origin: String { "https://\(configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host):\(port ?? configuration.port)" }

    /// The FHIR base URL (`https://host:port/fhir`).
    public var fhirBaseURL: String { origin + "/fhir" }

    /// How many requests a path received.
    public func requestCount(_ path: String) -> Int { counters.withLockedValue { $0[path] ?? 0 } }

    /// Marks a slot as booked (it disappears from searches).
    public func book(slotID: String) {
        bookedSlots.withLockedValue { _ = $0.insert(slotID) }
        memo.withLockedValue { $0.removeAll() }
    }

    func memoisedAnswer(for query: String, faults: SandboxFaults) -> Data? {
        memo.withLockedValue { memo in
            guard let entry = memo[query], entry.faults == faults,
                  ContinuousClock.now - entry.at < .seconds(configuration.memoSeconds) else { return nil }
            return entry.data
        }
    }

    func memoise(_ data: Data, for query: String, faults: SandboxFaults) {
        memo.withLockedValue { memo in
            if memo.count > configuration.memoCapacity { memo.removeAll() }
            memo[query] = (ContinuousClock.now, faults, data)
        }
    }

    /// The server, as a service to run in a ServiceGroup.
    public func application() throws -> some ApplicationProtocol {
        var tls = try TLSConfigurations.server(
            certificatePath: configuration.certificatePath, keyPath: configuration.keyPath, clientCAPath: configuration.clientCAPath)
        tls.minimumTLSVersion = .tlsv12
        let channel: TLSChannelConfiguration
        if let ca = configuration.clientCAPath {
            let verifier = try MutualTLSVerifier(caPath: ca, crlPaths: configuration.crlPaths,
                                                 allowList: ClientAllowList(configuration.allowedClients), logger: logger)
            channel = TLSChannelConfiguration(tlsConfiguration: tls) { await verifier.verificationCallback($0) }
        } else {
            channel = TLSChannelConfiguration(tlsConfiguration: tls)
        }
        let router = Router(context: SandboxRequestContext.self)
        SandboxFHIRRoutes(editor: self).register(on: router)
        SandboxBookingRoutes(editor: self).register(on: router)
        let bound = self.bound
        return Application(
            router: router,
            server: try .tls(.http1(), configuration: channel),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "sandbox-\(configuration.id)"),
            onServerRunning: { channel in bound.withLockedValue { $0 = channel.localAddress?.port } },
            logger: logger)
    }

    var search: SandboxSearch {
        let booked = bookedSlots
        return SandboxSearch(roster: configuration.roster, agenda: SandboxAgenda(seed: configuration.seed),
                             baseURL: fhirBaseURL, bookingBase: origin,
                             booked: { id in booked.withLockedValue { $0.contains(id) } })
    }

    func count(_ path: String) { counters.withLockedValue { $0[path, default: 0] += 1 } }
}
