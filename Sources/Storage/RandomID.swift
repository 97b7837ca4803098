/// Random identifiers without Foundation's `UUID()`, which on Linux opens `/dev/urandom` at every call (a system
/// call and a file descriptor per identifier on the hot paths: every request id, audit entry and appointment).
public enum RandomID {
    /// A random (version 4) UUID in lower case, from the system generator (`getrandom`).
    public static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000    // RFC 4122 variant
        let hex = hex16(high) + hex16(low)
        var out = ""
        out.reserveCapacity(36)
        for (index, character) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append("-") }
            out.append(character)
        }
        return out
    }

    /// `count` random lower-case hexadecimal digits (at most 16).
    public static func hex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(hex16(generator.next()).prefix(count))
    }

    static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
