import Foundation

extension OperationOutcome {
    /// `issue.severity` values.
    public enum Severity: String, Hashable, Sendable, CaseIterable {
        case fatal, error, warning, information
    }

    /// The `issue.code` values the platform uses, with the HTTP status it answers with.
    public enum IssueType: String, Hashable, Sendable, CaseIterable {
        case invalid, structure, required, value, invariant, security, forbidden, processing, duplicate, conflict
        case notFound = "not-found"
        case notSupported = "not-supported"
        case multipleMatches = "multiple-matches"
        case businessRule = "business-rule"
        case tooCostly = "too-costly"
        case exception, timeout, transient, throttled, informational

        /// HTTP status paired with this issue type (400 malformed, 422 business rule, …).
        public var httpStatus: Int {
            switch self {
            case .invalid, .structure, .required, .value, .invariant: return 400
            case .security: return 401
            case .forbidden: return 403
            case .notFound: return 404
            case .conflict, .duplicate: return 409
            case .multipleMatches: return 412
            case .processing, .businessRule: return 422
            case .tooCostly, .throttled: return 429
            case .notSupported: return 501
            case .timeout: return 504
            case .transient: return 503
            case .exception: return 500
            case .informational: return 200
            }
        }
    }

    /// One issue with a French `details.text` (for users) and an optional English `diagnostics` (for logs).
    public static func issue(_ code: IssueType, french text: String, diagnostics: String? = nil,
                             expression: [String]? = nil, severity: Severity = .error) -> OperationOutcome {
        OperationOutcome(issue: [Issue(severity: severity.rawValue, code: code.rawValue,
                                       details: CodeableConcept(text: text),
                                       diagnostics: diagnostics, expression: expression)])
    }

    /// 400: the request body is not readable FHIR.
    public static func malformed(_ error: FHIRDecodingError) -> OperationOutcome {
        issue(.structure, french: "Le format de la requête FHIR transmise est incorrect : \(error.message)",
              diagnostics: error.description)
    }

    /// 400: a required element is missing.
    public static func missing(_ path: String) -> OperationOutcome {
        issue(.required, french: "L'élément obligatoire « \(path) » est absent.", diagnostics: "missing \(path)",
              expression: [path])
    }

    /// 422: a business rule forbids the action.
    public static func businessRule(french text: String, diagnostics: String? = nil) -> OperationOutcome {
        issue(.businessRule, french: text, diagnostics: diagnostics)
    }

    /// 404: nothing matches.
    public static func notFound(french text: String) -> OperationOutcome { issue(.notFound, french: text) }

    /// 500: unexpected failure (no internal detail leaks to the client).
    public static func internalError(requestID: String) -> OperationOutcome {
        issue(.exception, french: "Une erreur interne est survenue (référence \(requestID)).", diagnostics: "request \(requestID)",
              severity: .fatal)
    }

    /// The HTTP status to answer with: the highest among the issues' types.
    public var httpStatus: Int {
        issue.compactMap { IssueType(rawValue: $0.code)?.httpStatus }.max() ?? 500
    }
}
