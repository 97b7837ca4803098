import Foundation

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
        try write(try ca.root.privateKeyPEM(), to: caDir.appendingPathComponent("root.key.pem"), mode: 0o600)
        try write(try ca.intermediate.privateKeyPEM(), to: caDir.appendingPathComponent("intermediate.key.pem"), mode: 0o600)
        return ca
    }

    /// Issues and writes an identity.
    public func issue(
        _ name: String, with ca: DevCertificateAuthority, profile: DevCertificateAuthority.Profile,
        commonName: String, organizationalUnit: String, hostNames: [String] = []
    ) throws {
        let issued = try ca.issue(
            profile: profile, commonName: commonName, organizationalUnit: organizationalUnit, hostNames: hostNames)
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
