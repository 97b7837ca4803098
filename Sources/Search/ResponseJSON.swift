import Foundation

/// A hand-written JSON writer for the search answer: Foundation's `JSONEncoder` costs more than the search itself on
/// Linux for a 50 kB page. The output is what `JSONEncoder` would produce for the same `Codable` types (same keys,
/// dates as ``FastISO8601``, nil optionals omitted), which a test checks by decoding it back.
public struct ResponseJSON {
    private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(16_384) }

    /// The bytes of `response`.
    public static func encode(_ response: SearchResponse) -> [UInt8] {
        var w = ResponseJSON()
        w.response(response)
        return w.bytes
    }

    // MARK: - Primitives

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A JSON string: runs of plain bytes copied at once, escapes as `JSONEncoder` writes them.
    mutating func string(_ s: String) {
        bytes.append(34)
        var text = s
        text.withUTF8 { utf8 in
            var run = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                guard b < 32 || b == 34 || b == 92 else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<i]))
                run = i + 1
                switch b {
                case 34: bytes.append(92); bytes.append(34)
                case 92: bytes.append(92); bytes.append(92)
                case 10: bytes.append(92); bytes.append(110)
                case 13: bytes.append(92); bytes.append(114)
                case 9: bytes.append(92); bytes.append(116)
                default:
                    bytes.append(contentsOf: [92, 117, 48, 48, Self.hex[Int(b >> 4)], Self.hex[Int(b & 15)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<utf8.count]))
        }
        bytes.append(34)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Decimal digits without an intermediate `String`.
    mutating func number(_ v: Int64) {
        if v < 0 { bytes.append(45) }
        var m = v.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(truncatingIfNeeded: 48 + m % 10))
            m /= 10
        } while m > 0
        bytes[start...].reverse()
    }

    mutating func number(_ v: Int) { number(Int64(v)) }
    mutating func number(_ v: Double) {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 { number(Int64(v)) } else { bytes += Array("\(v)".utf8) }
    }
    mutating func bool(_ v: Bool) { if v { raw("true") } else { raw("false") } }
    mutating func date(_ d: Date) {
        bytes.append(34)
        FastISO8601.append(d, to: &bytes)
        bytes.append(34)
    }

    /// Writes `"key":` with a leading comma unless first.
    mutating func key(_ k: StaticString, _ first: inout Bool) {
        if !first { bytes.append(44) }
        first = false
        bytes.append(34)
        k.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(34); bytes.append(58)
    }

    mutating func strings(_ list: [String]) {
        bytes.append(91)
        for (i, s) in list.enumerated() { if i > 0 { bytes.append(44) }; string(s) }
        bytes.append(93)
    }

    mutating func array<T>(_ list: [T], _ write: (inout ResponseJSON, T) -> Void) {
        bytes.append(91)
        for (i, item) in list.enumerated() { if i > 0 { bytes.append(44) }; write(&self, item) }
        bytes.append(93)
    }

    // MARK: - Types

    mutating func response(_ r: SearchResponse) {
        var f = true
        bytes.append(123)
        key("query", &f); query(r.query)
        key("radius", &f); radius(r.radius)
        key("total", &f); number(r.total)
        key("results", &f); array(r.results) { $0.card($1) }
        if let c = r.nextCursor { key("nextCursor", &f); string(c) }
        key("counts", &f)
        var g = true
        bytes.append(123)
        key("practitionersAsked", &g); number(r.counts.practitionersAsked)
        key("associationsAsked", &g); number(r.counts.associationsAsked)
        key("offersWithSlots", &g); number(r.counts.offersWithSlots)
        key("slots", &g); number(r.counts.slots)
        bytes.append(125)
        key("sources", &f); array(r.sources) { $0.source($1) }
        key("warnings", &f); array(r.warnings) { w, x in
            var h = true
            w.bytes.append(123)
            w.key("code", &h); w.string(x.code)
            w.key("message", &h); w.string(x.message)
            w.bytes.append(125)
        }
        key("complete", &f); bool(r.complete)
        key("elapsedMs", &f); number(r.elapsedMs)
        bytes.append(125)
    }

    mutating func query(_ q: QuerySummary) {
        var f = true
        bytes.append(123)
        key("what", &f)
        var g = true
        bytes.append(123)
        key("label", &g); string(q.what.label)
        key("specialtyCodes", &g); strings(q.what.specialtyCodes)
        key("professionCodes", &g); strings(q.what.professionCodes)
        key("structureKinds", &g); strings(q.what.structureKinds)
        key("defaulted", &g); bool(q.what.defaulted)
        bytes.append(125)
        key("place", &f); place(q.place)
        key("windowStart", &f); date(q.windowStart)
        key("windowEnd", &f); date(q.windowEnd)
        key("consultationTypes", &f); strings(q.consultationTypes)
        key("mode", &f); string(q.mode.rawValue)
        key("role", &f); string(q.role.rawValue)
        key("radiusPlan", &f)
        var h = true
        bytes.append(123)
        key("rings", &h); array(q.radiusPlan.rings) { $0.number($1) }
        key("defaultKm", &h); number(q.radiusPlan.defaultKm)
        key("basis", &h); string(q.radiusPlan.basis)
        bytes.append(125)
        bytes.append(125)
    }

    mutating func place(_ p: SearchPlace) {
        var f = true
        bytes.append(123)
        key("label", &f); string(p.label)
        key("latitude", &f); number(p.latitude)
        key("longitude", &f); number(p.longitude)
        key("departmentCode", &f); string(p.departmentCode)
        key("precision", &f); string(p.precision)
        if let id = p.placeID { key("placeID", &f); number(id) }
        bytes.append(125)
    }

    mutating func radius(_ r: RadiusOutcome) {
        var f = true
        bytes.append(123)
        key("km", &f); number(r.km)
        key("defaultKm", &f); number(r.defaultKm)
        key("widened", &f); bool(r.widened)
        key("rings", &f); array(r.rings) { w, ring in
            var g = true
            w.bytes.append(123)
            w.key("km", &g); w.number(ring.km)
            w.key("newCandidates", &g); w.number(ring.newCandidates)
            w.key("offersWithSlots", &g); w.number(ring.offersWithSlots)
            w.bytes.append(125)
        }
        key("reason", &f); string(r.reason)
        bytes.append(125)
    }

    mutating func source(_ s: SourceStatus) {
        var f = true
        bytes.append(123)
        key("source", &f); string(s.source)
        key("name", &f); string(s.name)
        key("status", &f); string(s.status)
        key("detail", &f); string(s.detail)
        key("message", &f); string(s.message)
        if let t = s.technicalDetail { key("technicalDetail", &f); string(t) }
        key("slotCount", &f); number(s.slotCount)
        key("elapsedMs", &f); number(s.elapsedMs)
        bytes.append(125)
    }

    mutating func slot(_ s: OfferSlot) {
        var f = true
        bytes.append(123)
        key("start", &f); date(s.start)
        key("end", &f); date(s.end)
        key("consultationTypes", &f); strings(s.consultationTypes)
        key("source", &f); string(s.source)
        if let u = s.bookingURL { key("bookingURL", &f); string(u) }
        if let a = s.agendaSlotID { key("agendaSlotID", &f); string(a) }
        if let r = s.remaining { key("remaining", &f); number(r) }
        if let a = s.address { key("address", &f); strings(a) }
        if let k = s.kinds { key("kinds", &f); strings(k) }
        bytes.append(125)
    }

    mutating func card(_ c: OfferCard) {
        var f = true
        bytes.append(123)
        key("id", &f); string(c.id)
        key("kind", &f); string(c.kind.rawValue)
        if let v = c.idnps { key("idnps", &f); string(v) }
        if let v = c.idnst { key("idnst", &f); string(v) }
        key("name", &f); string(c.name)
        key("specialties", &f); strings(c.specialties)
        key("address", &f); strings(c.address)
        if let v = c.phone { key("phone", &f); string(v) }
        if let v = c.additionalInfo { key("additionalInfo", &f); string(v) }
        key("latitude", &f); number(c.latitude)
        key("longitude", &f); number(c.longitude)
        key("distanceKm", &f); number(c.distanceKm)
        key("participates", &f); bool(c.participates)
        if let v = c.participationVia { key("participationVia", &f); string(v) }
        key("acceptsExtraPatients", &f); bool(c.acceptsExtraPatients)
        key("forfaitReorientation", &f); bool(c.forfaitReorientation)
        key("preferredDoctor", &f); bool(c.preferredDoctor)
        if let v = c.firstSlot { key("firstSlot", &f); date(v) }
        key("slotCount", &f); number(c.slotCount)
        key("slots", &f); array(c.slots) { $0.slot($1) }
        key("pourquoi", &f); string(c.pourquoi)
        if let m = c.members { key("members", &f); array(m) { $0.card($1) } }
        key("rank", &f)
        var g = true
        bytes.append(123)
        key("group", &g); number(c.rank.group)
        key("start", &g); number(c.rank.start)
        key("metres", &g); number(c.rank.metres)
        key("id", &g); string(c.rank.id)
        bytes.append(125)
        bytes.append(125)
    }
}
