import Foundation

/// A pull reader over UTF-8 JSON bytes, used to decode FHIR models without `JSONDecoder`.
///
/// It is only valid inside the `withUnsafeBytes` scope that created it. Model decoding recurses at most
/// `modelDepthLimit` containers deep (deeper content becomes a recoverable, per-entry error); skipping unknown
/// content is iterative and accepts up to `skipDepthLimit` levels before the document is rejected.
struct JSONReader {
    let base: UnsafePointer<UInt8>
    let count: Int
    var pos = 0
    var depth = 0
    /// Offset and length of the last object key read (for error paths).
    var lastKeyStart = 0
    var lastKeyLength = 0

    static let modelDepthLimit = 64
    static let skipDepthLimit = 4096

    init(_ buffer: UnsafeRawBufferPointer) {
        self.base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
        self.count = buffer.count
    }

    var lastKey: String {
        String(decoding: UnsafeBufferPointer(start: base + lastKeyStart, count: lastKeyLength), as: UTF8.self)
    }

    // MARK: Bytes

    @inline(__always) mutating func skipWhitespace() {
        while pos < count {
            let b = base[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    /// The next non-blank byte, not consumed.
    @inline(__always) mutating func peek() throws -> UInt8 {
        skipWhitespace()
        guard pos < count else { throw JSONReadError.truncated(offset: pos) }
        return base[pos]
    }

    @inline(__always) mutating func expect(_ byte: UInt8) throws {
        let b = try peek()
        guard b == byte else {
            throw JSONReadError.syntax(offset: pos, reason: "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        pos += 1
    }

    /// Consumes `null` if it is next.
    @inline(__always) mutating func consumeNull() throws -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard pos + n <= count else { throw JSONReadError.truncated(offset: count) }
        guard memcmp(base + pos, word.utf8Start, n) == 0 else {
            throw JSONReadError.syntax(offset: pos, reason: "unexpected literal")
        }
        pos += n
    }

    /// The JSON type name of the next value, for error messages.
    mutating func describeNext() -> String {
        guard let b = try? peek() else { return "end of input" }
        switch b {
        case UInt8(ascii: "{"): return "object"
        case UInt8(ascii: "["): return "array"
        case UInt8(ascii: "\""): return "string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "boolean"
        case UInt8(ascii: "n"): return "null"
        default: return "number"
        }
    }

    mutating func typeError(_ expected: String) -> JSONReadError {
        .type(expected: "\(expected), found \(describeNext())", offset: pos)
    }

    // MARK: Containers

    /// Opens an object; false when the value is `null`. Throws a recoverable type error for other values.
    @inline(__always) mutating func beginObject() throws -> Bool {
        let b = try peek()
        if b == UInt8(ascii: "{") {
            pos += 1
            depth += 1
            if depth > Self.modelDepthLimit { throw JSONReadError.tooDeep(offset: pos, limit: Self.modelDepthLimit, fatal: false) }
            return true
        }
        if b == UInt8(ascii: "n") { try literal("null"); return false }
        throw typeError("object")
    }

    /// Next key of the current object, looked up in `table`; nil at the end of the object.
    /// The inner optional is nil for keys the table does not know (the caller skips their value).
    @inline(__always)
    mutating func nextKey<K>(_ first: inout Bool, _ table: KeyTable<K>) throws -> K?? {
        var b = try peek()
        if b == UInt8(ascii: "}") { pos += 1; depth -= 1; return nil }
        if !first {
            guard b == UInt8(ascii: ",") else { throw JSONReadError.syntax(offset: pos, reason: "expected ',' or '}'") }
            pos += 1
            b = try peek()
        }
        first = false
        guard b == UInt8(ascii: "\"") else { throw JSONReadError.syntax(offset: pos, reason: "expected a key") }
        pos += 1
        let start = pos
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var escaped = false
        while true {
            guard pos < count else { throw JSONReadError.truncated(offset: pos) }
            let c = base[pos]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") { escaped = true; pos += 1 }
            hash = (hash ^ UInt64(c)) &* 0x100_0000_01b3
            pos += 1
        }
        lastKeyStart = start
        lastKeyLength = pos - start
        pos += 1
        try expect(UInt8(ascii: ":"))
        if escaped { return .some(nil) } // escaped keys never name FHIR elements we model
        return .some(table.lookup(hash: hash, length: lastKeyLength))
    }

    /// Opens an array; false when the value is `null`.
    @inline(__always) mutating func beginArray() throws -> Bool {
        let b = try peek()
        if b == UInt8(ascii: "[") {
            pos += 1
            depth += 1
            if depth > Self.modelDepthLimit { throw JSONReadError.tooDeep(offset: pos, limit: Self.modelDepthLimit, fatal: false) }
            return true
        }
        if b == UInt8(ascii: "n") { try literal("null"); return false }
        throw typeError("array")
    }

    /// Whether another element follows in the current array (consumes `,` / `]`).
    @inline(__always) mutating func nextElement(_ first: inout Bool) throws -> Bool {
        let b = try peek()
        if b == UInt8(ascii: "]") { pos += 1; depth -= 1; return false }
        if !first {
            guard b == UInt8(ascii: ",") else { throw JSONReadError.syntax(offset: pos, reason: "expected ',' or ']'") }
            pos += 1
        }
        first = false
        return true
    }

    /// Reads an array of `T`; nil for `null`.
    @inline(__always)
    mutating func readArray<T>(_ element: (inout JSONReader) throws -> T?) throws -> [T]? {
        guard try beginArray() else { return nil }
        var out: [T] = []
        var first = true
        while try nextElement(&first) {
            if let value = try element(&self) { out.append(value) }
        }
        return out
    }

    /// Reads an array of decodable models; nil for `null`.
    @inline(__always)
    mutating func readArray<T: JSONReadable>(of type: T.Type) throws -> [T]? {
        try readArray { r in try T(reading: &r) }
    }

    /// Reads one model; nil for `null`.
    @inline(__always)
    mutating func read<T: JSONReadable>(_ type: T.Type) throws -> T? {
        if try peek() == UInt8(ascii: "n") { try literal("null"); return nil }
        return try T(reading: &self)
    }
}

/// A model that can be decoded by ``JSONReader`` (the fast, tolerant path).
protocol JSONReadable {
    /// Reads the value at the reader's position; must throw on `null` only if the value is mandatory.
    init(reading r: inout JSONReader) throws
}

/// Maps JSON keys (FNV-1a hash + length) to a field enum without materialising key strings.
struct KeyTable<K: Sendable>: Sendable {
    private let hashes: [UInt64]
    private let lengths: [Int]
    private let keys: [K]

    init(_ pairs: [(String, K)]) {
        hashes = pairs.map { KeyTable.fnv($0.0) }
        lengths = pairs.map { $0.0.utf8.count }
        keys = pairs.map(\.1)
    }

    @inline(__always) func lookup(hash: UInt64, length: Int) -> K? {
        for i in hashes.indices where hashes[i] == hash && lengths[i] == length { return keys[i] }
        return nil
    }

    static func fnv(_ s: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in s.utf8 { hash = (hash ^ UInt64(c)) &* 0x100_0000_01b3 }
        return hash
    }
}

extension KeyTable where K: CaseIterable & RawRepresentable, K.RawValue == String {
    /// A table of every case of a `String`-backed field enum.
    init() { self.init(K.allCases.map { ($0.rawValue, $0) }) }
}
