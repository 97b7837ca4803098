import Foundation

/// A national practitioner identifier (IDNPS), always stored with its type prefix.
///
/// Parsing from the wire is lenient on purpose: unprefixed values are normalised (11-digit RPPS → `8…`,
/// 9-character ADELI → `0…`) and the RPPS check digit is *not* enforced, because real editors (and the IG's own
/// examples) send RPPS numbers that are not Luhn-valid. Use ``validate(strictChecksum:)`` where it matters.
public struct IDNPS: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// What the identifier designates, read from its prefix.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// `8` + 11-digit RPPS.
        case rpps
        /// `0` + 9-character ADELI.
        case adeli
        /// `3` + FINESS/SIRET + `/` + internal id (structure staff, e.g. regulators without RPPS).
        case structureStaff
    }

    /// The prefixed value, as sent on the wire (e.g. `810100050075`).
    public let value: String
    /// The kind of identifier.
    public let kind: Kind

    /// Hashes the value alone: the kind is read from it (equal values have equal kinds), and practitioners are hashed
    /// many times per search (routing, cache, gathering).
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    /// Parses and normalises a national practitioner identifier. Does not check the RPPS Luhn digit.
    public init(parsing raw: String) throws {
        var text = raw.identifierText(droppingToken: Self.tokenPrefix)
        let value = text
        self = try text.withUTF8 { bytes in try IDNPS(value, bytes) } // bytes in place: no array, no view iteration
    }

    /// `text`, whose UTF-8 bytes are `bytes` (trimmed, without token prefix).
    private init(_ text: String, _ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard let head = bytes.first else { throw NationalIdentifierError.empty }
        if let slash = bytes.firstIndex(of: UInt8(ascii: "/")) {
            let head = bytes[..<slash], tail = bytes[(slash + 1)...]
            guard head.first == UInt8(ascii: "3") else {
                throw NationalIdentifierError.unknownPrefix(value: text, prefix: Character(Unicode.Scalar(head.first ?? 0x3F)))
            }
            guard head.dropFirst().allSatisfy(RPPS.isDigit), (9...14).contains(head.count - 1),
                  !tail.isEmpty, tail.count <= 40, tail.allSatisfy(Self.isInternalIDByte) else {
                throw NationalIdentifierError.invalidCharacters(value: text)
            }
            self.value = text
            self.kind = .structureStaff
            return
        }
        guard bytes.allSatisfy(Self.isAlphanumeric) else { throw NationalIdentifierError.invalidCharacters(value: text) }
        let allDigits = bytes.allSatisfy(RPPS.isDigit)
        switch (bytes.count, head) {
        case (12, UInt8(ascii: "8")) where allDigits:
            self.value = text; self.kind = .rpps
        case (11, _) where allDigits:
            self.value = "8" + text; self.kind = .rpps
        case (10, UInt8(ascii: "0")):
            self.value = text; self.kind = .adeli
        case (9, _):
            self.value = "0" + text; self.kind = .adeli
        case (12, let first), (10, let first):
            if first == UInt8(ascii: "8") || !allDigits { throw NationalIdentifierError.invalidCharacters(value: text) }
            throw NationalIdentifierError.unknownPrefix(value: text, prefix: Character(Unicode.Scalar(first)))
        default:
            throw NationalIdentifierError.invalidLength(value: text, length: bytes.count)
        }
    }

    /// `system|` of a search token, accepted before the value.
    private static let tokenPrefix = IdentifierSystem.idnps + "|"

    /// An RPPS-based IDNPS from an 11-digit RPPS (a `8`-prefixed 12-digit value is accepted too). No checksum check.
    public static func rpps(_ rpps11: String) throws -> IDNPS {
        let id = try IDNPS(parsing: rpps11)
        guard id.kind == .rpps else {
            throw NationalIdentifierError.unexpectedKind(value: rpps11, expected: "RPPS", actual: id.kind.label)
        }
        return id
    }

    /// An ADELI-based IDNPS from a 9-character ADELI (a `0`-prefixed value is accepted too).
    public static func adeli(_ adeli9: String) throws -> IDNPS {
        let id = try IDNPS(parsing: adeli9)
        guard id.kind == .adeli else {
            throw NationalIdentifierError.unexpectedKind(value: adeli9, expected: "ADELI", actual: id.kind.label)
        }
        return id
    }

    /// The value without its one-character type prefix (the bare RPPS or ADELI number).
    public var unprefixed: String { String(value.dropFirst()) }

    /// The bare 11-digit RPPS, or nil for other kinds.
    public var rpps11: String? { kind == .rpps ? unprefixed : nil }

    /// Luhn check of the RPPS digits; nil when the identifier is not an RPPS.
    public var hasValidChecksum: Bool? { rpps11.map(RPPS.isChecksumValid) }

    /// Throws ``NationalIdentifierError/invalidChecksum(value:)`` when `strictChecksum` is set and the RPPS is not Luhn-valid.
    public func validate(strictChecksum: Bool) throws {
        if strictChecksum, hasValidChecksum == false { throw NationalIdentifierError.invalidChecksum(value: value) }
    }

    /// The FHIR token `system|value` (unencoded).
    public var token: String { IdentifierSystem.idnps + "|" + value }

    public var description: String { value }

    public static func < (lhs: IDNPS, rhs: IDNPS) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        RPPS.isDigit(b) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    static func isInternalIDByte(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
    }
}

extension IDNPS.Kind {
    /// Short label used in messages.
    public var label: String {
        switch self {
        case .rpps: return "RPPS"
        case .adeli: return "ADELI"
        case .structureStaff: return "personnel de structure"
        }
    }
}
