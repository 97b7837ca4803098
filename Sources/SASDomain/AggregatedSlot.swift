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
/// A value type with copy-on-write storage in three levels. The fields every slot of one Schedule shares (flow,
/// practitioner, names, site, source ids of the Schedule side) live in one ``Owner`` object that all those slots
/// reference; the slot-level facts that repeat across the slots of one answer (kinds, consultation types, booking
/// mode, reasons, specialties, the fullUrl's base) live in one ``Facts`` object per distinct
/// combination (see ``SharedFacts``); the slot's own fields (structures, times, booking URL, ids) live in its ``Storage``.
/// Copying a slot (from the aggregator's cache into a search, from a search's batches into a page) costs one
/// reference count, and building or freeing one with a storage of its own about four instead of one per string of
/// the practitioner's site and names and per slot-level array — profiles of the search and FHIR benches showed those
/// counts among the largest costs. Reading a field goes through the storage; writing one copies the storage (and the
/// owner or the facts, for their fields) first when another value shares it. The slots the FHIR fast path makes from
/// one answer have no storage each: they are rows of one ``SlotRows`` (the same fields as plain values and indices;
/// building or freeing one is one reference count and no allocation), and get a storage of their own at their first
/// write.
public struct AggregatedSlot: Hashable, Sendable, Codable {
    /// The Schedule-side fields, shared by the slots of one Schedule.
    @usableFromInline
    final class Owner: @unchecked Sendable { // mutated only while uniquely referenced (see `writableOwner`)
        @usableFromInline var flow: SlotFlow
        @usableFromInline var practitioner: IDNPS?
        @usableFromInline var practitionerFamilyName: String?
        @usableFromInline var practitionerGivenName: String?
        @usableFromInline var site: SlotSite
        /// The structures of the Schedule side (practice, SOS association), those of its slots unless one has its own.
        @usableFromInline var structures: [SlotStructure]
        @usableFromInline var schedule: String?
        @usableFromInline var practitionerID: String?
        @usableFromInline var practitionerRole: String?
        @usableFromInline var location: String?

        init(flow: SlotFlow, practitioner: IDNPS?, practitionerFamilyName: String?, practitionerGivenName: String?,
             site: SlotSite, structures: [SlotStructure], source: SlotSourceIDs) {
            self.flow = flow
            self.practitioner = practitioner
            self.practitionerFamilyName = practitionerFamilyName
            self.practitionerGivenName = practitionerGivenName
            self.site = site
            self.structures = structures
            schedule = source.schedule
            practitionerID = source.practitioner
            practitionerRole = source.practitionerRole
            location = source.location
        }

        @usableFromInline
        func copy() -> Owner {
            Owner(flow: flow, practitioner: practitioner, practitionerFamilyName: practitionerFamilyName,
                  practitionerGivenName: practitionerGivenName, site: site, structures: structures,
                  source: SlotSourceIDs(schedule: schedule, practitioner: practitionerID, practitionerRole: practitionerRole,
                                        location: location))
        }

        /// Field-by-field equality (two owners built apart from the same Schedule are equal); structures are compared
        /// as the slots' (a slot may have its own).
        func same(as o: Owner) -> Bool {
            self === o || (flow == o.flow && practitioner == o.practitioner && practitionerFamilyName == o.practitionerFamilyName
                && practitionerGivenName == o.practitionerGivenName && site == o.site && schedule == o.schedule
                && practitionerID == o.practitionerID && practitionerRole == o.practitionerRole && location == o.location)
        }
    }

    /// The slot-level facts, shared by the slots that have the same ones.
    @usableFromInline
    final class Facts: @unchecked Sendable { // mutated only while uniquely referenced (see `writableFacts`)
        @usableFromInline var kinds: SlotKinds
        @usableFromInline var consultationTypes: ConsultationTypes
        @usableFromInline var bookingMode: BookingMode?
        @usableFromInline var reasons: [String]
        @usableFromInline var specialties: [SlotSpecialty]
        /// What precedes the slot id in the fullUrl of the slots whose storage says so (`fullUrlFromBase`).
        @usableFromInline var fullUrlBase: String?

        init(kinds: SlotKinds, consultationTypes: ConsultationTypes, bookingMode: BookingMode?, reasons: [String],
             specialties: [SlotSpecialty], fullUrlBase: String?) {
            self.kinds = kinds
            self.consultationTypes = consultationTypes
            self.bookingMode = bookingMode
            self.reasons = reasons
            self.specialties = specialties
            self.fullUrlBase = fullUrlBase
        }

