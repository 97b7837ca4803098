import Foundation

// Hand-written fast decoders for the resources (see JSONReader). Unknown keys are skipped.

extension Slot: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, ext = "extension", identifier, serviceCategory, serviceType, specialty,
             appointmentType, schedule, status, start, end, overbooked, comment
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .resourceType?: _ = try r.readString()
            case .id?: id = try r.readString()
            case .meta?: meta = try r.read(Meta.self)
            case .ext?: extension_ = try r.readArray(of: Extension.self)
            case .identifier?: identifier = try r.readArray(of: Identifier.self)
            case .serviceCategory?: serviceCategory = try r.readArray(of: CodeableConcept.self)
            case .serviceType?: serviceType = try r.readArray(of: CodeableConcept.self)
            case .specialty?: specialty = try r.readArray(of: CodeableConcept.self)
            case .appointmentType?: appointmentType = try r.read(CodeableConcept.self)
            case .schedule?: schedule = try r.read(Reference.self)
            case .status?: status = try r.readInternedString()
            case .start?: start = try r.readInstant()
            case .end?: end = try r.readInstant()
            case .overbooked?: overbooked = try r.readBool()
            case .comment?: comment = try r.readString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension Schedule: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, identifier, active, serviceType, specialty, actor, planningHorizon, comment
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .resourceType?: _ = try r.readString()
            case .id?: id = try r.readString()
            case .meta?: meta = try r.read(Meta.self)
            case .identifier?: identifier = try r.readArray(of: Identifier.self)
            case .active?: active = try r.readBool()
            case .serviceType?: serviceType = try r.readArray(of: CodeableConcept.self)
            case .specialty?: specialty = try r.readArray(of: CodeableConcept.self)
            case .actor?: actor = try r.readArray(of: Reference.self)
            case .planningHorizon?: planningHorizon = try r.read(Period.self)
            case .comment?: comment = try r.readString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension Practitioner: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, identifier, active, name, telecom, address, gender
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .resourceType?: _ = try r.readString()
            case .id?: id = try r.readString()
            case .meta?: meta = try r.read(Meta.self)
            case .identifier?: identifier = try r.readArray(of: Identifier.self)
            case .active?: active = try r.readBool()
            case .name?: name = try r.readArray(of: HumanName.self)
            case .telecom?: telecom = try r.readArray(of: ContactPoint.self)
            case .address?: address = try r.readArray(of: Address.self)
            case .gender?: gender = try r.readInternedString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension PractitionerRole: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, contained, identifier, active, practitioner, organization, code, specialty,
             location, healthcareService, telecom
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .resourceType?: _ = try r.readString()
            case .id?: id = try r.readString()
            case .meta?: meta = try r.read(Meta.self)
            case .contained?: contained = try r.readArray(of: Resource.self)
            case .identifier?: identifier = try r.readArray(of: Identifier.self)
            case .active?: active = try r.readBool()
            case .practitioner?: practitioner = try r.read(Reference.self)
            case .organization?: organization = try r.read(Reference.self)
            case .code?: code = try r.readArray(of: CodeableConcept.self)
            case .specialty?: specialty = try r.readArray(of: CodeableConcept.self)
            case .location?: location = try r.readArray(of: Reference.self)
            case .healthcareService?: healthcareService = try r.readArray(of: Reference.self)
            case .telecom?: telecom = try r.readArray(of: ContactPoint.self)
            case nil: try r.skipValue()
            }
        }
    }
}

extension Location: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, identifier, status, name, description, telecom, address, position,
             managingOrganization, partOf, hoursOfOperation
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .resourceType?: _ = try r.readString()
            case .id?: id = try r.readString()
            case .meta?: meta = try r.read(Meta.self)
            case .identifier?: identifier = try r.readArray(of: Identifier.self)
            case .status?: status = try r.readInternedString()
            case .name?: name = try r.readString()
            case .description?: description = try r.readString()
            case .telecom?: telecom = try r.readArray(of: ContactPoint.self)
            case .address?: address = try r.read(Address.self)
            case .position?: position = try r.read(Position.self)
            case .managingOrganization?: managingOrganization = try r.read(Reference.self)
            case .partOf?: partOf = try r.read(Reference.self)
            case .hoursOfOperation?: hoursOfOperation = try r.readArray(of: HoursOfOperation.self)
            case nil: try r.skipValue()
            }
        }
    }
}

extension Location.Position: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case longitude, latitude, altitude }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        var lon: Double?, lat: Double?, alt: Double?
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .longitude?: lon = try r.readDouble()
            case .latitude?: lat = try r.readDouble()
            case .altitude?: alt = try r.readDouble()
            case nil: try r.skipValue()
            }
        }
        guard let lon, let lat else { throw JSONReadError.value(reason: "position without longitude/latitude", offset: r.pos) }
        self.init(longitude: lon, latitude: lat, altitude: alt)
    }
}

extension Location.HoursOfOperation: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case daysOfWeek, allDay, openingTime, closingTime }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .daysOfWeek?: daysOfWeek = try r.readArray { r in try r.readInternedString() }
            case .allDay?: allDay = try r.readBool()
            case .openingTime?: openingTime = try r.readString()
            case .closingTime?: closingTime = try r.readString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension HealthcareService: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, identifier, active, providedBy, type, specialty, location, name, telecom
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .resourceType?: _ = try r.readString()
            case .id?: id = try r.readString()
            case .meta?: meta = try r.read(Meta.self)
            case .identifier?: identifier = try r.readArray(of: Identifier.self)
            case .active?: active = try r.readBool()
            case .providedBy?: providedBy = try r.read(Reference.self)
            case .type?: type = try r.readArray(of: CodeableConcept.self)
            case .specialty?: specialty = try r.readArray(of: CodeableConcept.self)
            case .location?: location = try r.readArray(of: Reference.self)
            case .name?: name = try r.readString()
            case .telecom?: telecom = try r.readArray(of: ContactPoint.self)
            case nil: try r.skipValue()
            }
        }
    }
}

extension Organization: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, identifier, active, type, name, telecom, address, partOf
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .resourceType?: _ = try r.readString()
            case .id?: id = try r.readString()
            case .meta?: meta = try r.read(Meta.self)
            case .identifier?: identifier = try r.readArray(of: Identifier.self)
            case .active?: active = try r.readBool()
            case .type?: type = try r.readArray(of: CodeableConcept.self)
            case .name?: name = try r.readString()
            case .telecom?: telecom = try r.readArray(of: ContactPoint.self)
            case .address?: address = try r.readArray(of: Address.self)
            case .partOf?: partOf = try r.read(Reference.self)
            case nil: try r.skipValue()
            }
        }
    }
}
