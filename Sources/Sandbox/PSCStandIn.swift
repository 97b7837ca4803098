import Crypto
import Foundation
import Hummingbird
import HummingbirdTLS
import JWTKit
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import SASDomain
import TLS

/// A test professional of the Pro Santé Connect stand-in, shaped like a CPS/e-CPS identity (userinfo of §1.5 of
/// `ecosystem.md`: every field a string, `SubjectRefPro.exercices[].activities[]`).
public struct PSCProfessional: Sendable, Codable, Equatable {
    public struct Activity: Sendable, Codable, Equatable {
        public var modeExercice: String
        public var secteur: String
        public var siret: String
        public var finess: String
        public var structureID: String
        public var raisonSociale: String
        public var codePostal: String
        public var codeCommune: String
        public var telephone: String
        public init(modeExercice: String, secteur: String, siret: String = "", finess: String = "", structureID: String,
                    raisonSociale: String, codePostal: String, codeCommune: String, telephone: String = "") {
            self.modeExercice = modeExercice
            self.secteur = secteur
            self.siret = siret
            self.finess = finess
            self.structureID = structureID
            self.raisonSociale = raisonSociale
            self.codePostal = codePostal
            self.codeCommune = codeCommune
            self.telephone = telephone
        }
    }

    public struct Exercice: Sendable, Codable, Equatable {
        public var profession: String
        public var savoirFaire: String
        public var activities: [Activity]
        public init(profession: String, savoirFaire: String, activities: [Activity]) {
            self.profession = profession
            self.savoirFaire = savoirFaire
            self.activities = activities
        }
    }

    /// IDNPS (`8` + RPPS, `0` + ADELI).
    public var idnps: String
    public var civilite: String
    public var givenName: String
    public var familyName: String
    public var email: String
    public var exercices: [Exercice]
    /// Stable Keycloak-like user id (the `sub` is `f:<uuid>:<IDNPS>`).
    public var uuid: String

    public init(idnps: String, civilite: String, givenName: String, familyName: String, email: String,
                exercices: [Exercice], uuid: String = UUID().uuidString.lowercased()) {
        self.idnps = idnps
        self.civilite = civilite
        self.givenName = givenName
        self.familyName = familyName
        self.email = email
        self.exercices = exercices
        self.uuid = uuid
    }

    public var subject: String { "f:\(uuid):\(idnps)" }

    /// The fixtures of `ecosystem.md` §1.7: a GP (libéral), a salaried hospital doctor, a nurse, a practitioner
    /// with two practices, one without any activity. RPPS numbers are in the test range `997…` with valid keys.
    public static let fixtures: [PSCProfessional] = {
        func idnps(_ first10: String) -> String { "8" + RPPS.withCheckDigit(first10) }
        let lyonCabinet = Activity(modeExercice: "L", secteur: "SA07", structureID: "R10000001", raisonSociale: "CABINET DU DR MARTIN",
                                   codePostal: "69003", codeCommune: "69383", telephone: "0478000001")
        let hospital = Activity(modeExercice: "S", secteur: "SA01", finess: "690781810", structureID: "F690781810",
                                raisonSociale: "HOSPICES CIVILS DE LYON", codePostal: "69002", codeCommune: "69382")
        return [
            PSCProfessional(idnps: idnps("9970000001"), civilite: "DR", givenName: "Claire", familyName: "MARTIN",
                            email: "claire.martin@regulation.sas.localhost",
                            exercices: [Exercice(profession: "10", savoirFaire: "SM54", activities: [lyonCabinet])],
                            uuid: "6f1d8c2e-0000-4000-8000-000000000001"),
            PSCProfessional(idnps: idnps("9970000002"), civilite: "DR", givenName: "Paul", familyName: "DURAND",
                            email: "paul.durand@chu.sas.localhost",
                            exercices: [Exercice(profession: "10", savoirFaire: "SM26", activities: [hospital])],
                            uuid: "6f1d8c2e-0000-4000-8000-000000000002"),
            PSCProfessional(idnps: idnps("9970000003"), civilite: "MME", givenName: "Sophie", familyName: "BERNARD",
                            email: "sophie.bernard@ide.sas.localhost",
                            exercices: [Exercice(profession: "60", savoirFaire: "", activities: [lyonCabinet])],
                            uuid: "6f1d8c2e-0000-4000-8000-000000000003"),
            PSCProfessional(idnps: idnps("9970000004"), civilite: "DR", givenName: "Jean", familyName: "PETIT",
                            email: "jean.petit@sas.localhost",
                            exercices: [Exercice(profession: "10", savoirFaire: "SM54", activities: [lyonCabinet]),
                                        Exercice(profession: "10", savoirFaire: "SM54", activities: [hospital])],
                            uuid: "6f1d8c2e-0000-4000-8000-000000000004"),
            PSCProfessional(idnps: idnps("9970000005"), civilite: "DR", givenName: "Anne", familyName: "ROUX",
                            email: "anne.roux@sas.localhost",
                            exercices: [Exercice(profession: "10", savoirFaire: "SM54", activities: [])],
                            uuid: "6f1d8c2e-0000-4000-8000-000000000005"),
        ]
    }()

