import Foundation

/// A national structure identifier (IDNST), always stored with its type prefix.
///
/// Unprefixed values are normalised: a 9-character FINESS becomes `1…`, a 14-digit SIRET becomes `3…`
/// (a bare 14-digit number is never taken for an RPPS rang). Check digits are not enforced when parsing.
public struct IDNST: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// What the identifier designates, read from its prefix.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// `1` + 9-character FINESS (establishments; CPTS).
        case finess
        /// `3` + 14-digit SIRET (e.g. SOS Médecins associations).
        case siret
        /// `4` + 14-digit RPPS rang (liberal practice registered in RPPS).
        case rppsRang
        /// `0` + ADELI rang (liberal practice registered in ADELI).
        case adeliRang
    }

    /// The prefixed value, as sent on the wire (e.g. `1950047225`).
    public let value: String
    /// The kind of identifier.
    public let kind: Kind

    /// Parses and normalises a national structure identifier.
    public init(parsing raw: String) throws {
        var text = raw.identifierText(droppingToken: Self.tokenPrefix)
        let value = text
        self = try text.withUTF8 { bytes in try IDNST(value, bytes) } // bytes in place: no array, no view iteration
    }

    /// `text`, whose UTF-8 bytes are `bytes` (trimmed, without token prefix).
    private init(_ text: String, _ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard let head = bytes.first else { throw NationalIdentifierError.empty }
        guard bytes.allSatisfy(IDNPS.isAlphanumeric) else { throw NationalIdentifierError.invalidCharacters(value: text) }
        let allDigits = bytes.allSatisfy(RPPS.isDigit)
        switch (bytes.count, head) {
        case (10, UInt8(ascii: "1")) where Self.isFINESSBody(bytes.dropFirst()):
            value = text; kind = .finess
        case (9, _) where Self.isFINESSBody(bytes):
            value = "1" + text; kind = .finess
        case (15, UInt8(ascii: "3")) where allDigits:
            value = text; kind = .siret
        case (15, UInt8(ascii: "4")) where allDigits:
            value = text; kind = .rppsRang
        case (14, _) where allDigits:
            value = "3" + text; kind = .siret
        case (10...15, UInt8(ascii: "0")):
            value = text; kind = .adeliRang
        case (10, let first), (15, let first):
            if !allDigits && first != UInt8(ascii: "1") { throw NationalIdentifierError.invalidCharacters(value: text) }
            throw NationalIdentifierError.unknownPrefix(value: text, prefix: Character(Unicode.Scalar(first)))
        default:
            throw NationalIdentifierError.invalidLength(value: text, length: bytes.count)
        }
    }

    /// A FINESS-based IDNST (9 characters, or already prefixed with `1`).
    public static func finess(_ finess: String) throws -> IDNST { try parse(finess, as: .finess) }

    /// A SIRET-based IDNST (14 digits, or already prefixed with `3`).
    public static func siret(_ siret: String) throws -> IDNST { try parse(siret, as: .siret) }

    private static func parse(_ raw: String, as expected: Kind) throws -> IDNST {
        let id = try IDNST(parsing: raw)
        guard id.kind == expected else {
            throw NationalIdentifierError.unexpectedKind(value: raw, expected: expected.label, actual: id.kind.label)
        }
        return id
    }

    /// The value without its one-character type prefix (the bare FINESS, SIRET, …).
    public var unprefixed: String { String(value.dropFirst()) }

    /// Luhn check for SIRET (with the La Poste exception); nil for kinds without a checked key here.
    public var hasValidChecksum: Bool? {
        guard kind == .siret else { return nil }
        let digits = Array(unprefixed.utf8)
        if digits.prefix(9).elementsEqual("356000000".utf8) {
            return digits.reduce(0) { $0 + Int($1 - 0x30) } % 5 == 0
        }
        return Luhn.isValid(digits)
    }

    /// The FHIR token `system|value` (unencoded).
    public var token: String { IdentifierSystem.idnst + "|" + value }

    public var description: String { value }

    public static func < (lhs: IDNST, rhs: IDNST) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    /// `system|` of a search token, accepted before the value.
    private static let tokenPrefix = IdentifierSystem.idnst + "|"

    /// FINESS: 9 digits, except Corsica whose department is `2A`/`2B` (second character).
    private static func isFINESSBody(_ body: some Collection<UInt8>) -> Bool {
        guard body.count == 9 else { return false }
        for (offset, byte) in body.enumerated() {
            if RPPS.isDigit(byte) { continue }
            if offset == 1, byte == UInt8(ascii: "A") || byte == UInt8(ascii: "B") { continue }
            return false
        }
        return true
    }
}

extension IDNST.Kind {
    /// Short label used in messages.
    public var label: String {
        switch self {
        case .finess: return "FINESS"
        case .siret: return "SIRET"
        case .rppsRang: return "RPPS rang"
        case .adeliRang: return "ADELI rang"
        }
    }
}
