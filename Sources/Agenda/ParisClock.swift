import Foundation

/// A calendar day (no time, no zone), as practitioners write their agenda: "2026-03-29".
public struct LocalDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A day; nil when it does not exist (31 April…).
    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2200).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        guard let date = LocalDay.utc.date(from: components),
              LocalDay.utc.component(.day, from: date) == day else { return nil }
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// Parses `yyyy-MM-dd`.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Midnight UTC of this day (day arithmetic only; never an instant of the agenda).
    var utcMidnight: Date {
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        return LocalDay.utc.date(from: components)!
    }

    init(utcMidnight date: Date) {
        let c = LocalDay.utc.dateComponents([.year, .month, .day], from: date)
        (year, month, day) = (c.year!, c.month!, c.day!)
    }

    /// The day `count` days later (earlier when negative).
    public func adding(days count: Int) -> LocalDay {
        LocalDay(utcMidnight: utcMidnight.addingTimeInterval(Double(count) * 86_400))
    }

    /// Days from `self` to `other`.
    public func days(to other: LocalDay) -> Int {
        Int(((other.utcMidnight.timeIntervalSince1970 - utcMidnight.timeIntervalSince1970) / 86_400).rounded())
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var weekday: Int {
        let sundayFirst = LocalDay.utc.component(.weekday, from: utcMidnight)
        return sundayFirst == 1 ? 7 : sundayFirst - 1
    }

    /// The Monday of this day's week.
    public var monday: LocalDay { adding(days: 1 - weekday) }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// "dimanche 29 mars 2026".
    public var frenchLabel: String {
        let days = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
        let months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                      "novembre", "décembre"]
        return "\(days[weekday - 1]) \(day) \(months[month - 1]) \(year)"
    }

    public static func < (a: LocalDay, b: LocalDay) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// Wall-clock time in Europe/Paris, where SAS agendas live (a 09:00 slot stays at 09:00 across the daylight-saving
/// changes of the last Sundays of March and October).
public enum ParisClock {
    public static let zone = TimeZone(identifier: "Europe/Paris")!

    /// The instant of `minute` (0…1440) after midnight of `day` in Paris.
    ///
    /// A wall-clock time that does not exist (02:00–03:00 on the last Sunday of March) is moved forward by the gap
    /// (02:30 → 03:30); one that exists twice (02:00–03:00 on the last Sunday of October) is the first of the two
    /// (summer time). 1440 is midnight at the end of the day.
    public static func instant(_ day: LocalDay, minute: Int) -> Date {
        let naive = day.utcMidnight.timeIntervalSince1970 + Double(minute) * 60
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: naive - 43_200))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: naive + 43_200))
        let early = Date(timeIntervalSince1970: naive - Double(before))
        if zone.secondsFromGMT(for: early) == before { return early }
        let late = Date(timeIntervalSince1970: naive - Double(after))
        if zone.secondsFromGMT(for: late) == after { return late }
        return early  // in the spring gap: the offset before applies, which lands after the gap
    }

    /// The Paris day of an instant.
    public static func day(of date: Date) -> LocalDay {
        LocalDay(utcMidnight: Date(timeIntervalSince1970: floorDay(date)))
    }

    /// Minutes since Paris midnight of an instant.
    public static func minute(of date: Date) -> Int {
        let local = date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))
        return Int((local - floorDay(date)) / 60)
    }

    static func floorDay(_ date: Date) -> TimeInterval {
        let local = date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))
        return (local / 86_400).rounded(.down) * 86_400
    }

    /// "09:30" for a minute of the day.
    public static func clock(_ minute: Int) -> String {
        String(format: "%02d:%02d", minute / 60, minute % 60)
    }

    /// Parses "9:30", "09:30", "9h30", "9h" into minutes of the day (0…1440).
    public static func parseClock(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "h", with: ":")
        let parts = t.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let h = Int(parts[0]), (0...24).contains(h) else { return nil }
        let m = parts.count == 2 && !parts[1].isEmpty ? Int(parts[1]) : 0
        guard let m, (0...59).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }
}
