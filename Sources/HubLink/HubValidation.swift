import Foundation

/// The rules of the Hub's JSON schemas for this flow (EDXL-DE envelope, RC-DE, RS-SAS-RDV, RC-REF, RS-ERROR; the
/// digest's §2.6–2.10) applied to a raw message: required fields, types, enumerations, patterns and
/// `additionalProperties: false`. The platform checks every message before publishing it, and the Hub stand-in
/// checks what it receives as the Hub's dispatcher does (error 300).
public enum HubValidation {
    typealias Object = [String: Any]

    /// The problems of a message, each with its JSON path (empty: valid).
    public static func problems(_ data: Data) -> [String] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? Object else { return ["(racine) : objet JSON attendu"] }
        var problems: [String] = []
        envelope(root, &problems)
        return problems
    }

    static let instantPattern = try! NSRegularExpression(pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}[-+]\\d{2}:\\d{2}$")

    public static func matches(_ text: String, _ regex: NSRegularExpression) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func only(_ object: Object, _ allowed: Set<String>, _ path: String, _ problems: inout [String]) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            problems.append("\(path).\(key) : propriété non autorisée")
        }
    }

    @discardableResult
    static func string(_ object: Object, _ key: String, _ path: String, required: Bool, _ problems: inout [String],
                       enumeration: Set<String>? = nil, instant: Bool = false, pattern: NSRegularExpression? = nil) -> String? {
        guard let value = object[key] else {
            if required { problems.append("\(path).\(key) : obligatoire") }
            return nil
        }
        guard let text = value as? String else {
            problems.append("\(path).\(key) : chaîne attendue")
            return nil
        }
        if let enumeration, !enumeration.contains(text) {
            problems.append("\(path).\(key) : « \(text) » hors de l'énumération [\(enumeration.sorted().joined(separator: ", "))]")
        }
        if instant, !matches(text, instantPattern) {
            problems.append("\(path).\(key) : « \(text) » n'est pas une date-heure AAAA-MM-JJThh:mm:ss±hh:mm")
        }
        if let pattern, !matches(text, pattern) {
            problems.append("\(path).\(key) : « \(text) » ne respecte pas le motif \(pattern.pattern)")
        }
        return text
    }

    static func object(_ parent: Object, _ key: String, _ path: String, required: Bool, _ problems: inout [String]) -> Object? {
        guard let value = parent[key] else {
            if required { problems.append("\(path).\(key) : obligatoire") }
            return nil
        }
        guard let object = value as? Object else {
            problems.append("\(path).\(key) : objet attendu")
            return nil
        }
        return object
    }

    static let kinds: Set<String> = ["Report", "Update", "Cancel", "Ack", "Error"]

    static func envelope(_ root: Object, _ problems: inout [String]) {
        let path = "$"
        only(root, ["distributionID", "senderID", "dateTimeSent", "dateTimeExpires", "distributionStatus", "distributionKind",
                    "descriptor", "content"], path, &problems)
        string(root, "distributionID", path, required: true, &problems)
        string(root, "senderID", path, required: true, &problems)
        string(root, "dateTimeSent", path, required: true, &problems, instant: true)
        string(root, "dateTimeExpires", path, required: true, &problems, instant: true)
        string(root, "distributionStatus", path, required: true, &problems, enumeration: ["Actual", "Exercise"])
        let kind = string(root, "distributionKind", path, required: true, &problems, enumeration: kinds)
        if let descriptor = object(root, "descriptor", path, required: true, &problems) {
            only(descriptor, ["language", "explicitAddress"], "$.descriptor", &problems)
            string(descriptor, "language", "$.descriptor", required: true, &problems)
            if let address = object(descriptor, "explicitAddress", "$.descriptor", required: true, &problems) {
                only(address, ["explicitAddressScheme", "explicitAddressValue"], "$.descriptor.explicitAddress", &problems)
                string(address, "explicitAddressScheme", "$.descriptor.explicitAddress", required: true, &problems)
                string(address, "explicitAddressValue", "$.descriptor.explicitAddress", required: true, &problems)
            }
        }
        guard let content = root["content"] as? [Any], !content.isEmpty else {
            problems.append("$.content : tableau d'au moins un élément attendu")
            return
        }
        for (index, item) in content.enumerated() {
            let itemPath = "$.content[\(index)]"
            guard let item = item as? Object, let json = object(item, "jsonContent", itemPath, required: true, &problems),
                  let embedded = object(json, "embeddedJsonContent", itemPath + ".jsonContent", required: true, &problems),
                  let message = object(embedded, "message", itemPath + ".jsonContent.embeddedJsonContent", required: true, &problems) else {
                continue
            }
            self.message(message, kind: kind, itemPath + ".jsonContent.embeddedJsonContent.message", &problems)
        }
    }

    static func message(_ message: Object, kind: String?, _ path: String, _ problems: inout [String]) {
        if kind == "Error" {
            guard let error = object(message, "error", path, required: true, &problems) else { return }
            only(error, ["errorCode", "errorCause", "sourceMessage", "referencedDistributionID"], path + ".error", &problems)
            if let code = object(error, "errorCode", path + ".error", required: true, &problems) {
                if !(code["statusCode"] is NSNumber) { problems.append("\(path).error.errorCode.statusCode : nombre attendu") }
                string(code, "statusString", path + ".error.errorCode", required: true, &problems)
            }
            string(error, "errorCause", path + ".error", required: true, &problems)
            string(error, "referencedDistributionID", path + ".error", required: true, &problems)
            return
        }
        // RC-DE (additional properties allowed: the use-case key sits beside the header).
        string(message, "messageId", path, required: true, &problems)
        for key in ["sender"] {
            if let party = object(message, key, path, required: true, &problems) {
                string(party, "name", path + "." + key, required: true, &problems)
                string(party, "URI", path + "." + key, required: true, &problems)
            }
        }
        string(message, "sentAt", path, required: true, &problems, instant: true)
        string(message, "kind", path, required: true, &problems, enumeration: kinds)
        string(message, "status", path, required: true, &problems, enumeration: ["Actual", "Exercise", "System"])
        if let recipients = message["recipient"] as? [Any], !recipients.isEmpty {
            for (i, party) in recipients.enumerated() {
                guard let party = party as? Object else { problems.append("\(path).recipient[\(i)] : objet attendu"); continue }
                string(party, "name", "\(path).recipient[\(i)]", required: true, &problems)
                string(party, "URI", "\(path).recipient[\(i)]", required: true, &problems)
            }
        } else {
            problems.append("\(path).recipient : tableau d'au moins un destinataire attendu")
        }
        if let appointment = object(message, "appointment", path, required: false, &problems) {
            self.appointment(appointment, path + ".appointment", &problems)
        }
        if let reference = object(message, "reference", path, required: false, &problems) {
            only(reference, ["distributionID", "refused", "errorDistributionID", "step"], path + ".reference", &problems)
            string(reference, "distributionID", path + ".reference", required: true, &problems)
            string(reference, "step", path + ".reference", required: false, &problems,
                   enumeration: ["RECU", "ERREUR", "INTEGRE", "CONSULTE", "SUPPRIME"])
        }
        if kind == "Report" && message["appointment"] == nil && message["reference"] == nil {
            problems.append("\(path) : aucun contenu de cas d'usage (appointment)")
        }
    }

    public static let rpps = try! NSRegularExpression(pattern: "^81[0-9]{10}$")
    public static let structure = try! NSRegularExpression(pattern: "^(1[0-9A-Za-z]{9}|3[0-9]{14})$")

    static func appointment(_ a: Object, _ path: String, _ problems: inout [String]) {
        only(a, ["appointmentId", "method", "created", "start", "end", "status", "orientationCategory", "practitioner",
                 "organization", "regulator"], path, &problems)
        string(a, "appointmentId", path, required: true, &problems)
        string(a, "method", path, required: true, &problems, enumeration: ["CreateAppointment", "UpdateAppointment"])
        string(a, "created", path, required: true, &problems, instant: true)
        string(a, "start", path, required: true, &problems, instant: true)
        string(a, "end", path, required: false, &problems, instant: true)
        string(a, "status", path, required: true, &problems, enumeration: ["pending", "booked", "fulfilled", "noshow", "cancelled"])
        string(a, "orientationCategory", path, required: false, &problems, enumeration: ["CPTS", "MSP", "CDS", "SOS", "PS", "PDM"])
        if let p = object(a, "practitioner", path, required: false, &problems) {
            only(p, ["rppsId", "lastName", "firstName", "specialityCode", "specialityUrl", "professionCode", "professionUrl"],
                 path + ".practitioner", &problems)
            string(p, "rppsId", path + ".practitioner", required: true, &problems, pattern: rpps)
            string(p, "lastName", path + ".practitioner", required: true, &problems)
            string(p, "firstName", path + ".practitioner", required: true, &problems)
            for key in ["specialityCode", "specialityUrl", "professionCode", "professionUrl"] {
                string(p, key, path + ".practitioner", required: false, &problems)
            }
        }
        if let o = object(a, "organization", path, required: false, &problems) {
            only(o, ["organizationId", "name"], path + ".organization", &problems)
            string(o, "organizationId", path + ".organization", required: true, &problems, pattern: structure)
            string(o, "name", path + ".organization", required: true, &problems)
        }
        if let r = object(a, "regulator", path, required: true, &problems) {
            only(r, ["regulatorId", "regulatorName", "regulatorFirstname", "regulatorEmail"], path + ".regulator", &problems)
            string(r, "regulatorId", path + ".regulator", required: false, &problems)
            string(r, "regulatorName", path + ".regulator", required: true, &problems)
            string(r, "regulatorFirstname", path + ".regulator", required: true, &problems)
            string(r, "regulatorEmail", path + ".regulator", required: true, &problems)
        }
    }
}
