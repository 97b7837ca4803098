import Foundation

/// Which aggregation flow produced a slot.
public enum SlotFlow: String, Hashable, Sendable, Codable, CaseIterable {
    /// INT_R01: practitioner acting individually.
    case individual
    /// INT_R04: practitioner slots, possibly shared with CPTS structures.
    case cpts
    /// SOS Médecins fixed consultation points.
    case sos
}

/// A specialty or skill attached to a slot: coded (TRE_R38 or other) or free text.
public struct SlotSpecialty: Hashable, Sendable, Codable {
    /// Code system of `code`, if coded.
    public var system: String?
    /// Code (e.g. `SM54`), nil for text-only specialties.
    public var code: String?
    /// Display of the coding, or the concept text, whichever the editor sent.
    public var label: String?

    /// Creates a specialty.
    public init(system: String? = nil, code: String? = nil, label: String? = nil) {
        self.system = system
        self.code = code
        self.label = label
    }
}

/// The role a structure plays for a slot.
public enum StructureRole: String, Hashable, Sendable, Codable {
    /// The practitioner's practice (PractitionerRole.organization).
    case practice
    /// A CPTS the slot is shared with (INT_R04).
    case cpts
    /// The SOS Médecins association (SOS flow).
    case sosAssociation
}

/// A structure linked to a slot (CPTS FINESS, SOS SIRET, practice IDNST).
public struct SlotStructure: Hashable, Sendable, Codable {
    /// Role of the structure for this slot.
    public var role: StructureRole
    /// National structure id, when the editor sent a usable one.
    public var idnst: IDNST?
    /// Structure name.
    public var name: String?
    /// Structure phone (`+33…`).
    public var phone: String?

    /// Creates a structure reference.
    public init(role: StructureRole, idnst: IDNST? = nil, name: String? = nil, phone: String? = nil) {
        self.role = role
        self.idnst = idnst
        self.name = name
        self.phone = phone
    }
}

/// Where the consultation takes place.
public struct SlotSite: Hashable, Sendable, Codable {
    /// Site name (SOS fixed point name; usually absent for practices).
    public var name: String?
    /// Address lines.
    public var addressLines: [String]
    /// Postal code (5 digits expected).
    public var postalCode: String?
    /// City.
    public var city: String?
    /// Site or practice phone.
    public var phone: String?
    /// WGS84 latitude, when sent.
    public var latitude: Double?
    /// WGS84 longitude, when sent.
    public var longitude: Double?

    /// Creates a site.
    public init(name: String? = nil, addressLines: [String] = [], postalCode: String? = nil, city: String? = nil,
                phone: String? = nil, latitude: Double? = nil, longitude: Double? = nil) {
        self.name = name
        self.addressLines = addressLines
        self.postalCode = postalCode
        self.city = city
        self.phone = phone
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// The editor-assigned ids behind a slot (for tracing and de-duplication).
public struct SlotSourceIDs: Hashable, Sendable, Codable {
    /// Slot id.
    public var slot: String?
    /// Slot entry fullUrl.
    public var fullUrl: String?
    /// Schedule id.
    public var schedule: String?
    /// Practitioner id.
    public var practitioner: String?
    /// PractitionerRole id.
    public var practitionerRole: String?
    /// Location id (contained or bundled).
    public var location: String?

    /// Creates source ids.
    public init(slot: String? = nil, fullUrl: String? = nil, schedule: String? = nil, practitioner: String? = nil,
                practitionerRole: String? = nil, location: String? = nil) {
        self.slot = slot
        self.fullUrl = fullUrl
        self.schedule = schedule
        self.practitioner = practitioner
        self.practitionerRole = practitionerRole
        self.location = location
    }
}

/// One free slot from an editor, normalised into domain terms (the output of FHIR bundle normalisation).
public struct AggregatedSlot: Hashable, Sendable, Codable {
    /// Flow that produced the slot.
    public var flow: SlotFlow
    /// Practitioner national id; nil for SOS slots (the effecting doctor is not known).
    public var practitioner: IDNPS?
    /// Practitioner family name ("nom d'exercice"), when sent.
    public var practitionerFamilyName: String?
    /// Practitioner given name, when sent.
    public var practitionerGivenName: String?
    /// Structures: practice IDNST, CPTS (FINESS) or SOS association (SIRET).
    public var structures: [SlotStructure]
    /// Consultation site.
    public var site: SlotSite
    /// Start instant.
    public var start: Date
    /// End instant.
    public var end: Date
    /// Whether the editor sent local times without an offset (interpreted as Europe/Paris).
    public var assumedLocalTime: Bool
    /// Who may see the slot.
    public var kinds: SlotKinds
    /// Consultation types.
    public var consultationTypes: ConsultationTypes
    /// Booking mode; nil when the editor did not say.
    public var bookingMode: BookingMode?
    /// Consultation reasons ("motifs"), free text.
    public var reasons: [String]
    /// Specialties / skills.
    public var specialties: [SlotSpecialty]
    /// Booking URL on the editor side (`Slot.comment`), without the `origin` parameter.
    public var bookingURL: String?
    /// Editor-assigned ids.
    public var source: SlotSourceIDs

    /// Creates a slot.
    public init(flow: SlotFlow, practitioner: IDNPS?, practitionerFamilyName: String? = nil,
                practitionerGivenName: String? = nil, structures: [SlotStructure] = [], site: SlotSite = SlotSite(),
                start: Date, end: Date, assumedLocalTime: Bool = false, kinds: SlotKinds = [],
                consultationTypes: ConsultationTypes = [], bookingMode: BookingMode? = nil, reasons: [String] = [],
                specialties: [SlotSpecialty] = [], bookingURL: String? = nil, source: SlotSourceIDs = SlotSourceIDs()) {
        self.flow = flow
        self.practitioner = practitioner
        self.practitionerFamilyName = practitionerFamilyName
        self.practitionerGivenName = practitionerGivenName
        self.structures = structures
        self.site = site
        self.start = start
        self.end = end
        self.assumedLocalTime = assumedLocalTime
        self.kinds = kinds
        self.consultationTypes = consultationTypes
        self.bookingMode = bookingMode
        self.reasons = reasons
        self.specialties = specialties
        self.bookingURL = bookingURL
        self.source = source
    }

    /// Whether the slot can be booked (walk-in slots cannot; an unspecified mode counts as bookable).
    public var withAppointment: Bool { bookingMode != .walkIn }

    /// Structures playing `role`.
    public func structures(_ role: StructureRole) -> [SlotStructure] { structures.filter { $0.role == role } }

    /// Duration in seconds.
    public var duration: TimeInterval { end.timeIntervalSince(start) }
}
