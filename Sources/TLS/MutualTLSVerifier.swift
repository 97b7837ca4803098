import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import SwiftASN1
import X509

/// Verifies client certificates on an mTLS listener: chain to the configured CA (RFC 5280, validity dates),
/// clientAuth usage, not revoked by any CRL of the configured CRL files, and CN/OU on the allow-list.
///
/// It runs as NIOSSL's custom verification callback, so a refused client gets a TLS alert during the handshake,
/// never an HTTP 5xx or a reset. CRL files are re-read when they change on disk.
public final class MutualTLSVerifier: Sendable {
    private let roots: [Certificate]
    private let intermediates: [Certificate]
    private let crlPaths: [String]
    public let allowList: ClientAllowList
    let checksIdentity: Bool
    private let logger: Logger
    private let crlCache = NIOLockedValueBox<[String: (modified: Date, crl: CertificateRevocationList)]>([:])
    private let now: @Sendable () -> Date

    /// Why a client was refused (for logs and tests).
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case noCertificate
        case untrustedChain(String)
        case revoked(serial: String)
        case notAllowed(String)
        case unreadable

        public var description: String {
            switch self {
            case .noCertificate: return "no client certificate"
            case .untrustedChain(let reason): return "untrusted or expired certificate: \(reason)"
            case .revoked(let serial): return "revoked certificate (serial \(serial))"
            case .notAllowed(let identity): return "certificate \(identity) is not on the allow-list"
            case .unreadable: return "unreadable certificate"
            }
        }
    }

    /// - Parameters:
    ///   - caPath: PEM file with the CA certificates (self-signed ones are roots, others intermediates).
    ///   - crlPaths: PEM or DER CRL files, each issued by one of the CAs.
    ///   - checksIdentity: false accepts any CN/OU (only a deliberately faulty sandbox vendor does that).
    public init(caPath: String, crlPaths: [String] = [], allowList: ClientAllowList, logger: Logger,
                checksIdentity: Bool = true, now: @escaping @Sendable () -> Date = Date.init) throws {
        self.checksIdentity = checksIdentity
        let pem = try String(contentsOfFile: caPath, encoding: .utf8)
        let certificates = try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
        self.roots = certificates.filter { $0.subject == $0.issuer }
        self.intermediates = certificates.filter { $0.subject != $0.issuer }
        guard !roots.isEmpty else {
            throw TLSConfigurations.LoadError(path: caPath, reason: "no self-signed root certificate in the CA file")
        }
        self.crlPaths = crlPaths
        self.allowList = allowList
        self.logger = logger
        self.now = now
    }

    /// Verifies a peer chain (leaf first); returns the matched party.
    public func verify(_ chain: [Certificate]) async throws -> (party: String, identity: CertificateIdentity) {
        guard let leaf = chain.first else { throw Refusal.noCertificate }
        let validationTime = now()
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(validationTime: validationTime)
        }
        let result = await verifier.validate(
            leaf: leaf, intermediates: CertificateStore(intermediates + chain.dropFirst()))
        guard case .validCertificate = result else {
            throw Refusal.untrustedChain(Self.reason(result))
        }
        if let eku = try? leaf.extensions.extendedKeyUsage, !eku.contains(.clientAuth) {
            throw Refusal.untrustedChain("the certificate is not for client authentication")
        }
        for crl in try currentCRLs() where crl.isRevoked(leaf.serialNumber) && crl.issuer == leaf.issuer {
            throw Refusal.revoked(serial: leaf.serialNumber.description)
        }
        let identity = CertificateIdentity(certificate: leaf)
        guard let party = allowList.party(for: identity) ?? (checksIdentity ? nil : "any") else {
            throw Refusal.notAllowed(identity.description)
        }
        return (party, identity)
    }

    /// The NIOSSL callback: accepts or refuses the handshake, logging why.
    public func verificationCallback(_ certificates: [NIOSSLCertificate]) async -> NIOSSLVerificationResult {
        do {
            let chain = try certificates.map { try Certificate(derEncoded: try $0.toDERBytes()) }
            let accepted = try await verify(chain)
            logger.debug("mTLS client accepted", metadata: ["party": "\(accepted.party)", "subject": "\(accepted.identity)"])
            return .certificateVerified
        } catch {
            logger.warning("mTLS client refused", metadata: ["reason": "\(error)"])
            return .failed
        }
    }

    private func currentCRLs() throws -> [CertificateRevocationList] {
        try crlPaths.map { path in
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let modified = attributes[.modificationDate] as? Date ?? .distantPast
            if let cached = crlCache.withLockedValue({ $0[path] }), cached.modified == modified { return cached.crl }
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            var lastError: (any Error)?
            for issuer in intermediates + roots {
                do {
                    let crl = try CertificateRevocationList.parse(bytes, verifiedBy: issuer)
                    crlCache.withLockedValue { $0[path] = (modified, crl) }
                    return crl
                } catch { lastError = error }
            }
            throw lastError ?? CertificateRevocationList.CRLError.wrongIssuer
        }
    }

    private static func reason(_ result: CertificateValidationResult) -> String {
        if case .couldNotValidate(let failures) = result {
            return failures.map { "\($0.policyFailureReason)" }.joined(separator: "; ")
        }
        return "\(result)"
    }
}
