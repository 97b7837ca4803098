import AsyncHTTPClient
import FHIR
import Identity
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SASDomain
import ServiceLifecycle
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
    /// Port of the public web listener serving the booking pages over plain HTTPS (no client certificate), as a
    /// real vendor's website; 0 for any free port; nil serves them on the FHIR listener (reachable with mTLS only).
    public var webPort: Int?
    /// Pro Santé Connect login on the booking pages (SSO: a regulator already logged in at PSC is not asked again).
    public var psc: SandboxPSCLogin?
    /// The platform's FHIR base (`https://…`), to report bookings through INT_R03 with this vendor's certificate;
    /// nil: bookings are not reported. `platformCAPath` is the CA of the platform's server certificate.
    public var platformFHIRBase: String?
    public var platformCAPath: String?
    /// First delay before an unacknowledged INT_R03 report is sent again (doubling up to a minute).
    public var reportRetrySeconds: TimeInterval = 1

    public init(id: String, name: String, certificatePath: String, keyPath: String, clientCAPath: String?, roster: SandboxRoster) {
        self.id = id
        self.name = name
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
        self.roster = roster
    }
}

/// How a sandbox vendor logs regulators in through Pro Santé Connect (it is a PSC client like the platform).
public struct SandboxPSCLogin: Sendable {
    public var discoveryURL: String
    public var clientID: String
    public var clientSecret: String
    /// CA of PSC's server certificate (the dev PKI for the stand-in).
    public var caPath: String?
    public init(discoveryURL: String, clientID: String, clientSecret: String, caPath: String?) {
        self.discoveryURL = discoveryURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.caPath = caPath
    }
}

/// A reference vendor ("éditeur") server speaking the SAS FHIR flows over mTLS, with fault injection.
public final class SandboxEditor: Sendable {
    public let configuration: SandboxEditorConfiguration
    public let accounts = RegulatorAccounts()
    /// Appointments booked by regulators and their INT_R03 reports.
    public let appointments: SandboxAppointments
    let faultsBox: NIOLockedValueBox<SandboxFaults>
    let bookedSlots = NIOLockedValueBox<Set<String>>([])
    let bound = NIOLockedValueBox<Int?>(nil)
    let webBound = NIOLockedValueBox<Int?>(nil)
    let logger: Logger
    /// Requests served per path, for tests.
    let counters = NIOLockedValueBox<[String: Int]>([:])
    /// Identical searches within two seconds get the same bytes (a vendor may cache; benchmarks then measure the
    /// platform, not the sandbox's JSON encoding). Cleared by every booking.
    let memo = NIOLockedValueBox<[String: (at: ContinuousClock.Instant, faults: SandboxFaults, data: Data)]>([:])
    /// The PSC client, made at first use (its redirect URI needs the bound port).
    let pscClient = NIOLockedValueBox<(client: ProSanteConnectClient, http: HTTPClient)?>(nil)

    /// The vendor's PSC client (nil when PSC login is not configured).
    func pscLogin() throws -> ProSanteConnectClient? {
        guard let psc = configuration.psc else { return nil }
        return try pscClient.withLockedValue { cached in
            if let cached { return cached.client }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let ca = psc.caPath { tls.additionalTrustRoots = [.file(ca)] }
            var httpConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
            httpConfiguration.redirectConfiguration = .disallow
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            let client = ProSanteConnectClient(
                configuration: PSCConfiguration(discoveryURL: psc.discoveryURL, clientID: psc.clientID,
                                                clientSecret: psc.clientSecret, redirectURI: pscRedirectURI,
                                                postLogoutRedirectURI: webOrigin + "/"),
                pending: MemoryOIDCLoginStore(), http: http, logger: logger)
            cached = (client, http)
            return client
        }
    }

    /// The HTTP client reporting appointments to the platform (mTLS with this vendor's certificate), made at first use.
    let platformClient = NIOLockedValueBox<HTTPClient?>(nil)

    func platformHTTP() throws -> HTTPClient {
        try platformClient.withLockedValue { cached in
            if let cached { return cached }
            let tls = try TLSConfigurations.client(caPath: configuration.platformCAPath ?? configuration.clientCAPath ?? "",
                                                   certificatePath: configuration.certificatePath, keyPath: configuration.keyPath)
            var httpConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
            httpConfiguration.timeout = .init(connect: .seconds(5), read: .seconds(10))
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            cached = client
            return client
        }
    }

    /// Records a regulator's booking and reports it to the platform at once (INT_R03 `POST /Appointment`,
    /// FrAppointmentSAS); returns the HTTP status of that first attempt (nil: not sent or no answer). An unacknowledged
    /// report is sent again by the vendor's reporter until the platform takes it.
    public func recordBooking(id: String, operatorType: String, operatorSystem: String, operatorValue: String,
                              operatorLabel: String, practitioner: IDNPS, start: Date, end: Date) async -> Int? {
        appointments.add(SandboxAppointments.Entry(
            id: id, practitioner: practitioner, start: start, end: end, operatorType: operatorType,
            operatorSystem: operatorSystem, operatorValue: operatorValue, operatorLabel: operatorLabel, status: .booked,
            version: 1, acknowledgedVersion: 0, created: false, attempts: 0, nextAttempt: Date(), lastResult: nil, refused: false))
        return await sendReport(id)
    }

