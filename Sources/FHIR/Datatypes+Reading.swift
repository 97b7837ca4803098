import Foundation

// Hand-written fast decoders for the datatypes (see JSONReader). Unknown keys are skipped.

extension Coding: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case system, version, code, display }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .system?: system = try r.readInternedString()
            case .version?: version = try r.readString()
            case .code?: code = try r.readInternedString()
            case .display?: display = try r.readInternedString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension CodeableConcept: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case ext = "extension", coding, text }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        if let memo = r.memo {
            self = try memo.concept(&r) { r in try CodeableConcept(decoding: &r) }
        } else {
            try self.init(decoding: &r)
        }
    }

    private init(decoding r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .ext?: extension_ = try r.readArray(of: Extension.self)
            case .coding?: coding = try r.readArray(of: Coding.self)
            case .text?: text = try r.readString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension Identifier: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case use, type, system, value }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .use?: use = try r.readInternedString()
            case .type?: type = try r.read(CodeableConcept.self)
            case .system?: system = try r.readInternedString()
            case .value?: value = try r.readString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension Reference: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case reference, type, identifier, display }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .reference?: reference = try r.readString()
            case .type?: type = try r.readInternedString()
            case .identifier?: identifier = try r.read(Identifier.self)
            case .display?: display = try r.readString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension HumanName: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case use, text, family, given, prefix, suffix }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .use?: use = try r.readInternedString()
            case .text?: text = try r.readString()
            case .family?: family = try r.readString()
            case .given?: given = try r.readStringArray()
            case .prefix?: prefix = try r.readStringArray()
            case .suffix?: suffix = try r.readStringArray()
            case nil: try r.skipValue()
            }
        }
    }
}

extension ContactPoint: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case system, value, use, rank }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .system?: system = try r.readInternedString()
            case .value?: value = try r.readString()
            case .use?: use = try r.readInternedString()
            case .rank?: rank = try r.readInt()
            case nil: try r.skipValue()
            }
        }
    }
}

extension Address: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case use, type, text, line, city, district, state, postalCode, country
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .use?: use = try r.readInternedString()
            case .type?: type = try r.readInternedString()
            case .text?: text = try r.readString()
            case .line?: line = try r.readStringArray()
            case .city?: city = try r.readString()
            case .district?: district = try r.readString()
            case .state?: state = try r.readString()
            case .postalCode?: postalCode = try r.readString()
            case .country?: country = try r.readString()
            case nil: try r.skipValue()
            }
        }
    }
}

extension Period: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case start, end }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .start?: start = try r.readInstant()
            case .end?: end = try r.readInstant()
            case nil: try r.skipValue()
            }
        }
    }
}

extension Meta: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case versionId, lastUpdated, source, profile, security, tag }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        if let memo = r.memo {
            self = try memo.meta(&r) { r in try Meta(decoding: &r) }
        } else {
            try self.init(decoding: &r)
        }
    }

    private init(decoding r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .versionId?: versionId = try r.readString()
            case .lastUpdated?: lastUpdated = try r.readInstant()
            case .source?: source = try r.readInternedString()
            case .profile?: profile = try r.readArray { r in try r.readInternedString() }
            case .security?: security = try r.readArray(of: Coding.self)
            case .tag?: tag = try r.readArray(of: Coding.self)
            case nil: try r.skipValue()
            }
        }
    }
}

extension Extension: JSONReadable {
    private enum F: String, CaseIterable, Sendable {
        case url, ext = "extension", valueReference, valueCodeableConcept, valueCoding, valueIdentifier, valueString,
             valueCode, valueUri, valueUrl, valueCanonical, valueBoolean, valueInteger, valueDateTime, valueInstant,
             valueDate, valuePeriod
    }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        var url: String?
        var value: ExtensionValue?
        var nested: [Extension]?
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .url?: url = try r.readInternedString()
            case .ext?: nested = try r.readArray(of: Extension.self)
            case .valueReference?: value = try r.read(Reference.self).map(ExtensionValue.reference)
            case .valueCodeableConcept?: value = try r.read(CodeableConcept.self).map(ExtensionValue.codeableConcept)
            case .valueCoding?: value = try r.read(Coding.self).map(ExtensionValue.coding)
            case .valueIdentifier?: value = try r.read(Identifier.self).map(ExtensionValue.identifier)
            case .valueString?: value = try r.readString().map(ExtensionValue.string)
            case .valueCode?: value = try r.readInternedString().map(ExtensionValue.code)
            case .valueUri?, .valueUrl?, .valueCanonical?: value = try r.readString().map(ExtensionValue.uri)
            case .valueBoolean?: value = try r.readBool().map(ExtensionValue.boolean)
            case .valueInteger?: value = try r.readInt().map(ExtensionValue.integer)
            case .valueDateTime?, .valueInstant?, .valueDate?: value = try r.readInstant().map(ExtensionValue.dateTime)
            case .valuePeriod?: value = try r.read(Period.self).map(ExtensionValue.period)
            case nil:
                let name = r.lastKey
                if name.hasPrefix("value") { value = .other(name: name, json: try r.readJSONValue()) } else { try r.skipValue() }
            }
        }
        guard let url else { throw JSONReadError.value(reason: "extension without url", offset: r.pos) }
        self.init(url: url, value: value, extensions: nested)
    }
}
