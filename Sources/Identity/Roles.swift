/// The roles of the live platform. A route declares the roles it admits; an account holds one or more roles.
public enum Role: String, Sendable, CaseIterable, Codable, Hashable {
    /// Médecin régulateur, OSNP or ARM: searches and orients patients.
    case regulator
    /// Infirmier d'orientation et d'accueil: searches and orients, like a regulator.
    case ioa
    /// A health professional taking SAS patients ("effecteur").
    case healthProfessional = "health_professional"
    /// The manager of a structure (CPTS, MSP, CDS, SOS Médecins).
    case structureManager = "structure_manager"
    /// A secretary acting for a practitioner or a structure.
    case delegate
    /// The SAS territorial referent.
    case territorialReferent = "territorial_referent"
    /// Creates and maintains accounts of his territories.
    case accountManager = "account_manager"
    /// Administers the platform for his territories.
    case administrator
    /// Administers the whole platform (vendors, registries, every territory).
    case nationalAdministrator = "national_administrator"

    /// The French label shown in the UI.
    public var label: String {
        switch self {
        case .regulator: "Régulateur (médecin régulateur, OSNP, ARM)"
        case .ioa: "IOA"
        case .healthProfessional: "Professionnel de santé (effecteur)"
        case .structureManager: "Gestionnaire de structure"
        case .delegate: "Délégataire"
        case .territorialReferent: "Référent territorial"
        case .accountManager: "Gestionnaire de comptes"
        case .administrator: "Administrateur"
        case .nationalAdministrator: "Administrateur national"
        }
    }

    /// Parses a role name, case-insensitively, accepting `-` for `_`.
    public init?(name: String) {
        self.init(rawValue: name.lowercased().replacingOccurrences(of: "-", with: "_"))
    }
}

/// What a route needs; each maps to the roles that have it (least privilege: nothing is implied by another role).
public enum Permission: String, Sendable, CaseIterable {
    /// Search the care offer and see slots as a regulator.
    case search
    /// Book a slot or record an orientation.
    case orient
    /// Manage one's own SAS agenda and participation.
    case manageOwnAgenda
    /// Manage accounts (create, roles, reset, disable).
    case manageAccounts
    /// Read the audit trail.
    case readAudit
    /// Operate vendors, registries and platform settings.
    case operatePlatform
    /// Read activity figures (orientations, appointments, vendors' service levels) of one's territories.
    case readActivity

    /// The roles holding this permission.
    public var roles: Set<Role> {
        switch self {
        case .search, .orient: [.regulator, .ioa]
        case .manageOwnAgenda: [.healthProfessional, .structureManager, .delegate]
        case .manageAccounts: [.accountManager, .administrator, .nationalAdministrator]
        case .readAudit: [.administrator, .nationalAdministrator]
        case .operatePlatform: [.nationalAdministrator]
        case .readActivity: [.territorialReferent, .administrator, .nationalAdministrator]
        }
    }
}
