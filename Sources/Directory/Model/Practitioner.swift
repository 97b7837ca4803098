import Foundation
import SASDomain

/// Civility of a practitioner (RPPS "Code civilité").
public enum Civility: String, Sendable, Hashable, Codable, CaseIterable {
    /// Monsieur.
    case monsieur = "M"
    /// Madame.
    case madame = "MME"

    /// RPPS label ("Monsieur", "Madame").
    public var label: String { self == .monsieur ? "Monsieur" : "Madame" }
}

/// How a practitioner takes part in the SAS (SAS `its_sas_participation_via`: 1…4).
public enum ParticipationMode: Int, Sendable, Hashable, Codable, CaseIterable {
    /// Individually.
    case individual = 1
    /// Through a CPTS.
    case cpts = 2
    /// Through a maison de santé pluriprofessionnelle.
    case msp = 3
    /// Through an SOS Médecins association.
    case sosMedecins = 4

    /// French label.
    public var label: String {
        switch self {
        case .individual: "À titre individuel"
        case .cpts: "Via une CPTS"
        case .msp: "Via une MSP"
        case .sosMedecins: "Via SOS Médecins"
        }
    }
}

/// A period during which the practitioner does not take SAS patients.
public struct VacationPeriod: Sendable, Hashable, Codable {
    /// First day (inclusive).
    public let start: Date
    /// End (exclusive).
    public let end: Date

    /// Creates a period.
    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    /// Whether `date` falls in the period.
    public func contains(_ date: Date) -> Bool { date >= start && date < end }
}

/// SAS participation settings of a practitioner.
public struct SASParticipation: Sendable, Hashable, Codable {
    /// Takes part in the SAS.
    public var participates: Bool
    /// How, when participating.
    public var mode: ParticipationMode?
    /// The structure (CPTS, MSP, SOS association) it participates through, when `mode` is not individual.
    public var structure: IDNST?
    /// Accepts patients "en sus" of its published availability (never via MSP/SOS, as in the SAS).
    public var acceptsExtraPatients: Bool
    /// Takes the "forfait de réorientation des urgences".
    public var forfaitReorientation: Bool
    /// Declared absences.
    public var vacations: [VacationPeriod]

    /// Not participating.
    public static let none = SASParticipation(participates: false, mode: nil, structure: nil,
                                              acceptsExtraPatients: false, forfaitReorientation: false, vacations: [])

    /// Memberwise initialiser.
    public init(participates: Bool, mode: ParticipationMode?, structure: IDNST?, acceptsExtraPatients: Bool,
                forfaitReorientation: Bool, vacations: [VacationPeriod]) {
        self.participates = participates
        self.mode = mode
        self.structure = structure
        self.acceptsExtraPatients = acceptsExtraPatients
        self.forfaitReorientation = forfaitReorientation
        self.vacations = vacations
    }

    /// The spatial-index flags for these settings (``ParticipationFlags/vendorAgenda`` is added by the caller).
    public var flags: ParticipationFlags {
        guard participates else { return [] }
        var f: ParticipationFlags = [.participates]
        switch mode {
        case .individual?: f.insert(.viaIndividual)
        case .cpts?: f.insert(.viaCPTS)
        case .msp?: f.insert(.viaMSP)
        case .sosMedecins?: f.insert(.viaSOS)
        case nil: break
        }
        if acceptsExtraPatients { f.insert(.acceptsExtra) }
        if forfaitReorientation { f.insert(.forfaitReorientation) }
        return f
    }
}

/// A health professional of the directory (RPPS "exercice professionnel" enriched with SAS data).
public struct Practitioner: Sendable, Hashable, Codable {
    /// National identifier (`8` + RPPS).
    public var idnps: IDNPS
    /// Civility.
    public var civility: Civility
    /// Exercise civility code ("DR" for doctors and dentists, nil otherwise).
    public var exerciseCivility: String?
    /// Family name (nom d'exercice).
    public var familyName: String
    /// Given name (prénom d'exercice).
    public var givenName: String
    /// TRE_G15 profession code ("10" médecin…).
    public var professionCode: String
    /// TRE_R38 specialty codes, primary first (may be empty for non-doctor professions).
    public var specialtyCodes: [String]
    /// SAS participation.
    public var participation: SASParticipation

    /// Memberwise initialiser.
    public init(idnps: IDNPS, civility: Civility, exerciseCivility: String?, familyName: String, givenName: String,
                professionCode: String, specialtyCodes: [String], participation: SASParticipation) {
        self.idnps = idnps
        self.civility = civility
        self.exerciseCivility = exerciseCivility
        self.familyName = familyName
        self.givenName = givenName
        self.professionCode = professionCode
        self.specialtyCodes = specialtyCodes
        self.participation = participation
    }

    /// The bare 11-digit RPPS.
    public var rpps: String { idnps.unprefixed }

    /// "Dr Marie Durand" / "Mme Marie Durand".
    public var displayName: String {
        let prefix = exerciseCivility == "DR" ? "Dr" : (civility == .madame ? "Mme" : "M.")
        return "\(prefix) \(givenName) \(familyName)"
    }

    /// Specialty labels from the TRE_R38 table (unknown codes are returned as is).
    public func specialtyLabels(in specialties: Specialties) -> [String] {
        specialtyCodes.map { specialties[code: $0]?.short ?? $0 }
    }
}
