import Hummingbird
import Identity
import Logging
import NIOCore
import TLS

/// The request context of every route: Hummingbird's core context plus the request id.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id of this request, echoed as `X-Request-Id` and attached to every log line.
    public var requestID: String
    /// The remote address, for the audit trail.
    public var remoteAddress: String?
    /// The connection, to read the TLS peer certificate on the FHIR listener.
    public let channel: any Channel
    /// On the mTLS listener: the party (editor id) whose client certificate opened the connection.
    public var clientParty: String?
    /// On the mTLS listener: the client certificate's subject.
    public var clientIdentity: CertificateIdentity?
    /// Who is acting (an API token's name, later a user), for logs and the audit trail.
    public var actor: String?
    /// The browser session, when the request carries a live session cookie.
    public var session: Session?
    /// The cookie secret of that session (to close or rotate it).
    public var sessionSecret: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.channel = source.channel
    }
}
