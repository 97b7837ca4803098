import Foundation
import NIOConcurrencyHelpers
import X509

/// Who is on the other end of an mTLS connection: the subject CN and OU of its certificate.
public struct CertificateIdentity: Sendable, Hashable, CustomStringConvertible {
    public let commonName: String
    public let organizationalUnits: [String]
    public let serialNumber: String

    public init(commonName: String, organizationalUnits: [String], serialNumber: String) {
        self.commonName = commonName
        self.organizationalUnits = organizationalUnits
        self.serialNumber = serialNumber
    }

    /// Reads CN and OU from a certificate's subject.
    public init(certificate: Certificate) {
        var cn = ""
        var ous: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { cn = Self.text(attribute.value) }
                if attribute.type == .RDNAttributeType.organizationalUnitName { ous.append(Self.text(attribute.value)) }
            }
        }
        self.init(commonName: cn, organizationalUnits: ous, serialNumber: certificate.serialNumber.description)
    }

    static func text(_ value: RelativeDistinguishedName.Attribute.Value) -> String {
        String(value) ?? value.description
    }

    public var description: String { "CN=\(commonName), OU=\(organizationalUnits.joined(separator: "+"))" }
}

/// One allowed client: the CN and OU its certificate must carry, and the name of the party (an editor's id).
public struct ClientRule: Sendable, Hashable {
    public let commonName: String
    public let organizationalUnit: String
    public let party: String

    public init(commonName: String, organizationalUnit: String, party: String) {
        self.commonName = commonName
        self.organizationalUnit = organizationalUnit
        self.party = party
    }

    /// True when `identity` matches this rule (exact CN, one of its OUs equal to the rule's OU).
    public func matches(_ identity: CertificateIdentity) -> Bool {
        identity.commonName == commonName && identity.organizationalUnits.contains(organizationalUnit)
    }
}

/// The CN/OU allow-list of a listener. Updated at run time (e.g. when an editor is registered or suspended).
public final class ClientAllowList: Sendable {
    private let rules: NIOLockedValueBox<[ClientRule]>

    public init(_ rules: [ClientRule] = []) { self.rules = NIOLockedValueBox(rules) }

    /// Replaces every rule.
    public func replace(with rules: [ClientRule]) { self.rules.withLockedValue { $0 = rules } }

    /// The current rules.
    public var all: [ClientRule] { rules.withLockedValue { $0 } }

    /// The party allowed for `identity`, if any.
    public func party(for identity: CertificateIdentity) -> String? {
        rules.withLockedValue { $0.first { $0.matches(identity) }?.party }
    }

    /// Parses `CN=…/OU=…=party;…` lists used in configuration (`party` defaults to the CN).
    public static func parse(_ text: String) throws -> [ClientRule] {
        try text.split(separator: ";").map { item in
            var cn: String?
            var ou: String?
            var party: String?
            for part in item.split(separator: "/") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { throw AllowListError(item: String(item)) }
                switch kv[0].uppercased() {
                case "CN": cn = kv[1]
                case "OU": ou = kv[1]
                case "PARTY": party = kv[1]
                default: throw AllowListError(item: String(item))
                }
            }
            guard let cn, let ou else { throw AllowListError(item: String(item)) }
            return ClientRule(commonName: cn, organizationalUnit: ou, party: party ?? cn)
        }
    }

    /// A malformed allow-list entry.
    public struct AllowListError: Error, CustomStringConvertible {
        public let item: String
        public var description: String { "entrée invalide « \(item) » : attendu CN=…/OU=…[/PARTY=…]" }
    }
}
