import Foundation

/// FHIR `OperationOutcome`: the error body of a failed FHIR interaction.
public struct OperationOutcome: Hashable, Sendable, Codable {
    public var resourceType: String = "OperationOutcome"
    public var id: String?
    public var meta: Meta?
    public var issue: [Issue]

    public init(issue: [Issue] = [], id: String? = nil) {
        self.issue = issue
        self.id = id
    }

    /// `OperationOutcome.issue`.
    public struct Issue: Hashable, Sendable, Codable {
        public var severity: String
        public var code: String
        public var details: CodeableConcept?
        public var diagnostics: String?
        public var expression: [String]?

        public init(severity: String, code: String, details: CodeableConcept? = nil, diagnostics: String? = nil,
                    expression: [String]? = nil) {
            self.severity = severity
            self.code = code
            self.details = details
            self.diagnostics = diagnostics
            self.expression = expression
        }
    }
}
