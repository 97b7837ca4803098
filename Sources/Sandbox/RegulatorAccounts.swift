import FHIR
import Foundation
import SASDomain

/// The vendor side of INT_R02: regulator accounts created and updated by the platform, kept in memory.
public actor RegulatorAccounts {
    /// One account.
    public struct Account: Sendable, Equatable {
        public var id: String
        public var identifierSystem: String
        public var identifierValue: String
        public var active: Bool
        public var familyName: String
        public var givenName: String
        public var email: String
        public var version: Int
    }

    /// Why a request was refused (status and French text for the OperationOutcome).
    public struct Refusal: Error, Sendable {
        public let status: Int
        public let code: OperationOutcome.IssueType
        public let text: String
    }

    private var accounts: [String: Account] = [:]
    private var nextID = 1

    public init() {}

    /// Every account.
    public func all() -> [Account] { accounts.values.sorted { $0.id < $1.id } }

    /// The account with this identifier (`system|value`), if any.
    public func find(system: String, value: String) -> Account? {
        accounts.values.first { $0.identifierSystem == system && $0.identifierValue == value }
    }

    /// `POST Practitioner`: creates; a second account with the same identifier or e-mail is refused.
    public func create(_ practitioner: FHIR.Practitioner, lenient: Bool = false) throws(Refusal) -> Account {
        let fields = lenient ? Self.lenientFields(practitioner) : try Self.validate(practitioner)
        if !lenient, find(system: fields.system, value: fields.value) != nil {
            throw Refusal(status: 409, code: .conflict, text: "Un compte existe déjà pour l'identifiant \(fields.value).")
        }
        if !lenient, accounts.values.contains(where: { $0.email.lowercased() == fields.email.lowercased() && $0.active }) {
            throw Refusal(status: 409, code: .conflict, text: "Un compte actif utilise déjà l'adresse \(fields.email).")
        }
        let account = Account(id: "regul-\(nextID)", identifierSystem: fields.system, identifierValue: fields.value,
                              active: fields.active, familyName: fields.family, givenName: fields.given,
                              email: fields.email, version: 1)
        nextID += 1
        accounts[account.id] = account
        return account
    }

    /// `PUT Practitioner?identifier=system|value`: updates the account found by the query identifier (which may be
    /// replaced by the body's identifier), or creates it when unknown. Returns the account and whether it was created.
    public func update(querySystem: String, queryValue: String, with practitioner: FHIR.Practitioner,
                       lenient: Bool = false) throws(Refusal) -> (Account, created: Bool) {
        let fields = lenient ? Self.lenientFields(practitioner) : try Self.validate(practitioner)
        guard var account = find(system: querySystem, value: queryValue) else {
            if find(system: fields.system, value: fields.value) != nil {
                throw Refusal(status: 409, code: .conflict, text: "L'identifiant \(fields.value) est déjà attribué à un autre compte.")
            }
            let created = Account(id: "regul-\(nextID)", identifierSystem: fields.system, identifierValue: fields.value,
                                  active: fields.active, familyName: fields.family, givenName: fields.given,
                                  email: fields.email, version: 1)
            nextID += 1
            accounts[created.id] = created
            return (created, true)
        }
        if let other = find(system: fields.system, value: fields.value), other.id != account.id {
            if other.active {
                throw Refusal(status: 409, code: .conflict, text: "L'identifiant \(fields.value) est déjà attribué à un compte actif.")
            }
            // A deactivated account may hand its national id over to a new account (test kit sequence).
            accounts[other.id]?.identifierValue = "retired:\(other.identifierValue)"
        }
        account.identifierSystem = fields.system
        account.identifierValue = fields.value
        account.active = fields.active
        account.familyName = fields.family
        account.givenName = fields.given
        account.email = fields.email
        account.version += 1
        accounts[account.id] = account
        return (account, false)
    }

    struct Fields { let system: String, value: String, active: Bool, family: String, given: String, email: String }

    /// What a lax vendor keeps of a body without checking it (the `comptes-laxistes` personality).
    static func lenientFields(_ p: FHIR.Practitioner) -> Fields {
        let identifier = p.identifier?.first
        return Fields(system: identifier?.system ?? IdentifierSystem.sasTechnical,
                      value: identifier?.value ?? UUID().uuidString.lowercased(), active: p.active ?? true,
                      family: p.name?.first?.family ?? "", given: p.name?.first?.given?.first ?? "",
                      email: p.telecom?.first?.value ?? "")
    }

    /// FrPractitionerRegul checks: identifier (system and value), active, family and given names, e-mail.
    static func validate(_ p: FHIR.Practitioner) throws(Refusal) -> Fields {
        func bad(_ text: String) -> Refusal { Refusal(status: 400, code: .required, text: text) }
        guard let identifier = p.identifier?.first, let system = identifier.system, let value = identifier.value, !value.isEmpty else {
            throw bad("identifier (système et valeur) est obligatoire.")
        }
        guard system == IdentifierSystem.idnps || system == IdentifierSystem.sasTechnical else {
            throw Refusal(status: 422, code: .businessRule, text: "Système d'identifiant inconnu : \(system).")
        }
        let expectedCode = system == IdentifierSystem.idnps ? IdentifierSystem.codeIDNPS : IdentifierSystem.codeINTRN
        if let codes = identifier.type?.coding?.compactMap(\.code), !codes.isEmpty, !codes.contains(expectedCode) {
            throw Refusal(status: 422, code: .businessRule,
                          text: "Type d'identifiant \(codes.joined(separator: ",")) incohérent avec le système \(system) (attendu : \(expectedCode)).")
        }
        guard let active = p.active else { throw bad("active est obligatoire.") }
        guard let name = p.name?.first, let family = name.family, !family.isEmpty, let given = name.given?.first, !given.isEmpty else {
            throw bad("name.family et name.given sont obligatoires.")
        }
        guard let email = p.telecom?.first(where: { $0.system == "email" })?.value, email.contains("@") else {
            throw bad("telecom (e-mail) est obligatoire.")
        }
        return Fields(system: system, value: value, active: active, family: family, given: given, email: email)
    }
}