        @usableFromInline
        func copy() -> Facts {
            Facts(kinds: kinds, consultationTypes: consultationTypes, bookingMode: bookingMode, reasons: reasons,
                  specialties: specialties, fullUrlBase: fullUrlBase)
        }

        /// Field-by-field equality of the domain fields (the fullUrl base is compared through the fullUrl).
        func same(as o: Facts) -> Bool {
            self === o || (kinds == o.kinds && consultationTypes == o.consultationTypes && bookingMode == o.bookingMode
                && reasons == o.reasons && specialties == o.specialties)
        }
    }

    /// Slot-level facts made once and handed to every slot that has them (the normaliser's memo), so that building
    /// and freeing each slot counts one reference for all of them.
    public struct SharedFacts: Sendable {
        @usableFromInline let box: Facts
        /// `box.fullUrlBase != nil`, read per slot without an access to the class's variable.
        @usableFromInline let hasFullUrlBase: Bool

        /// `fullUrlBase`: what precedes the slot id in the fullUrl of slots built with `fullUrlFromBase`.
        public init(kinds: SlotKinds, consultationTypes: ConsultationTypes, bookingMode: BookingMode?, reasons: [String],
                    specialties: [SlotSpecialty], fullUrlBase: String? = nil) {
            box = Facts(kinds: kinds, consultationTypes: consultationTypes, bookingMode: bookingMode, reasons: reasons,
                        specialties: specialties, fullUrlBase: fullUrlBase)
            hasFullUrlBase = fullUrlBase != nil
        }
    }

    /// The slot's own fields.
    @usableFromInline
    final class Storage: @unchecked Sendable { // mutated only while uniquely referenced (see `writable`)
        @usableFromInline var owner: Owner
        @usableFromInline var facts: Facts
        /// The slot's own structures; nil: the owner's (most slots: no retain of an array of their own).
        @usableFromInline var ownStructures: [SlotStructure]?
        @usableFromInline var start: Date
        @usableFromInline var end: Date
        @usableFromInline var bookingURL: String?
        @usableFromInline var explicitFullUrl: String?
        /// Usually a span of the arena of the slot's answer (see ``TextArena``).
        @usableFromInline var slotID: SlotText
        @usableFromInline var assumedLocalTime: Bool
        /// The fullUrl is `facts.fullUrlBase + slotID` (then `explicitFullUrl` is nil).
        @usableFromInline var fullUrlFromBase: Bool

        @inlinable
        init(owner: Owner, facts: Facts, structures: [SlotStructure]?, start: Date, end: Date, assumedLocalTime: Bool,
             bookingURL: String?, slotID: SlotText, fullUrl: String?, fullUrlFromBase: Bool) {
            self.owner = owner
            self.facts = facts
            ownStructures = structures
            self.start = start
            self.end = end
            self.assumedLocalTime = assumedLocalTime
            self.bookingURL = bookingURL
            self.slotID = slotID
            explicitFullUrl = fullUrl
            self.fullUrlFromBase = fullUrlFromBase
        }

        @usableFromInline
        func copy() -> Storage {
            Storage(owner: owner, facts: facts, structures: ownStructures, start: start, end: end,
                    assumedLocalTime: assumedLocalTime, bookingURL: bookingURL, slotID: slotID, fullUrl: explicitFullUrl, fullUrlFromBase: fullUrlFromBase)
        }

        /// The slot's structures.
        @inlinable var structures: [SlotStructure] { ownStructures ?? owner.structures }
    }

    /// A slot is its own storage, or a row of a ``SlotRows`` (the slots one answer made, stored together).
    @usableFromInline
    enum Representation: @unchecked Sendable { // both payloads are immutable or copied before a write
        case own(Storage)
        case row(SlotRows, UInt32)
    }

    @usableFromInline var repr: Representation

    /// The storage, made first from the slot's row or copied when another value shares it.
    @inlinable
    var writable: Storage {
        mutating get {
            switch repr {
            case .own(var s):
                repr = .row(SlotRows.empty, 0) // drops this value's reference: `s` is then unique unless shared
                if !isKnownUniquelyReferenced(&s) { s = s.copy() }
                repr = .own(s)
                return s
            case .row(let rows, let i):
                let s = rows.storage(Int(i))
                repr = .own(s)
                return s
            }
        }
    }

    /// The owner, copied first when another storage shares it (after the storage itself is made unique).
    @inlinable
    var writableOwner: Owner {
        mutating get {
            let s = writable
            if !isKnownUniquelyReferenced(&s.owner) { s.owner = s.owner.copy() }
            return s.owner
        }
    }

