import Foundation

/// Object keys predicted from the previous object of the same shape, for the fast slot path.
///
/// Editors write every Slot (and every entry) with the same keys in the same order. The predictor remembers, for
/// each key position, where the quoted key token (`"name"`, quotes included) of the last object read was in the
/// document; when the bytes at the reader equal that token, the key is known without scanning or looking it up.
/// Only keys the table knows are remembered, and a known key is never escaped, so equal bytes mean the same key
/// as ``JSONReader/nextKey(_:_:)`` would return. Anything else (whitespace before a comma, another key, the end
/// of the object) goes to `nextKey` itself, which then teaches the predictor.
struct KeyPredictor<K: Sendable> {
    private var starts: [Int] = []
    private var lengths: [Int] = []
    private var keys: [K?] = []

    /// `nextKey(&first, table)` for the key at position `ordinal` of the current object (incremented here).
    @inline(__always)
    mutating func nextKey(_ r: inout JSONReader, _ first: inout Bool, _ ordinal: inout Int,
                          _ table: KeyTable<K>) throws -> K?? {
        let k = ordinal
        ordinal += 1
        let b = try r.peek()
        if b == UInt8(ascii: "}") { // the end of the object, as `nextKey` reads it
            r.pos += 1
            r.depth -= 1
            return nil
        }
        if k < keys.count, let key = keys[k] {
            var p = r.pos
            if !first, b == UInt8(ascii: ",") { p += 1 }
            if first || p > r.pos, Self.equal(r, p, starts[k], lengths[k]) {
                first = false
                r.lastKeyStart = p + 1
                r.lastKeyLength = lengths[k] - 2
                r.pos = p + lengths[k]
                try r.expect(UInt8(ascii: ":"))
                return .some(key)
            }
        }
        let found = try r.nextKey(&first, table)
        if case .some(.some(let key)) = found {
            while keys.count <= k {
                starts.append(0)
                lengths.append(0)
                keys.append(nil)
            }
            (starts[k], lengths[k], keys[k]) = (r.lastKeyStart - 1, r.lastKeyLength + 2, key)
        }
        return found
    }

    /// Whether the `length` bytes at `pos` equal those at `start` (an earlier key token of the same document).
    @inline(__always)
    private static func equal(_ r: JSONReader, _ pos: Int, _ start: Int, _ length: Int) -> Bool {
        guard length <= r.count - pos else { return false }
        let a = UnsafeRawPointer(r.base + pos), b = UnsafeRawPointer(r.base + start)
        if length >= 8, length <= 16 { // two (possibly overlapping) words
            return a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
                && a.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
        }
        return memcmp(a, b, length) == 0
    }
}
