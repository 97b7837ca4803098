import Foundation

/// An open-addressing map from keys of one to three strings (and a small kind) to entry indices, for
/// ``BundleIndex``. Keys are hashed over their UTF-8 bytes with ``byteHash(_:_:seed:)`` seeded per process (colliding
/// keys cannot be prepared in a bundle ahead of time), and can be looked up by bytes: resolving a reference builds no
/// string. The first value stored for a key stays.
struct StringKeyTable: Sendable {
    private struct Key: Sendable {
        var hash: UInt64
        var value: Int32
        var kind: UInt8
        var count: UInt8
        var a: String, b: String, c: String
    }

    private var slots = [Int32](repeating: -1, count: 16)
    private var keys: [Key] = []

    /// Hash seed, random per process.
    private static let seed = UInt64.random(in: .min ... .max)

    /// Makes room for `n` keys.
    mutating func reserve(_ n: Int) {
        keys.reserveCapacity(n)
        var size = slots.count
        while size < n * 2 { size <<= 1 }
        if size > slots.count { rehash(size) }
    }

    // MARK: Lookups

    func value(_ a: String) -> Int? {
        Self.bytes(a) { a in find(1, 0, a, a, a) }
    }

    func value(_ a: String, _ b: String, kind: UInt8 = 0) -> Int? {
        Self.bytes(a) { a in Self.bytes(b) { b in find(2, kind, a, b, b) } }
    }

    func value(_ a: String, _ b: String, _ c: String, kind: UInt8 = 0) -> Int? {
        Self.bytes(a) { a in Self.bytes(b) { b in Self.bytes(c) { c in find(3, kind, a, b, c) } } }
    }

    /// The value of the two-part key (type, id) at the end of `url` (see ``BundleIndex/typeIDSuffix(_:)-swift.type.method``).
    func value(suffixOf url: String) -> Int? {
        Self.bytes(url) { u in
            guard let (type, id) = BundleIndex.typeIDSuffix(u) else { return nil }
            return find(2, 0, UnsafeBufferPointer(rebasing: u[type]), UnsafeBufferPointer(rebasing: u[id]),
                        UnsafeBufferPointer(rebasing: u[id]))
        }
    }

    // MARK: Inserts (kept when the key is already there)

    mutating func insert(_ value: Int, _ a: String) { insert(value, 1, 0, a, "", "") }

    mutating func insert(_ value: Int, _ a: String, _ b: String, kind: UInt8 = 0) { insert(value, 2, kind, a, b, "") }

    mutating func insert(_ value: Int, _ a: String, _ b: String, _ c: String, kind: UInt8 = 0) {
        insert(value, 3, kind, a, b, c)
    }

    private mutating func insert(_ value: Int, _ count: UInt8, _ kind: UInt8, _ a: String, _ b: String, _ c: String) {
        let (hash, present) = Self.bytes(a) { pa in
            Self.bytes(b) { pb in
                Self.bytes(c) { pc in (Self.hash(count, kind, pa, pb, pc), find(count, kind, pa, pb, pc) != nil) }
            }
        }
        guard !present, let v = Int32(exactly: value) else { return }
        if (keys.count + 1) * 2 > slots.count { rehash(slots.count * 2) }
        keys.append(Key(hash: hash, value: v, kind: kind, count: count, a: a, b: b, c: c))
        place(keys.count - 1)
    }

    // MARK: Table

    private func find(_ count: UInt8, _ kind: UInt8, _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>,
                      _ c: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(count, kind, a, b, c)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let k = Int(slots[i])
            if k < 0 { return nil }
            if keys[k].hash == hash, keys[k].kind == kind, keys[k].count == count, Self.equal(keys[k].a, a),
               count < 2 || Self.equal(keys[k].b, b), count < 3 || Self.equal(keys[k].c, c) {
                return Int(keys[k].value)
            }
            i = (i + 1) & mask
        }
    }

    private mutating func place(_ k: Int) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: keys[k].hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(k)
    }

    private mutating func rehash(_ size: Int) {
        slots = [Int32](repeating: -1, count: size)
        for k in keys.indices { place(k) }
    }

    private static func hash(_ count: UInt8, _ kind: UInt8, _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>,
                              _ c: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = mixWord(seed, UInt64(count) << 8 | UInt64(kind))
        h = partHash(a, h) // byteHash mixes each part's length: part boundaries count
        if count > 1 { h = partHash(b, h) }
        if count > 2 { h = partHash(c, h) }
        return h
    }

    private static func partHash(_ p: UnsafeBufferPointer<UInt8>, _ seed: UInt64) -> UInt64 {
        guard let base = p.baseAddress, !p.isEmpty else { return mixWord(seed, 0x9E37_79B9_7F4A_7C15) }
        return byteHash(base, p.count, seed: seed)
    }

    private static func equal(_ s: String, _ p: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes(s) { q in q.count == p.count && (p.isEmpty || memcmp(q.baseAddress!, p.baseAddress!, p.count) == 0) }
    }

    private static func bytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var copy = s
        return copy.withUTF8(body)
    }
}