    /// The facts, copied first when another storage shares them (after the storage itself is made unique).
    @inlinable
    var writableFacts: Facts {
        mutating get {
            let s = writable
            if !isKnownUniquelyReferenced(&s.facts) { s.facts = s.facts.copy() }
            return s.facts
        }
    }

    /// The Schedule-side fields.
    @inlinable var owner: Owner {
        switch repr {
        case .own(let s): return s.owner
        case .row(let b, let i): return b.owners[Int(b.rows[Int(i)].owner)]
        }
    }

    /// The slot-level facts.
    @inlinable var facts: Facts {
        switch repr {
        case .own(let s): return s.facts
        case .row(let b, let i): return b.facts[Int(b.rows[Int(i)].facts)]
        }
    }

    /// The slot's own structures (nil: its owner's).
    @inlinable var ownStructures: [SlotStructure]? {
        switch repr {
        case .own(let s): return s.ownStructures
        case .row(let b, let i): return b.ownStructures(Int(i))
        }
    }

    /// The slot's id.
    var slotID: SlotText {
        switch repr {
        case .own(let s): return s.slotID
        case .row(let b, let i): return b.slotID(Int(i))
        }
    }

    /// Whether the fullUrl is the facts' base followed by the id, and the fullUrl written out otherwise.
    var fullUrlParts: (fromBase: Bool, explicit: String?) {
        switch repr {
        case .own(let s): return (s.fullUrlFromBase, s.explicitFullUrl)
        case .row(let b, let i): return b.fullUrlParts(Int(i))
        }
    }

    /// The entry's fullUrl.
    var fullUrl: String? {
        let parts = fullUrlParts
        guard parts.fromBase else { return parts.explicit }
        return (facts.fullUrlBase ?? "") + (slotID.string ?? "")
    }

    /// Whether both have the same fullUrl (without building either when both come from one base).
    func sameFullUrl(as o: AggregatedSlot) -> Bool {
        let (a, b) = (fullUrlParts, o.fullUrlParts)
        if a.fromBase, b.fromBase {
            let (f, g) = (facts, o.facts)
            if f === g || f.fullUrlBase == g.fullUrlBase { return slotID == o.slotID }
        }
        if !a.fromBase, !b.fromBase { return a.explicit == b.explicit }
        return fullUrl == o.fullUrl
    }

