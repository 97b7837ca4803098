import FHIR
import Foundation

/// A search answer read the way the kit reads it (FHIRPath over JSON): resources matched by their one `meta.profile`
/// (a second profile makes a resource invisible, §1.8), collections flattened, "first" meaning the first value
/// across every matching resource in Bundle order.
struct BundleView {
    let json: [String: Any]

    init?(_ data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        json = object
    }

    init(json: [String: Any]) { self.json = json }

    var resourceType: String? { json["resourceType"] as? String }
    var entries: [[String: Any]] { json["entry"] as? [[String: Any]] ?? [] }
    var resources: [[String: Any]] { entries.compactMap { $0["resource"] as? [String: Any] } }

    /// Resources whose `meta.profile` is exactly `[url]`.
    func byProfile(_ url: String) -> [[String: Any]] { resources.filter { Self.profiles($0) == [url] } }

    static func profiles(_ resource: [String: Any]) -> [String] {
        (resource["meta"] as? [String: Any])?["profile"] as? [String] ?? []
    }

    /// Every value at a dotted path, arrays flattened at each step.
    static func values(_ node: Any, _ path: String) -> [Any] {
        var current: [Any] = [node]
        for step in path.split(separator: ".") {
            var next: [Any] = []
            for item in current {
                guard let object = item as? [String: Any], let value = object[String(step)] else { continue }
                if let array = value as? [Any] { next.append(contentsOf: array) } else { next.append(value) }
            }
            current = next
        }
        return current
    }

    static func strings(_ nodes: [[String: Any]], _ path: String) -> [String] {
        nodes.flatMap { values($0, path) }.compactMap { $0 as? String }
    }

    static func string(_ node: [String: Any], _ path: String) -> String? { values(node, path).first as? String }

    /// The kit's instant form: milliseconds and a numeric offset (`Z` refused).
    static func hasKitInstantForm(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 29 else { return false }
        let digits = Set([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 24, 25, 27, 28])
        for (i, b) in bytes.enumerated() {
            if digits.contains(i) { guard (0x30...0x39).contains(b) else { return false } }
        }
        return bytes[4] == 0x2D && bytes[7] == 0x2D && bytes[10] == 0x54 && bytes[13] == 0x3A && bytes[16] == 0x3A
            && bytes[19] == 0x2E && (bytes[23] == 0x2B || bytes[23] == 0x2D) && bytes[26] == 0x3A
    }

    static func instant(_ text: String) -> Date? { FHIRInstant.parse(text)?.date }

    static func matches(_ text: String, digitsAfter prefix: String, count: Int) -> Bool {
        text.hasPrefix(prefix) && text.count == prefix.count + count && text.dropFirst(prefix.count).allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// The kit's Slot searches (§1.6): the window from now to D+2 23:59:59 in Paris time, the parameters sorted by key
/// then value, `|` and `+` percent-encoded, `:` and `,` left as they are.
enum KitSearch {
    enum Mode: String, Sendable { case ps = "PS", cpts = "CPTS" }

    static let idnpsSystem = "urn:oid:1.2.250.1.71.4.2.1"

    /// `yyyy-MM-ddTHH:mm:ss` now, and D+2 at 23:59:59, Paris local time.
    static func window(now: Date = Date()) -> (start: String, end: String) {
        let zone = TimeZone(identifier: "Europe/Paris")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let dayFormatter = DateFormatter()
        dayFormatter.locale = Locale(identifier: "en_US_POSIX")
        dayFormatter.timeZone = zone
        dayFormatter.dateFormat = "yyyy-MM-dd"
        let later = calendar.date(byAdding: .day, value: 2, to: now) ?? now
        return (formatter.string(from: now), dayFormatter.string(from: later) + "T23:59:59")
    }

    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: ":,/-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    static func query(_ pairs: [(String, String)]) -> String {
        pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
    }

    /// The group setups' search for one or several RPPS.
    static func url(base: String, rpps: [String], mode: Mode, window: (start: String, end: String)) -> String {
        let identifiers = rpps.map { "\(idnpsSystem)|\($0)" }.joined(separator: ",")
        var pairs: [(String, String)] = [("schedule.actor:Practitioner.identifier", identifiers), ("status", "free")]
        switch mode {
        case .ps:
            pairs += [("_include", "Slot:schedule"), ("_include:iterate", "Schedule:actor"),
                      ("start", "ge\(window.start).000+00:00"), ("start", "le\(window.end).000+00:00")]
        case .cpts:
            pairs += [("_include", "Slot:schedule"), ("_include", "Slot:service-type-reference"),
                      ("_include:iterate", "Schedule:actor"), ("_include:iterate", "HealthcareService:organization"),
                      ("start", "ge\(window.start).000"), ("start", "le\(window.end).000")]
        }
        return base + "/Slot?" + query(pairs)
    }

    /// The security group's fixed search (1.1): a 2024 window and an RPPS the vendor may not know; 200 expected.
    static func securityURL(base: String) -> String {
        base + "/Slot?" + query([
            ("_include", "Slot:schedule"), ("_include:iterate", "Schedule:actor"), ("status", "free"),
            ("start", "ge2024-01-01T00:00:00.000+00:00"), ("start", "le2024-01-03T23:59:59.999+00:00"),
            ("schedule.actor:Practitioner.identifier", "\(idnpsSystem)|810101215225"),
        ])
    }

    /// Query parameters as the kit compares them (4.3.07): HTML-unescaped, percent-decoded, `+` read as a space,
    /// each name's values sorted.
    static func parameters(of url: String) -> [String: [String]] {
        let unescaped = url.replacingOccurrences(of: "&amp;", with: "&")
        guard let mark = unescaped.firstIndex(of: "?") else { return [:] }
        var result: [String: [String]] = [:]
        for pair in unescaped[unescaped.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            result[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return result.mapValues { $0.sorted() }
    }
}

