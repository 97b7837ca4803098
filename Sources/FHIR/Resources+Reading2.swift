import Foundation

// Fast decoders for Appointment, OperationOutcome and the Resource dispatcher.

extension Appointment: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, ext = "extension", identifier, status, serviceType, specialty, appointmentType,
             description, start, end, created, comment, participant
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
            case .status?: status = try r.readInternedString()
            case .serviceType?: serviceType = try r.readArray(of: CodeableConcept.self)
            case .specialty?: specialty = try r.readArray(of: CodeableConcept.self)
            case .appointmentType?: appointmentType = try r.read(CodeableConcept.self)
            case .description?: description = try r.readString()
            case .start?: start = try r.readInstant()
            case .end?: end = try r.readInstant()
            case .created?: created = try r.readInstant()
            case .comment?: comment = try r.readString()
            case .participant?: participant = try r.readArray(of: Participant.self)
            case nil: try r.skipValue()
            }
        }
    }
}

extension Appointment.Participant: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case type, actor, required, status }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .type?: type = try r.readArray(of: CodeableConcept.self)
            case .actor?: actor = try r.read(Reference.self)
            case .required?: required = try r.readInternedString()
            case .status?: status = try r.readInternedString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension OperationOutcome: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case resourceType, id, meta, issue }
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
            case .issue?: issue = try r.readArray(of: Issue.self) ?? []
            case nil: try r.skipValue()
            }
        }
    }
}

extension OperationOutcome.Issue: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case severity, code, details, diagnostics, expression }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init(severity: "error", code: "unknown")
        var severity: String?, code: String?
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .severity?: severity = try r.readInternedString()
            case .code?: code = try r.readInternedString()
            case .details?: details = try r.read(CodeableConcept.self)
            case .diagnostics?: diagnostics = try r.readString()
            case .expression?: expression = try r.readStringArray()
            case nil: try r.skipValue()
            }
        }
        guard let severity, let code else {
            throw JSONReadError.value(reason: "issue without severity or code", offset: r.pos)
        }
        self.severity = severity
        self.code = code
    }
}

extension Resource: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case resourceType }
    private static let table = KeyTable<F>()

    /// Finds `resourceType` (normally the first key), rewinds, then decodes the matching model.
    init(reading r: inout JSONReader) throws {
        let start = r.pos
        let startDepth = r.depth
        guard try r.beginObject() else { throw r.typeError("resource object") }
        var type: String?
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            if key == .resourceType {
                type = try r.readString()
                break
            }
            try r.skipValue()
        }
        r.pos = start
        r.depth = startDepth
        guard let type else { throw JSONReadError.value(reason: "resource without resourceType", offset: start) }
        switch type {
        case "Slot": self = .slot(try Slot(reading: &r))
        case "Schedule": self = .schedule(try Schedule(reading: &r))
        case "Practitioner": self = .practitioner(try Practitioner(reading: &r))
        case "PractitionerRole": self = .practitionerRole(try PractitionerRole(reading: &r))
        case "Location": self = .location(try Location(reading: &r))
        case "HealthcareService": self = .healthcareService(try HealthcareService(reading: &r))
        case "Organization": self = .organization(try Organization(reading: &r))
        case "Appointment": self = .appointment(try Appointment(reading: &r))
        case "OperationOutcome": self = .operationOutcome(try OperationOutcome(reading: &r))
        default: self = .unknown(type: type, json: try r.readJSONValue())
        }
    }
}
