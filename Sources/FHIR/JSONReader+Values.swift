import Foundation

extension JSONReader {
    // MARK: Strings

    /// Scans a string value; returns the raw byte range between the quotes and whether it has escapes.
    @inline(__always) mutating func scanString() throws -> (start: Int, end: Int, escaped: Bool) {
        pos += 1 // opening quote, checked by the caller
        let start = pos
        var escaped = false
        while true {
            // Fast scan, 8 bytes at a time, for a quote or a backslash.
            while pos + 8 <= count {
                let word = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
                let marks = Self.byteMarks(word, 0x22) | Self.byteMarks(word, 0x5C)
                if marks != 0 { pos += marks.trailingZeroBitCount / 8; break } // onto the first quote or backslash
                pos += 8
            }
            guard pos < count else { throw JSONReadError.truncated(offset: pos) }
            let c = base[pos]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                escaped = true
                pos += 2
                continue
            }
            pos += 1
        }
        let end = pos
        pos += 1
        return (start, end, escaped)
    }

    /// Scans a string value like ``scanString()`` and hashes it like ``byteHash(_:_:seed:)`` in the same pass;
    /// nil when it has an escape (the reader then stands on the backslash) or non-ASCII bytes.
    @inline(__always) mutating func scanASCIIString(seed: UInt64) throws -> (start: Int, end: Int, hash: UInt64)? {
        pos += 1 // opening quote, checked by the caller
        let start = pos
        var h = seed
        var high: UInt64 = 0
        var quote = -1 // offset of the closing quote in the word where it was found
        while pos + 8 <= count {
            let word = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
            let marks = Self.byteMarks(word, 0x22) | Self.byteMarks(word, 0x5C)
            if marks != 0 {
                // The lowest mark is exact: the first quote or backslash is at byte `k` of the word (little-endian).
                let k = marks.trailingZeroBitCount / 8
                if base[pos + k] == UInt8(ascii: "\\") { pos += k; return nil }
                high |= k == 0 ? 0 : word & (UInt64.max >> UInt64(64 - 8 * k))
                quote = k
                break
            }
            high |= word
            h = mixWord(h, word)
            pos += 8
        }
        let mixed = pos - start
        if quote >= 0 {
            pos += quote
        } else {
            while true { // the last bytes of the document, one by one
                guard pos < count else { throw JSONReadError.truncated(offset: pos) }
                let c = base[pos]
                if c == UInt8(ascii: "\"") { break }
                if c == UInt8(ascii: "\\") { return nil }
                high |= UInt64(c)
                pos += 1
            }
        }
        let end = pos
        pos += 1
        guard high & 0x8080_8080_8080_8080 == 0 else { return nil }
        return (start, end, finishHash(h, base + start, end - start, mixed: mixed))
    }

    /// The high bit of each byte of `word` equal to `byte` — exact for the lowest one (a borrow can only mark bytes
    /// above a real match).
    @inline(__always) static func byteMarks(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    /// Reads a string; nil for `null`. Other JSON types are a recoverable type error.
    @inline(__always) mutating func readString() throws -> String? {
        let b = try peek()
        guard b == UInt8(ascii: "\"") else {
            if b == UInt8(ascii: "n") { try literal("null"); return nil }
            throw typeError("string")
        }
        let (start, end, escaped) = try scanString()
        if escaped { return try unescape(start, end) }
        return String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
    }

    /// Reads a string, returning a shared instance for well-known URLs and codes (saves an allocation each).
    @inline(__always) mutating func readInternedString() throws -> String? {
        let b = try peek()
        guard b == UInt8(ascii: "\"") else {
            if b == UInt8(ascii: "n") { try literal("null"); return nil }
            throw typeError("string")
        }
        let (start, end, escaped) = try scanString()
        if escaped { return try unescape(start, end) }
        if let shared = StringInterner.shared.lookup(base + start, end - start) { return shared }
        return String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
    }

    /// Reads an array of strings; nil for `null`.
    mutating func readStringArray() throws -> [String]? { try readArray { r in try r.readString() } }

    mutating func unescape(_ start: Int, _ end: Int) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            let c = base[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            guard i + 1 < end else { throw JSONReadError.syntax(offset: i, reason: "dangling escape") }
            let e = base[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: i, end: end)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= end, base[i] == UInt8(ascii: "\\"),
                   base[i + 1] == UInt8(ascii: "u") {
                    let low = try hex4(at: i + 2, end: end)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: String(value).utf8)
            default:
                throw JSONReadError.syntax(offset: i - 1, reason: "invalid escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func hex4(at i: Int, end: Int) throws -> UInt32 {
        guard i + 4 <= end else { throw JSONReadError.syntax(offset: i, reason: "short \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = base[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x37)
            case 0x61...0x66: d = UInt32(c - 0x57)
            default: throw JSONReadError.syntax(offset: i + k, reason: "bad hex digit")
            }
            v = v << 4 | d
        }
        return v
    }

    // MARK: Scalars

    /// Reads a boolean; nil for `null`.
    mutating func readBool() throws -> Bool? {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        case UInt8(ascii: "n"): try literal("null"); return nil
        default: throw typeError("boolean")
        }
    }

    /// Scans a number token and returns its byte range.
    mutating func scanNumber() throws -> (Int, Int) {
        let start = pos
        while pos < count {
            let c = base[pos]
            if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
                || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { pos += 1 } else { break }
        }
        guard pos > start else { throw JSONReadError.syntax(offset: pos, reason: "unexpected character") }
        return (start, pos)
    }

    /// Reads a number as Double; nil for `null`.
    mutating func readDouble() throws -> Double? {
        let b = try peek()
        if b == UInt8(ascii: "n") { try literal("null"); return nil }
        guard b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) else { throw typeError("number") }
        let (start, end) = try scanNumber()
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
        guard let value = Double(text) else { throw JSONReadError.syntax(offset: start, reason: "bad number") }
        return value
    }

    /// Reads an integer; nil for `null`. Fractions or overflow are a recoverable value error.
    mutating func readInt() throws -> Int? {
        let at = pos
        guard let d = try readDouble() else { return nil }
        guard d.rounded() == d, abs(d) < 9.0e15 else { throw JSONReadError.value(reason: "not an integer", offset: at) }
        return Int(d)
    }

    /// Reads a FHIR instant/dateTime string without allocating; nil for `null`.
    @inline(__always) mutating func readInstant() throws -> FHIRInstant? {
        let b = try peek()
        guard b == UInt8(ascii: "\"") else {
            if b == UInt8(ascii: "n") { try literal("null"); return nil }
            throw typeError("date/time string")
        }
        let at = pos
        let (start, end, escaped) = try scanString()
        let parsed: FHIRInstant?
        if escaped {
            parsed = FHIRInstant.parse(try unescape(start, end))
        } else {
            parsed = FHIRInstant.parse(UnsafeRawBufferPointer(start: base + start, count: end - start))
        }
        guard let parsed else {
            let text = String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
            throw JSONReadError.value(reason: "invalid date/time '\(text)'", offset: at)
        }
        return parsed
    }
}