    /// Flow that produced the slot.
    @inlinable public var flow: SlotFlow {
        get { owner.flow }
        set { writableOwner.flow = newValue }
    }
    /// Practitioner national id; nil for SOS slots (the effecting doctor is not known).
    @inlinable public var practitioner: IDNPS? {
        get { owner.practitioner }
        set { writableOwner.practitioner = newValue }
    }
    /// Practitioner family name ("nom d'exercice"), when sent.
    @inlinable public var practitionerFamilyName: String? {
        get { owner.practitionerFamilyName }
        set { writableOwner.practitionerFamilyName = newValue }
    }
    /// Practitioner given name, when sent.
    @inlinable public var practitionerGivenName: String? {
        get { owner.practitionerGivenName }
        set { writableOwner.practitionerGivenName = newValue }
    }
    /// Structures: practice IDNST, CPTS (FINESS) or SOS association (SIRET).
    @inlinable public var structures: [SlotStructure] {
        get {
            switch repr {
            case .own(let s): return s.structures
            case .row(let b, let i): return b.structures(Int(i))
            }
        }
        set { writable.ownStructures = newValue }
    }
    /// Consultation site.
    @inlinable public var site: SlotSite {
        get { owner.site }
        set { writableOwner.site = newValue }
    }
    /// Start instant.
    @inlinable public var start: Date {
        get {
            switch repr {
            case .own(let s): return s.start
            case .row(let b, let i): return b.rows[Int(i)].start
            }
        }
        set { writable.start = newValue }
    }
    /// End instant.
    @inlinable public var end: Date {
        get {
            switch repr {
            case .own(let s): return s.end
            case .row(let b, let i): return b.rows[Int(i)].end
            }
        }
        set { writable.end = newValue }
    }
    /// Whether the editor sent local times without an offset (interpreted as Europe/Paris).
    @inlinable public var assumedLocalTime: Bool {
        get {
            switch repr {
            case .own(let s): return s.assumedLocalTime
            case .row(let b, let i): return b.rows[Int(i)].assumedLocalTime
            }
        }
        set { writable.assumedLocalTime = newValue }
    }
    /// Who may see the slot.
    @inlinable public var kinds: SlotKinds {
        get { facts.kinds }
        set { writableFacts.kinds = newValue }
    }
    /// Consultation types.
    @inlinable public var consultationTypes: ConsultationTypes {
        get { facts.consultationTypes }
        set { writableFacts.consultationTypes = newValue }
    }
    /// Booking mode; nil when the editor did not say.
    @inlinable public var bookingMode: BookingMode? {
        get { facts.bookingMode }
        set { writableFacts.bookingMode = newValue }
    }
    /// Consultation reasons ("motifs"), free text.
    @inlinable public var reasons: [String] {
        get { facts.reasons }
        set { writableFacts.reasons = newValue }
    }
    /// Specialties / skills.
    @inlinable public var specialties: [SlotSpecialty] {
        get { facts.specialties }
        set { writableFacts.specialties = newValue }
    }
    /// Booking URL on the editor side (`Slot.comment`), without the `origin` parameter.
    @inlinable public var bookingURL: String? {
        get {
            switch repr {
            case .own(let s): return s.bookingURL
            case .row(let b, let i): return b.bookingURLs[Int(b.rows[Int(i)].bookingURL)]
            }
        }
        set { writable.bookingURL = newValue }
    }
    /// Editor-assigned ids (assembled from the slot's own ids and its Schedule side).
    public var source: SlotSourceIDs {
        get {
            let o = owner
            return SlotSourceIDs(slot: slotID.string, fullUrl: fullUrl, schedule: o.schedule, practitioner: o.practitionerID,
                                 practitionerRole: o.practitionerRole, location: o.location)
        }
        set {
            let s = writable
            (s.slotID, s.explicitFullUrl, s.fullUrlFromBase) = (SlotText(newValue.slot), newValue.fullUrl, false)
            let o = s.owner
            if o.schedule != newValue.schedule || o.practitionerID != newValue.practitioner
                || o.practitionerRole != newValue.practitionerRole || o.location != newValue.location {
                let w = writableOwner
                (w.schedule, w.practitionerID) = (newValue.schedule, newValue.practitioner)
                (w.practitionerRole, w.location) = (newValue.practitionerRole, newValue.location)
            }
        }
    }

    /// Whether both slots were made from one template (one Schedule of one answer): then their flow, practitioner,
    /// names, site and Schedule-side ids are the same without comparing them. False says nothing.
    @inlinable public func sharesScheduleSide(with other: AggregatedSlot) -> Bool { owner === other.owner }

    /// Whether both slots have the same editor-assigned ids (without assembling either's ``source``).
    public func hasSameSource(as other: AggregatedSlot) -> Bool {
        if slotID != other.slotID || !sameFullUrl(as: other) { return false }
        let a = owner, b = other.owner
        return a === b || (a.schedule == b.schedule && a.practitionerID == b.practitionerID
            && a.practitionerRole == b.practitionerRole && a.location == b.location)
    }

    /// Creates a slot.
    public init(flow: SlotFlow, practitioner: IDNPS?, practitionerFamilyName: String? = nil,
                practitionerGivenName: String? = nil, structures: [SlotStructure] = [], site: SlotSite = SlotSite(),
                start: Date, end: Date, assumedLocalTime: Bool = false, kinds: SlotKinds = [],
                consultationTypes: ConsultationTypes = [], bookingMode: BookingMode? = nil, reasons: [String] = [],
                specialties: [SlotSpecialty] = [], bookingURL: String? = nil, source: SlotSourceIDs = SlotSourceIDs()) {
        let owner = Owner(flow: flow, practitioner: practitioner, practitionerFamilyName: practitionerFamilyName,
                          practitionerGivenName: practitionerGivenName, site: site, structures: structures, source: source)
        let facts = Facts(kinds: kinds, consultationTypes: consultationTypes, bookingMode: bookingMode, reasons: reasons,
                          specialties: specialties, fullUrlBase: nil)
        repr = .own(Storage(owner: owner, facts: facts, structures: nil, start: start, end: end,
                            assumedLocalTime: assumedLocalTime, bookingURL: bookingURL, slotID: SlotText(source.slot),
                            fullUrl: source.fullUrl, fullUrlFromBase: false))
    }

