import Foundation
import NIOSSL

/// Builds NIOSSL configurations with the platform's rules: TLS 1.2 minimum, TLS 1.3 allowed.
public enum TLSConfigurations {
    /// Errors loading certificate material, with the path that failed.
    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot load \(path): \(reason)" }
    }

    /// A server configuration presenting `certificatePath` (leaf first, then intermediates) and `keyPath`.
    /// When `clientCAPath` is given, a client certificate is required and verified against it.
    public static func server(certificatePath: String, keyPath: String, clientCAPath: String? = nil) throws -> TLSConfiguration {
        let chain = try loadCertificates(certificatePath)
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
            throw LoadError(path: keyPath, reason: "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCAPath {
            configuration.trustRoots = .certificates(try loadCertificates(clientCAPath))
            configuration.certificateVerification = .noHostnameVerification
        }
        return configuration
    }

    /// A client configuration trusting `caPath`, optionally presenting a client certificate.
    public static func client(caPath: String, certificatePath: String? = nil, keyPath: String? = nil) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(try loadCertificates(caPath))
        if let certificatePath, let keyPath {
            configuration.certificateChain = try loadCertificates(certificatePath).map { .certificate($0) }
            do { configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)) } catch {
                throw LoadError(path: keyPath, reason: "\(error)")
            }
        }
        return configuration
    }

    static func loadCertificates(_ path: String) throws -> [NIOSSLCertificate] {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            guard !certificates.isEmpty else { throw LoadError(path: path, reason: "no certificate in file") }
            return certificates
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError(path: path, reason: "\(error)")
        }
    }
}
