import Aggregator
import FHIR
import Foundation
import SASDomain

/// How INT_R02 requests reach a vendor: a FHIR write over the vendor's mTLS client (``HTTPEditorTransport`` in
/// production, the same pooled connections as the slot searches).
public protocol RegulatorAccountTransport: Sendable {
    func send(_ method: String, _ url: URL, body: Data, editor: Editor, timeout: Duration,
              maxBytes: Int) async throws -> TransportResponse
}

extension HTTPEditorTransport: RegulatorAccountTransport {}

/// The desired state of one regulator account at every vendor, derived from the platform's account: national id
/// when known (else the SAS technical id, the account's UUID), active while the account is enabled and holds a
/// regulating role, names and e-mail.
public struct RegulatorProfile: Sendable, Equatable, Codable {
    public var identifierSystem: String
    public var identifierValue: String
    public var active: Bool
    public var familyName: String
    public var givenName: String
    public var email: String

    public init(identifier: RegulatorIdentifier, active: Bool, familyName: String, givenName: String, email: String) {
        identifierSystem = identifier.system
        identifierValue = identifier.value
        self.active = active
        self.familyName = familyName
        self.givenName = givenName
        self.email = email
    }

    /// The FHIR token `system|value` the vendor knows the account by.
    public var token: String { identifierSystem + "|" + identifierValue }

    /// The `FrPractitionerRegul` body (`meta.source` = the SAS OID, one identifier, active, name, e-mail).
    public func body() throws -> Data {
        let identifier = try RegulatorIdentifier(system: identifierSystem, value: identifierValue)
        return try FHIRJSON.encode(PractitionerRegul.body(identifier: identifier, active: active, familyName: familyName,
                                                          givenName: givenName, email: email))
    }

    /// Splits a display name into given and family names ("Camille Martin-Roux" → "Camille", "Martin-Roux"); a
    /// leading "Dr" is dropped. FrPractitionerRegul needs both: a single word serves as both.
    public static func names(from displayName: String) -> (given: String, family: String) {
        var words = displayName.split(whereSeparator: \.isWhitespace).map(String.init)
        if let first = words.first, ["dr", "dr.", "docteur", "pr", "pr."].contains(first.lowercased()), words.count > 1 {
            words.removeFirst()
        }
        guard let given = words.first else { return ("-", "-") }
        let family = words.dropFirst().joined(separator: " ")
        return (given, family.isEmpty ? given : family)
    }
}

/// One INT_R02 exchange's result: the vendor's status and, on error, the OperationOutcome's text.
public struct RegulatorAccountAnswer: Sendable, Equatable {
    public var status: Int
    public var message: String?
    public var retryAfter: Duration?
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Sends INT_R02 requests to one vendor: `POST [base]/Practitioner` and the conditional
/// `PUT [base]/Practitioner?identifier=system|value` (the identifier the vendor knows the account by).
public struct RegulatorAccountClient: Sendable {
    let transport: any RegulatorAccountTransport
    let timeout: Duration

    public init(transport: any RegulatorAccountTransport, timeout: Duration = .seconds(5)) {
        self.transport = transport
        self.timeout = timeout
    }

    /// `POST [base]/Practitioner`.
    public func create(_ body: Data, at editor: Editor) async throws -> RegulatorAccountAnswer {
        try await send("POST", url(editor, PractitionerRegul.createPath), body, editor)
    }

    /// `PUT [base]/Practitioner?identifier=<token>`, `token` being `system|value` (percent-encoded here).
    public func update(identifiedBy token: String, _ body: Data, at editor: Editor) async throws -> RegulatorAccountAnswer {
        try await send("PUT", url(editor, "Practitioner?identifier=" + SearchURLBuilder.encode(token)), body, editor)
    }

    func url(_ editor: Editor, _ path: String) throws -> URL {
        let base = editor.baseURL.hasSuffix("/") ? String(editor.baseURL.dropLast()) : editor.baseURL
        guard let url = URL(string: base + "/" + path) else {
            throw TransportError.other("URL de base invalide : \(editor.baseURL)")
        }
        return url
    }

    func send(_ method: String, _ url: URL, _ body: Data, _ editor: Editor) async throws -> RegulatorAccountAnswer {
        let response = try await transport.send(method, url, body: body, editor: editor, timeout: timeout, maxBytes: 256 * 1024)
        var message: String?
        if !(200..<300).contains(response.status) {
            let outcome = try? JSONDecoder().decode(OperationOutcome.self, from: response.body)
            message = outcome?.issue.compactMap { $0.details?.text ?? $0.diagnostics }.joined(separator: " ; ")
            if message?.isEmpty ?? true {
                message = String(decoding: response.body.prefix(200), as: UTF8.self)
            }
        }
        return RegulatorAccountAnswer(status: response.status, message: message, retryAfter: response.retryAfter)
    }
}
