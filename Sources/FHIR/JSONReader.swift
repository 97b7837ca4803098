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
    /// Repeated sub-values of this document already decoded (set by the document readers; nil: decode everything).
    var memo: DocumentMemo?

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
        var escaped = false
        // Find the closing quote 8 bytes at a time, then byte by byte (a backslash skips the byte after it).
        while pos + 8 <= count {
            let word = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
            let marks = Self.byteMarks(word, 0x22) | Self.byteMarks(word, 0x5C)
            if marks != 0 { pos += marks.trailingZeroBitCount / 8; break } // onto the first quote or backslash
            pos += 8
        }
        while true {
            guard pos < count else { throw JSONReadError.truncated(offset: pos) }
            let c = base[pos]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") { escaped = true; pos += 1 }
            pos += 1
        }
        lastKeyStart = start
        lastKeyLength = pos - start
        pos += 1
        try expect(UInt8(ascii: ":"))
        if escaped { return .some(nil) } // escaped keys never name FHIR elements we model
        return .some(table.lookup(base, start, lastKeyLength, count))
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
    mutating func readArray<T>(reservingCapacity capacity: Int = 0,
                               _ element: (inout JSONReader) throws -> T?) throws -> [T]? {
        guard try beginArray() else { return nil }
        var out: [T] = []
        if capacity > 0 { out.reserveCapacity(capacity) }
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

/// Maps JSON keys to a field enum by comparing their bytes, without materialising key strings: candidates are
/// grouped by length and compared on their first 8 bytes (one load), then on the rest.
///
/// The storage is plain memory, allocated once and never freed, so that passing a table costs no reference
/// counting: tables are meant to be `static let`s (an empty table allocates nothing).
struct KeyTable<K: Sendable>: @unchecked Sendable { // immutable after init
    /// Candidates of length `n` are `bounds[n]..<bounds[n + 1]` (`n` ≤ `maxLength`), in declaration order.
    private let bounds: UnsafePointer<Int>?
    /// The first (up to) 8 bytes of each key, little-endian.
    private let heads: UnsafePointer<UInt64>?
    /// All key bytes, key `i` starting at `offsets[i]`.
    private let bytes: UnsafePointer<UInt8>?
    private let offsets: UnsafePointer<Int>?
    private let keys: UnsafePointer<K>?
    private let maxLength: Int

    init(_ pairs: [(String, K)]) {
        let sorted = pairs.enumerated().sorted { ($0.element.0.utf8.count, $0.offset) < ($1.element.0.utf8.count, $1.offset) }
        maxLength = sorted.last?.element.0.utf8.count ?? -1
        guard !sorted.isEmpty else {
            (bounds, heads, bytes, offsets, keys) = (nil, nil, nil, nil, nil)
            return
        }
        func store<T>(_ values: [T]) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
            p.initialize(from: values, count: values.count)
            return UnsafePointer(p)
        }
        var bounds = [Int](repeating: sorted.count, count: maxLength + 2)
        for n in 0...maxLength { bounds[n] = sorted.firstIndex { $0.element.0.utf8.count >= n } ?? sorted.count }
        let keyBytes = sorted.map { Array($0.element.0.utf8) }
        self.bounds = store(bounds)
        heads = store(keyBytes.map { b in
            b.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        })
        offsets = store(keyBytes.reduce(into: [0]) { $0.append($0.last! + $1.count) })
        bytes = store(keyBytes.flatMap { $0 })
        keys = store(sorted.map(\.element.1))
    }

    /// The key whose UTF-8 bytes are `base[start..<start+length]` (`count`: bytes readable from `base`).
    @inline(__always) func lookup(_ base: UnsafePointer<UInt8>, _ start: Int, _ length: Int, _ count: Int) -> K? {
        guard length <= maxLength, let bounds, let heads, let bytes, let offsets, let keys else { return nil }
        var i = bounds[length]
        let end = bounds[length + 1]
        guard i < end else { return nil }
        let n = min(length, 8)
        var head: UInt64
        if start + 8 <= count {
            head = UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self)
            if n < 8 { head &= (UInt64(1) << UInt64(8 * n)) &- 1 }
        } else {
            head = 0
            for k in 0..<n { head |= UInt64(base[start + k]) << UInt64(8 * k) }
        }
        while i < end {
            if heads[i] == head, length <= 8 || memcmp(base + start + 8, bytes + offsets[i] + 8, length - 8) == 0 {
                return keys[i]
            }
            i += 1
        }
        return nil
    }
}

extension KeyTable where K: CaseIterable & RawRepresentable, K.RawValue == String {
    /// A table of every case of a `String`-backed field enum.
    init() { self.init(K.allCases.map { ($0.rawValue, $0) }) }
}
