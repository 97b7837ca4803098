import SASDomain
import Foundation
@testable import FHIR
import Testing

@Suite("FHIR instants")
struct InstantTests {
    @Test(arguments: [
        ("2021-11-05T09:00:00Z", 1_636_102_800.0, 0),
        ("2021-11-05T10:00:00+01:00", 1_636_102_800.0, 3600),
        ("2021-11-05T10:00:00+0100", 1_636_102_800.0, 3600),
        ("2021-11-05T10:00:00+01", 1_636_102_800.0, 3600),
        ("2021-11-05T06:00:00-03:00", 1_636_102_800.0, -10_800),
        ("2021-11-05T09:00:00.000+00:00", 1_636_102_800.0, 0),
        ("2021-11-05T09:00:00.5Z", 1_636_102_800.5, 0),
        ("2021-11-05T10:00:00.123456789+01:00", 1_636_102_800.123456789, 3600),
        ("2021-11-05T10:00:00", 1_636_102_800.0, 3600), // no offset: Paris (winter)
        ("2024-06-12T16:40:00", 1_718_203_200.0, 7200), // no offset: Paris (summer)
    ])
    func parsesVendorForms(text: String, epoch: Double, offset: Int) throws {
        let value = try FHIRInstant(parsing: text)
        #expect(abs(value.date.timeIntervalSince1970 - epoch) < 0.0005)
        #expect(value.utcOffsetSeconds == offset)
        #expect(value.assumedLocalTime == !(text.hasSuffix("Z") || text.dropFirst(19).contains(where: { $0 == "+" || $0 == "-" })))
    }

    @Test(arguments: ["", "garbage", "2021-02-30T10:00:00Z", "2021-13-01T00:00:00Z", "2021-11-05T25:00:00Z",
                      "2021-11-05T09:00:00+15:00", "2021-11-05T09:00:00ZZ", "2021-11-05T09:00:00.Z", "2021-11-05X09:00:00Z",
                      "21-11-05"])
    func rejectsInvalidForms(text: String) {
        #expect(FHIRInstant.parse(text) == nil)
    }

    @Test func dateOnlyIsMidnightParis() throws {
        let value = try FHIRInstant(parsing: "2024-06-12")
        #expect(value.isDateOnly)
        #expect(value.date == instant("2024-06-11T22:00:00Z"))
        #expect(value.canonical == "2024-06-12")
    }

    @Test func alwaysEmitsMillisecondsAndNumericOffset() throws {
        #expect(try FHIRInstant(parsing: "2021-11-05T09:00:00Z").canonical == "2021-11-05T09:00:00.000+00:00")
        #expect(try FHIRInstant(parsing: "2021-11-05T10:00:00.5+0100").canonical == "2021-11-05T10:00:00.500+01:00")
        #expect(FHIRInstant.format(instant("2024-06-12T14:20:00Z"), timeZone: .paris) == "2024-06-12T16:20:00.000+02:00")
        #expect(FHIRInstant.format(instant("2024-01-12T14:20:00.999Z"), timeZone: .paris) == "2024-01-12T15:20:00.999+01:00")
        #expect(FHIRInstant.format(instant("2024-01-12T14:20:00Z"), timeZone: .fixed(seconds: 4 * 3600)) == "2024-01-12T18:20:00.000+04:00")
        #expect(FHIRInstant.format(instant("2024-01-12T02:20:00Z"), timeZone: .fixed(seconds: -4 * 3600)) == "2024-01-11T22:20:00.000-04:00")
        #expect(FHIRInstant.format(instant("1969-12-31T23:59:59.250Z"), timeZone: .utc) == "1969-12-31T23:59:59.250+00:00")
    }

    @Test(arguments: [
        ("2024-03-31T00:59:59Z", "2024-03-31T01:59:59.000+01:00"),
        ("2024-03-31T01:00:00Z", "2024-03-31T03:00:00.000+02:00"),
        ("2024-10-27T00:59:59Z", "2024-10-27T02:59:59.000+02:00"),
        ("2024-10-27T01:00:00Z", "2024-10-27T02:00:00.000+01:00"),
        ("2025-03-30T01:00:00Z", "2025-03-30T03:00:00.000+02:00"),
        ("2025-10-26T00:30:00Z", "2025-10-26T02:30:00.000+02:00"),
    ])
    func parisOffsetsAroundDSTBoundaries(utc: String, paris: String) throws {
        let date = instant(utc)
        #expect(FHIRInstant.format(date, timeZone: .paris) == paris)
        #expect(try FHIRInstant(parsing: paris).date == date)
    }

    @Test func localTimesInTheGapAndTheOverlap() throws {
        // 02:30 does not exist on 2024-03-31: read with the winter offset, i.e. 03:30 CEST.
        #expect(try FHIRInstant(parsing: "2024-03-31T02:30:00").date == instant("2024-03-31T01:30:00Z"))
        // 02:30 happens twice on 2024-10-27: the first occurrence (summer time) wins.
        let overlap = try FHIRInstant(parsing: "2024-10-27T02:30:00")
        #expect(overlap.date == instant("2024-10-27T00:30:00Z"))
        #expect(overlap.utcOffsetSeconds == 7200)
    }

    @Test func parisRulesAgreeWithTheSystemTimeZoneAndRoundTrip() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Paris"))
        var rng = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            // 2000 … 2037, millisecond precision
            let millis = 946_684_800_000 + Int64(rng.next() % 1_198_368_000_000)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(FHIRTimeZone.paris.offset(for: date) == zone.secondsFromGMT(for: date), "\(date)")
            let text = FHIRInstant.format(date, timeZone: .paris)
            let back = try FHIRInstant(parsing: text)
            #expect(Int64((back.date.timeIntervalSince1970 * 1000).rounded()) == millis, "\(text)")
            #expect(back.canonical == text)
        }
    }

    @Test func codableUsesTheCanonicalForm() throws {
        let value = try JSONDecoder().decode([FHIRInstant].self, from: Data(#"["2021-11-05T09:00:00Z"]"#.utf8))
        let data = try JSONEncoder().encode(value)
        #expect(String(decoding: data, as: UTF8.self) == #"["2021-11-05T09:00:00.000+00:00"]"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([FHIRInstant].self, from: Data(#"["nope"]"#.utf8)) }
    }
}
