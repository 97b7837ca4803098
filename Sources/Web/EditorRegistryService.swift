import Aggregator
import Foundation
import Logging
import ServiceLifecycle
import Storage
import TLS

/// Keeps every node's view of the editor registry current (polling storage): the aggregator's editor list, and the
/// FHIR listener's allow-list (configured entries plus each enabled editor's CN/OU for INT_R03). Suspending a vendor
/// in the console therefore takes effect on every node within one period.
public struct EditorRegistryService: Service {
    let store: EditorStore
    let aggregator: SlotAggregator?
    let allowList: ClientAllowList
    let configuredClients: [ClientRule]
    let readiness: Readiness
    let period: Duration
    let logger: Logger
    let registryFile: String?

    public init(store: EditorStore, aggregator: SlotAggregator?, allowList: ClientAllowList, configuredClients: [ClientRule],
                readiness: Readiness, period: Duration = .seconds(5), registryFile: String? = nil, logger: Logger) {
        self.registryFile = registryFile
        self.store = store
        self.aggregator = aggregator
        self.allowList = allowList
        self.configuredClients = configuredClients
        self.readiness = readiness
        self.period = period
        self.logger = logger
    }

    /// Reads the registry once and applies it.
    public func refresh() async throws {
        let editors = try await store.all()
        aggregator?.updateEditors(editors.filter(\.enabled))
        let inbound = editors.filter { $0.enabled && $0.flows.contains(.r03) }.compactMap { editor -> ClientRule? in
            guard let cn = editor.inboundCommonName, let ou = editor.inboundOrganizationalUnit else { return nil }
            return ClientRule(commonName: cn, organizationalUnit: ou, party: editor.id)
        }
        allowList.replace(with: configuredClients + inbound)
    }

    public func run() async throws {
        var fileApplied = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if readiness.migrated {
                if !fileApplied, let path = registryFile {
                    await EditorRegistryFile.apply(path: path, store: store, logger: logger)
                }
                fileApplied = true
                do { try await refresh() } catch {
                    logger.warning("editor registry refresh failed", metadata: ["error": "\(error)"])
                }
            }
            let pause = readiness.migrated ? period : .milliseconds(200)
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { break }
        }
    }
}
