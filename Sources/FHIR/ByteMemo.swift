import Foundation

// Per-document memo tables keyed by raw JSON bytes, for the fast slot path and (``DocumentMemo``) the full readers.
// Editors repeat the same sub-values (meta, serviceType, specialty, appointmentType, comment, schedule, identifier
// types) hundreds of times per bundle; decoding each distinct value once with the full reader and reusing the result
// for identical bytes keeps the full reader's exact semantics while skipping most of the work. Offsets refer to the document being decoded: a memo is only
// valid inside the `withUnsafeBytes` scope of one decode (it is created and dropped per bundle).

/// A fast non-cryptographic hash of bytes (8 bytes per step; the length is mixed in last, so that a scan can hash
/// words as it finds them, see ``JSONReader/scanASCIIString(seed:)``). Collisions are harmless where it is used:
/// memo hits are confirmed with `memcmp`, and a key-set collision only sends the bundle to the full path.
@inline(__always)
func byteHash(_ p: UnsafePointer<UInt8>, _ n: Int, seed: UInt64 = 0) -> UInt64 {
    var h = seed
    var i = 0
    while i + 8 <= n {
        h = mixWord(h, UnsafeRawPointer(p).loadUnaligned(fromByteOffset: i, as: UInt64.self))
        i += 8
    }
    return finishHash(h, p, n, mixed: i)
}

@inline(__always)
func mixWord(_ h: UInt64, _ word: UInt64) -> UInt64 {
    let x = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
    return x ^ (x >> 29)
}

