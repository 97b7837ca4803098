import Foundation

/// A FHIR `instant`/`dateTime` value: the point in time plus the UTC offset it was written with.
///
/// Parsing accepts what vendors send (`Z`, `±hh:mm`, `±hhmm`, `±hh`, any number of fractional digits, date-only,
/// and local times without offset, read as Europe/Paris and flagged). Output is always
/// `yyyy-MM-ddTHH:mm:ss.SSS±hh:mm` (date-only values stay date-only). No `DateFormatter` is involved.
public struct FHIRInstant: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The instant.
    public let date: Date
    /// Offset from UTC (seconds) used when rendering; the written offset, or Paris time when none was written.
    public let utcOffsetSeconds: Int
    /// The value had no offset and was interpreted as Europe/Paris local time.
    public let assumedLocalTime: Bool
    /// The value was a bare date (`yyyy-MM-dd`, midnight Paris time).
    public let isDateOnly: Bool

    /// An instant rendered with `timeZone`'s offset at that date.
    public init(_ date: Date, timeZone: FHIRTimeZone = .paris) {
        self.date = date
        self.utcOffsetSeconds = timeZone.offset(for: date)
        self.assumedLocalTime = false
        self.isDateOnly = false
    }

    init(date: Date, utcOffsetSeconds: Int, assumedLocalTime: Bool, isDateOnly: Bool) {
        self.date = date
        self.utcOffsetSeconds = utcOffsetSeconds
        self.assumedLocalTime = assumedLocalTime
        self.isDateOnly = isDateOnly
    }

    /// Parses a FHIR date/time string; throws ``FHIRInstantError`` with the offending text.
    public init(parsing text: String) throws {
        var copy = text
        let parsed = copy.withUTF8 { FHIRInstant.parse(UnsafeRawBufferPointer($0)) }
        guard let parsed else { throw FHIRInstantError(text: text) }
        self = parsed
    }

    /// Parses a FHIR date/time string, or nil.
    public static func parse(_ text: String) -> FHIRInstant? { try? FHIRInstant(parsing: text) }

    /// Canonical rendering with the stored offset.
    public var canonical: String {
        if isDateOnly {
            let local = Int64((date.timeIntervalSince1970).rounded()) + Int64(utcOffsetSeconds)
            let (y, m, d) = CivilDate.civil(fromDays: floorDiv(local, 86_400))
            var out = [UInt8](); out.reserveCapacity(10)
            Self.appendDate(&out, y, m, d)
            return String(decoding: out, as: UTF8.self)
        }
        return Self.format(date, offsetSeconds: utcOffsetSeconds)
    }

    public var description: String { canonical }

    /// Renders `date` as `yyyy-MM-ddTHH:mm:ss.SSS±hh:mm` in `timeZone` (Paris by default).
    public static func format(_ date: Date, timeZone: FHIRTimeZone = .paris) -> String {
        format(date, offsetSeconds: timeZone.offset(for: date))
    }

    /// Renders `date` as `yyyy-MM-ddTHH:mm:ss.SSS±hh:mm` with a fixed offset.
    public static func format(_ date: Date, offsetSeconds: Int) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded()) + Int64(offsetSeconds) * 1000
        let seconds = floorDiv(millis, 1000)
        let ms = millis - seconds * 1000
        let days = floorDiv(seconds, 86_400)
        let secOfDay = seconds - days * 86_400
        let (y, m, d) = CivilDate.civil(fromDays: days)
        var out = [UInt8](); out.reserveCapacity(29)
        appendDate(&out, y, m, d)
        out.append(UInt8(ascii: "T"))
        append2(&out, secOfDay / 3600); out.append(UInt8(ascii: ":"))
        append2(&out, secOfDay / 60 % 60); out.append(UInt8(ascii: ":"))
        append2(&out, secOfDay % 60); out.append(UInt8(ascii: "."))
        out.append(UInt8(truncatingIfNeeded: 0x30 + ms / 100))
        append2(&out, ms % 100)
        let off = abs(offsetSeconds)
        out.append(offsetSeconds < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        append2(&out, Int64(off / 3600)); out.append(UInt8(ascii: ":")); append2(&out, Int64(off / 60 % 60))
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (lhs: FHIRInstant, rhs: FHIRInstant) -> Bool { lhs.date < rhs.date }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = FHIRInstant.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "invalid FHIR instant '\(text)'"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(canonical)
    }

    private static func appendDate(_ out: inout [UInt8], _ y: Int64, _ m: Int64, _ d: Int64) {
        append2(&out, y / 100); append2(&out, y % 100); out.append(UInt8(ascii: "-"))
        append2(&out, m); out.append(UInt8(ascii: "-")); append2(&out, d)
    }

    @inline(__always) private static func append2(_ out: inout [UInt8], _ v: Int64) {
        out.append(UInt8(truncatingIfNeeded: 0x30 + v / 10 % 10))
        out.append(UInt8(truncatingIfNeeded: 0x30 + v % 10))
    }
}

/// A date/time string that is not a FHIR instant, dateTime or date.
public struct FHIRInstantError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rejected text.
    public let text: String
    public var description: String { "invalid FHIR instant '\(text)'" }
}
