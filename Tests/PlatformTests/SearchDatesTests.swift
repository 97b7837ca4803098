import Foundation
@testable import Web
import Testing

@Suite("Search API dates")
struct SearchDatesTests {
    @Test("instants with Z or an offset, fractions optional; days in Paris time; anything else refused")
    func forms() throws {
        let base = Date(timeIntervalSince1970: 1_795_857_600) // 2026-11-28T09:20:00Z
        #expect(SearchDates.parse("2026-11-28T09:20:00Z", endOfDay: false) == base)
        #expect(SearchDates.parse("2026-11-28T10:20:00+01:00", endOfDay: false) == base)
        #expect(SearchDates.parse("2026-11-28T10:20:00.250+01:00", endOfDay: false) == base.addingTimeInterval(0.25))
        #expect(SearchDates.parse("2026-11-28T09:20:00.5Z", endOfDay: false) == base.addingTimeInterval(0.5))
        #expect(SearchDates.parse("2026-11-28T09:20Z", endOfDay: false) == base) // minutes only, as vendors' instants
        // Summer time: 2026-07-01 00:00 in Paris is 2026-06-30T22:00Z; the day ends one second before the next.
        #expect(SearchDates.parse("2026-07-01", endOfDay: false) == Date(timeIntervalSince1970: 1_782_856_800))
        #expect(SearchDates.parse("2026-07-01", endOfDay: true) == Date(timeIntervalSince1970: 1_782_856_800 + 86_399))
        for bad in ["2026-11-28T10:20:00", "2026-11-28 10:20:00Z", "2026-02-30", "2026-13-01",
                    "demain", "", "2026-11-28T25:00:00Z", "2026-11-28T10:20:00+1:00"] {
            #expect(SearchDates.parse(bad, endOfDay: false) == nil, "\(bad)")
        }
    }
}
