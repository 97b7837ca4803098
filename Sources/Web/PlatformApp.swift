import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle
import Agenda
import Aggregator
import Search
import Directory
import AMQP
import EditorSync
import HubLink
import Identity
import Storage
import TLS

/// The addresses the listeners actually bound (port 0 in the configuration means "any free port").
public final class BoundPorts: Sendable {
    private let http = AsyncValue<Int>()
    private let fhir = AsyncValue<Int>()

    public init() {}

    /// Waits for the HTTP listener's port.
    public func httpPort() async -> Int { await http.value() }
    /// Waits for the FHIR listener's port.
    public func fhirPort() async -> Int { await fhir.value() }

    /// The HTTP listener's port if it is already bound (never waits).
    public func currentHTTPPort() async -> Int? { await http.current() }
    /// The FHIR listener's port if it is already bound (never waits).
    public func currentFHIRPort() async -> Int? { await fhir.current() }

    func setHTTP(_ port: Int) async { await http.set(port) }
    func setFHIR(_ port: Int) async { await fhir.set(port) }
}

/// A value set once and awaited by many.
actor AsyncValue<T: Sendable> {
    private var stored: T?
    private var waiters: [CheckedContinuation<T, Never>] = []

    func set(_ value: T) {
        stored = value
        for waiter in waiters { waiter.resume(returning: value) }
        waiters.removeAll()
    }

    func current() -> T? { stored }

    func value() async -> T {
        if let stored { return stored }
        return await withCheckedContinuation { waiters.append($0) }
    }
}

/// The composition root: builds every service of one platform node from its configuration.
public struct PlatformApp: Sendable {
    public let configuration: PlatformConfiguration
    public let database: any Database
    public let readiness: Readiness
    public let registry: PrometheusCollectorRegistry
    public let ports: BoundPorts
    public let logger: Logger
    /// The CN/OU allow-list of the FHIR listener (configuration entries, then registered editors).
    public let fhirAllowList: ClientAllowList
    /// Reference data shared by the search and the UI.
    public let reference: ReferenceData
    /// This node's in-memory directory index.
    public let directory: DirectoryIndexLoader
    /// The slot aggregator (nil until `configureAggregator` has run).
    public let aggregator: SlotAggregator
    /// Its mTLS transport.
    public let transport: HTTPEditorTransport
    /// API tokens of programmatic clients.
    public let apiTokens: APITokenStore
    /// The search engine.
    public let searchEngine: SearchEngine
    /// The SAS agenda as the search reads it (invalidated by bookings made on this node).
    public let agenda: StoredAgenda
    /// Accounts, sessions and Pro Santé Connect.
    public let identity: IdentityServices
    /// Regulator accounts at vendors (INT_R02).
    public let regulatorSync: RegulatorSync
    /// The console's conformance checks against vendors.
    public let conformanceRuns: ConformanceRuns
    /// INT_L02: the outbox of orientation events to the SAMU, and the Hub transport (nil: link off).
    public let hubOutbox: HubOutbox
    public let hubTransport: (any HubTransport)?

    /// Extra routes, for tests that need to observe server behaviour (e.g. a slow handler during shutdown).
    public typealias RouteHook = @Sendable (Router<AppRequestContext>) -> Void

