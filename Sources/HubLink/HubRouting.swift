import Foundation

/// The Hub dispatcher's decision for one published message (digest §2.4, in order): content type (101), readable
/// body (102), schemas (300), a health actor (501), sender = routing key (200), persistence (100), distributionID
/// prefix (300), an existing recipient (501); otherwise the target queue `<recipient>.message|ack|info`.
public enum HubRouting {
    public enum Decision: Sendable {
        case route(HubMessages.Envelope, queue: String)
        case error(code: Int, label: String, cause: String, referenced: String)
    }

    public static func decide(_ body: Data, routingKey: String, contentType: String?, persistent: Bool,
                              exists: (String) -> Bool) -> Decision {
        guard let contentType, contentType.hasPrefix("application/json") else {
            return .error(code: 101, label: "NOT_ALLOWED_CONTENT_TYPE", cause: "Content-Type \(contentType ?? "absent") non autorisé", referenced: "")
        }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return .error(code: 102, label: "UNRECOGNIZED_MESSAGE_FORMAT", cause: "Message illisible", referenced: "")
        }
        let distributionID = object["distributionID"] as? String ?? ""
        let problems = HubValidation.problems(body)
        guard problems.isEmpty, let envelope = try? HubMessages.decode(body) else {
            return .error(code: 300, label: "INVALID_MESSAGE",
                          cause: "Could not validate message against schema : " + problems.joined(separator: " ; "), referenced: distributionID)
        }
        let recipient = envelope.recipient
        guard envelope.senderID.hasPrefix("fr.health") || recipient.hasPrefix("fr.health") else {
            return .error(code: 501, label: "UNROUTABLE_MESSAGE", cause: "Aucun acteur de santé", referenced: distributionID)
        }
        guard routingKey == envelope.senderID else {
            return .error(code: 200, label: "SENDER_INCONSISTENCY", cause: "Clé de routage \(routingKey) ≠ senderID \(envelope.senderID)",
                          referenced: distributionID)
        }
        guard persistent else {
            return .error(code: 100, label: "DELIVERY_MODE_INCONSISTENCY", cause: "Message non persistant", referenced: distributionID)
        }
        guard envelope.distributionID.split(separator: "_", maxSplits: 1).first.map(String.init) == envelope.senderID else {
            return .error(code: 300, label: "INVALID_MESSAGE", cause: "distributionID \(envelope.distributionID) ne commence pas par \(envelope.senderID)_",
                          referenced: distributionID)
        }
        guard exists(recipient) else {
            return .error(code: 501, label: "UNROUTABLE_MESSAGE", cause: "Destinataire \(recipient) inconnu du Hub", referenced: distributionID)
        }
        let suffix = envelope.distributionKind == "Ack" ? "ack" : (envelope.distributionKind == "Error" ? "info" : "message")
        return .route(envelope, queue: recipient + "." + suffix)
    }

    /// A Hub-generated error envelope for `sender`.
    public static func errorMessage(_ code: Int, _ label: String, cause: String, to sender: String, referenced: String) throws -> Data {
        try HubMessages.encode(HubMessages.envelope(
            kind: "Error", sender: "fr.health.hub", recipient: sender, sent: Date(),
            error: .init(errorCode: .init(statusCode: code, statusString: label), errorCause: cause, referencedDistributionID: referenced)))
    }
}
