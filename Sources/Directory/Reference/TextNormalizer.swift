import Foundation

/// Folds free text typed by a regulator into a comparable key: lower case, no accents, no punctuation.
public enum TextNormalizer {
    /// Lower-cases, strips diacritics, turns every non-alphanumeric character into a single space,
    /// expands "st"/"ste" into "saint"/"sainte" and trims. "Saint-Étienne", "st etienne" → "saint etienne".
    public static func key(_ text: String) -> String {
        let tokens = self.tokens(text)
        return tokens.joined(separator: " ")
    }

    /// The normalised tokens of `text` (see ``key(_:)``).
    public static func tokens(_ text: String) -> [String] {
        var result: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            guard !current.isEmpty else { return }
            let token = String(current)
            current = String.UnicodeScalarView()
            switch token {
            case "st": result.append("saint")
            case "ste": result.append("sainte")
            default: result.append(token)
            }
        }
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let v = scalar.value
                if v >= 0x61 && v <= 0x7A || v >= 0x30 && v <= 0x39 {
                    current.append(scalar)
                } else if v >= 0x41 && v <= 0x5A {
                    current.append(Unicode.Scalar(v + 0x20)!)
                } else {
                    flush()
                }
                continue
            }
            if let folded = fold(scalar) {
                if folded.isEmpty { continue }  // combining mark
                current.append(contentsOf: folded.unicodeScalars)
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(contentsOf: String(scalar).lowercased().unicodeScalars)
            } else {
                flush()
            }
        }
        flush()
        return result
    }

    /// Maps a non-ASCII scalar to its ASCII letters; `""` for combining marks, `nil` when unknown.
    private static func fold(_ scalar: Unicode.Scalar) -> String? {
        let v = scalar.value
        if v >= 0x300 && v <= 0x36F { return "" }
        switch v {
        case 0xC0...0xC5, 0xE0...0xE5, 0x100...0x105: return "a"
        case 0xC6, 0xE6: return "ae"
        case 0xC7, 0xE7, 0x106...0x10D: return "c"
        case 0xC8...0xCB, 0xE8...0xEB, 0x112...0x11B: return "e"
        case 0xCC...0xCF, 0xEC...0xEF, 0x128...0x131: return "i"
        case 0xD1, 0xF1, 0x143...0x148: return "n"
        case 0xD2...0xD6, 0xD8, 0xF2...0xF6, 0xF8, 0x14C...0x151: return "o"
        case 0x152, 0x153: return "oe"
        case 0xD9...0xDC, 0xF9...0xFC, 0x168...0x173: return "u"
        case 0xDD, 0xFD, 0xFF, 0x178: return "y"
        case 0xDF: return "ss"
        case 0x2019, 0x2018, 0x2013, 0x2014, 0xA0, 0x202F, 0xAB, 0xBB: return nil
        default:
            let decomposed = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
            let base = decomposed.filter { $0.isASCII && $0.properties.isAlphabetic }
            return base.isEmpty ? nil : String(String.UnicodeScalarView(base)).lowercased()
        }
    }

    /// Rewrites ordinal tokens ("3e", "3eme", "1er") to plain numbers, strips leading zeros of 1–2 digit
    /// numbers ("03" → "3") and drops "arrondissement"/"arr", so "Lyon 3e arrondissement" → "lyon 3".
    public static func canonicalOrdinals(_ tokens: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(tokens.count)
        for token in tokens {
            if token == "arrondissement" || token == "arr" || token == "arrt" { continue }
            var digits = Substring(token)
            for suffix in ["eme", "ieme", "er", "ere", "e"] where token.hasSuffix(suffix) {
                let stem = token.dropLast(suffix.count)
                if !stem.isEmpty, stem.count <= 2, stem.allSatisfy(\.isNumber) { digits = stem; break }
            }
            if digits.count <= 2, !digits.isEmpty, digits.allSatisfy(\.isNumber), let n = Int(digits) {
                out.append(String(n))
            } else {
                out.append(token)
            }
        }
        return out
    }
}

/// Edit distances used by the fuzzy geocoder and the specialty lookup.
public enum EditDistance {
    /// Optimal-string-alignment Damerau–Levenshtein distance, stopping early once it exceeds `limit`
    /// (returns `limit + 1` in that case).
    public static func damerauLevenshtein(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        let n = a.count, m = b.count
        if abs(n - m) > limit { return limit + 1 }
        if n == 0 { return m }
        if m == 0 { return n }
        var prevPrev = [Int](repeating: 0, count: m + 1)
        var prev = Array(0...m)
        var curr = [Int](repeating: 0, count: m + 1)
        for i in 1...n {
            curr[0] = i
            var rowMin = curr[0]
            for j in 1...m {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var best = min(prev[j] + 1, curr[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    best = min(best, prevPrev[j - 2] + 1)
                }
                curr[j] = best
                rowMin = min(rowMin, best)
            }
            if rowMin > limit { return limit + 1 }
            swap(&prevPrev, &prev)
            swap(&prev, &curr)
        }
        return prev[m]
    }

    /// Convenience overload on strings (compared as UTF-8 bytes; meant for normalised ASCII keys).
    public static func damerauLevenshtein(_ a: String, _ b: String, limit: Int) -> Int {
        damerauLevenshtein(Array(a.utf8), Array(b.utf8), limit: limit)
    }

    /// The largest tolerated typo distance for a key of `length` characters: 0 up to 3, 1 up to 5, else 2.
    public static func tolerance(forLength length: Int) -> Int {
        length <= 3 ? 0 : (length <= 5 ? 1 : 2)
    }
}
