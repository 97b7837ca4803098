import Foundation

extension FHIRInstant {
    /// Hand-written parser over UTF-8 bytes (the hot path of bundle decoding).
    static func parse(_ b: UnsafeRawBufferPointer) -> FHIRInstant? {
        let n = b.count
        guard n >= 10 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int64? {
            guard i < n else { return nil }
            let v = b[i] &- 0x30
            return v < 10 ? Int64(v) : nil
        }
        @inline(__always) func two(_ i: Int) -> Int64? {
            guard let a = digit(i), let c = digit(i + 1) else { return nil }
            return a * 10 + c
        }
        guard let y1 = two(0), let y2 = two(2), b[4] == UInt8(ascii: "-"), let month = two(5),
              b[7] == UInt8(ascii: "-"), let day = two(8) else { return nil }
        let year = y1 * 100 + y2
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month) else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)

        if n == 10 {
            let (utc, offset) = ParisTime.utcSeconds(fromLocal: days * 86_400)
            return FHIRInstant(date: Date(timeIntervalSince1970: TimeInterval(utc)), utcOffsetSeconds: offset,
                               assumedLocalTime: true, isDateOnly: true)
        }
        let sep = b[10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " "),
              let hour = two(11), n > 13, b[13] == UInt8(ascii: ":"), let minute = two(14) else { return nil }
        var i = 16
        var second: Int64 = 0
        if i < n, b[i] == UInt8(ascii: ":") {
            guard let s = two(i + 1) else { return nil }
            second = s
            i += 3
        }
        guard hour < 24, minute < 60, second <= 60 else { return nil }
        if second == 60 { second = 59 } // leap second: keep the instant valid
        var fraction = 0.0
        if i < n, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
            i += 1
            var scale = 0.1
            let start = i
            while i < n, let d = digit(i) {
                if i - start < 9 { fraction += Double(d) * scale; scale /= 10 }
                i += 1
            }
            guard i > start else { return nil }
        }
        let local = days * 86_400 + hour * 3600 + minute * 60 + second
        var offset: Int64
        var assumed = false
        if i == n {
            let (utc, off) = ParisTime.utcSeconds(fromLocal: local)
            offset = Int64(off)
            assumed = true
            _ = utc
        } else if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == n else { return nil }
            offset = 0
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let negative = b[i] == UInt8(ascii: "-")
            guard let oh = two(i + 1) else { return nil }
            var om: Int64 = 0
            var j = i + 3
            if j < n, b[j] == UInt8(ascii: ":") { j += 1 }
            if j < n {
                guard let m = two(j), j + 2 == n else { return nil }
                om = m
            }
            guard oh <= 14, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (negative ? -1 : 1)
        } else {
            return nil
        }
        let utc = local - offset
        return FHIRInstant(date: Date(timeIntervalSince1970: TimeInterval(utc) + fraction),
                           utcOffsetSeconds: Int(offset), assumedLocalTime: assumed, isDateOnly: false)
    }
}
