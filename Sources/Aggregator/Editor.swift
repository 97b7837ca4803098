import Foundation

/// A vendor ("éditeur") whose booking software the platform talks to over FHIR with mTLS.
public struct Editor: Sendable, Equatable, Codable {
    /// The FHIR flows a vendor may have enabled.
    public enum Flow: String, Sendable, Codable, CaseIterable, Comparable {
        /// INT_R01: slots of individual practitioners.
        case r01
        /// INT_R04: slots of practitioners in CPTS.
        case r04
        /// SOS Médecins: slots of fixed consultation places.
        case sos
        /// INT_R02: regulator accounts.
        case r02
        /// INT_R03: the vendor sends appointments to the platform.
        case r03

        public static func < (a: Flow, b: Flow) -> Bool { a.rawValue < b.rawValue }
    }

    /// Deployment environment of the vendor endpoint (ANS: recette, pré-production, production).
    public enum Environment: String, Sendable, Codable, CaseIterable {
        case recette, preproduction, production
    }

    /// Where the vendor stands in onboarding (ANS: first contact, scoping, acceptance testing, in service), or
    /// suspended: a suspended vendor is not called (``enabled`` is false).
    public enum OnboardingState: String, Sendable, Codable, CaseIterable {
        case contact, cadrage, recette
        case enService = "en_service"
        case suspendu

        public var label: String {
            switch self {
            case .contact: return "Premier contact"
            case .cadrage: return "Cadrage"
            case .recette: return "Recette"
            case .enService: return "En service"
            case .suspendu: return "Suspendu"
            }
        }
    }

    /// Stable identifier (`doctolib`, `sandbox-a`): lower-case letters, digits and dashes.
    public var id: String
    /// Display name shown to regulators ("Doctolib").
    public var name: String
    public var environment: Environment
    /// FHIR base URL of the vendor for this environment (https).
    public var baseURL: String
    public var flows: Set<Flow>
    /// The platform's client certificate and key to present to this vendor (nil: the platform's default identity).
    public var clientCertificatePath: String?
    public var clientKeyPath: String?
    /// CA certificates the vendor's server certificate must chain to (nil: the platform's default trust anchors).
    public var serverCAPath: String?
    /// The name the vendor's server certificate must carry (SAN DNS name, or CN without SAN) when it differs from the
    /// base URL's host — e.g. an endpoint reached by IP address, or behind a name the certificate does not list.
    /// The connection still goes to the base URL's host; nil checks the base URL's host.
    public var serverName: String?
    /// CN and OU of the client certificate the vendor presents when it calls the platform (INT_R03).
    public var inboundCommonName: String?
    public var inboundOrganizationalUnit: String?
    /// Per-vendor timeout override, in milliseconds (capped by the search deadline).
    public var timeoutMilliseconds: Int?
    public var enabled: Bool
    public var onboardingState: OnboardingState
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, name: String, environment: Environment = .production, baseURL: String, flows: Set<Flow>,
        clientCertificatePath: String? = nil, clientKeyPath: String? = nil, serverCAPath: String? = nil,
        inboundCommonName: String? = nil, inboundOrganizationalUnit: String? = nil, timeoutMilliseconds: Int? = nil,
        enabled: Bool = true, onboardingState: OnboardingState = .enService, serverName: String? = nil,
        createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.onboardingState = onboardingState
        self.serverName = serverName
        self.id = id
        self.name = name
        self.environment = environment
        self.baseURL = baseURL
        self.flows = flows
        self.clientCertificatePath = clientCertificatePath
        self.clientKeyPath = clientKeyPath
        self.serverCAPath = serverCAPath
        self.inboundCommonName = inboundCommonName
        self.inboundOrganizationalUnit = inboundOrganizationalUnit
        self.timeoutMilliseconds = timeoutMilliseconds
        self.enabled = enabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Checks the registration; returns French messages, one per problem (empty when valid).
    public func problems() -> [String] {
        var problems: [String] = []
        if id.isEmpty || id.count > 64 || !id.allSatisfy({ ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" }) {
            problems.append("identifiant « \(id) » invalide : lettres minuscules, chiffres et tirets, 64 caractères au plus")
        }
        if name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("le nom est obligatoire") }
        if let url = URL(string: baseURL), url.scheme == "https", url.host != nil, url.query == nil {
        } else {
            problems.append("URL de base « \(baseURL) » invalide : https://hôte[:port]/chemin attendu, sans paramètres")
        }
        if flows.isEmpty { problems.append("au moins un flux (r01, r04, sos, r02, r03) doit être activé") }
        if let serverCAPath, !FileManager.default.isReadableFile(atPath: serverCAPath) {
            problems.append("AC du certificat serveur introuvable sur ce nœud : \(serverCAPath)")
        }
        if (clientCertificatePath == nil) != (clientKeyPath == nil) {
            problems.append("le certificat client et sa clé vont ensemble")
        }
        if (inboundCommonName == nil) != (inboundOrganizationalUnit == nil) {
            problems.append("le CN et l'OU attendus du certificat de l'éditeur vont ensemble")
        }
        if flows.contains(.r03) && inboundCommonName == nil {
            problems.append("le flux r03 (rendez-vous envoyés par l'éditeur) exige le CN et l'OU de son certificat client")
        }
        if let serverName, serverName.isEmpty || serverName.count > 253
            || !serverName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) {
            problems.append("nom de serveur attendu « \(serverName) » invalide : un nom d'hôte (lettres, chiffres, points, tirets)")
        }
        if onboardingState == .suspendu && enabled {
            problems.append("un éditeur suspendu n'est pas appelé : il ne peut pas être actif")
        }
        if let timeout = timeoutMilliseconds, !(100...7000).contains(timeout) {
            problems.append("délai \(timeout) ms hors bornes : entre 100 et 7000 ms (délai maximal du guide d'implémentation)")
        }
        return problems
    }

    /// The FHIR base URL without a trailing slash.
    public var normalisedBaseURL: String {
        baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }
}
