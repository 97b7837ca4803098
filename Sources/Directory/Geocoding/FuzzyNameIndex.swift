/// A trigram index over normalised keys answering "keys within edit distance d of this text".
///
/// A key within distance `d` of a query of length `n` shares at least `n − 3d` padded trigrams with it
/// (the q-gram lemma), so only keys sharing enough trigrams are checked with Damerau–Levenshtein.
struct FuzzyNameIndex: Sendable {
    /// A key matched within the tolerated distance.
    struct Match: Sendable {
        let keyIndex: Int
        let distance: Int
        let similarity: Double
    }

    let keys: [[UInt8]]
    private let postings: [UInt32: [Int32]]

    init(keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
        var postings: [UInt32: [Int32]] = [:]
        postings.reserveCapacity(keys.count * 2)
        for (i, key) in self.keys.enumerated() {
            var seen = Set<UInt32>()
            Self.forEachTrigram(key) { gram in
                if seen.insert(gram).inserted { postings[gram, default: []].append(Int32(i)) }
            }
        }
        self.postings = postings
    }

    /// Keys within `maxDistance` (nil = length-scaled tolerance) and at least `minSimilarity`,
    /// ordered by distance then key index.
    func matches(_ query: String, maxDistance: Int? = nil, minSimilarity: Double) -> [Match] {
        let q = Array(query.utf8)
        guard !q.isEmpty else { return [] }
        let limit = maxDistance ?? EditDistance.tolerance(forLength: q.count)
        guard limit > 0 else { return [] }
        var grams = Set<UInt32>()
        Self.forEachTrigram(q) { grams.insert($0) }
        var shared = [Int32: Int](minimumCapacity: 256)
        for gram in grams {
            guard let list = postings[gram] else { continue }
            for k in list { shared[k, default: 0] += 1 }
        }
        let needed = max(1, grams.count - 3 * limit)
        var result: [Match] = []
        for (k, count) in shared where count >= needed {
            let key = keys[Int(k)]
            if abs(key.count - q.count) > limit { continue }
            let d = EditDistance.damerauLevenshtein(q, key, limit: limit)
            guard d <= limit else { continue }
            let similarity = 1 - Double(d) / Double(max(q.count, key.count))
            if similarity >= minSimilarity { result.append(Match(keyIndex: Int(k), distance: d, similarity: similarity)) }
        }
        result.sort { ($0.distance, $0.keyIndex) < ($1.distance, $1.keyIndex) }
        return result
    }

    /// Calls `body` with each trigram of `"$" + key + "$"` packed in a UInt32.
    private static func forEachTrigram(_ key: [UInt8], _ body: (UInt32) -> Void) {
        guard !key.isEmpty else { return }
        let pad: UInt8 = 0x24
        var a = pad, b = key[0]
        for i in 1...key.count {
            let c = i < key.count ? key[i] : pad
            body(UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c))
            a = b
            b = c
        }
    }
}
