import Foundation
import SASDomain
import Search
import Storage

/// SAS-agenda slots for the demo: a few general practitioners near the centre of Lyon who take part in the SAS
/// without a booking vendor publish slots on the platform (as they would from the agenda workspace; Dr Roux, the demo
/// practitioner, is left to enter her own). Refreshed
/// at every start when no free slot is left to come, so that a search around Lyon always shows some.
enum DemoAgenda {
    static let lyon = (latitude: 45.7640, longitude: 4.8357)

    /// Writes today's remaining hours and tomorrow's slots; returns how many occurrences were written.
    @discardableResult
    static func refresh(database: any Database, now: Date = Date()) async throws -> Int {
        let free = try await database.query(
            "SELECT COUNT(*) AS n FROM agenda_slots WHERE start_at > ? AND booked < capacity AND cancelled = 0",
            [.date(now.addingTimeInterval(3_600))])
        if let n = free.first?["n"].intValue, n >= 10 { return 0 }
        let rows = try await database.query("""
            SELECT p.idnps, s.id AS site_id, s.latitude, s.longitude FROM dir_practitioners p
            JOIN dir_sites s ON s.idnps = p.idnps
            WHERE p.participates = 1 AND p.specialties LIKE '%SM54%' AND s.department = '69'
              AND NOT EXISTS (SELECT 1 FROM dir_vendor_links l WHERE l.idnps = p.idnps)
              AND p.idnps <> ?
            """, [.text(DemoWorkspace.practitioner)])
        let nearest = rows.compactMap { row -> (IDNPS, Int64, Double)? in
            guard let idnps = row.optionalString("idnps").flatMap({ try? IDNPS(parsing: $0) }),
                  let site = row["site_id"].intValue, let lat = row["latitude"].doubleValue,
                  let lon = row["longitude"].doubleValue else { return nil }
            let dx = (lon - lyon.longitude) * cos(lat * .pi / 180), dy = lat - lyon.latitude
            return (idnps, Int64(site), dx * dx + dy * dy)
        }.sorted { $0.2 < $1.2 }.prefix(6)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        let today = calendar.startOfDay(for: now)
        var slots: [AgendaSlot] = []
        for (index, (idnps, site, _)) in nearest.enumerated() {
            for dayOffset in 0...1 {
                guard let day = calendar.date(byAdding: .day, value: dayOffset, to: today) else { continue }
                for hour in stride(from: 9 + index % 3, through: 20, by: 3) {
                    guard let start = calendar.date(byAdding: .hour, value: hour, to: day), start > now.addingTimeInterval(1_800) else { continue }
                    let range = hour >= 18
                    slots.append(AgendaSlot(
                        id: "demo-\(idnps.value)-\(Int(start.timeIntervalSince1970))", practitioner: idnps, siteID: site,
                        start: start, end: start.addingTimeInterval(range ? 3_600 : 900),
                        consultationTypes: range ? [.ambulatory, .teleconsultation] : [.ambulatory],
                        kinds: [.snp], capacity: range ? 3 : 1, booked: 0))
                }
            }
        }
        let planned = slots
        try await database.transaction { tx in
            let existing = Set(try await tx.query("SELECT id FROM agenda_slots WHERE start_at > ?", [.date(now)])
                .compactMap { $0.optionalString("id") })
            try await StoredAgenda.insert(planned.filter { !existing.contains($0.id) }, on: tx, now: now)
        }
        return slots.count
    }
}
