import Crypto
import Foundation
import SwiftASN1
import X509

/// An X.509 v2 certificate revocation list (RFC 5280 §5), signed with ECDSA P-256/SHA-256.
///
/// swift-certificates has no CRL type, so this encodes and parses the few fields the platform needs: issuer, update
/// times and revoked serial numbers. Parsing verifies the signature against the issuer certificate.
public struct CertificateRevocationList: Sendable, Equatable {
    /// One revoked certificate.
    public struct Entry: Sendable, Equatable {
        public let serialNumber: Certificate.SerialNumber
        public let revocationDate: Date
        public init(serialNumber: Certificate.SerialNumber, revocationDate: Date) {
            self.serialNumber = serialNumber
            self.revocationDate = revocationDate
        }
    }

    public let issuer: DistinguishedName
    public let thisUpdate: Date
    public let nextUpdate: Date
    public let entries: [Entry]

    /// Errors decoding or verifying a CRL.
    public enum CRLError: Error, CustomStringConvertible {
        case malformed(String)
        case badSignature
        case wrongIssuer
        public var description: String {
            switch self {
            case .malformed(let detail): return "malformed CRL: \(detail)"
            case .badSignature: return "the CRL signature does not verify against its issuer"
            case .wrongIssuer: return "the CRL was not issued by the expected CA"
            }
        }
    }

    public init(issuer: DistinguishedName, thisUpdate: Date, nextUpdate: Date, entries: [Entry]) {
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.entries = entries
    }

    /// True when `serial` is listed.
    public func isRevoked(_ serial: Certificate.SerialNumber) -> Bool {
        entries.contains { $0.serialNumber == serial }
    }

    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]

    /// The signed CRL in DER, signed by `issuerKey`.
    public func signedDER(issuerKey: P256.Signing.PrivateKey) throws -> [UInt8] {
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(1)  // v2
            try Self.serializeAlgorithm(&s)
            try s.serialize(issuer)
            try s.serialize(try Self.utcTime(thisUpdate))
            try s.serialize(try Self.utcTime(nextUpdate))
            if !entries.isEmpty {
                try s.appendConstructedNode(identifier: .sequence) { list in
                    for entry in entries {
                        try list.appendConstructedNode(identifier: .sequence) { e in
                            try e.serialize(entry.serialNumber.bytes)
                            try e.serialize(try Self.utcTime(entry.revocationDate))
                        }
                    }
                }
            }
        }
        let tbsBytes = tbs.serializedBytes
        let signature = try issuerKey.signature(for: tbsBytes).derRepresentation
        var outer = DER.Serializer()
        try outer.appendConstructedNode(identifier: .sequence) { s in
            s.serializeRawBytes(tbsBytes)
            try Self.serializeAlgorithm(&s)
            try s.serialize(ASN1BitString(bytes: ArraySlice(signature)))
        }
        return outer.serializedBytes
    }

    /// The signed CRL in PEM (`X509 CRL`).
    public func signedPEM(issuerKey: P256.Signing.PrivateKey) throws -> String {
        PEMDocument(type: "X509 CRL", derBytes: try signedDER(issuerKey: issuerKey)).pemString
    }

    /// Parses a PEM or DER CRL and verifies it was signed by `issuer`.
    public static func parse(_ data: [UInt8], verifiedBy issuer: Certificate) throws -> CertificateRevocationList {
        var der = data
        if let text = String(bytes: data, encoding: .utf8), text.contains("-----BEGIN") {
            der = try PEMDocument(pemString: text).derBytes
        }
        let root = try DER.parse(der)
        guard case .constructed(let outerNodes) = root.content else { throw CRLError.malformed("not a sequence") }
        var outer = outerNodes.makeIterator()
        guard let tbsNode = outer.next(), let _ = outer.next(), let signatureNode = outer.next() else {
            throw CRLError.malformed("expected tbsCertList, signatureAlgorithm, signatureValue")
        }
        let signatureBits = try ASN1BitString(derEncoded: signatureNode)
        guard let publicKey = P256.Signing.PublicKey(issuer.publicKey),
              let signature = try? P256.Signing.ECDSASignature(derRepresentation: Array(signatureBits.bytes)),
              publicKey.isValidSignature(signature, for: Array(tbsNode.encodedBytes))
        else { throw CRLError.badSignature }

        guard case .constructed(let tbsNodes) = tbsNode.content else { throw CRLError.malformed("tbsCertList") }
        var fields = Array(tbsNodes)
        // version (INTEGER) is optional in the encoding; skip it when present.
        if let first = fields.first, first.identifier == .integer { fields.removeFirst() }
        guard fields.count >= 4 else { throw CRLError.malformed("too few fields") }
        let parsedIssuer = try DistinguishedName(derEncoded: fields[1])
        guard parsedIssuer == issuer.subject else { throw CRLError.wrongIssuer }
        let thisUpdate = try parseTime(fields[2])
        let nextUpdate = try parseTime(fields[3])
        var entries: [Entry] = []
        if fields.count > 4, fields[4].identifier == .sequence, case .constructed(let revoked) = fields[4].content {
            for node in revoked {
                guard case .constructed(let parts) = node.content else { continue }
                var it = parts.makeIterator()
                guard let serialNode = it.next(), let dateNode = it.next() else { continue }
                let serialBytes = try ArraySlice<UInt8>(derEncoded: serialNode)
                entries.append(Entry(serialNumber: Certificate.SerialNumber(bytes: serialBytes),
                                     revocationDate: try parseTime(dateNode)))
            }
        }
        return CertificateRevocationList(issuer: parsedIssuer, thisUpdate: thisUpdate, nextUpdate: nextUpdate, entries: entries)
    }

    private static func serializeAlgorithm(_ s: inout DER.Serializer) throws {
        try s.appendConstructedNode(identifier: .sequence) { a in try a.serialize(ecdsaWithSHA256) }
    }

    private static func utcTime(_ date: Date) throws -> UTCTime {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return try UTCTime(year: c.year!, month: c.month!, day: c.day!, hours: c.hour!, minutes: c.minute!, seconds: c.second!)
    }

    private static func parseTime(_ node: ASN1Node) throws -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components: DateComponents
        if node.identifier == .utcTime {
            let t = try UTCTime(derEncoded: node)
            components = DateComponents(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds)
        } else {
            let t = try GeneralizedTime(derEncoded: node)
            components = DateComponents(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds)
        }
        guard let date = calendar.date(from: components) else { throw CRLError.malformed("bad time") }
        return date
    }
}
