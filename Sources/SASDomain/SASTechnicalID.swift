import Foundation

/// The SAS technical identifier of a regulator who has no national id yet (a UUID under the SAS OID).
public struct SASTechnicalID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Identifier system of technical ids.
    public static let system = IdentifierSystem.sasTechnical

    /// The UUID.
    public let uuid: UUID

    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }

    /// Parses a UUID string (any case, surrounding blanks ignored).
    public init(parsing raw: String) throws {
        let text = raw.trimmedBlanks
        guard !text.isEmpty else { throw NationalIdentifierError.empty }
        guard let uuid = UUID(uuidString: text) else { throw NationalIdentifierError.notAUUID(value: text) }
        self.uuid = uuid
    }

    /// Lower-case canonical form, as sent on the wire.
    public var value: String { uuid.uuidString.lowercased() }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// How a regulator is identified towards editors: national id when known, else the SAS technical id.
public enum RegulatorIdentifier: Hashable, Sendable, Codable, CustomStringConvertible {
    /// National id (IDNPS, system `urn:oid:1.2.250.1.71.4.2.1`, type `IDNPS`).
    case national(IDNPS)
    /// SAS technical id (UUID, system `urn:oid:1.2.250.1.213.3.6`, type `INTRN`).
    case technical(SASTechnicalID)

    /// Reads a regulator identifier from its FHIR `system` and `value`.
    public init(system: String?, value: String) throws {
        switch system {
        case IdentifierSystem.sasTechnical?: self = .technical(try SASTechnicalID(parsing: value))
        case IdentifierSystem.idnps?: self = .national(try IDNPS(parsing: value))
        default:
            if let technical = try? SASTechnicalID(parsing: value) { self = .technical(technical) }
            else { self = .national(try IDNPS(parsing: value)) }
        }
    }

    /// Identifier system URI.
    public var system: String {
        switch self {
        case .national: return IdentifierSystem.idnps
        case .technical: return IdentifierSystem.sasTechnical
        }
    }

    /// Identifier-type code (`IDNPS` or `INTRN`).
    public var typeCode: String {
        switch self {
        case .national: return IdentifierSystem.codeIDNPS
        case .technical: return IdentifierSystem.codeINTRN
        }
    }

    /// Wire value.
    public var value: String {
        switch self {
        case .national(let id): return id.value
        case .technical(let id): return id.value
        }
    }

    /// The FHIR token `system|value` (unencoded).
    public var token: String { system + "|" + value }

    public var description: String { token }
}
