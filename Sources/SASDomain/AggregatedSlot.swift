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
///
/// A value type with copy-on-write storage: its fields live in one immutable-once-shared object, so copying a slot
/// (from the aggregator's cache into a search, from a search's batches into a page) costs one reference count
/// instead of one per string and array field — profiles of the search bench showed those copies and their
/// releases among the largest costs. Reading a field goes through the storage; writing one copies the storage first
/// when another value shares it.
public struct AggregatedSlot: Hashable, Sendable, Codable {
    /// The fields; shared between copies until one of them is written.
    @usableFromInline
    final class Storage: @unchecked Sendable { // mutated only while uniquely referenced (see `writable`)
        @usableFromInline var flow: SlotFlow
        @usableFromInline var practitioner: IDNPS?
        @usableFromInline var practitionerFamilyName: String?
        @usableFromInline var practitionerGivenName: String?
        @usableFromInline var structures: [SlotStructure]
        @usableFromInline var site: SlotSite
        @usableFromInline var start: Date
        @usableFromInline var end: Date
        @usableFromInline var assumedLocalTime: Bool
        @usableFromInline var kinds: SlotKinds
        @usableFromInline var consultationTypes: ConsultationTypes
        @usableFromInline var bookingMode: BookingMode?
        @usableFromInline var reasons: [String]
        @usableFromInline var specialties: [SlotSpecialty]
        @usableFromInline var bookingURL: String?
        @usableFromInline var source: SlotSourceIDs

        init(flow: SlotFlow, practitioner: IDNPS?, practitionerFamilyName: String?, practitionerGivenName: String?,
             structures: [SlotStructure], site: SlotSite, start: Date, end: Date, assumedLocalTime: Bool, kinds: SlotKinds,
             consultationTypes: ConsultationTypes, bookingMode: BookingMode?, reasons: [String], specialties: [SlotSpecialty],
             bookingURL: String?, source: SlotSourceIDs) {
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

        @usableFromInline
        func copy() -> Storage {
            Storage(flow: flow, practitioner: practitioner, practitionerFamilyName: practitionerFamilyName,
                    practitionerGivenName: practitionerGivenName, structures: structures, site: site, start: start, end: end,
                    assumedLocalTime: assumedLocalTime, kinds: kinds, consultationTypes: consultationTypes,
                    bookingMode: bookingMode, reasons: reasons, specialties: specialties, bookingURL: bookingURL, source: source)
        }
    }

    @usableFromInline var storage: Storage

    /// The storage, copied first when another value shares it.
    @inlinable
    var writable: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    /// Flow that produced the slot.
    @inlinable public var flow: SlotFlow {
        get { storage.flow }
        set { writable.flow = newValue }
    }
    /// Practitioner national id; nil for SOS slots (the effecting doctor is not known).
    @inlinable public var practitioner: IDNPS? {
        get { storage.practitioner }
        set { writable.practitioner = newValue }
    }
    /// Practitioner family name ("nom d'exercice"), when sent.
    @inlinable public var practitionerFamilyName: String? {
        get { storage.practitionerFamilyName }
        set { writable.practitionerFamilyName = newValue }
    }
    /// Practitioner given name, when sent.
    @inlinable public var practitionerGivenName: String? {
        get { storage.practitionerGivenName }
        set { writable.practitionerGivenName = newValue }
    }
    /// Structures: practice IDNST, CPTS (FINESS) or SOS association (SIRET).
    @inlinable public var structures: [SlotStructure] {
        get { storage.structures }
        set { writable.structures = newValue }
    }
    /// Consultation site.
    @inlinable public var site: SlotSite {
        get { storage.site }
        set { writable.site = newValue }
    }
    /// Start instant.
    @inlinable public var start: Date {
        get { storage.start }
        set { writable.start = newValue }
    }
    /// End instant.
    @inlinable public var end: Date {
        get { storage.end }
        set { writable.end = newValue }
    }
    /// Whether the editor sent local times without an offset (interpreted as Europe/Paris).
    @inlinable public var assumedLocalTime: Bool {
        get { storage.assumedLocalTime }
        set { writable.assumedLocalTime = newValue }
    }
    /// Who may see the slot.
    @inlinable public var kinds: SlotKinds {
        get { storage.kinds }
        set { writable.kinds = newValue }
    }
    /// Consultation types.
    @inlinable public var consultationTypes: ConsultationTypes {
        get { storage.consultationTypes }
        set { writable.consultationTypes = newValue }
    }
    /// Booking mode; nil when the editor did not say.
    @inlinable public var bookingMode: BookingMode? {
        get { storage.bookingMode }
        set { writable.bookingMode = newValue }
    }
    /// Consultation reasons ("motifs"), free text.
    @inlinable public var reasons: [String] {
        get { storage.reasons }
        set { writable.reasons = newValue }
    }
    /// Specialties / skills.
    @inlinable public var specialties: [SlotSpecialty] {
        get { storage.specialties }
        set { writable.specialties = newValue }
    }
    /// Booking URL on the editor side (`Slot.comment`), without the `origin` parameter.
    @inlinable public var bookingURL: String? {
        get { storage.bookingURL }
        set { writable.bookingURL = newValue }
    }
    /// Editor-assigned ids.
    @inlinable public var source: SlotSourceIDs {
        get { storage.source }
        set { writable.source = newValue }
    }

