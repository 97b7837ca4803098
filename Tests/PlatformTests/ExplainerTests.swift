import Foundation
@testable import Search
import Testing

@Suite("Explanations: the time of the first slot in words, Europe/Paris")
struct ExplainerTests {
    /// The same text computed with `Calendar`, as a reference.
    static func reference(_ date: Date, now: Date) -> String {
        let calendar = QueryResolver.paris
        let days = calendar.dateComponents([.day], from: calendar.startOfDay(for: now), to: calendar.startOfDay(for: date)).day ?? 0
        let t = calendar.dateComponents([.hour, .minute, .day, .month], from: date)
        let time = String(format: "%02dh%02d", t.hour ?? 0, t.minute ?? 0)
        switch days {
        case 0: return "aujourd'hui à \(time)"
        case 1: return "demain à \(time)"
        case 2: return "après-demain à \(time)"
        default: return String(format: "le %02d/%02d à ", t.day ?? 0, t.month ?? 0) + time
        }
    }

    @Test("Matches the calendar on every quarter hour around both daylight-saving changes and the new year")
    func matchesCalendar() {
        let iso = ISO8601DateFormatter()
        let origins = ["2026-03-27T21:00:00Z", "2026-10-23T21:00:00Z", "2026-12-29T22:30:00Z", "1969-12-30T12:00:00Z"]
        for origin in origins {
            let now = iso.date(from: origin)!
            for step in stride(from: 0, to: 5 * 96, by: 1) {
                let date = now.addingTimeInterval(Double(step) * 900 + 7 * 60)
                #expect(Explainer.when(date, now: now) == Self.reference(date, now: now), "\(date) from \(now)")
            }
        }
        #expect(Explainer.when(iso.date(from: "2026-03-29T07:00:00Z")!, now: iso.date(from: "2026-03-28T23:30:00Z")!) == "aujourd'hui à 09h00")
        #expect(Explainer.when(iso.date(from: "2027-01-02T08:05:00Z")!, now: iso.date(from: "2026-12-29T10:00:00Z")!) == "le 02/01 à 09h05")
    }
}
