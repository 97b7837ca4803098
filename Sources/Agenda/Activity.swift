import Foundation
import Storage

/// Activity figures over a period: orientations and vendors' appointments per day (Europe/Paris), territory, route,
/// vendor and status, with no-show and cancellation rates. Built from `orientations` and `appointments` only, which
/// hold no patient data.
public struct ActivityReport: Sendable, Equatable, Codable {
    /// One counted group.
    public struct Row: Sendable, Equatable, Codable, Hashable {
        /// `orientation` or `rendez_vous`.
        public var source: String
        /// Day in Paris, `yyyy-MM-dd` (orientation: when it was made; appointment: when the vendor reported it).
        public var day: String
        public var territory: String
        /// Orientation kind (`editeur`, `agenda`, `en_sus`); `editeur` for appointments.
        public var route: String
        /// INT_L02 orientationCategory (PS, CPTS, MSP, CDS, SOS, PDM).
        public var category: String
        /// Vendor id, empty when none.
        public var vendor: String
        /// Orientation status (`en_cours`, `confirme`…) or FHIR appointment status (`booked`, `noshow`…).
        public var status: String
        public var count: Int
    }

    public var from: Date
    public var to: Date
    /// Territories included (nil: every territory).
    public var territories: [String]?
    public var rows: [Row]

    public var orientationCount: Int { rows.filter { $0.source == "orientation" }.reduce(0) { $0 + $1.count } }
    public var appointmentCount: Int { rows.filter { $0.source == "rendez_vous" }.reduce(0) { $0 + $1.count } }

    func count(_ source: String, where predicate: (Row) -> Bool = { _ in true }) -> Int {
        rows.filter { $0.source == source && predicate($0) }.reduce(0) { $0 + $1.count }
    }

    /// No-shows among the appointments whose outcome is known (fulfilled or no-show), nil when none is known.
    public var noShowRate: Double? {
        let noShow = count("rendez_vous") { $0.status == "noshow" }
        let known = noShow + count("rendez_vous") { $0.status == "fulfilled" }
        return known == 0 ? nil : Double(noShow) / Double(known)
    }

    /// Cancelled appointments among all reported ones, nil when none.
    public var appointmentCancellationRate: Double? {
        let all = appointmentCount
        return all == 0 ? nil : Double(count("rendez_vous") { $0.status == "cancelled" }) / Double(all)
    }

    /// Cancelled orientations among all, nil when none.
    public var orientationCancellationRate: Double? {
        let all = orientationCount
        return all == 0 ? nil : Double(count("orientation") { $0.status == Orientation.Status.cancelled.rawValue }) / Double(all)
    }

    /// Totals by one dimension (`day`, `territory`, `route`, `category`, `vendor`, `status`) for one source.
    public func totals(_ source: String, by dimension: KeyPath<Row, String>) -> [(key: String, count: Int)] {
        var totals: [String: Int] = [:]
        for row in rows where row.source == source { totals[row[keyPath: dimension], default: 0] += row.count }
        return totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Every day of the period, `yyyy-MM-dd` in Paris.
    public var days: [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ActivityStore.paris
        var result: [String] = []
        var day = calendar.startOfDay(for: from)
        while day < to && result.count < 400 {
            result.append(ActivityStore.dayFormatter.string(from: day))
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        return result
    }
}

/// Why a report was refused (French).
public struct ActivityError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Reads activity figures from storage.
public struct ActivityStore: Sendable {
    let database: any Database
    public static let maxDays = 92

    public init(database: any Database) { self.database = database }

    static let paris = TimeZone(identifier: "Europe/Paris")!
    public static let dayFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = paris
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }()

    /// Parses `yyyy-MM-dd` as the start of that day in Paris.
    public static func day(_ text: String) -> Date? {
        guard text.count == 10 else { return nil }
        return dayFormatter.date(from: text)
    }

    /// The figures of `[from, to)` for `territories` (nil: all). At most ``maxDays`` days.
    public func report(from: Date, to: Date, territories: [String]?) async throws -> ActivityReport {
        guard to > from else { throw ActivityError(message: "La fin de la période doit suivre son début.") }
        guard to.timeIntervalSince(from) <= Double(Self.maxDays) * 86_400 + 7_200 else {
            throw ActivityError(message: "Période trop longue : \(Self.maxDays) jours au plus.")
        }
        if let territories, territories.isEmpty {
            return ActivityReport(from: from, to: to, territories: territories, rows: [])
        }
        var counts: [ActivityReport.Row: Int] = [:]
        let filter = territories.map { list in " AND territory IN (" + list.map { _ in "?" }.joined(separator: ", ") + ")" } ?? ""
        let binds = territories?.map(SQLValue.text) ?? []
        let orientations = try await database.query("""
            SELECT created_at, kind, category, status, vendor, territory FROM orientations
            WHERE created_at >= ? AND created_at < ?\(filter)
            """, [.date(from), .date(to)] + binds)
        for row in orientations {
            guard let created = row.optionalDate("created_at") else { continue }
            let key = ActivityReport.Row(
                source: "orientation", day: Self.dayFormatter.string(from: created), territory: row.optionalString("territory") ?? "",
                route: row.optionalString("kind") ?? "", category: row.optionalString("category") ?? "PS",
                vendor: row.optionalString("vendor") ?? "", status: row.optionalString("status") ?? "", count: 0)
            counts[key, default: 0] += 1
        }
        // An appointment counts in the territory of the orientation it completes, else in its regulator's.
        let appointments = try await database.query("""
            SELECT * FROM (
                SELECT a.created_at, a.editor_id, a.status, a.profile, o.category,
                       COALESCE(o.territory, (SELECT MIN(t.territory) FROM account_territories t WHERE t.account_id = a.regulator_id)) AS territory
                FROM appointments a LEFT JOIN orientations o ON o.id = a.orientation_id
                WHERE a.created_at >= ? AND a.created_at < ?
            ) x WHERE 1 = 1\(filter)
            """, [.date(from), .date(to)] + binds)
        for row in appointments {
            guard let created = row.optionalDate("created_at") else { continue }
            let category = row.optionalString("category") ?? (row.optionalString("profile") == "sos" ? "SOS" : "PS")
            let key = ActivityReport.Row(
                source: "rendez_vous", day: Self.dayFormatter.string(from: created), territory: row.optionalString("territory") ?? "",
                route: Orientation.Kind.vendor.rawValue, category: category, vendor: row.optionalString("editor_id") ?? "",
                status: row.optionalString("status") ?? "", count: 0)
            counts[key, default: 0] += 1
        }
        func sortKey(_ row: ActivityReport.Row) -> [String] {
            [row.source, row.day, row.territory, row.route, row.category, row.vendor, row.status]
        }
        let rows: [ActivityReport.Row] = counts.map { key, count in
            var row = key
            row.count = count
            return row
        }.sorted { (a: ActivityReport.Row, b: ActivityReport.Row) in sortKey(a).lexicographicallyPrecedes(sortKey(b)) }
        return ActivityReport(from: from, to: to, territories: territories, rows: rows)
    }
}
