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
    static func when(_ date: Date, now: Date) -> String {
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
}