    /// Creates a slot.
    public init(flow: SlotFlow, practitioner: IDNPS?, practitionerFamilyName: String? = nil,
                practitionerGivenName: String? = nil, structures: [SlotStructure] = [], site: SlotSite = SlotSite(),
                start: Date, end: Date, assumedLocalTime: Bool = false, kinds: SlotKinds = [],
                consultationTypes: ConsultationTypes = [], bookingMode: BookingMode? = nil, reasons: [String] = [],
                specialties: [SlotSpecialty] = [], bookingURL: String? = nil, source: SlotSourceIDs = SlotSourceIDs()) {
        storage = Storage(flow: flow, practitioner: practitioner, practitionerFamilyName: practitionerFamilyName,
                          practitionerGivenName: practitionerGivenName, structures: structures, site: site, start: start,
                          end: end, assumedLocalTime: assumedLocalTime, kinds: kinds, consultationTypes: consultationTypes,
                          bookingMode: bookingMode, reasons: reasons, specialties: specialties, bookingURL: bookingURL,
                          source: source)
    }

    /// A slot with the fields of `template` (its practitioner, site, structures and source ids) and its own timing
    /// and slot-level facts, built in one storage (the normaliser's per-slot step: no intermediate copy).
    public init(template: AggregatedSlot, structures: [SlotStructure]?, start: Date, end: Date, assumedLocalTime: Bool,
                kinds: SlotKinds, consultationTypes: ConsultationTypes, bookingMode: BookingMode?, reasons: [String],
                specialties: [SlotSpecialty], bookingURL: String?, slotID: String?, fullUrl: String?) {
        let t = template.storage
        var source = t.source
        source.slot = slotID
        source.fullUrl = fullUrl
        storage = Storage(flow: t.flow, practitioner: t.practitioner, practitionerFamilyName: t.practitionerFamilyName,
                          practitionerGivenName: t.practitionerGivenName, structures: structures ?? t.structures, site: t.site,
                          start: start, end: end, assumedLocalTime: assumedLocalTime, kinds: kinds,
                          consultationTypes: consultationTypes, bookingMode: bookingMode, reasons: reasons,
                          specialties: specialties, bookingURL: bookingURL, source: source)
    }

    /// Whether the slot can be booked (walk-in slots cannot; an unspecified mode counts as bookable).
    public var withAppointment: Bool { bookingMode != .walkIn }

    /// Structures playing `role`.
    public func structures(_ role: StructureRole) -> [SlotStructure] { structures.filter { $0.role == role } }

    /// Duration in seconds.
    public var duration: TimeInterval { end.timeIntervalSince(start) }

    // MARK: Hashable and Codable, as the synthesised conformances of the field-by-field struct were

