import Agenda
import Aggregator
import EditorSync
import Foundation
import Hummingbird
import HTTPTypes
import Identity
import Storage

/// Activity figures (`/activite`, `.csv`, JSON) for territorial referents and administrators, and the INT_R02
/// synchronisation console (`/admin/comptes-editeurs`) for account managers.
struct ActivityRoutes {
    let activity: ActivityStore
    let aggregator: SlotAggregator
    let editors: EditorStore
    let sync: RegulatorSync
    let accounts: AccountStore
    let pages: Pages
    let database: any Database

    func register(on router: Router<AppRequestContext>) {
        let figures = router.group("activite").add(middleware: RequirePermission(permission: .readActivity))
        figures.get { request, context in try await page(request, context) }
        router.group("activite.csv").add(middleware: RequirePermission(permission: .readActivity)).get { request, context in
            try await csv(request, context)
        }
        let console = router.group("admin/comptes-editeurs")
            .add(middleware: RequirePermission(permission: .manageAccounts, formCSRF: true))
        console.get { request, context in try await syncPage(request, context) }
        console.post("relancer") { request, context in try await retry(request, context) }
    }

    // MARK: activity

    struct Query {
        var from: Date
        var to: Date
        var territories: [String]?
        var fromText: String
        var toText: String
        var territory: String
    }

