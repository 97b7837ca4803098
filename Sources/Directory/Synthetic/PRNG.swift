import SASDomain

/// xoshiro256**: the deterministic generator used by the synthetic data (never the system RNG).
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Seeds the state with SplitMix64, as the authors recommend.
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// An independent stream for item `index` of a run seeded with `seed`.
    public init(seed: UInt64, stream index: UInt64) {
        var sm = SplitMix64(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        self.init(seed: sm.next())
    }

    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// An integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// A uniformly chosen element.
    public mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }

    /// `count` random decimal digits.
    public mutating func digits(_ count: Int) -> String {
        String((0..<count).map { _ in Character(Unicode.Scalar(UInt8(0x30) + UInt8(next() % 10))) })
    }
}

/// A weighted choice table (cumulative weights, binary search).
struct WeightedTable<T: Sendable>: Sendable {
    let items: [T]
    let cumulative: [Double]

    init(_ pairs: [(T, Double)]) {
        items = pairs.map(\.0)
        var total = 0.0
        cumulative = pairs.map { total += $0.1; return total }
    }

    func pick(_ rng: inout Xoshiro256) -> T {
        let x = rng.unit() * cumulative.last!
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return items[lo]
    }
}

/// Luhn arithmetic for synthetic SIRET/FINESS numbers.
enum SyntheticLuhn {
    static func withCheckDigit(_ payload: String) -> String {
        var sum = 0
        for (offset, ch) in payload.reversed().enumerated() {
            var d = ch.wholeNumberValue ?? 0
            if offset % 2 == 0 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return payload + String((10 - sum % 10) % 10)
    }
}
