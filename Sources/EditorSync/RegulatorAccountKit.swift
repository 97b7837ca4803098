import Aggregator
import FHIR
import Foundation
import SASDomain

/// The regulator-account group (5.01–5.16) of the national conformance kit, run by the platform's INT_R02 client
/// against one vendor endpoint. Like the kit it checks HTTP statuses only and carries state from step to step; unlike
/// the kit it draws fresh identifiers and e-mails at every run, so it can be run again against the same server.
public struct RegulatorAccountKit: Sendable {
    /// One requirement's verdict.
    public struct Step: Sendable, Equatable, Codable {
        public var id: String
        public var title: String
        /// Optional in the kit (5.05): a failure is a warning.
        public var optional: Bool
        public var passed: Bool
        /// Each request as `METHOD target → status`.
        public var exchanges: [String]
        /// Why it failed (French), nil when it passed.
        public var failure: String?
    }

    let client: RegulatorAccountClient
    let editor: Editor

    public init(client: RegulatorAccountClient, editor: Editor) {
        self.client = client
        self.editor = editor
    }

    static let idnpsSystem = IdentifierSystem.idnps
    static let uuidSystem = IdentifierSystem.sasTechnical

    /// A random IDNPS with a valid RPPS check digit.
    static func freshIDNPS() -> String {
        var digits = "1"
        for _ in 0..<9 { digits += String(Int.random(in: 0...9)) }
        return "8" + RPPS.withCheckDigit(digits)
    }

    static func uuid() -> String { UUID().uuidString.lowercased() }

    /// The kit's body builder: `code` is IDNPS for the IDNPS system, INTRN otherwise; `nil` fields are left out.
    static func body(id: String?, system: String?, code: String? = nil, mail: String?, telecomSystem: String = "email",
                     first: String?, last: String?, active: Bool?, resourceID: String = "example-regulator-1") -> Data {
        var practitioner: [String: Any] = [
            "resourceType": "Practitioner", "id": resourceID,
            "meta": ["source": uuidSystem, "profile": [FHIRSystems.Profile.practitionerRegul]],
        ]
        if let id, let system {
            let typeCode = code ?? (system == idnpsSystem ? "IDNPS" : "INTRN")
            practitioner["identifier"] = [["type": ["coding": [["system": IdentifierSystem.frV20203, "code": typeCode]]],
                                           "system": system, "value": id]]
        }
        if let active { practitioner["active"] = active }
        var name: [String: Any] = [:]
        if let last, !last.isEmpty { name["family"] = last }
        if let first, !first.isEmpty { name["given"] = [first] }
        if !name.isEmpty { practitioner["name"] = [name] }
        if let mail {
            var telecom: [String: Any] = ["system": telecomSystem]
            if !mail.isEmpty { telecom["value"] = mail }
            practitioner["telecom"] = [telecom]
        }
        return (try? JSONSerialization.data(withJSONObject: practitioner, options: [.sortedKeys])) ?? Data()
    }