    /// The userinfo claims, as PSC sends them.
    func userinfo() -> [String: JSONClaim] {
        let refPro: JSONClaim = .object([
            "codeCivilite": .string(civilite),
            "exercices": .array(exercices.map { exercice in
                .object([
                    "codeProfession": .string(exercice.profession),
                    "codeCategorieProfessionnelle": .string("C"),
                    "codeCiviliteDexercice": .string(civilite),
                    "nomDexercice": .string(familyName),
                    "prenomDexercice": .string(givenName),
                    "codeTypeSavoirFaire": .string(exercice.savoirFaire.isEmpty ? "" : "S"),
                    "codeSavoirFaire": .string(exercice.savoirFaire),
                    "activities": .array(exercice.activities.map { a in
                        .object([
                            "codeModeExercice": .string(a.modeExercice), "codeSecteurDactivite": .string(a.secteur),
                            "codeSectionPharmacien": .string(""), "codeRole": .string(""),
                            "numeroSiretSite": .string(a.siret), "numeroSirenSite": .string(""),
                            "numeroFinessSite": .string(a.finess), "numeroFinessetablissementJuridique": .string(""),
                            "identifiantTechniqueDeLaStructure": .string(a.structureID),
                            "raisonSocialeSite": .string(a.raisonSociale), "enseigneCommercialeSite": .string(""),
                            "codePostal": .string(a.codePostal), "codeCommune": .string(a.codeCommune),
                            "codePays": .string("99000"), "telephone": .string(a.telephone),
                            "codeDepartement": .string(String(a.codePostal.prefix(2))),
                            "ancienIdentifiantDeLaStructure": .string(""), "autoriteDenregistrement": .string("CNOM/CNOM/CNOM"),
                        ])
                    }),
                ])
            }),
        ])
        return [
            "sub": .string(subject), "preferred_username": .string(idnps), "SubjectNameID": .string(idnps),
            "given_name": .string(givenName), "family_name": .string(familyName), "email": .string(email),
            "email_verified": .bool(false),
            "SubjectOrganization": .string(exercices.first?.activities.first?.raisonSociale ?? ""),
            "SubjectRole": .array(exercices.map { .string("\($0.profession)^1.2.250.1.213.1.1.5.5") }),
            "Secteur_Activite": .string((exercices.first?.activities.first?.secteur).map { "\($0)^1.2.250.1.71.4.2.4" } ?? ""),
            "authMode": .string("CARD"), "Acces_Regulation_Medicale": .string("FAUX"),
            "otherIds": .array([.object(["identifiant": .string(idnps), "origine": .string("RPPS"), "qualite": .int(1)])]),
            "SubjectRefPro": refPro,
        ]
    }
}

/// A small JSON value for claims (JWTKit payloads must be Codable).
public enum JSONClaim: Sendable, Codable, Equatable {
    case string(String), int(Int), bool(Bool), array([JSONClaim]), object([String: JSONClaim]), null

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .int(let i): try container.encode(i)
        case .bool(let b): try container.encode(b)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        case .null: try container.encodeNil()
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int.self) { self = .int(i) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONClaim].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONClaim].self)) }
    }
}

