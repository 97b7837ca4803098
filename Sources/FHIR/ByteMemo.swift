import Foundation

// Per-document memo tables keyed by raw JSON bytes, for the fast slot path. Editors repeat the same sub-values
// (meta, serviceType, specialty, appointmentType, comment, schedule) hundreds of times per bundle; decoding each
// distinct value once with the full reader and reusing the result for identical bytes keeps the full reader's
// exact semantics while skipping most of the work. Offsets refer to the document being decoded: a memo is only
// valid inside the `withUnsafeBytes` scope of one decode (it is created and dropped per bundle).

/// A fast non-cryptographic hash of bytes (8 bytes per step). Collisions are harmless where it is used: memo
/// hits are confirmed with `memcmp`, and a key-set collision only sends the bundle to the full path.
@inline(__always)
func byteHash(_ p: UnsafePointer<UInt8>, _ n: Int, seed: UInt64 = 0) -> UInt64 {
    let raw = UnsafeRawPointer(p)
    var h = seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15)
    var i = 0
    while i + 8 <= n {
        h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        i += 8
    }
    if i < n {
        var tail: UInt64 = 0
        if n >= 8 { // the last 8 bytes, overlapping the words already mixed in (n is mixed in too)
            tail = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
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
    h ^= h >> 32
    h &*= 0xD6E8_FEB8_6659_FD93
    return h ^ (h >> 32)
}

/// Values of whole JSON containers remembered by their bytes and found again by comparing the upcoming bytes with
/// each remembered value. A complete object or array is self-delimiting, so equal bytes at the reader position
/// mean the same value ends at the same place: a hit needs no scan at all. Meant for fields with few distinct
/// values; after `capacity` distinct values, new ones are simply decoded every time.
struct PrefixMemo<Value> {
    private var starts: [Int] = []
    private var lengths: [Int] = []
    private var values: [Value] = []
    private var last = 0
    private static var capacity: Int { 16 }

    /// The value at the reader position: remembered, or decoded by `parse` (which must consume exactly one value).
    @inline(__always)
    mutating func read(_ r: inout JSONReader, _ parse: (inout JSONReader) throws -> Value) throws -> Value {
        let first = try r.peek()
        let pos = r.pos
        let container = first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        if container, !starts.isEmpty {
            let available = r.count - pos
            if matches(last, r, pos, available) {
                r.pos += lengths[last]
                return values[last]
            }
            for k in starts.indices where k != last && matches(k, r, pos, available) {
                last = k
                r.pos += lengths[k]
                return values[k]
            }
        }
        let value = try parse(&r)
        if container, starts.count < Self.capacity {
            starts.append(pos)
            lengths.append(r.pos - pos)
            values.append(value)
            last = starts.count - 1
        }
        return value
    }

    @inline(__always)
    private func matches(_ k: Int, _ r: JSONReader, _ pos: Int, _ available: Int) -> Bool {
        let n = lengths[k]
        return n <= available && memcmp(r.base + pos, r.base + starts[k], n) == 0
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