/// The end of ``byteHash(_:_:seed:)`` once the words of the first `mixed` bytes (a multiple of 8) are in `h`.
@inline(__always)
func finishHash(_ h0: UInt64, _ p: UnsafePointer<UInt8>, _ n: Int, mixed: Int) -> UInt64 {
    var h = h0
    var i = mixed
    while i + 8 <= n {
        h = mixWord(h, UnsafeRawPointer(p).loadUnaligned(fromByteOffset: i, as: UInt64.self))
        i += 8
    }
    if i < n {
        var tail: UInt64 = 0
        if n >= 8 { // the last 8 bytes, overlapping the words already mixed in (n is mixed in too)
            tail = UnsafeRawPointer(p).loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else {
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(p[i]) << shift
                shift += 8
                i += 1
            }
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    }
    h ^= UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 32
    h &*= 0xD6E8_FEB8_6659_FD93
    return h ^ (h >> 32)
}

/// Values of whole JSON containers remembered by their bytes and found again by comparing the upcoming bytes with
/// each remembered value. A complete object or array is self-delimiting, so equal bytes at the reader position
/// mean the same value ends at the same place: a hit needs no scan at all. Meant for fields with few distinct
/// values; after `capacity` distinct values, new ones are simply decoded every time.
///
/// Decoding depends on the bytes and on the nesting depth they sit at (the model depth limit), so a value is only
/// found again at the depth it was decoded at or shallower (where it decodes the same).
///
/// Remembered values of one field usually share a long prefix (the same keys and systems) and differ further on
/// (a code): comparing the upcoming bytes with each of them in turn would run through that prefix every time. So
/// the memo keeps the offset where its values first differ (`probe`) and each value's 8 bytes there; only values
/// whose probe word equals the upcoming bytes' are compared (a value shorter than the probe window always is).
struct PrefixMemo<Value> {
    /// One remembered byte sequence.
    private struct Entry {
        var start: Int
        var length: Int
        var depth: Int
        /// Index in `values`.
        var slot: Int
        /// The 8 bytes at `probe` (0 when the value is shorter than `probe + 8`).
        var probe: UInt64
    }
    private var entries: [Entry] = []
    /// Offset of the first byte where remembered values differ from the first one (0 until there are two).
    private var probe = 0
    /// Every value handed out by ``read(_:_:)``, by index (remembered ones and those that could not be), and those
    /// stored by ``store(_:_:start:depth:)``.
    private(set) var values: [Value] = []
    private var last = 0
    private static var capacity: Int { 16 }

    /// The index in `values` of the value at the reader position: a remembered one, or a new one decoded by `parse`
    /// (which must consume exactly one value). Values that cannot be remembered (not a container, or the table is
    /// full) are stored under a new index each time.
    @inline(__always)
    mutating func read(_ r: inout JSONReader, _ parse: (inout JSONReader) throws -> Value) throws -> Int {
        if let k = try lookup(&r) { return entries[k].slot }
        let (pos, depth) = (r.pos, r.depth)
        values.append(try parse(&r))
        remember(r, start: pos, depth: depth, slot: values.count - 1)
        return values.count - 1
    }

    /// The remembered value at the reader position (the reader then moves past it), if any. With
    /// ``store(_:_:start:depth:)``, for callers that decode in between without holding an access to the memo (nested
    /// values may use the same memo).
    @inline(__always)
    mutating func lookupValue(_ r: inout JSONReader) throws -> Value? {
        guard let k = try lookup(&r) else { return nil }
        return values[entries[k].slot]
    }

    /// Remembers `value`, decoded from `start` (at `depth`) to the reader position, if it is a container and there
    /// is room; otherwise keeps nothing.
    mutating func store(_ value: Value, _ r: JSONReader, start: Int, depth: Int) {
        guard remembers(r, start: start) else { return }
        values.append(value)
        remember(r, start: start, depth: depth, slot: values.count - 1)
    }

    /// The remembered entry at the reader position (the reader then moves past it), if any.
    @inline(__always)
    private mutating func lookup(_ r: inout JSONReader) throws -> Int? {
        let first = try r.peek()
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "["), !entries.isEmpty else { return nil }
        let pos = r.pos
        let available = r.count - pos
        let word: UInt64? = probe + 8 <= available ? Self.word(r, pos + probe) : nil
        if candidate(last, word, r.depth), matches(last, r, pos, available) {
            r.pos += entries[last].length
            return last
        }
        for k in entries.indices where k != last && candidate(k, word, r.depth) && matches(k, r, pos, available) {
            last = k
            r.pos += entries[k].length
            return k
        }
        return nil
    }

    /// Whether the value just decoded from `start` would be remembered.
    @inline(__always)
    private func remembers(_ r: JSONReader, start: Int) -> Bool {
        let first = r.base[start]
        return (first == UInt8(ascii: "{") || first == UInt8(ascii: "[")) && entries.count < Self.capacity
    }

    /// Whether remembered value `k` may be the upcoming one, given the upcoming bytes' probe word and depth.
    @inline(__always)
    private func candidate(_ k: Int, _ word: UInt64?, _ depth: Int) -> Bool {
        let e = entries[k]
        guard depth <= e.depth else { return false }
        guard let word, e.length >= probe + 8 else { return true }
        return e.probe == word
    }

    @inline(__always)
    private static func word(_ r: JSONReader, _ at: Int) -> UInt64 {
        UnsafeRawPointer(r.base + at).loadUnaligned(as: UInt64.self)
    }

    /// Remembers the container decoded from `start` to the reader position (if it is one and there is room).
    private mutating func remember(_ r: JSONReader, start: Int, depth: Int, slot: Int) {
        guard remembers(r, start: start) else { return }
        let length = r.pos - start
        if entries.isEmpty { entries.reserveCapacity(Self.capacity) }
        entries.append(Entry(start: start, length: length, depth: depth, slot: slot, probe: 0))
        last = entries.count - 1
        if entries.count > 1 {
            // Where the new value first differs from the first one (distinct complete containers always differ
            // before either ends); the probe moves back to the earliest such offset.
            let n = min(length, entries[0].length)
            var d = 0
            while d < n, r.base[start + d] == r.base[entries[0].start + d] { d += 1 }
            if entries.count == 2 || d < probe {
                probe = d
                for k in entries.indices {
                    entries[k].probe = entries[k].length >= probe + 8 ? Self.word(r, entries[k].start + probe) : 0
                }
                return
            }
        }
        entries[last].probe = length >= probe + 8 ? Self.word(r, start + probe) : 0
    }

    @inline(__always)
    private func matches(_ k: Int, _ r: JSONReader, _ pos: Int, _ available: Int) -> Bool {
        let n = entries[k].length
        return n <= available && memcmp(r.base + pos, r.base + entries[k].start, n) == 0
    }
}

/// Values remembered by the exact bytes of a JSON value (any count): an open-addressing table of byte ranges.
struct ByteMemo<Value> {
    private var table = [Int32](repeating: -1, count: 64)
    private var hashes: [UInt64] = []
    private var starts: [Int] = []
    private var lengths: [Int] = []
    private(set) var values: [Value] = []