    /// The period (`du`, `au` inclusive, `yyyy-MM-dd`, default the last 7 days) and the territories the account may
    /// see: every territory for a national administrator, else his own (a `territoire` outside them is refused).
    func query(_ request: Request, _ context: AppRequestContext) throws -> Query {
        guard let account = context.session?.account else {
            throw AppError(.unauthorized, code: "unauthenticated", message: "Connectez-vous.")
        }
        let q = request.uri.queryParameters
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        let today = calendar.startOfDay(for: Date())
        func day(_ key: String, default value: Date) throws -> Date {
            guard let text = q.get(key), !text.isEmpty else { return value }
            guard let date = ActivityStore.day(text) else {
                throw AppError(.unprocessableContent, code: "invalid_date", message: "Date invalide pour « \(key) » : \(text) (AAAA-MM-JJ attendu).")
            }
            return date
        }
        let from = try day("du", default: calendar.date(byAdding: .day, value: -6, to: today)!)
        let lastDay = try day("au", default: today)
        let to = calendar.date(byAdding: .day, value: 1, to: lastDay)!
        let asked = q.get("territoire").flatMap { $0.isEmpty ? nil : $0.uppercased() }
        if let asked, !(1...3).contains(asked.count) || !asked.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            throw AppError(.unprocessableContent, code: "invalid_territory",
                           message: "Territoire invalide « \(asked) » : un numéro de département est attendu (69, 2A, 974).")
        }
        var territories: [String]?
        if account.roles.contains(.nationalAdministrator) {
            territories = asked.map { [$0] }
        } else {
            let own = account.territories.sorted()
            if let asked {
                guard own.contains(asked) else {
                    throw AppError(.forbidden, code: "territory", message: "Le territoire \(asked) ne fait pas partie des vôtres (\(own.joined(separator: ", "))).")
                }
                territories = [asked]
            } else {
                territories = own
            }
        }
        return Query(from: from, to: to, territories: territories, fromText: ActivityStore.dayFormatter.string(from: from),
                     toText: ActivityStore.dayFormatter.string(from: lastDay), territory: asked ?? "")
    }

    func report(_ query: Query) async throws -> ActivityReport {
        do {
            return try await activity.report(from: query.from, to: query.to, territories: query.territories)
        } catch let error as ActivityError {
            throw AppError(.unprocessableContent, code: "invalid_period", message: error.message)
        }
    }

    static func percent(_ value: Double?) -> String {
        guard let value else { return "—" }
        return String(format: "%.1f %%", value * 100).replacingOccurrences(of: ".", with: ",")
    }

    static let routeLabels = Dictionary(uniqueKeysWithValues: Orientation.Kind.allCases.map { ($0.rawValue, $0.label) })
    static let orientationStatusLabels = Dictionary(uniqueKeysWithValues: Orientation.Status.allCases.map { ($0.rawValue, $0.label) })
    static let appointmentStatusLabels = ["booked": "Pris", "cancelled": "Annulé", "fulfilled": "Honoré", "noshow": "Non honoré",
                                          "pending": "En attente", "proposed": "Proposé"]
    static let categoryLabels = Dictionary(uniqueKeysWithValues: Orientation.Category.allCases.map { ($0.rawValue, $0.label) })

    func page(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = try query(request, context)
        let report = try await report(query)
        if request.headers[.accept]?.contains("application/json") == true {
            return try SearchRoutes.json(.ok, report)
        }
        let days = report.days
        func series(_ source: String, by dimension: KeyPath<ActivityReport.Row, String>, labels: [String: String],
                    order: [String]) -> [SVGBarChart.Series] {
            var values: [String: [String: Int]] = [:]
            for row in report.rows where row.source == source { values[row[keyPath: dimension], default: [:]][row.day, default: 0] += row.count }
            let keys = order.filter { values[$0] != nil } + values.keys.filter { !order.contains($0) }.sorted()
            return keys.enumerated().map { index, key in
                SVGBarChart.Series(name: labels[key] ?? key, color: SVGBarChart.palette[index % SVGBarChart.palette.count],
                                   values: days.map { values[key]?[$0] ?? 0 })
            }
        }
        let orientationChart = SVGBarChart(id: "graphe-orientations", title: "Orientations par jour et par parcours", labels: days.map { String($0.suffix(5)) },
                                           series: series("orientation", by: \.route, labels: Self.routeLabels,
                                                          order: Orientation.Kind.allCases.map(\.rawValue))).svg()
        let appointmentChart = SVGBarChart(id: "graphe-rendez-vous", title: "Rendez-vous transmis par les éditeurs, par jour et par statut",
                                           labels: days.map { String($0.suffix(5)) },
                                           series: series("rendez_vous", by: \.status, labels: Self.appointmentStatusLabels,
                                                          order: ["booked", "fulfilled", "noshow", "cancelled"])).svg()
        func table(_ source: String, _ dimension: KeyPath<ActivityReport.Row, String>, _ labels: [String: String]) -> [[String: Any]] {
            report.totals(source, by: dimension).map { ["label": labels[$0.key] ?? ($0.key.isEmpty ? "—" : $0.key), "count": $0.count] }
        }
        let editorsByID = Dictionary(uniqueKeysWithValues: try await editors.all().map { ($0.id, $0.name) })
        let sla = aggregator.health().map { health -> [String: Any] in
            [
                "vendor": editorsByID[health.editorID] ?? health.editorID, "circuit": health.circuitState.rawValue,
                "requests": health.sampleCount,
                "p50": health.latencyP50.map { "\(Int(Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000)) ms" } ?? "—",
                "p95": health.latencyP95.map { "\(Int(Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000)) ms" } ?? "—",
                "under1s": Self.percent(health.shareUnderOneSecond), "under7s": Self.percent(health.shareUnderSevenSeconds),
            ]
        }
        let csvQuery = "du=\(query.fromText)&au=\(query.toText)" + (query.territory.isEmpty ? "" : "&territoire=\(query.territory)")
        return pages.response("activity", title: "Activité", values: [
            "from": query.fromText, "to": query.toText, "territory": query.territory,
            "scope": query.territories.map { $0.joined(separator: ", ") } ?? "tous les territoires",
            "orientations": report.orientationCount, "appointments": report.appointmentCount,
            "noShowRate": Self.percent(report.noShowRate),
            "appointmentCancellationRate": Self.percent(report.appointmentCancellationRate),
            "orientationCancellationRate": Self.percent(report.orientationCancellationRate),
            "orientationChart": orientationChart, "appointmentChart": appointmentChart,
            "byRoute": table("orientation", \.route, Self.routeLabels),
            "byCategory": table("orientation", \.category, Self.categoryLabels),
            "byStatus": table("orientation", \.status, Self.orientationStatusLabels),
            "byTerritory": table("orientation", \.territory, [:]),
            "byVendor": table("rendez_vous", \.vendor, editorsByID),
            "byAppointmentStatus": table("rendez_vous", \.status, Self.appointmentStatusLabels),
            "sla": sla, "hasSLA": !sla.isEmpty, "csv": "/activite.csv?" + csvQuery,
        ], context: context)
    }

    /// The report as CSV (`;`-separated, UTF-8 with a byte-order mark, as French spreadsheets expect).
    func csv(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = try query(request, context)
        let report = try await report(query)
        var text = "\u{FEFF}source;jour;territoire;parcours;categorie;editeur;statut;nombre\r\n"
        func field(_ value: String) -> String {
            // Neutralise spreadsheet formulas and quote separators.
            var value = value
            if let first = value.first, "=+-@".contains(first) { value = "'" + value }
            return value.contains(";") || value.contains("\"") || value.contains("\n")
                ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
        }
        for row in report.rows {
            text += [row.source, row.day, row.territory, row.route, row.category, row.vendor, row.status].map(field).joined(separator: ";")
                + ";\(row.count)\r\n"
        }
        try await AuditLog(database).record(AuditEntry(actor: context.actor ?? "?", action: "activity.export",
                                                       detail: "\(query.fromText) → \(query.toText) \(query.territories?.joined(separator: ",") ?? "tous")",
                                                       sourceAddress: context.remoteAddress, requestID: context.requestID))
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"activite-sas-\(query.fromText)-\(query.toText).csv\"",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: INT_R02 console

    func syncPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let states = try await sync.states()
        var names: [String: String] = [:]
        for account in try await accounts.all() { names[account.id] = "\(account.displayName) <\(account.email)>" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "fr_FR")
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.dateFormat = "dd/MM/yyyy HH:mm:ss"
        if request.headers[.accept]?.contains("application/json") == true {
            return try SearchRoutes.json(.ok, states)
        }
        return pages.response("regulator-sync", title: "Comptes régulateurs chez les éditeurs", values: [
            "message": request.uri.queryParameters.get("message") ?? "",
            "csrf": context.session?.csrfToken ?? "",
            "failed": states.filter { $0.state == .failed }.count,
            "rows": states.map { state -> [String: Any] in
                [
                    "account": names[state.accountID] ?? state.accountID, "accountID": state.accountID,
                    "editor": state.editorID, "state": state.label, "stateCode": state.state.rawValue,
                    "identifier": state.remoteIdentifier ?? "—", "attempts": state.attempts,
                    "lastStatus": state.lastStatus.map(String.init) ?? "", "error": state.lastError ?? "",
                    "next": state.nextAttemptAt.map { formatter.string(from: $0) } ?? "",
                    "synced": state.syncedAt.map { formatter.string(from: $0) } ?? "—",
                    "retry": state.state == .failed,
                ]
            },
            "empty": states.isEmpty,
        ], context: context)
    }

    func retry(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        guard let account = form["compte"], let editor = form["editeur"] else {
            throw AppError(.unprocessableContent, code: "invalid_form", message: "Compte et éditeur attendus.")
        }
        let due = try await sync.retryNow(accountID: account, editorID: editor, actor: context.actor ?? "?")
        let message = due ? "Nouvel essai demandé : il part dans les secondes qui viennent." : "Rien à relancer pour ce compte chez cet éditeur."
        return Response(status: .seeOther, headers: [.location: "/admin/comptes-editeurs?message=" + RequirePermission.encode(message)])
    }
}

