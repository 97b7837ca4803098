import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import TLS
import X509

/// On the mTLS FHIR listener: identifies the calling party from its client certificate (already verified during
/// the handshake) and refuses the request if, since then, the party left the allow-list (e.g. a vendor suspended).
struct ClientCertificateMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let allowList: ClientAllowList

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let certificate = try? await context.channel.nioSSL_peerCertificate().get()
        guard let der = try? certificate?.toDERBytes(), let identity = Self.identity(der: der) else {
            throw AppError(.unauthorized, code: "client_certificate_required",
                           message: "Un certificat client IGC Santé est requis sur ce point d'accès (mTLS).")
        }
        guard let party = allowList.party(for: identity) else {
            throw AppError(.forbidden, code: "client_not_allowed",
                           message: "Le certificat client \(identity) n'est pas autorisé sur la plateforme SAS.")
        }
        context.clientIdentity = identity
        context.clientParty = party
        context.logger[metadataKey: "client_party"] = .string(party)
        return try await next(request, context)
    }

    /// Identities of the certificates already seen, by their DER bytes: a keep-alive vendor sends many requests
    /// with one certificate, parsed once (bounded; the allow-list is still checked at every request).
    static let identities = NIOLockedValueBox<[[UInt8]: CertificateIdentity]>([:])

    static func identity(der: [UInt8]) -> CertificateIdentity? {
        if let known = identities.withLockedValue({ $0[der] }) { return known }
        guard let parsed = try? Certificate(derEncoded: der) else { return nil }
        let identity = CertificateIdentity(certificate: parsed)
        identities.withLockedValue { cache in
            if cache.count >= 512 { cache.removeAll(keepingCapacity: true) }
            cache[der] = identity
        }
        return identity
    }
}
