import Foundation

/// Rewrites compact JSON so that every object's `resourceType` member comes first (as FHIR servers emit it),
/// keeping the other members in their order. With `.sortedKeys` encoding this makes output deterministic too.
enum JSONKeyOrder {
    static func hoistResourceType(_ data: Data) throws -> Data {
        try data.withUnsafeBytes { buffer in
            var reader = JSONReader(buffer)
            var out: [UInt8] = []
            out.reserveCapacity(buffer.count)
            try copyValue(&reader, into: &out)
            return Data(out)
        }
    }

    private static let resourceTypeKey = Array("\"resourceType\"".utf8)

    private static func copyValue(_ r: inout JSONReader, into out: inout [UInt8]) throws {
        switch try r.peek() {
        case UInt8(ascii: "{"):
            r.pos += 1
            var members: [(key: ArraySlice<UInt8>, value: [UInt8])] = []
            var first = true
            while true {
                var b = try r.peek()
                if b == UInt8(ascii: "}") { r.pos += 1; break }
                if !first { r.pos += 1; b = try r.peek() } // ','
                first = false
                let keyStart = r.pos
                _ = try r.scanString()
                let key = ArraySlice(UnsafeBufferPointer(start: r.base + keyStart, count: r.pos - keyStart))
                try r.expect(UInt8(ascii: ":"))
                var value: [UInt8] = []
                try copyValue(&r, into: &value)
                members.append((key, value))
                _ = b
            }
            if let i = members.firstIndex(where: { $0.key.elementsEqual(resourceTypeKey) }), i > 0 {
                members.insert(members.remove(at: i), at: 0)
            }
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: member.key)
                out.append(UInt8(ascii: ":"))
                out.append(contentsOf: member.value)
            }
            out.append(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            r.pos += 1
            out.append(UInt8(ascii: "["))
            var first = true
            while true {
                let b = try r.peek()
                if b == UInt8(ascii: "]") { r.pos += 1; break }
                if !first { r.pos += 1; out.append(UInt8(ascii: ",")) }
                first = false
                try copyValue(&r, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            let start = r.pos
            try r.skipValue()
            out.append(contentsOf: UnsafeBufferPointer(start: r.base + start, count: r.pos - start))
        }
    }
}
