/// The hand-written table of what regulators type in the "spécialité" box, mapped to codes.
///
/// Keys are normalised with ``TextNormalizer/key(_:)`` at load time, so accents, case and hyphens don't matter.
public enum SpecialtySynonyms {
    /// TRE_G15 profession codes used by the table.
    public enum Profession {
        /// Médecin.
        public static let doctor = "10"
        /// Pharmacien.
        public static let pharmacist = "21"
        /// Chirurgien-dentiste.
        public static let dentist = "40"
        /// Sage-femme.
        public static let midwife = "50"
        /// Infirmier.
        public static let nurse = "60"
        /// Masseur-kinésithérapeute.
        public static let physiotherapist = "70"
        /// Pédicure-podologue.
        public static let podiatrist = "80"
        /// Orthophoniste.
        public static let speechTherapist = "91"
        /// Orthoptiste.
        public static let orthoptist = "92"
        /// Psychologue.
        public static let psychologist = "93"

        /// French labels of the professions above.
        public static let labels: [String: String] = [
            "10": "Médecin", "21": "Pharmacien", "40": "Chirurgien-dentiste", "50": "Sage-femme",
            "60": "Infirmier", "70": "Masseur-kinésithérapeute", "80": "Pédicure-podologue",
            "91": "Orthophoniste", "92": "Orthoptiste", "93": "Psychologue",
        ]
    }

    static let gp = SearchTarget(label: "Médecine générale", specialtyCodes: Specialties.generalPracticeCodes,
                                 professionCodes: [Profession.doctor])

    private static func sm(_ label: String, _ codes: String...) -> SearchTarget {
        SearchTarget(label: label, specialtyCodes: codes, professionCodes: [Profession.doctor])
    }

    private static func profession(_ code: String) -> SearchTarget {
        SearchTarget(label: Profession.labels[code] ?? code, professionCodes: [code])
    }

    /// (typed terms, target) pairs.
    public static let table: [([String], SearchTarget)] = [
        (["médecin généraliste", "médecins généralistes", "généraliste", "generaliste", "médecine générale", "MG",
          "médecin traitant", "omnipraticien", "médecin", "docteur", "medecin de famille"], gp),
        (["pédiatre", "pédiatrie", "médecin pour enfant"], sm("Pédiatrie", "SM40", "SM87", "SM88", "SM89", "SM90")),
        (["gynéco", "gynécologue", "gynécologie", "gyneco"], sm("Gynécologie", "SM19", "SM20", "SM51", "SM52")),
        (["obstétricien", "gynécologue obstétricien", "obstétrique"], sm("Gynécologie-obstétrique", "SM20", "SM51")),
        (["ophtalmo", "ophtalmologue", "ophtalmologiste", "ophtalmologie"], sm("Ophtalmologie", "SM38", "SM85")),
        (["ORL", "oto-rhino", "oto-rhino-laryngologiste"], sm("ORL", "SM34", "SM39", "SM86")),
        (["dermato", "dermatologue", "dermatologie"], sm("Dermatologie", "SM15")),
        (["cardio", "cardiologue", "cardiologie"], sm("Cardiologie", "SM04", "SM73", "SM79", "SM80", "SM81")),
        (["psychiatre", "psychiatrie", "psy"], sm("Psychiatrie", "SM42", "SM43", "SM92", "SM93")),
        (["pédopsychiatre", "pédopsy", "psychiatre enfant"], sm("Pédopsychiatrie", "SM43", "SM92")),
        (["urgentiste", "urgences", "médecin urgentiste"], sm("Médecine d'urgence", "SM59")),
        (["rhumato", "rhumatologue"], sm("Rhumatologie", "SM48")),
        (["pneumo", "pneumologue"], sm("Pneumologie", "SM41", "SM91")),
        (["neuro", "neurologue"], sm("Neurologie", "SM32", "SM84")),
        (["gastro", "gastro-entérologue", "gastroentérologue", "hépato-gastro"], sm("Gastro-entérologie", "SM24")),
        (["endocrino", "endocrinologue", "diabétologue"], sm("Endocrinologie", "SM16", "SM62")),
        (["radiologue", "radiologie", "radio", "imagerie"], sm("Radiologie", "SM44", "SM55", "SM74", "SM94")),
        (["gériatre", "gériatrie"], sm("Gériatrie", "SM18")),
        (["allergologue"], sm("Allergologie", "SM57")),
        (["urologue"], sm("Urologie", "SM12")),
        (["néphrologue"], sm("Néphrologie", "SM30", "SM83")),
        (["angiologue", "phlébologue"], sm("Médecine vasculaire", "SM61")),
        (["dentiste", "chirurgien-dentiste", "chirurgien dentiste", "dentaire"], profession(Profession.dentist)),
        (["sage-femme", "sage femme", "sages-femmes", "maïeuticien"], profession(Profession.midwife)),
        (["kiné", "kine", "kinési", "kinésithérapeute", "masseur-kinésithérapeute", "kinésithérapie"],
         profession(Profession.physiotherapist)),
        (["infirmier", "infirmière", "IDE", "IDEL", "soins infirmiers"], profession(Profession.nurse)),
        (["pharmacien", "pharmacie"], profession(Profession.pharmacist)),
        (["orthophoniste"], profession(Profession.speechTherapist)),
        (["orthoptiste"], profession(Profession.orthoptist)),
        (["psychologue"], profession(Profession.psychologist)),
        (["podologue", "pédicure", "pédicure-podologue"], profession(Profession.podiatrist)),
        (["SOS", "SOS Médecins", "sos medecin"],
         SearchTarget(label: "SOS Médecins", specialtyCodes: Specialties.generalPracticeCodes,
                      professionCodes: [Profession.doctor], structureKinds: [.sosMedecins])),
        (["CPTS", "communauté professionnelle territoriale de santé"],
         SearchTarget(label: "CPTS", structureKinds: [.cpts])),
        (["MSP", "maison de santé", "maison de santé pluriprofessionnelle", "maison médicale"],
         SearchTarget(label: "Maison de santé pluriprofessionnelle", structureKinds: [.msp])),
        (["CDS", "centre de santé", "centre médical"],
         SearchTarget(label: "Centre de santé", structureKinds: [.cds])),
    ]
}