    /// Changes an appointment's status from the back-office and reports it at once (then retried until acknowledged).
    @discardableResult
    public func changeAppointment(_ id: String, to status: SandboxAppointments.Status) async -> Int? {
        guard appointments.change(id, to: status) else { return nil }
        return await sendReport(id)
    }

    func sendReport(_ id: String) async -> Int? {
        guard let base = configuration.platformFHIRBase, let client = try? platformHTTP() else { return nil }
        let status = await appointments.send(id, base: base, vendorID: configuration.id, client: client)
        logger.info("INT_R03 report", metadata: ["appointment": "\(id)", "status": "\(status.map(String.init) ?? "—")"])
        return status
    }

    /// The vendor's PSC callback (to register at PSC).
    public var pscRedirectURI: String { webOrigin + "/connexion/psc/retour" }

    /// Closes the PSC and platform clients' connections.
    public func shutdown() async {
        let http = pscClient.withLockedValue { $0?.http }
        try? await http?.shutdown()
        let platform = platformClient.withLockedValue { $0 }
        try? await platform?.shutdown()
    }

    public init(configuration: SandboxEditorConfiguration, logger: Logger) {
        self.appointments = SandboxAppointments(baseDelay: configuration.reportRetrySeconds)
        var configuration = configuration
        configuration.roster.addConformanceFixture(vendorID: configuration.id)
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

    /// The web listener's bound port once it runs.
    public var boundWebPort: Int? { webBound.withLockedValue { $0 } }

    /// Where the booking pages are: the web listener when configured, else the FHIR listener.
    public var webOrigin: String {
        guard let webPort = configuration.webPort else { return origin }
        let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
        return "https://\(host):\(webBound.withLockedValue { $0 } ?? webPort)"
    }

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
        tls.minimumTLSVersion = configuration.faults.legacyTLS ? .tlsv1 : .tlsv12
        let channel: TLSChannelConfiguration
        if let ca = configuration.clientCAPath {
            let verifier = try MutualTLSVerifier(caPath: ca, crlPaths: configuration.crlPaths,
                                                 allowList: ClientAllowList(configuration.allowedClients), logger: logger,
                                                 checksIdentity: !configuration.faults.acceptAnyClientIdentity)
            channel = TLSChannelConfiguration(tlsConfiguration: tls) { await verifier.verificationCallback($0) }
        } else {
            channel = TLSChannelConfiguration(tlsConfiguration: tls)
        }
        let router = Router(context: SandboxRequestContext.self)
        SandboxFHIRRoutes(editor: self).register(on: router)
        if configuration.webPort == nil { SandboxBookingRoutes(editor: self).register(on: router) }
        let bound = self.bound
        return Application(
            router: router,
            server: try .tls(.http1(), configuration: channel),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "sandbox-\(configuration.id)"),
            onServerRunning: { channel in bound.withLockedValue { $0 = channel.localAddress?.port } },
            logger: logger)
    }

    /// Every listener: the FHIR one, and the web one when ``SandboxEditorConfiguration/webPort`` is set; with PSC
    /// login, a service that closes the PSC client at shutdown.
    public func services() throws -> [any Service] {
        var services: [any Service] = [try application()]
        if configuration.psc != nil || configuration.platformFHIRBase != nil { services.append(PSCClientCloser(editor: self)) }
        if configuration.platformFHIRBase != nil { services.append(AppointmentReporter(editor: self)) }
        if let webPort = configuration.webPort {
            var tls = try TLSConfigurations.server(certificatePath: configuration.certificatePath, keyPath: configuration.keyPath)
            tls.minimumTLSVersion = .tlsv12
            let router = Router(context: SandboxRequestContext.self)
            SandboxBookingRoutes(editor: self).register(on: router)
            let bound = webBound
            services.append(Application(
                router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                configuration: .init(address: .hostname(configuration.host, port: webPort),
                                     serverName: "sandbox-\(configuration.id)-web"),
                onServerRunning: { channel in bound.withLockedValue { $0 = channel.localAddress?.port } },
                logger: logger))
        }
        return services
    }

    /// Waits for the graceful shutdown, then closes the editor's PSC HTTP client (it must not outlive its users).
    struct PSCClientCloser: Service {
        let editor: SandboxEditor
        func run() async throws {
            try? await gracefulShutdown()
            await editor.shutdown()
        }
    }

    var search: SandboxSearch {
        let booked = bookedSlots
        return SandboxSearch(roster: configuration.roster, agenda: SandboxAgenda(seed: configuration.seed),
                             baseURL: fhirBaseURL, bookingBase: webOrigin,
                             booked: { id in booked.withLockedValue { $0.contains(id) } })
    }

    func count(_ path: String) { counters.withLockedValue { $0[path, default: 0] += 1 } }
}
