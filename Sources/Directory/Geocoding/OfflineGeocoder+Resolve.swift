import Foundation

/// A query split into normalised tokens that remember the raw word and comma segment they came from.
struct ParsedQuery {
    struct Token {
        let text: String
        let word: Int
        let segment: Int
    }

    var words: [String] = []
    var tokens: [Token] = []
    var segmentCount = 0
    /// First 5-character postcode/INSEE token ("69003", "2a004").
    var code: String?
    /// Raw words that carried codes, "cedex" noise or the department qualifier.
    var consumedWords = Set<Int>()

    init(_ text: String) {
        for segment in text.split(separator: ",", omittingEmptySubsequences: true) {
            for raw in segment.split(whereSeparator: \.isWhitespace) {
                let tokens = TextNormalizer.canonicalOrdinals(TextNormalizer.tokens(String(raw)))
                guard !tokens.isEmpty else { continue }
                for t in tokens { self.tokens.append(Token(text: t, word: words.count, segment: segmentCount)) }
                words.append(String(raw))
            }
            segmentCount += 1
        }
        var kept: [Token] = []
        var skipNumber = false
        for t in tokens {
            if skipNumber, t.text.count <= 2, t.text.allSatisfy(\.isASCIIDigit) { consumedWords.insert(t.word); continue }
            skipNumber = false
            if t.text == "cedex" || (t.text == "france" && words[t.word].count == 6 && t.word > 0) {
                consumedWords.insert(t.word); skipNumber = t.text == "cedex"; continue
            }
            if code == nil, Self.isCode(t.text) { code = t.text.uppercased(); consumedWords.insert(t.word); continue }
            kept.append(t)
        }
        tokens = kept
    }

    static func isCode(_ t: String) -> Bool {
        let u = Array(t.utf8)
        guard u.count == 5 else { return false }
        let digits = u.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let corsica = u[0] == 0x32 && (u[1] == 0x61 || u[1] == 0x62) && u[2...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        return digits || corsica
    }

    func key(_ range: Range<Int>) -> String { tokens[range].map(\.text).joined(separator: " ") }

    /// The raw words outside `range` that were not consumed, as the typed street line.
    func streetLine(excluding range: Range<Int>) -> String? {
        let covered = Set(tokens[range].map(\.word))
        let rest = words.indices.filter { !covered.contains($0) && !consumedWords.contains($0) }.map { words[$0] }
        let line = rest.joined(separator: " ").trimmingCharacters(in: CharacterSet(charactersIn: " ,;-–"))
        return line.isEmpty ? nil : line
    }
}

extension OfflineGeocoder {
    private static let stopwords = Set(["de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "en", "sur",
                                        "bis", "ter"]).union(streetWords)

    private static let streetWords: Set<String> = [
        "rue", "avenue", "av", "ave", "bd", "boulevard", "chemin", "che", "route", "rte", "place", "pl", "allee", "all",
        "impasse", "imp", "quai", "cours", "square", "sq", "faubourg", "fg", "residence", "res", "lotissement",
        "hameau", "lieu", "lieudit", "za", "zi", "zac", "batiment", "bat", "esplanade", "promenade", "passage",
        "voie", "sentier", "parvis", "rond", "point",
    ]

    /// Synchronous resolution (same rules as ``geocode(_:)``), for bulk imports.
    public func resolve(_ query: String) throws -> GeocodeResult {
        let trimmed = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw GeocodeError.notFound(query: query, suggestions: []) }
        let upper = trimmed.uppercased()
        if upper.count <= 3, upper.allSatisfy({ $0.isASCIIDigit || $0 == "A" || $0 == "B" }) {
            if let d = departments[code: upper] {
                return result(department: d, score: 1, streetLine: nil, postcode: nil, insee: nil, alternatives: [])
            }
            let options = upper == "20" ? ["2A", "2B"].compactMap { departments[code: $0] }.map(suggestion(department:)) : []
            throw GeocodeError.notFound(query: query, suggestions: options)
        }
        var q = ParsedQuery(trimmed)

