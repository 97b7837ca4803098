import Foundation

/// Object keys predicted from the previous object of the same shape, for the fast slot path.
///
/// Editors write every Slot (and every entry) with the same keys in the same order. The predictor remembers, for
/// each key position, where the quoted key token (`"name"`, quotes included, and the colon when it follows right
/// away) of the last object read was in the document; when the bytes at the reader equal that token, the key is
/// known without scanning or looking it up.
/// Only keys the table knows are remembered, and a known key is never escaped, so equal bytes mean the same key
/// as ``JSONReader/nextKey(_:_:)`` would return. Anything else (whitespace before a comma, another key, the end
/// of the object) goes to `nextKey` itself, which then teaches the predictor.
struct KeyPredictor<K: Sendable> {
    /// The key token remembered for one position: its bytes in the document (`"name"`, plus the `:` when it came
    /// right after the closing quote, so that matching the token also reads the colon).
    private struct Prediction {
        var start: Int
        var length: Int
        var key: K
        var withColon: Bool
    }
    private var predictions: [Prediction?] = []

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
        if k < predictions.count, let p = predictions[k] {
            var at = r.pos
            if !first, b == UInt8(ascii: ",") { at += 1 }
            if first || at > r.pos, Self.equal(r, at, p.start, p.length) {
                first = false
                r.lastKeyStart = at + 1
                r.lastKeyLength = p.length - (p.withColon ? 3 : 2)
                r.pos = at + p.length
                if !p.withColon { try r.expect(UInt8(ascii: ":")) }
                return .some(p.key)
            }
        }
        let found = try r.nextKey(&first, table)
        if case .some(.some(let key)) = found {
            while predictions.count <= k { predictions.append(nil) }
            let quoteEnd = r.lastKeyStart + r.lastKeyLength + 1 // just after the closing quote
            let withColon = r.pos == quoteEnd + 1 // `nextKey` read the colon right there
            predictions[k] = Prediction(start: r.lastKeyStart - 1, length: r.lastKeyLength + (withColon ? 3 : 2),
                                        key: key, withColon: withColon)
        }
        return found
    }

    /// Whether the `length` bytes at `pos` equal those at `start` (an earlier key token of the same document).
    @inline(__always)
    private static func equal(_ r: JSONReader, _ pos: Int, _ start: Int, _ length: Int) -> Bool {
        guard length <= r.count - pos else { return false }
        let a = UnsafeRawPointer(r.base + pos), b = UnsafeRawPointer(r.base + start)
        if length >= 8, length <= 24 { // two or three (possibly overlapping) words
            guard a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self),
                  a.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
                  == b.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self) else { return false }
            return length <= 16 || a.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        }
        return memcmp(a, b, length) == 0
    }
}