    /// A slot with the fields of `template` (its practitioner, site, structures and Schedule-side source ids, shared
    /// with the template, not copied) and its own timing and slot-level facts.
    public init(template: AggregatedSlot, structures: [SlotStructure]?, start: Date, end: Date, assumedLocalTime: Bool,
                kinds: SlotKinds, consultationTypes: ConsultationTypes, bookingMode: BookingMode?, reasons: [String],
                specialties: [SlotSpecialty], bookingURL: String?, slotID: String?, fullUrl: String?) {
        self.init(template: template, structures: structures, start: start, end: end, assumedLocalTime: assumedLocalTime,
                  facts: SharedFacts(kinds: kinds, consultationTypes: consultationTypes, bookingMode: bookingMode,
                                     reasons: reasons, specialties: specialties),
                  bookingURL: bookingURL, slotID: SlotText(slotID), fullUrl: fullUrl)
    }

    /// A slot with the fields of `template` and slot-level facts shared with other slots (the normaliser's per-slot
    /// step). `fullUrl` nil with `fullUrlFromBase`: the fullUrl is the facts' `fullUrlBase` followed by `slotID`.
    @inlinable
    public init(template: __shared AggregatedSlot, structures: [SlotStructure]?, start: Date, end: Date, assumedLocalTime: Bool,
                facts: __shared SharedFacts, bookingURL: __owned String?, slotID: __owned SlotText, fullUrl: __owned String?,
                fullUrlFromBase: Bool = false) {
        repr = .own(Storage(owner: template.owner, facts: facts.box, structures: structures ?? template.ownStructures,
                            start: start, end: end, assumedLocalTime: assumedLocalTime, bookingURL: bookingURL, slotID: slotID,
                            fullUrl: fullUrlFromBase ? nil : fullUrl,
                            fullUrlFromBase: fullUrlFromBase && facts.hasFullUrlBase && !slotID.isNone))
    }

    /// Whether the slot can be booked (walk-in slots cannot; an unspecified mode counts as bookable).
    public var withAppointment: Bool { bookingMode != .walkIn }

    /// Structures playing `role`.
    public func structures(_ role: StructureRole) -> [SlotStructure] { structures.filter { $0.role == role } }

    /// Duration in seconds.
    public var duration: TimeInterval { end.timeIntervalSince(start) }

    // MARK: Hashable and Codable, as the synthesised conformances of the field-by-field struct were

    public static func == (a: AggregatedSlot, b: AggregatedSlot) -> Bool {
        switch (a.repr, b.repr) {
        case (.own(let x), .own(let y)) where x === y: return true
        case (.row(let x, let i), .row(let y, let j)) where x === y && i == j: return true
        default: break
        }
        return a.owner.same(as: b.owner) && a.structures == b.structures
            && a.start == b.start && a.end == b.end && a.assumedLocalTime == b.assumedLocalTime && a.facts.same(as: b.facts)
            && a.bookingURL == b.bookingURL
            && a.slotID == b.slotID && a.sameFullUrl(as: b)
    }

    public func hash(into hasher: inout Hasher) {
        let o = owner, f = facts
        hasher.combine(o.flow)
        hasher.combine(o.practitioner)
        hasher.combine(o.practitionerFamilyName)
        hasher.combine(o.practitionerGivenName)
        hasher.combine(structures)
        hasher.combine(o.site)
        hasher.combine(start)
        hasher.combine(end)
        hasher.combine(assumedLocalTime)
        hasher.combine(f.kinds)
        hasher.combine(f.consultationTypes)
        hasher.combine(f.bookingMode)
        hasher.combine(f.reasons)
        hasher.combine(f.specialties)
        hasher.combine(bookingURL)
        hasher.combine(source)
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
        let o = owner, f = facts
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(o.flow, forKey: .flow)
        try c.encodeIfPresent(o.practitioner, forKey: .practitioner)
        try c.encodeIfPresent(o.practitionerFamilyName, forKey: .practitionerFamilyName)
        try c.encodeIfPresent(o.practitionerGivenName, forKey: .practitionerGivenName)
        try c.encode(structures, forKey: .structures)
        try c.encode(o.site, forKey: .site)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encode(assumedLocalTime, forKey: .assumedLocalTime)
        try c.encode(f.kinds, forKey: .kinds)
        try c.encode(f.consultationTypes, forKey: .consultationTypes)
        try c.encodeIfPresent(f.bookingMode, forKey: .bookingMode)
        try c.encode(f.reasons, forKey: .reasons)
        try c.encode(f.specialties, forKey: .specialties)
        try c.encodeIfPresent(bookingURL, forKey: .bookingURL)
        try c.encode(source, forKey: .source)
    }
}
