import Foundation
import SASDomain

/// How one editor fared in a search (or one request to it).
public enum EditorStatus: Sendable, Hashable {
    /// Answered with slots.
    case ok(slotCount: Int)
    /// Answered, no slot for the asked practitioners or associations.
    case empty
    /// No answer within the per-editor timeout or the search deadline (or still queued behind the concurrency cap).
    case timeout
    /// 4xx/5xx; `message` is the OperationOutcome text when the editor sent one.
    case httpError(status: Int, message: String?)
    /// TLS handshake or certificate verification failed.
    case tlsError(String)
    /// The answer is not a usable searchset: `badEntries` is nil when the whole document is unreadable.
    case invalidBundle(badEntries: Int?, reason: String)
    /// Not asked: the circuit breaker is open after repeated failures.
    case circuitOpen
    /// The body exceeded the size cap (the cap, in bytes).
    case responseTooLarge(limit: Int)
    /// Connection refused, reset or otherwise impossible (detail for logs).
    case connectionFailed(String)
    /// The request could not be built (bad base URL, identifiers…).
    case invalidRequest(String)

    /// A label-free category, for metrics and health counters.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case ok, empty, timeout, httpError, tlsError, invalidBundle, circuitOpen, responseTooLarge, connectionFailed,
             invalidRequest
    }

    /// The category.
    public var kind: Kind {
        switch self {
        case .ok: return .ok
        case .empty: return .empty
        case .timeout: return .timeout
        case .httpError: return .httpError
        case .tlsError: return .tlsError
        case .invalidBundle: return .invalidBundle
        case .circuitOpen: return .circuitOpen
        case .responseTooLarge: return .responseTooLarge
        case .connectionFailed: return .connectionFailed
        case .invalidRequest: return .invalidRequest
        }
    }

    /// Whether the editor answered usefully (slots or a genuine "nothing").
    public var isSuccess: Bool { kind == .ok || kind == .empty }

    /// French text for regulators and the admin console, e.g. « AgendaPlus n'a pas répondu à temps ».
    public func frenchDescription(editorName name: String) -> String {
        switch self {
        case .ok(let count):
            return count == 1 ? "\(name) : 1 créneau disponible" : "\(name) : \(count) créneaux disponibles"
        case .empty:
            return "\(name) n'a aucun créneau disponible sur la période"
        case .timeout:
            return "\(name) n'a pas répondu à temps"
        case .httpError(let status, let message):
            let base = "\(name) a répondu par une erreur (HTTP \(status))"
            return message.map { "\(base) : \($0)" } ?? base
        case .tlsError:
            return "La connexion sécurisée avec l'éditeur \(name) a échoué (certificat ou négociation TLS)"
        case .invalidBundle(let badEntries, let reason):
            if let badEntries {
                let entries = badEntries == 1 ? "1 entrée invalide" : "\(badEntries) entrées invalides"
                return "La réponse de l'éditeur \(name) contient \(entries) : \(reason)"
            }
            return "La réponse de l'éditeur \(name) est inexploitable : \(reason)"
        case .circuitOpen:
            return "L'éditeur \(name) est temporairement suspendu après des erreurs répétées"
        case .responseTooLarge(let limit):
            return "La réponse de l'éditeur \(name) dépasse la taille maximale autorisée (\(Self.frenchSize(limit)))"
        case .connectionFailed:
            return "Impossible de joindre l'éditeur \(name)"
        case .invalidRequest(let message):
            return "La requête vers l'éditeur \(name) n'a pas pu être construite : \(message)"
        }
    }

    private static func frenchSize(_ bytes: Int) -> String {
        if bytes >= 1_048_576, bytes % 1_048_576 == 0 { return "\(bytes / 1_048_576) Mo" }
        if bytes >= 1024 { return "\(bytes / 1024) ko" }
        return "\(bytes) octets"
    }
}

/// The final status of one editor in one search (all its requests and cache hits together).
public struct EditorStatusReport: Sendable, Hashable {
    /// Editor id.
    public var editorID: String
    /// Editor display name.
    public var editorName: String
    /// Overall status: the first failure when any request failed, else ok/empty (or invalidBundle when every
    /// entry was bad).
    public var status: EditorStatus
    /// Flows the editor was asked for.
    public var flows: Set<SlotFlow>
    /// Slots delivered (requests and cache).
    public var slotCount: Int
    /// Requests (shared or not) this search waited on.
    public var requestCount: Int
    /// Requests among them that failed.
    public var failedRequestCount: Int
    /// Practitioners/associations answered from the cache.
    public var cachedSubjects: Int
    /// Entry problems reported by the normaliser.
    public var problemCount: Int
    /// Time from the start of the search to the editor's last answer.
    public var elapsed: Duration

    /// Creates a report.
    public init(editorID: String, editorName: String, status: EditorStatus, flows: Set<SlotFlow>, slotCount: Int,
                requestCount: Int, failedRequestCount: Int, cachedSubjects: Int, problemCount: Int, elapsed: Duration) {
        self.editorID = editorID
        self.editorName = editorName
        self.status = status
        self.flows = flows
        self.slotCount = slotCount
        self.requestCount = requestCount
        self.failedRequestCount = failedRequestCount
        self.cachedSubjects = cachedSubjects
        self.problemCount = problemCount
        self.elapsed = elapsed
    }

    /// Whether some slots came through although some requests failed.
    public var isPartial: Bool { !status.isSuccess && slotCount > 0 }

    /// French text for the regulator, mentioning partial answers.
    public var frenchDescription: String {
        let text = status.frenchDescription(editorName: editorName)
        guard isPartial else { return text }
        let slots = slotCount == 1 ? "1 créneau reçu" : "\(slotCount) créneaux reçus"
        return "\(text) (réponse partielle : \(slots), \(failedRequestCount) requête(s) sur \(requestCount) en échec)"
    }
}
