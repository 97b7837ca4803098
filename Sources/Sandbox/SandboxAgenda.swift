import FHIR
import Foundation
import SASDomain

/// Generates a vendor's agenda deterministically: the same vendor seed, practitioner and day always give the same
/// slots, so the sandbox needs no storage and every node of a test sees the same agenda. Slots booked through the
/// vendor's booking page are removed.
public struct SandboxAgenda: Sendable {
    /// One generated slot.
    public struct GeneratedSlot: Sendable {
        public var id: String
        public var start: Date
        public var end: Date
        public var free: Bool
        public var kinds: [SlotKind]
        public var consultationTypes: [String]
        public var reason: String?
        public var walkIn: Bool
        public var cpts: Bool
        /// Which of the practitioner's CPTS (indexes in ``SandboxRoster/Practitioner/allCPTS``) a CPTS slot is for.
        public var cptsStructures: [Int] = []
    }

    /// The regular agenda of a conformance test practitioner: every hour from 08:00 to 20:00 (Paris), kinds cycling
    /// PUBLIC, PRO, SNP and consultation types AMB, VR, HH so that any full day shows every one; one slot in five
    /// busy. With `cptsCount` > 0 (an INT_R04 search) every other slot is a CPTS slot (kind CPTS only), for the
    /// first CPTS, the second, or both in turn.
    public func regularSlots(for idnps: IDNPS, siteIndex: Int, cptsCount: Int, window: ClosedRange<Date>) -> [GeneratedSlot] {
        let firstDay = Self.parisDay(window.lowerBound), lastDay = Self.parisDay(window.upperBound)
        guard lastDay >= firstDay, lastDay - firstDay <= 31 else { return [] }
        var result: [GeneratedSlot] = []
        for day in firstDay...lastDay {
            for k in 0..<13 {
                let start = Self.parisDate(day: day, minute: (8 + k) * 60 + siteIndex * 20)
                guard window.contains(start) else { continue }
                let cpts = cptsCount > 0 && k % 2 == 0
                let structures: [Int] = !cpts ? [] : (cptsCount == 1 ? [0] : [[0, 1], [0], [1]][(k / 2) % 3])
                result.append(GeneratedSlot(
                    id: "k-\(idnps.value)-\(siteIndex)-\(day)-\(k)", start: start, end: start.addingTimeInterval(20 * 60),
                    free: k % 5 != 4, kinds: cpts ? [.cpts] : [[.public], [.pro], [.snp]][k % 3],
                    consultationTypes: [["AMB"], ["VR"], ["HH"]][(k / 3) % 3],
                    reason: k % 4 == 1 ? "Consultation non programmée" : nil, walkIn: false, cpts: cpts,
                    cptsStructures: structures))
            }
        }
        return result
    }

    let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The slots of a practitioner's site (`siteIndex`) that start in `window`, free and busy.
    public func slots(for idnps: IDNPS, siteIndex: Int, inCPTS: Bool, window: ClosedRange<Date>) -> [GeneratedSlot] {
        var result: [GeneratedSlot] = []
        let firstDay = Self.parisDay(window.lowerBound)
        let lastDay = Self.parisDay(window.upperBound)
        guard lastDay >= firstDay, lastDay - firstDay <= 31 else { return [] }
        for day in firstDay...lastDay {
            var rng = SplitMix64(seed: seed ^ Self.hash("\(idnps.value)/\(siteIndex)/\(day)"))
            // Roughly one day in seven without consultations (day off).
            if rng.next() % 7 == 0 { continue }
            let count = 4 + Int(rng.next() % 10)
            var minute = 8 * 60 + Int(rng.next() % 4) * 15
            for k in 0..<count {
                minute += 20 + Int(rng.next() % 4) * 10
                guard minute < 19 * 60 + 30 else { break }
                let start = Self.parisDate(day: day, minute: minute)
                guard window.contains(start) else { continue }
                let roll = rng.next()
                var kinds: [SlotKind] = [[.public], [.public, .pro], [.pro, .snp], [.snp], [.public, .pro, .snp]][Int(roll % 5)]
                let cpts = inCPTS && (roll >> 8) % 3 == 0
                if cpts { kinds.append(.cpts) }
                var types = ["AMB"]
                if (roll >> 16) % 5 == 0 { types.append("VR") }
                if (roll >> 20) % 9 == 0 { types = ["HH"] }
                let reasons = [nil, "Consultation de suivi", "Consultation non programmée", "Renouvellement d'ordonnance", nil]
                result.append(GeneratedSlot(
                    id: "s-\(idnps.value)-\(siteIndex)-\(day)-\(k)", start: start, end: start.addingTimeInterval(20 * 60),
                    free: (roll >> 24) % 6 != 0, kinds: kinds, consultationTypes: types,
                    reason: reasons[Int((roll >> 28) % 5)], walkIn: (roll >> 32) % 12 == 0, cpts: cpts,
                    cptsStructures: cpts ? [0] : []))
            }
        }
        return result
    }

    /// Slots of an SOS Médecins fixed place: every 15 minutes from 08:00 to 22:00, a share of them busy.
    public func sosSlots(association: IDNST, placeIndex: Int, window: ClosedRange<Date>) -> [GeneratedSlot] {
        var result: [GeneratedSlot] = []
        let firstDay = Self.parisDay(window.lowerBound), lastDay = Self.parisDay(window.upperBound)
        guard lastDay >= firstDay, lastDay - firstDay <= 31 else { return [] }
        for day in firstDay...lastDay {
            var rng = SplitMix64(seed: seed ^ Self.hash("\(association.value)/\(placeIndex)/\(day)"))
            for k in 0..<56 {
                let start = Self.parisDate(day: day, minute: 8 * 60 + k * 15)
                let roll = rng.next()
                guard roll % 4 == 0 else { continue }
                result.append(GeneratedSlot(
                    id: "sos-\(association.value)-\(placeIndex)-\(day)-\(k)", start: start,
                    end: start.addingTimeInterval(15 * 60), free: (roll >> 8) % 3 != 0,
                    kinds: (roll >> 12) % 2 == 0 ? [.public] : [.public, .snp],
                    consultationTypes: (roll >> 16) % 6 == 0 ? ["VR"] : ["AMB"], reason: nil,
                    walkIn: (roll >> 20) % 4 == 0, cpts: false))
            }
        }
        return result.filter { $0.start >= window.lowerBound.addingTimeInterval(-86_400) }
    }

    /// Days since 1970-01-01 in Europe/Paris.
    static func parisDay(_ date: Date) -> Int {
        let offset = FHIRTimeZone.paris.offset(for: date)
        return Int(floor((date.timeIntervalSince1970 + Double(offset)) / 86_400))
    }

    /// The instant of `minute` after midnight, Paris time, on `day`.
    static func parisDate(day: Int, minute: Int) -> Date {
        let local = Double(day) * 86_400 + Double(minute) * 60
        // Two passes settle the offset across daylight-saving changes.
        var guess = Date(timeIntervalSince1970: local - 3600)
        for _ in 0..<2 { guess = Date(timeIntervalSince1970: local - Double(FHIRTimeZone.paris.offset(for: guess))) }
        return guess
    }

    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }
}
