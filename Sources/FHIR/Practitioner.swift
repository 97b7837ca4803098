import Foundation

/// FHIR `Practitioner` (FrPractitionerAgregateur, FrPractitionerRegul).
public struct Practitioner: Hashable, Sendable, Codable {
    public var resourceType: String = "Practitioner"
    public var id: String?
    public var meta: Meta?
    public var identifier: [Identifier]?
    public var active: Bool?
    public var name: [HumanName]?
    public var telecom: [ContactPoint]?
    public var address: [Address]?
    public var gender: String?

    public init(id: String? = nil) { self.id = id }
}

/// FHIR `PractitionerRole` (FrPractitionerRoleExerciceAgregateur) with its contained Location.
public struct PractitionerRole: Hashable, Sendable, Codable {
    public var resourceType: String = "PractitionerRole"
    public var id: String?
    public var meta: Meta?
    /// Contained resources (the consultation Location).
    public var contained: [Resource]?
    public var identifier: [Identifier]?
    public var active: Bool?
    public var practitioner: Reference?
    /// The practice: a logical reference by IDNST identifier.
    public var organization: Reference?
    public var code: [CodeableConcept]?
    public var specialty: [CodeableConcept]?
    public var location: [Reference]?
    public var healthcareService: [Reference]?
    public var telecom: [ContactPoint]?

    public init(id: String? = nil) { self.id = id }
}
