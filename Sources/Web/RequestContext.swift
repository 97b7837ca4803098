import Hummingbird
import Logging
import NIOCore

/// The request context of every route: Hummingbird's core context plus the request id.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id of this request, echoed as `X-Request-Id` and attached to every log line.
    public var requestID: String
    /// The remote address, for the audit trail.
    public var remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
