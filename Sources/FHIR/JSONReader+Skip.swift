import Foundation

extension JSONReader {
    /// Skips one value of any type without building it. Iterative: deep nesting cannot overflow the stack.
    mutating func skipValue() throws {
        var b = try peek()
        switch b {
        case UInt8(ascii: "\""): _ = try scanString(); return
        case UInt8(ascii: "t"): try literal("true"); return
        case UInt8(ascii: "f"): try literal("false"); return
        case UInt8(ascii: "n"): try literal("null"); return
        case UInt8(ascii: "{"), UInt8(ascii: "["): break
        default: _ = try scanNumber(); return
        }
        // One bit per open container (1 = object): a register for the first 64 levels, an array beyond.
        var shallow: UInt64 = 0
        var deep: [UInt64] = []
        var level = 0
        func isObject(_ l: Int) -> Bool {
            l < 64 ? shallow & (1 << UInt64(l)) != 0 : deep[(l - 64) >> 6] & (1 << UInt64(l & 63)) != 0
        }
        var expectValue = true
        while true {
            if expectValue {
                switch b {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard level < Self.skipDepthLimit else {
                        throw JSONReadError.tooDeep(offset: pos, limit: Self.skipDepthLimit, fatal: true)
                    }
                    let object = b == UInt8(ascii: "{")
                    if level < 64 {
                        if object { shallow |= 1 << UInt64(level) } else { shallow &= ~(1 << UInt64(level)) }
                    } else {
                        let word = (level - 64) >> 6
                        if word >= deep.count { deep.append(0) }
                        if object { deep[word] |= 1 << UInt64(level & 63) } else { deep[word] &= ~(1 << UInt64(level & 63)) }
                    }
                    level += 1
                    pos += 1
                    let next = try peek()
                    if next == (object ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        pos += 1
                        level -= 1
                        if level == 0 { return }
                        expectValue = false
                    } else if object {
                        try skipKey()
                    }
                case UInt8(ascii: "\""): _ = try scanString(); expectValue = false
                case UInt8(ascii: "t"): try literal("true"); expectValue = false
                case UInt8(ascii: "f"): try literal("false"); expectValue = false
                case UInt8(ascii: "n"): try literal("null"); expectValue = false
                default: _ = try scanNumber(); expectValue = false
                }
                b = try peek()
                continue
            }
            // After a value inside a container: ',' or the matching close.
            let inObject = isObject(level - 1)
            if b == UInt8(ascii: ",") {
                pos += 1
                if inObject { try skipKey() }
                expectValue = true
            } else if b == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                pos += 1
                level -= 1
                if level == 0 { return }
            } else {
                throw JSONReadError.syntax(offset: pos, reason: "expected ',' or a closing bracket")
            }
            b = try peek()
        }
    }

    private mutating func skipKey() throws {
        guard try peek() == UInt8(ascii: "\"") else { throw JSONReadError.syntax(offset: pos, reason: "expected a key") }
        _ = try scanString()
        try expect(UInt8(ascii: ":"))
    }

    /// Reads any value as ``JSONValue`` (for unknown resources and unmodelled extension values).
    mutating func readJSONValue() throws -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"):
            guard try beginObject() else { return .null }
            var object: [String: JSONValue] = [:]
            var first = true
            let anyKey = KeyTable<Never>([])
            while try nextKey(&first, anyKey) != nil {
                object[lastKeyEscapedAware()] = try readJSONValue()
            }
            return .object(object)
        case UInt8(ascii: "["):
            return .array(try readArray { r in try r.readJSONValue() } ?? [])
        case UInt8(ascii: "\""): return .string(try readString() ?? "")
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool(try readBool() ?? false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try readDouble() ?? 0)
        }
    }

    private func lastKeyEscapedAware() -> String {
        let raw = UnsafeBufferPointer(start: base + lastKeyStart, count: lastKeyLength)
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        var copy = self
        return (try? copy.unescape(lastKeyStart, lastKeyStart + lastKeyLength)) ?? String(decoding: raw, as: UTF8.self)
    }
}

/// Well-known strings shared across decoded models (bucketed by length, compared with `memcmp`).
struct StringInterner: Sendable {
    static let shared = StringInterner(FHIRSystems.internedStrings)

    private let buckets: [[(bytes: [UInt8], string: String)]]

    init(_ strings: [String]) {
        var buckets = [[(bytes: [UInt8], string: String)]](repeating: [], count: 129)
        for s in Set(strings) {
            let bytes = Array(s.utf8)
            if bytes.count < buckets.count { buckets[bytes.count].append((bytes, s)) }
        }
        self.buckets = buckets
    }

    @inline(__always) func lookup(_ p: UnsafePointer<UInt8>, _ n: Int) -> String? {
        guard n < buckets.count else { return nil }
        for candidate in buckets[n] where candidate.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, p, n) == 0 }) {
            return candidate.string
        }
        return nil
    }
}
