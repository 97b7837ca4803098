import Crypto
import Foundation
import SwiftASN1
import X509

/// A development certificate authority shaped like IGC Santé: a root, an intermediate "organisations" CA, and leaf
/// certificates for servers and clients carrying a CN and an OU.
///
/// It exists for the demo and the tests only; it is generated at run time and never committed.
public struct DevCertificateAuthority: Sendable {
    /// A certificate with its private key.
    public struct Issued: Sendable {
        public let certificate: Certificate
        public let privateKey: Certificate.PrivateKey

        /// A certificate and its key.
        public init(certificate: Certificate, privateKey: Certificate.PrivateKey) {
            self.certificate = certificate
            self.privateKey = privateKey
        }

        /// The certificate in PEM.
        public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }
        /// The private key in PKCS#8 PEM.
        public func privateKeyPEM() throws -> String { try privateKey.serializeAsPEM().pemString }
    }

    /// What a leaf certificate is for.
    public enum Profile: String, Sendable, CaseIterable {
        /// A TLS server (FHIR endpoint, sandbox vendor): serverAuth.
        case server
        /// A TLS client (a vendor calling INT_R03, the platform calling vendors): clientAuth.
        case client
        /// Both, as the platform's own identity towards vendors and the Hub.
        case serverAndClient = "server-client"
    }

    public let root: Issued
    public let intermediate: Issued

    /// A CA from existing root and intermediate certificates and keys.
    public init(root: Issued, intermediate: Issued) {
        self.root = root
        self.intermediate = intermediate
    }

    /// Creates a new root and intermediate CA.
    public static func create(organisation: String = "SAS Dev PKI", now: Date = Date()) throws -> DevCertificateAuthority {
        let rootKey = P256.Signing.PrivateKey()
        let rootName = try DistinguishedName {
            CountryName("FR")
            OrganizationName(organisation)
            OrganizationalUnitName("IGC-SANTE DEV")
            CommonName("AC RACINE SAS DEV")
        }
        let rootCert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(rootKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: rootName, subject: rootName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 1))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(rootKey.publicKey))
            },
            issuerPrivateKey: .init(rootKey))
        let root = Issued(certificate: rootCert, privateKey: .init(rootKey))

        let intermediateKey = P256.Signing.PrivateKey()
        let intermediateName = try DistinguishedName {
            CountryName("FR")
            OrganizationName(organisation)
            OrganizationalUnitName("IGC-SANTE DEV")
            CommonName("AC ORGANISATIONS SAS DEV")
        }
        let intermediateCert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(intermediateKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(5 * 365 * 86400),
            issuer: rootName, subject: intermediateName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(intermediateKey.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: .init(rootKey.publicKey)).keyIdentifier)
            },
            issuerPrivateKey: .init(rootKey))
        return DevCertificateAuthority(root: root, intermediate: Issued(certificate: intermediateCert, privateKey: .init(intermediateKey)))
    }

    /// Issues a leaf certificate signed by the intermediate CA.
    ///
    /// - Parameters:
    ///   - commonName: the CN checked by peers (a host name for servers, an organisation id for clients).
    ///   - organizationalUnit: the OU checked by peers.
    ///   - hostNames: DNS names and IP addresses for the subjectAltName (servers).
    public func issue(
        profile: Profile, commonName: String, organizationalUnit: String, organization: String = "SAS Dev PKI",
        hostNames: [String] = [], validFrom: Date = Date().addingTimeInterval(-3600),
        validUntil: Date = Date().addingTimeInterval(825 * 86400)
    ) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CountryName("FR")
            OrganizationName(organization)
            OrganizationalUnitName(organizationalUnit)
            CommonName(commonName)
        }
        let usages: [ExtendedKeyUsage.Usage]
        switch profile {
        case .server: usages = [.serverAuth]
        case .client: usages = [.clientAuth]
        case .serverAndClient: usages = [.serverAuth, .clientAuth]
        }
        let names: [GeneralName] = hostNames.map { name in
            if let bytes = Self.ipv4Bytes(name) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
            return .dnsName(name)
        }
        let issuerKey = intermediate.privateKey
        let issuerPublicKey = intermediate.certificate.publicKey
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage(usages)
            SubjectKeyIdentifier(hash: .init(key.publicKey))
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: issuerPublicKey).keyIdentifier)
            if !names.isEmpty { SubjectAlternativeNames(names) }
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: validFrom, notValidAfter: validUntil,
            issuer: intermediate.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: issuerKey)
        return Issued(certificate: certificate, privateKey: .init(key))
    }

    /// The CA chain in PEM (intermediate then root), to configure as trust anchors or to append to a leaf.
    public func chainPEM() throws -> String {
        try intermediate.certificatePEM() + "\n" + root.certificatePEM() + "\n"
    }

    static func ipv4Bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
