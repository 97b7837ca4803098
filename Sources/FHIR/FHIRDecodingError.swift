import Foundation

/// A whole-document decoding failure: the payload cannot be read as the expected FHIR resource at all.
/// (Per-entry problems inside a readable Bundle are reported per entry instead.)
public enum FHIRDecodingError: Error, Hashable, Sendable, LocalizedError, CustomStringConvertible {
    /// No bytes.
    case empty
    /// Not valid JSON at `offset`.
    case invalidJSON(offset: Int, reason: String)
    /// The JSON stops before the document is complete (e.g. a cut connection).
    case truncated(offset: Int)
    /// Containers nested deeper than the reader accepts.
    case nestingTooDeep(offset: Int, limit: Int)
    /// The payload exceeds the size limit.
    case tooLarge(bytes: Int, limit: Int)
    /// The top-level JSON is not a FHIR resource (no object, or no `resourceType`).
    case notAResource
    /// A resource of another type than expected; `outcome` is set when the editor answered with an OperationOutcome.
    case unexpectedResourceType(expected: String, found: String, outcome: OperationOutcome?)
    /// A Bundle whose structure is unusable (e.g. `entry` is not an array).
    case invalidBundle(reason: String)
    /// The top-level resource itself has a field of the wrong type.
    case invalidResource(path: String?, reason: String)

    /// English description for logs.
    public var description: String {
        switch self {
        case .empty: return "empty payload"
        case .invalidJSON(let offset, let reason): return "invalid JSON at byte \(offset): \(reason)"
        case .truncated(let offset): return "truncated JSON (ends at byte \(offset))"
        case .nestingTooDeep(let offset, let limit): return "JSON nested deeper than \(limit) levels at byte \(offset)"
        case .tooLarge(let bytes, let limit): return "payload of \(bytes) bytes exceeds the \(limit)-byte limit"
        case .notAResource: return "top-level JSON is not a FHIR resource"
        case .unexpectedResourceType(let expected, let found, let outcome):
            let detail = outcome?.issue.first.map { ": \($0.severity) \($0.code) \($0.diagnostics ?? "")" } ?? ""
            return "expected \(expected), got \(found)\(detail)"
        case .invalidBundle(let reason): return "unusable Bundle: \(reason)"
        case .invalidResource(let path, let reason): return "invalid resource\(path.map { " at \($0)" } ?? ""): \(reason)"
        }
    }

    /// French message for users and OperationOutcome texts.
    public var message: String {
        switch self {
        case .empty: return "La réponse est vide."
        case .invalidJSON: return "La réponse n'est pas un document JSON valide."
        case .truncated: return "La réponse est incomplète (document JSON tronqué)."
        case .nestingTooDeep: return "La réponse contient une imbrication trop profonde."
        case .tooLarge: return "La réponse est trop volumineuse."
        case .notAResource: return "La réponse n'est pas une ressource FHIR."
        case .unexpectedResourceType(let expected, let found, _):
            return "La ressource reçue est de type \(found) alors que le type \(expected) est attendu."
        case .invalidBundle: return "Le Bundle reçu est inexploitable."
        case .invalidResource: return "La ressource reçue contient un élément invalide."
        }
    }

    public var errorDescription: String? { message }
}

/// Internal reader failures: `fatal` ones end the document, the others are recoverable at entry level.
enum JSONReadError: Error {
    case syntax(offset: Int, reason: String)
    case truncated(offset: Int)
    case tooDeep(offset: Int, limit: Int, fatal: Bool)
    case type(expected: String, offset: Int)
    case value(reason: String, offset: Int)

    var isFatal: Bool {
        switch self {
        case .syntax, .truncated: return true
        case .tooDeep(_, _, let fatal): return fatal
        case .type, .value: return false
        }
    }

    var publicError: FHIRDecodingError {
        switch self {
        case .syntax(let offset, let reason): return .invalidJSON(offset: offset, reason: reason)
        case .truncated(let offset): return .truncated(offset: offset)
        case .tooDeep(let offset, let limit, _): return .nestingTooDeep(offset: offset, limit: limit)
        case .type(let expected, let offset): return .invalidResource(path: nil, reason: "expected \(expected) at byte \(offset)")
        case .value(let reason, let offset): return .invalidResource(path: nil, reason: "\(reason) at byte \(offset)")
        }
    }

    var message: String {
        switch self {
        case .syntax(let offset, let reason): return "invalid JSON at byte \(offset): \(reason)"
        case .truncated(let offset): return "truncated at byte \(offset)"
        case .tooDeep(let offset, let limit, _): return "nested deeper than \(limit) levels at byte \(offset)"
        case .type(let expected, let offset): return "expected \(expected) at byte \(offset)"
        case .value(let reason, let offset): return "\(reason) at byte \(offset)"
        }
    }
}