        // Codes: arrondissement codes give a city; other postcodes / INSEE codes give a department.
        var target: CityCodes.Target?
        var codeDepartment: String?
        var postcode: String?, insee: String?
        if let code = q.code {
            if let t = CityCodes.insee(code) {
                target = t; insee = code
                codeDepartment = CityCodes.department(ofCity: t.city)
            } else if code.first!.isASCIIDigit, code.allSatisfy(\.isASCIIDigit) {
                target = CityCodes.postcode(code); postcode = code
                codeDepartment = departments.departmentCode(forPostcode: code)
            } else {
                insee = code
                codeDepartment = departments.departmentCode(forINSEE: code)
            }
        }
        // A trailing department qualifier: "Saint-Denis (93)", "Vienne 38".
        var hint = codeDepartment
        // Only when the whole text is not itself a (possibly mistyped) name: "Marseile 13" is an arrondissement.
        if q.tokens.count > 1, let last = q.tokens.last, last.text.count <= 3, let d = departments[code: last.text],
           exact[q.key(0..<q.tokens.count)] == nil,
           typoMatches(q.key(0..<q.tokens.count)).isEmpty {
            q.tokens.removeLast()
            q.consumedWords.insert(last.word)
            if hint == nil { hint = d.code }
        }

        let n = q.tokens.count
        if n > 0 {
            // 1. The whole text, then comma segments (last first), exactly.
            for range in wholeSpans(q) {
                guard let entries = exact[q.key(range)] else { continue }
                if let r = build(entries, hint: hint, target: target, score: 1, q: q, range: range,
                                 postcode: postcode, insee: insee) { return r }
            }
            // 2. The same with typos.
            if let (entries, range, similarity) = fuzzyMatch(q, ranges: wholeSpans(q)),
               let r = build(entries, hint: hint, target: target, score: similarity, q: q, range: range,
                             postcode: postcode, insee: insee) { return r }
            // 3. A city after an address ("12 rue de la République Lyon"): only when what precedes looks like
            //    a street, so a mistyped compound name never falls back to one of its words.
            let tails = addressTails(q)
            for range in tails {
                guard let entries = exact[q.key(range)] else { continue }
                if let r = build(entries, hint: hint, target: target, score: 1, q: q, range: range,
                                 postcode: postcode, insee: insee) { return r }
            }
            if let (entries, range, similarity) = fuzzyMatch(q, ranges: tails.filter { $0.count <= 3 }),
               let r = build(entries, hint: hint, target: target, score: similarity, q: q, range: range,
                             postcode: postcode, insee: insee) { return r }
        }
        // Only a code (or an unreadable name next to a valid code).
        let street = n > 0 ? q.streetLine(excluding: 0..<0) : nil
        if let target, let entries = exact[target.key] ?? exact[target.city],
           let r = build(entries, hint: codeDepartment, target: nil, score: n > 0 ? 0.5 : 1, q: q, range: 0..<0,
                         postcode: postcode, insee: insee) {
            return n > 0 ? r.withStreetLine(street) : r
        }
        if let code = codeDepartment, let d = departments[code: code] {
            return result(department: d, score: n > 0 ? 0.5 : 1, streetLine: street, postcode: postcode, insee: insee,
                          alternatives: [])
        }
        throw GeocodeError.notFound(query: query, suggestions: notFoundSuggestions(q))
    }

    /// The full query, then its comma segments, last first.
    private func wholeSpans(_ q: ParsedQuery) -> [Range<Int>] {
        let n = q.tokens.count
        var spans: [Range<Int>] = [0..<n]
        if q.segmentCount > 1 {
            for s in stride(from: q.segmentCount - 1, through: 0, by: -1) {
                let idx = q.tokens.indices.filter { q.tokens[$0].segment == s }
                if let a = idx.first, let b = idx.last, a..<(b + 1) != 0..<n { spans.append(a..<(b + 1)) }
            }
        }
        return spans
    }

    /// Suffixes (longest first, up to 6 tokens) whose preceding tokens look like a street: a number or a
    /// street word ("rue", "avenue"…).
    private func addressTails(_ q: ParsedQuery) -> [Range<Int>] {
        let n = q.tokens.count
        guard n > 1 else { return [] }
        var spans: [Range<Int>] = []
        for len in stride(from: min(n - 1, 6), through: 1, by: -1) {
            let head = q.tokens[0..<(n - len)]
            guard head.contains(where: { t in
                Self.streetWords.contains(t.text) || (t.text.count <= 4 && t.text.allSatisfy(\.isASCIIDigit))
            }) else { continue }
            let range = (n - len)..<n
            let key = q.key(range)
            if key.count < 2 || (len == 1 && Self.stopwords.contains(key)) { continue }
            if q.tokens[range].allSatisfy({ $0.text.allSatisfy(\.isASCIIDigit) }) { continue }
            spans.append(range)
        }
        return spans
    }

