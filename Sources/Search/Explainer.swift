import Foundation

/// The short French "pourquoi" of each card: why it is where it is.
enum Explainer {
    static func explain(_ card: OfferCard, query: ResolvedQuery, coveringPlace: String) -> OfferCard {
        var c = card
        let distance = distanceText(card.distanceKm)
        let slot = card.firstSlot.map { "premier créneau \(when($0, now: query.now))" }
        var parts: [String] = []
        switch card.kind {
        case .practitioner where card.preferredDoctor:
            parts.append("Médecin traitant indiqué")
            parts.append(slot ?? "aucun créneau sur la période")
            parts.append(distance)
        case .practitioner:
            if let slot {
                parts.append(slot.prefix(1).uppercased() + slot.dropFirst())
            } else {
                parts.append("Aucun créneau sur la période, accepte des patients en sus de ses disponibilités")
            }
            parts.append(distance)
        case .cpts:
            let withSlots = card.members?.filter { $0.firstSlot != nil }.count ?? 0
            let count = card.members?.count ?? 0
            parts.append("CPTS couvrant \(coveringPlace) (\(count) membre\(count > 1 ? "s" : "") à proximité, \(withSlots) avec créneaux)")
            parts.append(slot ?? "pas de créneau publié, prend des patients en sus")
            parts.append("membre le plus proche \(distance)")
        case .sos:
            parts.append("Point fixe SOS Médecins")
            if let slot { parts.append(slot) }
            parts.append(distance)
        }
        c.pourquoi = parts.joined(separator: " · ")
        c.members = card.members?.map { explain($0, query: query, coveringPlace: coveringPlace) }
        return c
    }

    static func distanceText(_ km: Double) -> String {
        if km < 1 { return "à \(Int((km * 1000 / 10).rounded()) * 10) m" }
        return "à " + RadiusPlan.format((km * 10).rounded() / 10) + " km"
    }

    /// "aujourd'hui à 14h30", "demain à 09h00", "après-demain à 08h15", "le 30/11 à 10h00" (Europe/Paris).
    ///
    /// Integer arithmetic on Paris local seconds (the zone's offset at each instant) instead of `Calendar`, which costs
    /// tens of microseconds per call on Linux and runs for every card of every search.
    static func when(_ date: Date, now: Date) -> String {
        let zone = parisZone
        func local(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: d))).rounded(.down)) }
        func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let l = local(date)
        let day = floorDiv(l, 86_400), seconds = l - day * 86_400
        let days = day - floorDiv(local(now), 86_400)
        let time = two(seconds / 3_600) + "h" + two(seconds % 3_600 / 60)
        switch days {
        case 0: return "aujourd'hui à \(time)"
        case 1: return "demain à \(time)"
        case 2: return "après-demain à \(time)"
        default:
            // Civil date from days since 1970-01-01 (proleptic Gregorian).
            let z = day + 719_468
            let era = floorDiv(z, 146_097)
            let doe = z - era * 146_097
            let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let d = doy - (153 * mp + 2) / 5 + 1
            let m = mp < 10 ? mp + 3 : mp - 9
            return "le \(two(d))/\(two(m)) à " + time
        }
    }

    static let parisZone = TimeZone(identifier: "Europe/Paris")!
}
