import Crypto
import Foundation
import X509

/// The files of a dev PKI on disk: a CA, and the platform's own server certificate for its FHIR listener.
///
/// Layout under `directory`: `ca/root.pem`, `ca/intermediate.pem`, `ca/chain.pem`, and per identity
/// `<name>.crt.pem` (leaf followed by the intermediate) and `<name>.key.pem` (mode 0600).
public struct DevPKIFiles: Sendable {
    public let directory: URL

    /// A PKI rooted at `directory`.
    public init(directory: URL) { self.directory = directory }

    /// Path of the CA chain (intermediate + root) used as trust anchors.
    public var caChainPath: String { directory.appendingPathComponent("ca/chain.pem").path }
    /// Path of an identity's certificate chain.
    public func certificatePath(_ name: String) -> String { directory.appendingPathComponent("\(name).crt.pem").path }
    /// Path of an identity's private key.
    public func keyPath(_ name: String) -> String { directory.appendingPathComponent("\(name).key.pem").path }

    /// True when the CA and the named identities exist.
    public func exists(identities: [String]) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: caChainPath)
            && identities.allSatisfy { fm.fileExists(atPath: certificatePath($0)) && fm.fileExists(atPath: keyPath($0)) }
    }

    /// Creates the CA (overwriting any previous one) and returns it.
    public func initialise() throws -> DevCertificateAuthority {
        let ca = try DevCertificateAuthority.create()
        let caDir = directory.appendingPathComponent("ca")
        try FileManager.default.createDirectory(at: caDir, withIntermediateDirectories: true)
        try write(try ca.root.certificatePEM(), to: caDir.appendingPathComponent("root.pem"), mode: 0o644)
        try write(try ca.intermediate.certificatePEM(), to: caDir.appendingPathComponent("intermediate.pem"), mode: 0o644)
        try write(try ca.chainPEM(), to: caDir.appendingPathComponent("chain.pem"), mode: 0o644)
        try? FileManager.default.removeItem(at: revokedPath)
        try write(try ca.root.privateKeyPEM(), to: caDir.appendingPathComponent("root.key.pem"), mode: 0o600)
        try write(try ca.intermediate.privateKeyPEM(), to: caDir.appendingPathComponent("intermediate.key.pem"), mode: 0o600)
        try publishCRL()
        return ca
    }

    /// Issues and writes an identity.
    public func issue(
        _ name: String, with ca: DevCertificateAuthority, profile: DevCertificateAuthority.Profile,
        commonName: String, organizationalUnit: String, hostNames: [String] = [],
        validFrom: Date = Date().addingTimeInterval(-3600), validUntil: Date = Date().addingTimeInterval(825 * 86400)
    ) throws {
        let issued = try ca.issue(
            profile: profile, commonName: commonName, organizationalUnit: organizationalUnit, hostNames: hostNames,
            validFrom: validFrom, validUntil: validUntil)
        try write(try issued.certificatePEM() + "\n" + ca.intermediate.certificatePEM(),
                  to: URL(fileURLWithPath: certificatePath(name)), mode: 0o644)
        try write(try issued.privateKeyPEM(), to: URL(fileURLWithPath: keyPath(name)), mode: 0o600)
    }

    private func write(_ text: String, to url: URL, mode: Int) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }
}

extension DevPKIFiles {
    /// A revoked identity, as recorded in `ca/revoked.json`.
    public struct Revocation: Codable, Sendable, Equatable {
        public let name: String
        public let serialHex: String
        public let revokedAt: Date
    }

    /// Path of the published CRL.
    public var crlPath: String { directory.appendingPathComponent("ca/crl.pem").path }
    var revokedPath: URL { directory.appendingPathComponent("ca/revoked.json") }

    /// Loads the CA written by `initialise()`.
    public func loadCA() throws -> DevCertificateAuthority {
        let ca = directory.appendingPathComponent("ca")
        func load(_ name: String) throws -> DevCertificateAuthority.Issued {
            let certificate = try Certificate(pemEncoded: try String(contentsOf: ca.appendingPathComponent("\(name).pem"), encoding: .utf8))
            let keyPEM = try String(contentsOf: ca.appendingPathComponent("\(name).key.pem"), encoding: .utf8)
            return .init(certificate: certificate, privateKey: try Certificate.PrivateKey(pemEncoded: keyPEM))
        }
        return DevCertificateAuthority(root: try load("root"), intermediate: try load("intermediate"))
    }

    /// The identities revoked so far.
    public func revocations() throws -> [Revocation] {
        guard FileManager.default.fileExists(atPath: revokedPath.path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode([Revocation].self, from: Data(contentsOf: revokedPath))
    }

    /// Revokes an issued identity and republishes the CRL.
    @discardableResult
    public func revoke(_ name: String, at date: Date = Date()) throws -> Revocation {
        let certificate = try Certificate(pemEncoded: try firstPEMCertificate(certificatePath(name)))
        let serialHex = certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
        var list = try revocations()
        let revocation = Revocation(name: name, serialHex: serialHex, revokedAt: date)
        if !list.contains(where: { $0.serialHex == serialHex }) { list.append(revocation) }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(list).write(to: revokedPath, options: .atomic)
        try publishCRL()
        return revocation
    }

    /// Writes `ca/crl.pem`, signed by the intermediate CA, valid 7 days.
    public func publishCRL(now: Date = Date()) throws {
        let keyPEM = try String(contentsOf: directory.appendingPathComponent("ca/intermediate.key.pem"), encoding: .utf8)
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        let issuer = try Certificate(pemEncoded: try String(
            contentsOf: directory.appendingPathComponent("ca/intermediate.pem"), encoding: .utf8))
        let entries = try revocations().map { revocation in
            CertificateRevocationList.Entry(
                serialNumber: Certificate.SerialNumber(bytes: Self.bytes(fromHex: revocation.serialHex)),
                revocationDate: revocation.revokedAt)
        }
        let crl = CertificateRevocationList(
            issuer: issuer.subject, thisUpdate: now.addingTimeInterval(-60), nextUpdate: now.addingTimeInterval(7 * 86400),
            entries: entries)
        try Data(try crl.signedPEM(issuerKey: key).utf8).write(to: URL(fileURLWithPath: crlPath), options: .atomic)
    }

    private func firstPEMCertificate(_ path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let end = text.range(of: "-----END CERTIFICATE-----") else {
            throw TLSConfigurations.LoadError(path: path, reason: "no certificate")
        }
        return String(text[..<end.upperBound])
    }

    static func bytes(fromHex hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            if let byte = UInt8(hex[index..<next], radix: 16) { out.append(byte) }
            index = next
        }
        return out
    }
}
