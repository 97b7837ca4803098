import Foundation

/// FHIR `Appointment` (FrAppointmentSAS / sas-sos-appointment, INT_R03) with the FR Core operator extension.
public struct Appointment: Hashable, Sendable, Codable {
    public var resourceType: String = "Appointment"
    public var id: String?
    public var meta: Meta?
    /// Carries `FrAppointmentOperator` (the regulator who booked).
    public var extension_: [Extension]?
    public var identifier: [Identifier]?
    public var status: String?
    public var serviceType: [CodeableConcept]?
    public var specialty: [CodeableConcept]?
    public var appointmentType: CodeableConcept?
    public var description: String?
    public var start: FHIRInstant?
    public var end: FHIRInstant?
    public var created: FHIRInstant?
    public var comment: String?
    public var participant: [Participant]?

    public init(id: String? = nil) { self.id = id }

    /// `Appointment.participant`.
    public struct Participant: Hashable, Sendable, Codable {
        public var type: [CodeableConcept]?
        public var actor: Reference?
        public var required: String?
        public var status: String?

        public init(actor: Reference? = nil, status: String? = nil, type: [CodeableConcept]? = nil, required: String? = nil) {
            self.actor = actor
            self.status = status
            self.type = type
            self.required = required
        }
    }

    /// The regulator who booked (`FrAppointmentOperator.valueReference`, a logical reference by identifier).
    public var appointmentOperator: Reference? {
        get { extension_?.first { $0.url == FHIRSystems.appointmentOperatorExtension }?.valueReference }
        set {
            var others = (extension_ ?? []).filter { $0.url != FHIRSystems.appointmentOperatorExtension }
            if let newValue {
                others.insert(Extension(url: FHIRSystems.appointmentOperatorExtension, value: .reference(newValue)), at: 0)
            }
            extension_ = others.isEmpty ? nil : others
        }
    }

    /// Known appointment statuses (wire values are lower-case FHIR codes).
    public enum Status: String, Hashable, Sendable, CaseIterable {
        case proposed, pending, booked, arrived, fulfilled, cancelled, noshow
        case enteredInError = "entered-in-error"
        case checkedIn = "checked-in"
        case waitlist
    }

    /// `status` as a known value, nil when absent or unknown.
    public var knownStatus: Status? { status.flatMap(Status.init(rawValue:)) }

    enum CodingKeys: String, CodingKey {
        case resourceType, id, meta, extension_ = "extension", identifier, status, serviceType, specialty, appointmentType,
             description, start, end, created, comment, participant
    }
}
