import Foundation

/// FHIR `Slot` (FrSlotAgregateur, CPTS and SOS variants).
public struct Slot: Hashable, Sendable, Codable {
    public var resourceType: String = "Slot"
    public var id: String?
    public var meta: Meta?
    public var extension_: [Extension]?
    public var identifier: [Identifier]?
    public var serviceCategory: [CodeableConcept]?
    /// Consultation types (coded), motifs (text) and, for CPTS, TRE_R66 `604` concepts with the R5 reference extension.
    public var serviceType: [CodeableConcept]?
    public var specialty: [CodeableConcept]?
    public var appointmentType: CodeableConcept?
    public var schedule: Reference?
    public var status: String?
    public var start: FHIRInstant?
    public var end: FHIRInstant?
    public var overbooked: Bool?
    /// Booking URL on the editor side.
    public var comment: String?

    public init(id: String? = nil) { self.id = id }

    /// The R5 `serviceType` references (CPTS HealthcareServices) carried by this slot.
    public var serviceTypeReferences: [Reference] {
        (serviceType ?? []).flatMap { concept in
            (concept.extension_ ?? []).compactMap { ext in
                ext.url.trimmedASCII == FHIRSystems.slotServiceTypeExtension ? ext.valueReference : nil
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case resourceType, id, meta, extension_ = "extension", identifier, serviceCategory, serviceType, specialty,
             appointmentType, schedule, status, start, end, overbooked, comment
    }
}

/// FHIR `Schedule` (one per PractitionerRole for PS, one per fixed point for SOS).
public struct Schedule: Hashable, Sendable, Codable {
    public var resourceType: String = "Schedule"
    public var id: String?
    public var meta: Meta?
    public var identifier: [Identifier]?
    public var active: Bool?
    public var serviceType: [CodeableConcept]?
    public var specialty: [CodeableConcept]?
    public var actor: [Reference]?
    public var planningHorizon: Period?
    public var comment: String?

    public init(id: String? = nil) { self.id = id }
}
