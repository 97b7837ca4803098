// FHIR: the FHIR R4 subset used by SAS (models, tolerant JSON decoding, references, normalisation, builders).
import SASDomain

/// Canonical URLs (code systems, profiles, extensions) of the SAS IG and FR Core that the FHIR module matches or emits.
public enum FHIRSystems {
    /// TRE_R314 slot kinds (`Slot.meta.security`).
    public static let slotKind = SlotKind.system
    /// v3-ActCode consultation types (`Slot.serviceType`).
    public static let actCode = ConsultationType.system
    /// v2-0276 booking mode (`Slot.appointmentType`).
    public static let appointmentReason = BookingMode.system
    /// TRE_R38 ordinal specialties.
    public static let specialtyR38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
    /// TRE_R66 establishment category as in the profile (code `604` = CPTS).
    public static let establishmentCategory = "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"
    /// The TRE_R66 spellings seen in the IG (digest §8.2); CPTS detection must not depend on which one is used.
    public static let establishmentCategoryVariants: Set<String> = [
        establishmentCategory,
        "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/TRE_R66-CategorieEtablissement",
        "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement",
    ]
    /// TRE_R66 code of a CPTS.
    public static let cptsCategoryCode = "604"
    /// R5 `Slot.serviceType` reference extension used by CPTS slots.
    public static let slotServiceTypeExtension = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
    /// FR Core appointment operator (the regulator who booked).
    public static let appointmentOperatorExtension = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
    /// FHIR participation status code system.
    public static let participationStatus = "http://hl7.org/fhir/participationstatus"
    /// v3 participation type (SOS appointment `ADM`).
    public static let participationType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

    /// Profiles of the PS (INT_R01) aggregator.
    public enum Profile {
        /// Bundle.
        public static let bundle = "http://sas.fr/fhir/StructureDefinition/BundleAgregateur"
        /// Slot.
        public static let slot = "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur"
        /// Schedule.
        public static let schedule = "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"
        /// Practitioner.
        public static let practitioner = "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"
        /// PractitionerRole.
        public static let practitionerRole = "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"
        /// Contained Location.
        public static let location = "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"
        /// Appointment (INT_R03, PS and CPTS).
        public static let appointment = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"
        /// Regulator account (INT_R02).
        public static let practitionerRegul = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul"
        /// CPTS bundle.
        public static let cptsBundle = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator"
        /// CPTS slot.
        public static let cptsSlot = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator"
        /// CPTS HealthcareService.
        public static let cptsHealthcareService = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator"
        /// CPTS Organization.
        public static let cptsOrganization = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator"
        /// SOS bundle.
        public static let sosBundle = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator"
        /// SOS slot.
        public static let sosSlot = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator"
        /// SOS schedule.
        public static let sosSchedule = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-schedule-aggregator"
        /// SOS location (fixed consultation point).
        public static let sosLocation = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-location-aggregator"
        /// SOS organization (association).
        public static let sosOrganization = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-organization-aggregator"
        /// SOS appointment.
        public static let sosAppointment = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment"
    }

    /// Strings worth interning while decoding: they repeat in every entry of a vendor bundle.
    static let internedStrings: [String] = [
        slotKind, actCode, appointmentReason, specialtyR38, establishmentCategory, slotServiceTypeExtension,
        appointmentOperatorExtension, participationStatus, participationType,
        IdentifierSystem.idnps, IdentifierSystem.idnst, IdentifierSystem.sasTechnical, IdentifierSystem.frV20203,
        IdentifierSystem.frLocationIdentifierType, IdentifierSystem.frCoreV20203,
        Profile.bundle, Profile.slot, Profile.schedule, Profile.practitioner, Profile.practitionerRole, Profile.location,
        Profile.appointment, Profile.practitionerRegul, Profile.cptsBundle, Profile.cptsSlot, Profile.cptsHealthcareService,
        Profile.cptsOrganization, Profile.sosBundle, Profile.sosSlot, Profile.sosSchedule, Profile.sosLocation,
        Profile.sosOrganization, Profile.sosAppointment,
        "free", "busy", "match", "include", "official", "PUBLIC", "PRO", "SNP", "CPTS", "AMB", "HH", "VR", "ROUTINE",
        "WALKIN", "IDNPS", "IDNST", "INTRN", "SM54", "phone", "email", "work", "searchset", "self", "accepted",
        "Médecine générale", "http://hl7.org/fhir/days-of-week", "https://editeur.com",
    ] + Array(FHIRSystems.establishmentCategoryVariants)
}