/// A stacked bar chart drawn as SVG on the server (no script), with a title for screen readers; the figures are also
/// in the page's tables.
struct SVGBarChart {
    struct Series {
        var name: String
        var color: String
        var values: [Int]
    }

    static let palette = ["#000091", "#e1000f", "#18753c", "#b34000", "#6a6af4", "#a558a0", "#009081", "#7f7f7f"]

    var id: String
    var title: String
    var labels: [String]
    var series: [Series]
    var width = 720
    var height = 260

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    func svg() -> String {
        let left = 40.0, bottom = 40.0, top = 16.0, legendWidth = 190.0
        let plotWidth = Double(width) - left - legendWidth - 10, plotHeight = Double(height) - top - bottom
        let totals = labels.indices.map { index in series.reduce(0) { $0 + (index < $1.values.count ? $1.values[index] : 0) } }
        let maximum = max(1, totals.max() ?? 0)
        // A round scale: 1, 2, 5 × 10^n above the maximum.
        var scale = 1
        while scale < maximum {
            if scale * 2 >= maximum { scale *= 2; break }
            if scale * 5 >= maximum { scale *= 5; break }
            scale *= 10
        }
        let slot = plotWidth / Double(max(1, labels.count))
        let barWidth = max(2, slot * 0.7)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(width) \(height)\" width=\"100%\" aria-labelledby=\"\(id)\">"
        out += "<title id=\"\(id)\">\(Self.escape(title)) — total \(totals.reduce(0, +))</title>"
        for step in 0...4 {
            let value = scale * step / 4
            let y = top + plotHeight - plotHeight * Double(value) / Double(scale)
            out += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(left - 4)\" y=\"\(y + 4)\" font-size=\"10\" text-anchor=\"end\" fill=\"#333\">\(value)</text>"
        }
        let labelEvery = max(1, labels.count / 14)
        for (index, label) in labels.enumerated() {
            let x = left + slot * Double(index) + (slot - barWidth) / 2
            var y = top + plotHeight
            for serie in series {
                let value = index < serie.values.count ? serie.values[index] : 0
                guard value > 0 else { continue }
                let h = plotHeight * Double(value) / Double(scale)
                y -= h
                out += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"\(h)\" fill=\"\(serie.color)\"><title>\(Self.escape(label)) — \(Self.escape(serie.name)) : \(value)</title></rect>"
            }
            if index % labelEvery == 0 {
                out += "<text x=\"\(x + barWidth / 2)\" y=\"\(top + plotHeight + 14)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#333\">\(Self.escape(label))</text>"
            }
        }
        for (index, serie) in series.enumerated() {
            let y = top + 14 * Double(index)
            out += "<rect x=\"\(left + plotWidth + 14)\" y=\"\(y)\" width=\"10\" height=\"10\" fill=\"\(serie.color)\"/>"
            out += "<text x=\"\(left + plotWidth + 28)\" y=\"\(y + 9)\" font-size=\"11\" fill=\"#161616\">\(Self.escape(serie.name)) (\(serie.values.reduce(0, +)))</text>"
        }
        if series.isEmpty {
            out += "<text x=\"\(left + plotWidth / 2)\" y=\"\(top + plotHeight / 2)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#666\">Aucune donnée sur la période</text>"
        }
        return out + "</svg>"
    }
}
