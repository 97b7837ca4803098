import Directory
import Foundation
import Logging
import ServiceLifecycle

/// Keeps this node's in-memory directory index in step with storage: builds it once the database is ready, then
/// polls the directory version (every node does, so all converge within one period after any change).
public struct DirectoryRefreshService: Service {
    let loader: DirectoryIndexLoader
    let readiness: Readiness
    let period: Duration
    let logger: Logger

    /// `period`: how often the version is read (one primary-key lookup); a change is applied by a patch of the changed
    /// practitioners, so a second is affordable and keeps what regulators see within a second of any change.
    public init(loader: DirectoryIndexLoader, readiness: Readiness, period: Duration = .seconds(1), logger: Logger) {
        self.loader = loader
        self.readiness = readiness
        self.period = period
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if readiness.migrated {
                do { try await loader.refreshIfNeeded() } catch {
                    logger.warning("directory index refresh failed", metadata: ["error": "\(error)"])
                }
            }
            let pause = readiness.migrated ? period : .milliseconds(200)
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { break }
        }
    }
}