    /// The best typo-tolerant match among `ranges` (lowest distance, then population, then longer span).
    private func fuzzyMatch(_ q: ParsedQuery, ranges: [Range<Int>]) -> ([Entry], Range<Int>, Double)? {
        var best: (distance: Int, population: Int, entries: [Entry], range: Range<Int>, similarity: Double)?
        for range in ranges {
            let key = q.key(range)
            if key.count < 4 || (range.count == 1 && Self.stopwords.contains(key)) { continue }
            for m in typoMatches(key) {
                guard let entries = exact[fuzzyKeys[m.keyIndex]] else { continue }
                let population = entries.map(population(of:)).max() ?? 0
                if best == nil || (m.distance, -population, -range.count) < (best!.distance, -best!.population, -best!.range.count) {
                    best = (m.distance, population, entries, range, m.similarity)
                }
            }
        }
        return best.map { ($0.entries, $0.range, $0.similarity) }
    }

    /// Typo-tolerant matches of a key whose numbers match exactly ("paris 75" is not "paris 15").
    private func typoMatches(_ key: String) -> [FuzzyNameIndex.Match] {
        let numbers = Self.numbers(key)
        return fuzzy.matches(key, minSimilarity: minimumSimilarity).filter { Self.numbers(fuzzyKeys[$0.keyIndex]) == numbers }
    }

    private static func numbers(_ key: String) -> [Substring] {
        key.split(separator: " ").filter { $0.contains(where: \.isASCIIDigit) }
    }

    private func population(of entry: Entry) -> Int {
        switch entry {
        case .place(let id): places.all[id].population
        case .department(let code): departmentPopulation[code] ?? 0
        }
    }

    /// Chooses among homonyms (department hint, nearest to the hinted department, population) and builds the result.
    private func build(_ entries: [Entry], hint: String?, target: CityCodes.Target?, score: Double, q: ParsedQuery,
                       range: Range<Int>, postcode: String?, insee: String?) -> GeocodeResult? {
        let street = q.streetLine(excluding: range)
        let placeIDs = entries.compactMap { if case .place(let id) = $0 { id } else { nil } }
        let department = entries.lazy.compactMap { if case .department(let c) = $0 { self.departments[code: c] } else { nil } }.first
        func alternatives(excluding chosen: Entry) -> [Suggestion] {
            Array(entries.filter { $0 != chosen }.prefix(3).map(suggestion))
        }
        func placeResult(_ id: Int) -> GeocodeResult {
            var p = places.all[id]
            // "69003 Lyon": the arrondissement code refines the city.
            if let target, target.arrondissement != nil, Self.placeKey(p.name) == target.city,
               case .place(let a)? = exact[target.key]?.first { p = places.all[a] }
            return result(place: p, score: score, streetLine: street, postcode: postcode, insee: insee,
                          alternatives: alternatives(excluding: .place(id)))
        }
        if let hint {
            if let id = placeIDs.first(where: { departmentCode(of: places.all[$0]) == hint }) { return placeResult(id) }
            if let department, department.code == hint {
                return result(department: department, score: score, streetLine: street, postcode: postcode, insee: insee,
                              alternatives: alternatives(excluding: .department(department.code)))
            }
            if let c = centres[hint], let id = placeIDs.min(by: { distance(places.all[$0], c) < distance(places.all[$1], c) }),
               distance(places.all[id], c) < 60 {
                return placeResult(id)
            }
        }
        if let department {
            if let id = placeIDs.first, departmentCode(of: places.all[id]) == department.code,
               places.all[id].population >= 500_000 {
                return placeResult(id)
            }
            return result(department: department, score: score, streetLine: street, postcode: postcode, insee: insee,
                          alternatives: alternatives(excluding: .department(department.code)))
        }
        return placeIDs.first.map(placeResult)
    }

    private func distance(_ p: Place, _ c: (latitude: Double, longitude: Double)) -> Double {
        Haversine.distanceKm(p.latitude, p.longitude, c.latitude, c.longitude)
    }

    private func notFoundSuggestions(_ q: ParsedQuery) -> [Suggestion] {
        guard !q.tokens.isEmpty else { return [] }
        let key = q.key(0..<q.tokens.count)
        let loose = fuzzy.matches(key, maxDistance: min(3, max(1, key.count / 2)), minSimilarity: 0.5)
        let fuzzyHits = loose.prefix(20).flatMap { exact[fuzzyKeys[$0.keyIndex]] ?? [] }.map(suggestion)
        let prefixHits = key.count >= 4 ? suggest(String(key.prefix(4)), limit: 3) : []
        return Self.top(fuzzyHits + prefixHits, limit: 5)
    }
}

extension GeocodeResult {
    func withStreetLine(_ line: String?) -> GeocodeResult {
        GeocodeResult(latitude: latitude, longitude: longitude, departmentCode: departmentCode, precision: precision,
                      label: label, place: place, streetLine: line, postcode: postcode, inseeCode: inseeCode,
                      score: score, alternatives: alternatives)
    }
}
