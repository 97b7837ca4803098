/// RPPS numbers (11 digits, the last one a Luhn check digit) and the Luhn arithmetic behind them.
public enum RPPS {
    /// The Luhn check digit for the first 10 digits of an RPPS, or nil when the input is not 10 ASCII digits.
    public static func checkDigit(forFirst10 digits: String) -> Int? {
        let bytes = Array(digits.utf8)
        guard bytes.count == 10, bytes.allSatisfy(isDigit) else { return nil }
        return Luhn.checkDigit(forPayload: bytes)
    }

    /// The 11-digit RPPS made of `first10Digits` followed by its check digit.
    /// Precondition: `first10Digits` is exactly 10 ASCII digits (this is for generators, not for wire input).
    public static func withCheckDigit(_ first10Digits: String) -> String {
        guard let digit = checkDigit(forFirst10: first10Digits) else {
            preconditionFailure("RPPS.withCheckDigit needs exactly 10 digits, got '\(first10Digits)'")
        }
        return first10Digits + String(digit)
    }

    /// Whether an 11-digit RPPS (without the `8` IDNPS prefix) has a correct Luhn check digit.
    public static func isChecksumValid(_ rpps11: String) -> Bool {
        let bytes = Array(rpps11.utf8)
        guard bytes.count == 11, bytes.allSatisfy(isDigit) else { return false }
        return Luhn.isValid(bytes)
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}

/// The Luhn (mod 10) algorithm over ASCII digits, shared by RPPS and SIRET.
enum Luhn {
    /// Check digit to append to `payload` (ASCII digits).
    static func checkDigit(forPayload payload: [UInt8]) -> Int {
        var sum = 0
        // The rightmost payload digit sits next to the check digit, so it is doubled.
        for (offset, byte) in payload.reversed().enumerated() {
            var d = Int(byte &- 0x30)
            if offset % 2 == 0 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return (10 - sum % 10) % 10
    }

    /// Whether `number` (ASCII digits, check digit last) passes the Luhn test.
    static func isValid(_ number: [UInt8]) -> Bool {
        var sum = 0
        for (offset, byte) in number.reversed().enumerated() {
            var d = Int(byte &- 0x30)
            if offset % 2 == 1 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return sum % 10 == 0
    }
}

extension String {
    /// ASCII-blank trim that avoids Foundation bridging and returns `self` when there is nothing to trim.
    var trimmedBlanks: String {
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        guard let first = utf8.first, let last = utf8.last, isBlank(first) || isBlank(last) else { return self }
        guard let start = utf8.firstIndex(where: { !isBlank($0) }), let end = utf8.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[start...end])
    }

    /// Trimmed of blanks, without the `system|` of a search token in front (compared on bytes: `hasPrefix` compares
    /// characters, much slower).
    func identifierText(droppingToken prefix: String) -> String {
        let text = trimmedBlanks
        guard text.utf8.starts(with: prefix.utf8) else { return text }
        return String(Substring(text.utf8.dropFirst(prefix.utf8.count)))
    }
}