    /// Creates the application around an opened database.
    public init(configuration: PlatformConfiguration, database: any Database, logger: Logger,
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                identity: IdentityServices? = nil) throws {
        self.identity = try identity ?? IdentityServices(configuration: configuration, database: database, logger: logger)
        self.configuration = configuration
        self.database = database
        self.readiness = Readiness()
        self.registry = registry
        self.ports = BoundPorts()
        self.logger = logger
        self.fhirAllowList = ClientAllowList(configuration.fhirAllowedClients)
        self.reference = try ReferenceData.shared()
        self.directory = DirectoryIndexLoader(database: database, specialties: reference.specialties, logger: logger)
        var aggregatorConfiguration = AggregatorConfiguration()
        aggregatorConfiguration.cacheTTL = .seconds(configuration.aggregatorCacheSeconds)
        aggregatorConfiguration.cacheStaleWhileRevalidate = .seconds(configuration.aggregatorCacheStaleSeconds)
        self.transport = HTTPEditorTransport(identity: Self.platformIdentity(configuration), logger: logger)
        self.aggregator = SlotAggregator(editors: [], transport: transport, configuration: aggregatorConfiguration,
                                         metrics: PrometheusAggregatorMetrics(registry: registry))
        self.apiTokens = APITokenStore(database: database)
        self.regulatorSync = RegulatorSync(database: database, client: RegulatorAccountClient(transport: transport),
                                           logger: logger)
        self.conformanceRuns = ConformanceRuns(database: database, configuration: configuration, logger: logger)
        self.hubOutbox = HubOutbox(database: database, senderID: configuration.hubClientID, logger: logger)
        switch configuration.hubMode {
        case "standin":
            let standIn = HubStandIn(simulateEverySAMU: true)
            standIn.register(configuration.hubClientID)
            self.hubTransport = standIn
        case "amqp":
            self.hubTransport = AMQPHubTransport(configuration: try Self.hubConnection(configuration), logger: logger)
        default:
            self.hubTransport = nil
        }
        let directory = self.directory
        let agenda = StoredAgenda(database: database)
        self.agenda = agenda
        self.searchEngine = SearchEngine(
            resolver: QueryResolver(specialties: reference.specialties, geocoder: reference.geocoder),
            catalog: { directory.catalog }, specialties: reference.specialties,
            editors: PlatformSlotSearch(aggregator: aggregator, database: database, logger: logger),
            agenda: agenda,
            reader: DirectoryReader(database: database, specialties: reference.specialties),
            configuration: SearchConfiguration(deadline: .milliseconds(configuration.aggregatorDeadlineMilliseconds),
                                               maxCandidates: configuration.searchMaxCandidates),
            logger: logger)
    }

    /// The Hub Santé broker connection of `hub.amqp_url`: amqps with the platform's certificate (SASL EXTERNAL), or
    /// amqp with the URL's user and password (PLAIN) outside production.
    static func hubConnection(_ configuration: PlatformConfiguration) throws -> AMQPConnection.Configuration {
        guard let text = configuration.hubAMQPURL, let url = URLComponents(string: text), let host = url.host else {
            throw ConfigurationError.missingValue(key: "hub.amqp_url", reason: "URL du Hub Santé absente")
        }
        let vhost = url.path.isEmpty || url.path == "/" ? "/" : String(url.path.dropFirst()).removingPercentEncoding ?? "/"
        if url.scheme == "amqps" {
            guard let tls = configuration.hubTLS else {
                throw ConfigurationError.missingValue(key: "hub.tls.certificate", reason: "certificat de la plateforme pour le Hub absent")
            }
            var tlsConfiguration = try TLSConfigurations.client(caPath: tls.ca ?? configuration.editorsCAPath ?? "",
                                                                certificatePath: tls.certificate, keyPath: tls.key)
            if tls.ca == nil && configuration.editorsCAPath == nil { tlsConfiguration.trustRoots = .default }
            return AMQPConnection.Configuration(host: host, port: url.port ?? 5671, tls: tlsConfiguration, virtualHost: vhost,
                                                authentication: .external)
        }
        return AMQPConnection.Configuration(host: host, port: url.port ?? 5672, tls: nil, virtualHost: vhost,
                                            authentication: .plain(username: url.user ?? "guest", password: url.password ?? "guest"))
    }

    /// The platform's identity towards vendors: configured, or the generated dev identity (`sas-data/pki`).
    static func platformIdentity(_ configuration: PlatformConfiguration) -> HTTPEditorTransport.Identity {
        if let certificate = configuration.editorsClientCertificatePath, let key = configuration.editorsClientKeyPath {
            return .init(certificatePath: certificate, keyPath: key, caPath: configuration.editorsCAPath ?? configuration.fhirClientCAPath ?? "")
        }
        let pki = DevPKIFiles(directory: URL(fileURLWithPath: configuration.devPKIDirectory))
        return .init(certificatePath: pki.certificatePath("platform-client"), keyPath: pki.keyPath("platform-client"),
                     caPath: configuration.editorsCAPath ?? pki.caChainPath)
    }

    /// The default search deadline across vendors.
    public var searchDeadline: Duration { .milliseconds(configuration.aggregatorDeadlineMilliseconds) }

