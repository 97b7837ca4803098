import Foundation

extension FHIRBundle: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case resourceType, id, meta, type, timestamp, total, link, entry }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        try self.init(reading: &r, entryReader: BundleEntry.readTolerantly, reserving: true)
    }

    /// Reads a Bundle, reading each `entry` element with `entryReader` (the fast normaliser path passes its own, which
    /// keeps some elements for itself: nil); `entryArray` is told each time an `entry` array begins (a repeated key:
    /// the last array wins); `reserving`: make room ahead for about one entry per KB.
    init(reading r: inout JSONReader, entryReader: (inout JSONReader) throws -> BundleEntry?, entryArray: () -> Void = {},
         reserving: Bool) throws {
        self.init(type: nil)
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        var issues: [EntryDecodingIssue] = []
        defer { decodingIssues = issues }
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .entry?:
                let at = r.pos
                guard try r.peek() == UInt8(ascii: "[") || r.peek() == UInt8(ascii: "n") else {
                    throw FHIRDecodingError.invalidBundle(reason: "entry is a \(r.describeNext()), not an array (byte \(at))")
                }
                // Entries are rarely under ~1 KB each: reserving for that avoids a dozen regrowths of a large array
                // (the estimate is bounded by the document, so hostile input cannot inflate it).
                entryArray()
                entry = try r.readArray(reservingCapacity: reserving ? (r.count - r.pos) / 1024 : 0) { r in try entryReader(&r) }
            case .resourceType?: _ = try Self.tolerant(&r, &issues, "resourceType") { r in try r.readString() }
            case .id?: id = try Self.tolerant(&r, &issues, "id") { r in try r.readString() }
            case .meta?: meta = try Self.tolerant(&r, &issues, "meta") { r in try r.read(Meta.self) }
            case .type?: type = try Self.tolerant(&r, &issues, "type") { r in try r.readInternedString() }
            case .timestamp?: timestamp = try Self.tolerant(&r, &issues, "timestamp") { r in try r.readInstant() }
            case .total?: total = try Self.tolerant(&r, &issues, "total") { r in try r.readInt() }
            case .link?: link = try Self.tolerant(&r, &issues, "link") { r in try r.readArray(of: Link.self) }
            case nil: try r.skipValue()
            }
        }
    }

    /// Reads one bundle-level element; a recoverable failure is recorded and the element skipped.
    private static func tolerant<V>(_ r: inout JSONReader, _ issues: inout [EntryDecodingIssue], _ path: String,
                                    _ body: (inout JSONReader) throws -> V?) throws -> V? {
        let at = r.pos, depth = r.depth
        do {
            return try body(&r)
        } catch let error as JSONReadError where !error.isFatal {
            r.pos = at
            r.depth = depth
            try r.skipValue()
            issues.append(EntryDecodingIssue(resourceType: "Bundle", path: path, message: error.message))
            return nil
        }
    }
}

extension FHIRBundle.Link: JSONReadable {
    private enum F: String, CaseIterable, Sendable { case relation, url }
    private static let table = KeyTable<F>()

    init(reading r: inout JSONReader) throws {
        var relation: String?, url: String?
        guard try r.beginObject() else { throw r.typeError("object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .relation?: relation = try r.readInternedString()
            case .url?: url = try r.readString()
            case nil: try r.skipValue()
            }
        }
        guard let relation, let url else { throw JSONReadError.value(reason: "link without relation or url", offset: r.pos) }
        self.init(relation: relation, url: url)
    }
}

extension BundleEntry {
    private enum F: String, CaseIterable, Sendable { case fullUrl, resource, search }
    private static let table = KeyTable<F>()
    private enum S: String, CaseIterable, Sendable { case mode, score }
    private static let searchTable = KeyTable<S>()

    /// Reads one entry; whatever goes wrong inside it (short of broken JSON) stays inside it.
    static func readTolerantly(_ r: inout JSONReader) throws -> BundleEntry {
        let at = r.pos, depth = r.depth
        do {
            return try BundleEntry(reading: &r)
        } catch let error as JSONReadError where !error.isFatal {
            let path = r.lastKey
            r.pos = at
            r.depth = depth
            try r.skipValue()
            var entry = BundleEntry()
            entry.decodingIssue = EntryDecodingIssue(resourceType: nil, path: path, message: error.message)
            return entry
        }
    }

    init(reading r: inout JSONReader) throws {
        self.init()
        guard try r.beginObject() else { throw r.typeError("entry object") }
        var first = true
        while let key = try r.nextKey(&first, Self.table) {
            switch key {
            case .fullUrl?: fullUrl = try r.readString()
            case .search?: search = try Self.readSearch(&r)
            case .resource?:
                let at = r.pos, depth = r.depth
                do {
                    resource = try r.read(Resource.self)
                } catch let error as JSONReadError where !error.isFatal {
                    let path = r.lastKey
                    r.pos = at
                    r.depth = depth
                    let type = Self.peekResourceType(&r)
                    r.pos = at
                    r.depth = depth
                    try r.skipValue()
                    resource = nil
                    decodingIssue = EntryDecodingIssue(resourceType: type, path: path, message: error.message)
                }
            case nil: try r.skipValue()
            }
        }
    }

    private static func readSearch(_ r: inout JSONReader) throws -> Search? {
        guard try r.beginObject() else { return nil }
        var search = Search()
        var first = true
        while let key = try r.nextKey(&first, searchTable) {
            switch key {
            case .mode?: search.mode = try r.readInternedString()
            case .score?: search.score = try r.readDouble()
            case nil: try r.skipValue()
            }
        }
        return search
    }

    private enum T: String, CaseIterable, Sendable { case resourceType }
    private static let typeTable = KeyTable<T>()

    private static func peekResourceType(_ r: inout JSONReader) -> String? {
        guard (try? r.beginObject()) == true else { return nil }
        var first = true
        while let key = try? r.nextKey(&first, typeTable) {
            if key == .resourceType { return try? r.readString() }
            guard (try? r.skipValue()) != nil else { return nil }
        }
        return nil
    }
}
