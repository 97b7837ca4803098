import Foundation

/// The bytes of many short texts of one editor answer (its slot ids) in one buffer, shared by the slots that
/// name them: a slot refers to its id there instead of owning a string of its own. Building and freeing a slot then
/// costs no allocation for its id (the fast FHIR path reads 600 of them per bundle), and the id, which the platform
/// seldom reads, becomes a `String` only when asked for.
public final class TextArena: Sendable {
    /// The bytes.
    public let bytes: [UInt8]

    /// An arena over `bytes` (UTF-8 text; invalid sequences read as U+FFFD, like `String(decoding:as:)`).
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Number of bytes held.
    public var count: Int { bytes.count }
}

/// A slot's editor-assigned id: its own string, a span of a ``TextArena``, or none. Equality compares the text.
public struct SlotText: Hashable, Sendable {
    @usableFromInline enum Value: Sendable {
        case none
        case string(String)
        case span(TextArena, offset: UInt32, length: UInt32)
    }

    @usableFromInline let value: Value

    /// An id held as a string (nil: no id).
    @inlinable
    public init(_ string: String?) { value = string.map { .string($0) } ?? .none }

    /// The id at `offset..<offset + length` of `arena`; nil when that range is not inside the arena or does not fit
    /// in 32 bits.
    @inlinable
    public init?(arena: TextArena, offset: Int, length: Int) {
        guard offset >= 0, length >= 0, offset <= arena.count - length,
              let o = UInt32(exactly: offset), let n = UInt32(exactly: length) else { return nil }
        value = .span(arena, offset: o, length: n)
    }

    /// Whether there is an id.
    @inlinable public var isNone: Bool { if case .none = value { return true } else { return false } }

    /// The id as a string (built from the arena's bytes for a span).
    public var string: String? {
        switch value {
        case .none: return nil
        case .string(let s): return s
        case .span(let arena, let offset, let length):
            return arena.bytes.withUnsafeBufferPointer { b in
                String(decoding: UnsafeBufferPointer(rebasing: b[Int(offset)..<Int(offset + length)]), as: UTF8.self)
            }
        }
    }

    /// Equal texts (a span and a string with the same text are equal; spans compare bytes without building strings).
    public static func == (a: SlotText, b: SlotText) -> Bool {
        switch (a.value, b.value) {
        case (.none, .none): return true
        case (.none, _), (_, .none): return false
        case (.span(let x, let xo, let xn), .span(let y, let yo, let yn)):
            guard xn == yn else { return false }
            if xn == 0 || (x === y && xo == yo) { return true }
            // Bytes equal ⇒ same decoded text; different bytes can only decode alike through repairs of invalid UTF-8.
            let same = x.bytes.withUnsafeBufferPointer { p in
                y.bytes.withUnsafeBufferPointer { q in
                    memcmp(p.baseAddress! + Int(xo), q.baseAddress! + Int(yo), Int(xn)) == 0
                }
            }
            return same || a.string == b.string
        default:
            return a.string == b.string
        }
    }

    /// Hashes the text as `String` does, so that equal texts hash alike whatever their form.
    public func hash(into hasher: inout Hasher) { hasher.combine(string) }
}
