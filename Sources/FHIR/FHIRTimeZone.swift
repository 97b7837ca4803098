import Foundation

/// A time zone for rendering FHIR instants; Europe/Paris is computed by hand (fast, no ICU, `Sendable`).
public enum FHIRTimeZone: Hashable, Sendable {
    /// UTC, rendered `+00:00`.
    case utc
    /// Europe/Paris (CET/CEST, EU rules: summer time from the last Sunday of March to the last Sunday of October, 01:00 UTC).
    case paris
    /// A fixed offset in seconds east of UTC (overseas departments: Réunion +4 h, Martinique −4 h, …).
    case fixed(seconds: Int)
    /// Any Foundation time zone (slower; not for hot paths).
    case foundation(TimeZone)

    /// Offset from UTC, in seconds, at `date`.
    public func offset(for date: Date) -> Int {
        switch self {
        case .utc: return 0
        case .paris: return ParisTime.offset(forUTCSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
        case .fixed(let seconds): return seconds
        case .foundation(let zone): return zone.secondsFromGMT(for: date)
        }
    }
}

/// Europe/Paris civil-time arithmetic (EU summer-time rules, in force since 1996).
enum ParisTime {
    /// Offset in seconds (3600 or 7200) at a UTC instant.
    static func offset(forUTCSeconds t: Int64) -> Int {
        let days = floorDiv(t, 86_400)
        let (year, _, _) = CivilDate.civil(fromDays: days)
        let start = summerTimeBoundary(year: year, month: 3)
        let end = summerTimeBoundary(year: year, month: 10)
        return (t >= start && t < end) ? 7200 : 3600
    }

    /// UTC seconds of 01:00 UTC on the last Sunday of `month` (March or October, both 31 days long).
    static func summerTimeBoundary(year: Int64, month: Int64) -> Int64 {
        let day31 = CivilDate.days(year: year, month: month, day: 31)
        let weekday = floorMod(day31 + 4, 7) // 0 = Sunday (1970-01-01 was a Thursday)
        return (day31 - weekday) * 86_400 + 3600
    }

    /// Converts Paris wall-clock seconds (as if UTC) to a UTC instant.
    /// Ambiguous autumn times take the first occurrence (summer time); spring-gap times are read with the winter
    /// offset, which lands them just after the gap (02:30 → 03:30 CEST).
    static func utcSeconds(fromLocal local: Int64) -> (utc: Int64, offset: Int) {
        let summer = local - 7200
        if offset(forUTCSeconds: summer) == 7200 { return (summer, 7200) }
        return (local - 3600, 3600)
    }
}

/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after H. Hinnant.
enum CivilDate {
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always) func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