    /// The value remembered for bytes `start..<start+length` of the document behind `r`, if any.
    @inline(__always)
    func lookup(_ r: JSONReader, _ start: Int, _ length: Int, hash: UInt64) -> Value? {
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let k = Int(table[i])
            if k < 0 { return nil }
            if hashes[k] == hash, lengths[k] == length, memcmp(r.base + start, r.base + starts[k], length) == 0 {
                return values[k]
            }
            i = (i + 1) & mask
        }
    }

    /// Remembers `value` for the byte range (which must not be in the table yet).
    mutating func insert(_ value: Value, start: Int, length: Int, hash: UInt64) {
        if (values.count + 1) * 2 > table.count { grow() }
        hashes.append(hash)
        starts.append(start)
        lengths.append(length)
        values.append(value)
        place(values.count - 1)
    }

    private mutating func place(_ k: Int) {
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: hashes[k]) & mask
        while table[i] >= 0 { i = (i + 1) & mask }
        table[i] = Int32(k)
    }

    private mutating func grow() {
        table = [Int32](repeating: -1, count: table.count * 2)
        for k in values.indices { place(k) }
    }
}

/// A set of 64-bit hashes (open addressing); used to prove that no fullUrl or Slot key repeats in a bundle.
struct HashSet64 {
    private var slots: [UInt64]
    private var count = 0

    init(capacity: Int) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [UInt64](repeating: 0, count: n)
    }

    /// Inserts `hash`; false when it was already there.
    mutating func insert(_ hash: UInt64) -> Bool {
        let h = hash == 0 ? 1 : hash // 0 marks an empty slot
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s == 0 {
                slots[i] = h
                count += 1
                return true
            }
            if s == h { return false }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        count = 0
        for h in old where h != 0 { _ = insert(h) }
    }
}

/// A map from pairs of 64-bit words to small integers (open addressing), for memo keys made of indices.
struct WordPairTable {
    private var keys: [(UInt64, UInt64)] = Array(repeating: (0, 0), count: 64)
    private var values = [Int32](repeating: -1, count: 64)
    private var count = 0

    @inline(__always)
    private static func slot(_ a: UInt64, _ b: UInt64, _ mask: Int) -> Int {
        var h = (a ^ (b &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The value stored for `(a, b)`, if any.
    @inline(__always)
    func lookup(_ a: UInt64, _ b: UInt64) -> Int? {
        let mask = values.count - 1
        var i = Self.slot(a, b, mask)
        while values[i] >= 0 {
            if keys[i] == (a, b) { return Int(values[i]) }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Stores `value` (≥ 0) for `(a, b)`, which must not be in the table yet.
    mutating func insert(_ a: UInt64, _ b: UInt64, _ value: Int) {
        if (count + 1) * 2 > values.count { grow() }
        let mask = values.count - 1
        var i = Self.slot(a, b, mask)
        while values[i] >= 0 { i = (i + 1) & mask }
        keys[i] = (a, b)
        values[i] = Int32(truncatingIfNeeded: value)
        count += 1
    }

    private mutating func grow() {
        let (oldKeys, oldValues) = (keys, values)
        keys = Array(repeating: (0, 0), count: oldValues.count * 2)
        values = [Int32](repeating: -1, count: oldValues.count * 2)
        count = 0
        for i in oldValues.indices where oldValues[i] >= 0 { insert(oldKeys[i].0, oldKeys[i].1, Int(oldValues[i])) }
    }
}

/// Sub-values that repeat across the resources of one document (the same `meta` on every resource of a type, the
/// same identifier `type` on every IDNPS or IDNST), decoded once per distinct bytes and depth by the full readers
/// and handed out again (see ``PrefixMemo``). One per document (``JSONReader/memo``): offsets refer to it.
final class DocumentMemo {
    private var meta = PrefixMemo<Meta>()
    private var concept = PrefixMemo<CodeableConcept>()

    /// A `Meta` object at the reader position, remembered or decoded by `decode`.
    func meta(_ r: inout JSONReader, _ decode: (inout JSONReader) throws -> Meta) throws -> Meta {
        if let known = try meta.lookupValue(&r) { return known }
        let (start, depth) = (r.pos, r.depth)
        let value = try decode(&r) // no access to `meta` is held meanwhile
        meta.store(value, r, start: start, depth: depth)
        return value
    }

    /// A `CodeableConcept` object at the reader position, remembered or decoded by `decode` (which may meet nested
    /// concepts in extensions: no access to the memo is held while it runs).
    func concept(_ r: inout JSONReader, _ decode: (inout JSONReader) throws -> CodeableConcept) throws -> CodeableConcept {
        if let known = try concept.lookupValue(&r) { return known }
        let (start, depth) = (r.pos, r.depth)
        let value = try decode(&r)
        concept.store(value, r, start: start, depth: depth)
        return value
    }
}