    /// Runs the sequence; never throws: an unreachable vendor fails the steps it reaches.
    public func run() async -> [Step] {
        let rid = Self.freshIDNPS(), rid2 = Self.freshIDNPS()
        let tag = String(Self.uuid().prefix(8))
        let m = "regul.\(tag)@example.org", m2 = "regul.modif.\(tag)@example.org"
        let fn = "Camille", ln = "Régulatrice", fn2 = "Camille-Anne", ln2 = "Régulatrice-Modifiée"
        let u1 = Self.uuid()
        var steps: [Step] = []

        func post(_ body: Data) async -> (String, Int?) {
            do {
                let answer = try await client.create(body, at: editor)
                return ("POST Practitioner → \(answer.status)", answer.status)
            } catch {
                return ("POST Practitioner → \(error)", nil)
            }
        }
        func put(_ token: String, _ body: Data) async -> (String, Int?) {
            do {
                let answer = try await client.update(identifiedBy: token, body, at: editor)
                return ("PUT Practitioner?identifier=\(token) → \(answer.status)", answer.status)
            } catch {
                return ("PUT Practitioner?identifier=\(token) → \(error)", nil)
            }
        }
        func step(_ id: String, _ title: String, optional: Bool = false,
                  _ checks: [(exchange: (String, Int?), accepts: (Int) -> Bool, expected: String)]) {
            var failure: String?
            for check in checks {
                guard let status = check.exchange.1, check.accepts(status) else {
                    failure = failure ?? "\(check.exchange.0) ; attendu : \(check.expected)"
                    continue
                }
            }
            steps.append(Step(id: id, title: title, optional: optional, passed: failure == nil,
                              exchanges: checks.map(\.exchange.0), failure: failure))
        }
        let created: (Int) -> Bool = { $0 == 201 }
        let error: (Int) -> Bool = { (400..<600).contains($0) }
        let ok: (Int) -> Bool = { (200..<400).contains($0) }

        step("5.01", "Création d'un compte régulateur avec identifiant IDNPS", [
            (await post(Self.body(id: rid, system: Self.idnpsSystem, mail: m, first: fn, last: ln, active: true)), created, "201"),
        ])
        step("5.02", "Création d'un compte régulateur avec identifiant UUID", [
            (await post(Self.body(id: u1, system: Self.uuidSystem, mail: u1 + m, first: fn, last: ln, active: true)), created, "201"),
        ])
        let u3 = Self.uuid()
        let duplicate = Self.body(id: u3, system: Self.uuidSystem, mail: u3 + m, first: fn, last: ln, active: true)
        step("5.03", "Création en double : rejet de la seconde requête POST", [
            (await post(duplicate), created, "201"),
            (await post(duplicate), error, "4xx ou 5xx"),
        ])
        let x = Self.uuid()
        let missing: [Data] = [
            Self.body(id: nil, system: nil, mail: x + "jean.dupont@example.com", first: "Jean", last: "Dupont", active: true),
            Self.body(id: x, system: Self.idnpsSystem, mail: x + "practitioner@example.com", first: nil, last: nil, active: true),
            Self.body(id: x, system: Self.idnpsSystem, mail: nil, first: "Alice", last: "Martin", active: true),
            Self.body(id: x, system: Self.idnpsSystem, mail: x + "paul.leroy@example.com", first: "Paul", last: "Leroy", active: nil),
        ]
        var checks: [((String, Int?), (Int) -> Bool, String)] = []
        for body in missing { checks.append((await post(body), error, "4xx ou 5xx")) }
        step("5.04", "Créations : erreurs en l'absence de champs obligatoires", checks)
        let invalid: [Data] = [
            Self.body(id: x, system: Self.uuidSystem, code: "IDNPS", mail: x + "claire.@example.com", first: "Claire", last: "", active: true),
            Self.body(id: x, system: Self.uuidSystem, code: "IDNPS", mail: "", first: "Claire", last: "Marie", active: true),
            Self.body(id: x, system: Self.idnpsSystem, mail: x + "claire.Marie@example.com", telecomSystem: "phone",
                      first: "Claire", last: "Marie", active: true),
            Self.body(id: "1223432432", system: Self.idnpsSystem, code: "INTRN", mail: x + "claire.dubois@example.com",
                      first: "Claire", last: "Dubois", active: true),
            Self.body(id: x, system: Self.uuidSystem, code: "IDNPS", mail: x + "claire.dubois2@example.com",
                      first: "Claire", last: "Dubois", active: true),
        ]
        checks = []
        for body in invalid { checks.append((await post(body), error, "4xx ou 5xx")) }
        step("5.05", "Créations : erreurs pour des valeurs invalides", optional: true, checks)
        let ridToken = Self.idnpsSystem + "|" + rid, rid2Token = Self.idnpsSystem + "|" + rid2
        step("5.06", "Retrait d'habilitation d'un régulateur", [
            (await put(ridToken, Self.body(id: rid, system: Self.idnpsSystem, mail: m, first: fn, last: ln, active: false)), ok, "2xx ou 3xx"),
        ])
        step("5.07", "Habilitation d'un régulateur", [
            (await put(ridToken, Self.body(id: rid, system: Self.idnpsSystem, mail: m, first: fn, last: ln, active: true)), ok, "2xx ou 3xx"),
        ])
        step("5.08", "Modification de l'e-mail d'un compte régulateur", [
            (await put(ridToken, Self.body(id: rid, system: Self.idnpsSystem, mail: m2, first: fn, last: ln, active: true)), ok, "2xx ou 3xx"),
        ])
        step("5.09", "Modification de l'identifiant d'un compte régulateur", [
            (await put(ridToken, Self.body(id: rid2, system: Self.idnpsSystem, mail: m2, first: fn, last: ln, active: true)), ok, "2xx ou 3xx"),
        ])
        step("5.10", "Conversion de l'identifiant du compte régulateur (UUID → IDNPS)", [
            (await put(Self.idnpsSystem + "|" + u1,
                       Self.body(id: rid, system: Self.uuidSystem, mail: u1 + m, first: fn, last: ln, active: true)), ok, "2xx ou 3xx"),
        ])
        step("5.11", "Modification du nom d'un compte régulateur", [
            (await put(rid2Token, Self.body(id: rid2, system: Self.idnpsSystem, mail: m2, first: fn, last: ln2, active: true)), ok, "2xx ou 3xx"),
        ])
        step("5.12", "Modification du prénom d'un compte régulateur", [
            (await put(rid2Token, Self.body(id: rid2, system: Self.idnpsSystem, mail: m2, first: fn2, last: ln2, active: true)), ok, "2xx ou 3xx"),
        ])
        checks = []
        for body in missing { checks.append((await put(rid2Token, body), error, "4xx ou 5xx")) }
        step("5.13", "Modifications : erreurs en l'absence de champs obligatoires", checks)
        let u4 = Self.uuid()
        checks = []
        for body in missing { checks.append((await put(Self.uuidSystem + "|" + u4, body), error, "4xx ou 5xx")) }
        step("5.14", "Modifications en tant que création : erreurs en l'absence de champs obligatoires", checks)
        let u5 = Self.uuid()
        step("5.15", "Création d'un compte régulateur via PUT", [
            (await put(Self.uuidSystem + "|" + u5, Self.body(id: u5, system: Self.uuidSystem, mail: u5 + m, first: u5 + fn,
                                                             last: u5 + ln, active: true)), { $0 == 200 || $0 == 201 }, "200 ou 201"),
        ])
        let u6 = Self.uuid()
        step("5.16", "Réattribution d'un IDNPS après déshabilitation du compte d'origine", [
            (await put(ridToken, Self.body(id: rid, system: Self.idnpsSystem, mail: m, first: fn, last: ln, active: false)), ok, "2xx ou 3xx"),
            (await post(Self.body(id: u6, system: Self.uuidSystem, mail: u6 + "." + m, first: u6 + fn, last: u6 + ln, active: true)),
             created, "201"),
            (await put(Self.uuidSystem + "|" + u6, Self.body(id: rid, system: Self.idnpsSystem, mail: u6 + "." + m, first: u6 + fn,
                                                             last: u6 + ln, active: true)), ok, "2xx ou 3xx"),
        ])
        return steps
    }
}