    public static func == (a: AggregatedSlot, b: AggregatedSlot) -> Bool {
        if a.storage === b.storage { return true }
        let x = a.storage, y = b.storage
        return x.flow == y.flow && x.practitioner == y.practitioner && x.practitionerFamilyName == y.practitionerFamilyName
            && x.practitionerGivenName == y.practitionerGivenName && x.structures == y.structures && x.site == y.site
            && x.start == y.start && x.end == y.end && x.assumedLocalTime == y.assumedLocalTime && x.kinds == y.kinds
            && x.consultationTypes == y.consultationTypes && x.bookingMode == y.bookingMode && x.reasons == y.reasons
            && x.specialties == y.specialties && x.bookingURL == y.bookingURL && x.source == y.source
    }

    public func hash(into hasher: inout Hasher) {
        let x = storage
        hasher.combine(x.flow)
        hasher.combine(x.practitioner)
        hasher.combine(x.practitionerFamilyName)
        hasher.combine(x.practitionerGivenName)
        hasher.combine(x.structures)
        hasher.combine(x.site)
        hasher.combine(x.start)
        hasher.combine(x.end)
        hasher.combine(x.assumedLocalTime)
        hasher.combine(x.kinds)
        hasher.combine(x.consultationTypes)
        hasher.combine(x.bookingMode)
        hasher.combine(x.reasons)
        hasher.combine(x.specialties)
        hasher.combine(x.bookingURL)
        hasher.combine(x.source)
    }

    enum CodingKeys: String, CodingKey {
        case flow, practitioner, practitionerFamilyName, practitionerGivenName, structures, site, start, end,
             assumedLocalTime, kinds, consultationTypes, bookingMode, reasons, specialties, bookingURL, source
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(flow: try c.decode(SlotFlow.self, forKey: .flow),
                  practitioner: try c.decodeIfPresent(IDNPS.self, forKey: .practitioner),
                  practitionerFamilyName: try c.decodeIfPresent(String.self, forKey: .practitionerFamilyName),
                  practitionerGivenName: try c.decodeIfPresent(String.self, forKey: .practitionerGivenName),
                  structures: try c.decode([SlotStructure].self, forKey: .structures),
                  site: try c.decode(SlotSite.self, forKey: .site),
                  start: try c.decode(Date.self, forKey: .start), end: try c.decode(Date.self, forKey: .end),
                  assumedLocalTime: try c.decode(Bool.self, forKey: .assumedLocalTime),
                  kinds: try c.decode(SlotKinds.self, forKey: .kinds),
                  consultationTypes: try c.decode(ConsultationTypes.self, forKey: .consultationTypes),
                  bookingMode: try c.decodeIfPresent(BookingMode.self, forKey: .bookingMode),
                  reasons: try c.decode([String].self, forKey: .reasons),
                  specialties: try c.decode([SlotSpecialty].self, forKey: .specialties),
                  bookingURL: try c.decodeIfPresent(String.self, forKey: .bookingURL),
                  source: try c.decode(SlotSourceIDs.self, forKey: .source))
    }

    public func encode(to encoder: any Encoder) throws {
        let x = storage
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(x.flow, forKey: .flow)
        try c.encodeIfPresent(x.practitioner, forKey: .practitioner)
        try c.encodeIfPresent(x.practitionerFamilyName, forKey: .practitionerFamilyName)
        try c.encodeIfPresent(x.practitionerGivenName, forKey: .practitionerGivenName)
        try c.encode(x.structures, forKey: .structures)
        try c.encode(x.site, forKey: .site)
        try c.encode(x.start, forKey: .start)
        try c.encode(x.end, forKey: .end)
        try c.encode(x.assumedLocalTime, forKey: .assumedLocalTime)
        try c.encode(x.kinds, forKey: .kinds)
        try c.encode(x.consultationTypes, forKey: .consultationTypes)
        try c.encodeIfPresent(x.bookingMode, forKey: .bookingMode)
        try c.encode(x.reasons, forKey: .reasons)
        try c.encode(x.specialties, forKey: .specialties)
        try c.encodeIfPresent(x.bookingURL, forKey: .bookingURL)
        try c.encode(x.source, forKey: .source)
    }
}