/// A JWT payload made of free claims.
struct FreeClaims: JWTPayload {
    var claims: [String: JSONClaim]
    init(_ claims: [String: JSONClaim]) { self.claims = claims }
    func encode(to encoder: any Encoder) throws { try claims.encode(to: encoder) }
    init(from decoder: any Decoder) throws { claims = try [String: JSONClaim](from: decoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A client registered with the stand-in.
public struct PSCClientRegistration: Sendable, Equatable {
    public var clientID: String
    public var secret: String
    public var redirectURIs: [String]
    public var postLogoutRedirectURIs: [String]
    public init(clientID: String, secret: String, redirectURIs: [String], postLogoutRedirectURIs: [String] = []) {
        self.clientID = clientID
        self.secret = secret
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
    }
}

/// Faults the stand-in can inject, to test every refusal of the client (changed at run time, in process or through
/// `PUT /_sandbox/psc`).
public struct PSCFaults: Sendable, Codable, Equatable {
    /// `ES256` (JWKS, default) or `HS256` (client secret), as PSC allows both.
    public var signing = "ES256"
    /// `json` or `jwt` (signed userinfo).
    public var userinfo = "json"
    /// The `acr` claim of id_tokens.
    public var acr = "eidas1"
    /// Lifetime of id_tokens in seconds (negative: already expired).
    public var idTokenSeconds = 300
    /// Replaces the `nonce` claim.
    public var nonce: String?
    /// Replaces the issuer claim.
    public var issuer: String?
    /// Replaces the audience claim.
    public var audience: String?
    /// Corrupts the signature of id_tokens.
    public var badSignature = false
    /// Requires `acr_values=eidas1` and PKCE S256 on the authorization request (PSC does).
    public var strict = true
    public init() {}
}

/// The Pro Santé Connect stand-in: an OpenID Connect provider on loopback with PSC's paths and quirks (discovery at
/// `…/.well-known/wallet-openid-configuration`, authorization on the "wallet" path, `acr=eidas1`, PKCE S256, userinfo
/// as JSON or JWT, ES256 or HS256 id_tokens, key rotation), a login page listing test professionals, and a browser
/// session so that a second client is answered without asking again (SSO to vendors).
public final class PSCStandIn: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 0
        /// HTTPS identity (dev PKI).
        public var certificatePath: String
        public var keyPath: String
        public var professionals = PSCProfessional.fixtures
        public var clients: [PSCClientRegistration] = []
        public var codeLifetime: TimeInterval = 60
        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    struct PendingCode {
        var clientID: String
        var redirectURI: String
        var challenge: String?
        var nonce: String?
        var professional: PSCProfessional
        var expires: Date
        var authTime: Date
    }

    struct State {
        var clients: [String: PSCClientRegistration] = [:]
        var codes: [String: PendingCode] = [:]
        var usedCodes: Set<String> = []
        var accessTokens: [String: (professional: PSCProfessional, clientID: String)] = [:]
        var browserSessions: [String: (professional: PSCProfessional, authTime: Date)] = [:]
        var faults = PSCFaults()
        var keys: [(kid: String, key: ES256PrivateKey)] = []
    }

    public let configuration: Configuration
    let state: NIOLockedValueBox<State>
    let logger: Logger
    private let bound = NIOLockedValueBox<Int?>(nil)
    static let realm = "/auth/realms/esante-wallet"

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var state = State()
        for client in configuration.clients { state.clients[client.clientID] = client }
        state.keys = [(kid: "psc-" + Self.random(6), key: ES256PrivateKey())]
        self.state = NIOLockedValueBox(state)
    }

    /// The bound port once running.
    public var port: Int? { bound.withLockedValue { $0 } }
    public var origin: String {
        "https://\(configuration.host):\(port ?? configuration.port)"
    }
    public var issuer: String { origin + Self.realm }
    /// The PSC-style discovery URL.
    public var discoveryURL: String { issuer + "/.well-known/wallet-openid-configuration" }

    /// Current faults.
    public var faults: PSCFaults {
        get { state.withLockedValue { $0.faults } }
        set { state.withLockedValue { $0.faults = newValue } }
    }

    /// Registers (or replaces) a client.
    public func register(_ client: PSCClientRegistration) {
        state.withLockedValue { $0.clients[client.clientID] = client }
    }

    /// Adds a signing key and drops the oldest (the JWKS then only lists the new one): clients must refetch.
    @discardableResult
    public func rotateKeys() -> String {
        let kid = "psc-" + Self.random(6)
        state.withLockedValue { $0.keys = [(kid: kid, key: ES256PrivateKey())] }
        return kid
    }

    /// The HTTPS server (dev PKI identity), as a service to run in a ServiceGroup.
    public func application() throws -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        register(on: router)
        let bound = self.bound
        var tls = try TLSConfigurations.server(certificatePath: configuration.certificatePath, keyPath: configuration.keyPath)
        tls.minimumTLSVersion = .tlsv12
        return Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "psc-sandbox"),
            onServerRunning: { channel in bound.withLockedValue { $0 = channel.localAddress?.port } },
            logger: logger)
    }

    static func random(_ bytes: Int) -> String {
        var data = [UInt8](repeating: 0, count: bytes)
        var generator = SystemRandomNumberGenerator()
        for i in data.indices { data[i] = generator.next() }
        return Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

