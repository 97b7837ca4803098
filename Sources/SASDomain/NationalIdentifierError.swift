import Foundation

/// Why a national identifier (IDNPS, IDNST, SAS technical id) was rejected.
public enum NationalIdentifierError: Error, Hashable, Sendable, LocalizedError, CustomStringConvertible {
    /// The value is empty (or only blanks).
    case empty
    /// The value contains characters that cannot appear in this identifier.
    case invalidCharacters(value: String)
    /// The value has a length that matches no known identifier format.
    case invalidLength(value: String, length: Int)
    /// The leading type prefix is not one SAS knows for this kind of identifier.
    case unknownPrefix(value: String, prefix: Character)
    /// An RPPS (or SIRET) whose Luhn check digit is wrong.
    case invalidChecksum(value: String)
    /// A well-formed identifier of another kind than the one required (e.g. a FINESS where a SIRET is needed).
    case unexpectedKind(value: String, expected: String, actual: String)
    /// A SAS technical identifier that is not a UUID.
    case notAUUID(value: String)

    /// Message for users (French).
    public var message: String {
        switch self {
        case .empty:
            return "L'identifiant est vide."
        case .invalidCharacters(let value):
            return "L'identifiant « \(value) » contient des caractères non autorisés."
        case .invalidLength(let value, let length):
            return "L'identifiant « \(value) » a une longueur inattendue (\(length) caractères)."
        case .unknownPrefix(let value, let prefix):
            return "L'identifiant « \(value) » commence par un préfixe inconnu (« \(prefix) »)."
        case .invalidChecksum(let value):
            return "L'identifiant « \(value) » a une clé de contrôle invalide."
        case .unexpectedKind(let value, let expected, let actual):
            return "L'identifiant « \(value) » est de type \(actual), alors que le type \(expected) est attendu."
        case .notAUUID(let value):
            return "L'identifiant technique SAS « \(value) » n'est pas un UUID."
        }
    }

    /// Description for logs (English).
    public var description: String {
        switch self {
        case .empty: return "empty identifier"
        case .invalidCharacters(let value): return "identifier '\(value)' contains invalid characters"
        case .invalidLength(let value, let length): return "identifier '\(value)' has unexpected length \(length)"
        case .unknownPrefix(let value, let prefix): return "identifier '\(value)' has unknown type prefix '\(prefix)'"
        case .invalidChecksum(let value): return "identifier '\(value)' fails its Luhn check digit"
        case .unexpectedKind(let value, let expected, let actual):
            return "identifier '\(value)' is a \(actual), expected \(expected)"
        case .notAUUID(let value): return "SAS technical identifier '\(value)' is not a UUID"
        }
    }

    /// Foundation's user-facing text: the French message.
    public var errorDescription: String? { message }
}
