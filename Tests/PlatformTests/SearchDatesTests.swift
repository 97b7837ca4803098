import Foundation
@testable import Search
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

@Suite("Search page day headings")
struct SearchDayHeadingTests {
    @Test("Aujourd'hui, Demain, Après-demain count Paris calendar days, also around the daylight-saving changes")
    func headings() {
        func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: seconds) }
        // Last Sunday of October 2026, 00:30 summer time: the day lasts 25 hours, so now + 24 h is still today.
        let autumn = at(1_792_881_000) // 2026-10-25 00:30 Paris (22:30Z the day before)
        #expect(SearchPageModel.dayName(at(1_792_967_400), now: autumn) == "Aujourd'hui") // 23:30 winter time
        #expect(SearchPageModel.dayName(at(1_793_005_200), now: autumn) == "Demain") // 26 Oct 10:00
        #expect(SearchPageModel.dayName(at(1_793_091_600), now: autumn) == "Après-demain") // 27 Oct 10:00
        // The Saturday before the last Sunday of March 2026, 23:30: now + 24 h is already the Monday.
        let spring = at(1_774_737_000) // 2026-03-28 23:30 Paris
        #expect(SearchPageModel.dayName(at(1_774_771_200), now: spring) == "Demain") // 29 Mar 10:00 summer time
        #expect(SearchPageModel.dayName(at(1_774_944_000), now: spring) == "Mardi 31 mars") // 31 Mar 10:00
        #expect(SearchPageModel.dayName(at(1_774_737_000 - 86_400), now: spring) == "Vendredi 27 mars")
    }
}

@Suite("Search page JSON primitives")
struct ResponseJSONPrimitiveTests {
    @Test("numbers, dates and escaped strings written by hand read back as written")
    func primitives() throws {
        var w = ResponseJSON()
        w.raw("[")
        for n: Int64 in [0, 7, -1, 42, 1_000_000, -987_654_321, .max, .min] {
            w.number(n)
            w.raw(",")
        }
        w.number(2.0)
        w.raw(",")
        w.number(-0.5)
        w.raw(",")
        w.string("guillemet \" barre \\ / \n\r\t\u{1} é 中")
        w.raw(",")
        w.date(Date(timeIntervalSince1970: 1_795_857_600))
        w.raw("]")
        let text = String(decoding: w.bytes, as: UTF8.self)
        #expect(text.hasPrefix("[0,7,-1,42,1000000,-987654321,9223372036854775807,-9223372036854775808,2,-0.5,"))
        #expect(text.hasSuffix(",\"2026-11-28T09:20:00Z\"]"))
        let values = try #require(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [Any])
        #expect(values[10] as? String == "guillemet \" barre \\ / \n\r\t\u{1} é 中")
    }

    @Test("radius and distance figures in French form")
    func radiusText() {
        #expect(RadiusPlan.format(10) == "10")
        #expect(RadiusPlan.format(7.5) == "7,5")
        #expect(RadiusPlan.format(22.5) == "22,5")
        #expect(RadiusPlan.format(2.96) == "3,0")
        #expect(Explainer.distanceText(0.347) == "à 350 m")
        #expect(Explainer.distanceText(12.34) == "à 12,3 km")
    }

    @Test("pagination cursors written by hand decode to the same cursor; damaged ones are refused")
    func cursorRoundTrip() throws {
        let cursors = [
            SearchCursor(fingerprint: "0f3a9c", radiusKm: 7.5, from: Date(timeIntervalSince1970: 1_795_000_000),
                         to: Date(timeIntervalSince1970: 1_795_259_199.25),
                         after: RankKey(group: 1, start: 1_795_003_600, metres: 1_250, id: "ps-810000000017-42")),
            SearchCursor(fingerprint: "", radiusKm: 81, from: Date(timeIntervalSince1970: 0.5), to: Date(timeIntervalSince1970: 1),
                         after: RankKey(group: 2, start: Int64.max, metres: 0, id: "cpts-\"quoted\"\\é\n")),
        ]
        for cursor in cursors {
            let text = cursor.encoded()
            #expect(!text.contains("+") && !text.contains("/") && !text.contains("="))
            #expect(try SearchCursor.decode(text) == cursor)
            // The same text as JSONEncoder's sorted-key form.
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .secondsSince1970
            encoder.outputFormatting = .sortedKeys
            let reference = try JSONSerialization.jsonObject(with: encoder.encode(cursor)) as? NSDictionary
            var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while b64.count % 4 != 0 { b64.append("=") }
            let written = try JSONSerialization.jsonObject(with: try #require(Data(base64Encoded: b64))) as? NSDictionary
            #expect(written == reference)
        }
        #expect(throws: SearchInputError.self) { try SearchCursor.decode(String(cursors[0].encoded().dropLast(3))) }
    }
}