    /// The router of the web UI and JSON API listener.
    public func buildHTTPRouter(pages: Pages, extraRoutes: RouteHook? = nil) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware(registry: registry, listener: "http"))
        router.add(middleware: ErrorMiddleware(pages: pages))
        router.add(middleware: SessionMiddleware(identity: identity))
        let regulatorSync = self.regulatorSync
        IdentityRoutes(identity: identity, pages: pages, database: database,
                       onLogin: { regulatorSync.loggedIn($0) }).register(on: router)
        OperationsRoutes(database: database, readiness: readiness, registry: registry).register(on: router)
        let environment = configuration.environment.rawValue
        let readiness = self.readiness
        router.get("/") { request, context in
            pages.response("home", title: "Accueil", values: [
                "message": request.uri.queryParameters.get("message") ?? "",
                "environment": environment,
                "schemaVersion": readiness.schemaVersion,
                "readiness": readiness.migrated ? "prête" : "démarrage en cours",
            ], context: context)
        }
        let registryService = editorRegistryService
        AdminEditorRoutes(store: EditorStore(database: database), aggregator: aggregator, runs: conformanceRuns,
                          tokenSHA256: configuration.adminTokenSHA256,
                          onChange: { try? await registryService.refresh() }).register(on: router)
        EditorConsoleRoutes(store: EditorStore(database: database), aggregator: aggregator, runs: conformanceRuns, pages: pages,
                            onChange: { try? await registryService.refresh() }).register(on: router)
        RegistryRoutes(origins: LRMOriginStore(database: database),
                       territories: TerritoryStore(database: database, departments: reference.departments),
                       users: UserAdministration(identity: identity, database: database), pages: pages,
                       tokenSHA256: configuration.adminTokenSHA256, publicURL: configuration.publicURL).register(on: router)
        SearchRoutes(engine: searchEngine, tokens: apiTokens, specialties: reference.specialties,
                     geocoder: reference.geocoder, logger: logger).register(on: router)
        let regulatorRoutes = RegulatorRoutes(engine: searchEngine, store: OrientationStore(database: database),
                                              editors: EditorStore(database: database), agenda: agenda, pages: pages,
                                              bookingOrigin: configuration.bookingOrigin,
                                              hub: hubTransport == nil ? nil : hubOutbox)
        regulatorRoutes.register(on: router)
        HubRoutes(outbox: hubOutbox, enabled: hubTransport != nil, pages: pages).register(on: router)
        LRMRoutes(origins: LRMOriginStore(database: database), regulator: regulatorRoutes, geocoder: reference.geocoder,
                  specialties: reference.specialties, pages: pages, database: database).register(on: router)
        let agenda = self.agenda, directory = self.directory
        WorkspaceRoutes(book: AgendaBook(database: database), workspace: WorkspaceStore(database: database),
                        accounts: identity.accounts, editors: EditorStore(database: database), geocoder: reference.geocoder,
                        pages: pages, onAgendaChange: { agenda.invalidate() },
                        onDirectoryChange: { _ = try? await directory.refreshIfNeeded() }).register(on: router)
        ActivityRoutes(activity: ActivityStore(database: database), aggregator: aggregator, editors: EditorStore(database: database),
                       sync: regulatorSync, accounts: identity.accounts, pages: pages, database: database).register(on: router)
        extraRoutes?(router)
        return router
    }

    /// Applies the editor registry to this node (aggregator and FHIR allow-list).
    public var editorRegistryService: EditorRegistryService {
        EditorRegistryService(store: EditorStore(database: database), aggregator: aggregator, allowList: fhirAllowList,
                              configuredClients: configuration.fhirAllowedClients, readiness: readiness,
                              registryFile: configuration.editorsRegistryFile, logger: logger)
    }

    /// The router of the FHIR listener.
    public func buildFHIRRouter(extraRoutes: RouteHook? = nil) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware(registry: registry, listener: "fhir"))
        router.add(middleware: FHIRErrorMiddleware())
        if configuration.fhirClientCAPath != nil {
            router.add(middleware: ClientCertificateMiddleware(allowList: fhirAllowList))
        }
        FHIRRoutes(environment: configuration.environment, appointments: AppointmentStore(database: database)).register(on: router)
        extraRoutes?(router)
        return router
    }

    /// The dev PKI used outside production for whatever is not configured (FHIR server certificate, platform client
    /// identity), under `pki.dev_directory`.
    public var devPKI: DevPKIFiles { DevPKIFiles(directory: URL(fileURLWithPath: configuration.devPKIDirectory)) }

    /// Creates the dev PKI identities the configuration leaves out (never in production: configuration refuses it).
    public func ensureDevIdentities() throws {
        let needsServer = configuration.fhirEnabled && configuration.fhirCertificatePath == nil
        let needsClient = configuration.editorsClientCertificatePath == nil
        guard needsServer || needsClient else { return }
        let pki = devPKI
        let ca = pki.exists(identities: []) ? try pki.loadCA() : try pki.initialise()
        if needsServer && !pki.exists(identities: ["platform-fhir"]) {
            logger.warning("no certificate configured for the FHIR listener: using the dev PKI",
                           metadata: ["directory": "\(pki.directory.path)"])
            try pki.issue("platform-fhir", with: ca, profile: .server, commonName: "localhost",
                          organizationalUnit: "PLATEFORME SAS", hostNames: ["localhost", "127.0.0.1", "sas.localhost"])
        }
        if needsClient && !pki.exists(identities: ["platform-client"]) {
            try pki.issue("platform-client", with: ca, profile: .client, commonName: "sas.localhost",
                          organizationalUnit: "PLATEFORME SAS")
        }
    }

    /// The TLS configuration of the FHIR listener: the configured certificate or the dev PKI's; with a client CA,
    /// client certificates are verified by ``MutualTLSVerifier`` during the handshake.
    public func fhirTLSConfiguration() throws -> TLSChannelConfiguration {
        try ensureDevIdentities()
        let pki = devPKI
        let tls = try TLSConfigurations.server(
            certificatePath: configuration.fhirCertificatePath ?? pki.certificatePath("platform-fhir"),
            keyPath: configuration.fhirKeyPath ?? pki.keyPath("platform-fhir"),
            clientCAPath: configuration.fhirClientCAPath)
        guard let caPath = configuration.fhirClientCAPath else { return TLSChannelConfiguration(tlsConfiguration: tls) }
        let verifier = try MutualTLSVerifier(
            caPath: caPath, crlPaths: configuration.fhirCRLPaths, allowList: fhirAllowList, logger: logger)
        return TLSChannelConfiguration(tlsConfiguration: tls) { certificates in
            await verifier.verificationCallback(certificates)
        }
    }

    /// Every service of the node, in start order (shutdown runs in reverse: listeners first, database last).
    public func services(
        pages: Pages, fhirTLS: TLSChannelConfiguration?, httpRoutes: RouteHook? = nil, fhirRoutes: RouteHook? = nil
    ) throws -> [any Service] {
        var services: [any Service] = [
            DatabaseService(database: database, readiness: readiness, logger: logger),
            EditorTransportService(transport: transport),
            IdentityMaintenanceService(identity: identity, readiness: readiness, logger: logger),
            RegulatorSyncService(sync: regulatorSync, readiness: readiness, logger: logger,
                                 pollInterval: .seconds(configuration.regulatorSyncPollSeconds)),
            HubLinkService(outbox: hubOutbox, transport: hubTransport, readiness: readiness, logger: logger,
                           pollInterval: .seconds(configuration.hubPollSeconds)),
            DirectoryRefreshService(loader: directory, readiness: readiness, logger: logger),
            editorRegistryService,
        ]
        let ports = self.ports
        if configuration.fhirEnabled, let fhirTLS {
            let fhirApp = Application(
                router: buildFHIRRouter(extraRoutes: fhirRoutes),
                server: try .tls(.http1(), configuration: fhirTLS),
                configuration: .init(address: .hostname(configuration.fhirHost, port: configuration.fhirPort),
                                     serverName: "sas-fhir"),
                onServerRunning: { channel in await ports.setFHIR(channel.localAddress?.port ?? 0) },
                logger: logger)
            services.append(fhirApp)
        }
        let httpApp = Application(
            router: buildHTTPRouter(pages: pages, extraRoutes: httpRoutes),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort),
                                 serverName: "sas"),
            onServerRunning: { channel in await ports.setHTTP(channel.localAddress?.port ?? 0) },
            logger: logger)
        services.append(httpApp)
        return services
    }

    /// A service group running `services` with graceful shutdown on SIGTERM and SIGINT.
    public func serviceGroup(_ services: [any Service], signals: Bool = true) -> ServiceGroup {
        var config = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [],
            logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds)
        // After the grace period services are cancelled; one that ignores cancellation cannot keep the node alive.
        config.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: config)
    }
}
