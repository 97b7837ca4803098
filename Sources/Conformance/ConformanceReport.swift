import Foundation

/// One requirement's outcome in a conformance run.
public struct ConformanceResult: Sendable, Codable, Equatable {
    /// The verdict, in the report's French vocabulary.
    public enum Verdict: String, Sendable, Codable {
        case pass = "conforme"
        case fail = "non_conforme"
        /// An optional requirement not met, or a kit "warning" assertion: reported, never failing the run.
        case warning = "avertissement"
        /// Not run: a manual check, a missing input (certificate, RPPS), or a failed group setup.
        case skipped = "non_execute"
    }

    /// The kit's number (`4.3.04`).
    public var id: String
    /// `PS` or `CPTS` for the aggregation requirements run in both modes; nil otherwise.
    public var mode: String?
    public var group: String
    public var title: String
    public var optional: Bool
    public var verdict: Verdict
    /// Why (French): the failed assertions, warnings, or the reason for not running.
    public var messages: [String]
    /// The request(s) the verdict rests on (`GET https://…`, or `METHOD target → status` lines).
    public var request: String?
    /// The start of the response, for failures.
    public var excerpt: String?

    public init(id: String, mode: String? = nil, group: String, title: String, optional: Bool = false, verdict: Verdict,
                messages: [String] = [], request: String? = nil, excerpt: String? = nil) {
        self.id = id
        self.mode = mode
        self.group = group
        self.title = title
        self.optional = optional
        self.verdict = verdict
        self.messages = messages
        self.request = request
        self.excerpt = excerpt
    }

    /// `4.3.04` or `4.3.04 [CPTS]`: unique within a report.
    public var key: String { mode.map { "\(id) [\($0)]" } ?? id }
}

/// A conformance run's report: the endpoint, when, and each requirement's verdict, as JSON or a standalone French
/// HTML page with the request and a response excerpt of every failure.
public struct ConformanceReport: Sendable, Codable {
    public var baseURL: String
    public var startedAt: Date
    public var durationSeconds: Double
    public var results: [ConformanceResult]

    public init(baseURL: String, startedAt: Date, durationSeconds: Double, results: [ConformanceResult]) {
        self.baseURL = baseURL
        self.startedAt = startedAt
        self.durationSeconds = durationSeconds
        self.results = results
    }

    public var failures: [ConformanceResult] { results.filter { $0.verdict == .fail } }
    public var warnings: [ConformanceResult] { results.filter { $0.verdict == .warning } }
    public var skipped: [ConformanceResult] { results.filter { $0.verdict == .skipped } }
    public var passed: Bool { failures.isEmpty }

    /// One French sentence.
    public var summary: String {
        let run = results.count - skipped.count
        var text = passed
            ? "Conforme : \(run - warnings.count) exigence(s) satisfaite(s) sur \(run) vérifiée(s)"
            : "Non conforme : \(failures.count) exigence(s) non satisfaite(s) sur \(run) vérifiée(s)"
        if !warnings.isEmpty { text += ", \(warnings.count) avertissement(s)" }
        if !skipped.isEmpty { text += ", \(skipped.count) non exécutée(s)" }
        return text + "."
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> ConformanceReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ConformanceReport.self, from: data)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func label(_ verdict: ConformanceResult.Verdict) -> String {
        switch verdict {
        case .pass: return "conforme"
        case .fail: return "non conforme"
        case .warning: return "avertissement"
        case .skipped: return "non exécuté"
        }
    }

    /// The table rows of the report (also embedded by the console).
    public func htmlTable() -> String {
        var rows = ""
        var group = ""
        for result in results {
            if result.group != group {
                group = result.group
                rows += "<tr class=\"groupe\"><th colspan=\"4\">\(Self.escape(group))</th></tr>\n"
            }
            let classes: [ConformanceResult.Verdict: String] = [.pass: "ok", .fail: "ko", .warning: "warn", .skipped: "skip"]
            var detail = result.messages.map { "<p>\(Self.escape($0))</p>" }.joined()
            if result.verdict != .pass, let request = result.request {
                detail += "<pre class=\"requete\">\(Self.escape(request))</pre>"
            }
            if result.verdict == .fail, let excerpt = result.excerpt, !excerpt.isEmpty {
                detail += "<details><summary>Extrait de la réponse</summary><pre>\(Self.escape(excerpt))</pre></details>"
            }
            rows += "<tr class=\"\(classes[result.verdict] ?? "")\"><td>\(Self.escape(result.key))</td>"
                + "<td>\(Self.escape(result.title))\(result.optional ? " <em>(facultatif)</em>" : "")</td>"
                + "<td class=\"verdict\">\(Self.label(result.verdict))</td><td>\(detail)</td></tr>\n"
        }
        return """
        <table class="conformite"><thead><tr><th>Exigence</th><th>Intitulé</th><th>Verdict</th><th>Détail</th></tr></thead><tbody>
        \(rows)</tbody></table>
        """
    }

    /// A standalone page.
    public func html() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "fr_FR")
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.dateFormat = "dd/MM/yyyy HH:mm:ss"
        return """
        <!DOCTYPE html>
        <html lang="fr"><head><meta charset="utf-8"><title>Contrôle de conformité SAS</title>
        <style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#161616}table{border-collapse:collapse;width:100%}
        td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}tr.groupe th{background:#f0f0f0}
        tr.ok .verdict{color:#18753c}tr.ko .verdict{color:#ce0500;font-weight:700}tr.warn .verdict{color:#b34000}
        tr.skip .verdict{color:#666}pre{white-space:pre-wrap;font-size:.8rem;margin:.2rem 0}p{margin:.1rem 0}</style></head>
        <body><h1>Contrôle de conformité SAS (kit national)</h1>
        <p>Point d'accès : <code>\(Self.escape(baseURL))</code> — \(formatter.string(from: startedAt)) (heure de Paris), \(String(format: "%.1f", durationSeconds)) s.</p>
        <p><strong>\(Self.escape(summary))</strong></p>
        \(htmlTable())
        </body></html>
        """
    }
}
