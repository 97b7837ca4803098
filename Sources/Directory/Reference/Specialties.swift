import Foundation

/// One TRE_R38 "spécialité ordinale" code.
public struct Specialty: Sendable, Hashable, Codable {
    /// Code, e.g. "SM54".
    public let code: String
    /// Full display, e.g. "Médecine générale (SM)".
    public let display: String
    /// Short label, e.g. "Médecine générale".
    public let short: String
    /// False for deprecated codes (SP01…SP04).
    public let isActive: Bool

    /// Memberwise initialiser.
    public init(code: String, display: String, short: String, isActive: Bool) {
        self.code = code
        self.display = display
        self.short = short
        self.isActive = isActive
    }
}

/// What a regulator's "spécialité" text designates: specialty codes, professions and/or structure kinds.
public struct SearchTarget: Sendable, Hashable, Codable {
    /// French label to display ("Médecine générale", "Masseur-kinésithérapeute", "SOS Médecins").
    public let label: String
    /// TRE_R38 codes (any of them matches).
    public let specialtyCodes: [String]
    /// TRE_G15 profession codes (any of them matches); empty = any profession.
    public let professionCodes: [String]
    /// Structure kinds (any of them matches); empty = not a structure search.
    public let structureKinds: [StructureKind]

    /// Memberwise initialiser.
    public init(label: String, specialtyCodes: [String] = [], professionCodes: [String] = [],
                structureKinds: [StructureKind] = []) {
        self.label = label
        self.specialtyCodes = specialtyCodes
        self.professionCodes = professionCodes
        self.structureKinds = structureKinds
    }
}

/// The TRE_R38 table plus the hand-written synonym table, with accent/case-insensitive lookup.
public struct Specialties: Sendable {
    /// All codes in file order (index = the `UInt16` code index used by ``SpatialIndex``).
    public let all: [Specialty]
    private let byCode: [String: Int]
    /// Sorted (normalised key, target, curated) entries for exact, prefix and fuzzy lookup.
    private let entries: [(key: String, target: SearchTarget, curated: Bool)]
    private let byKey: [String: Int]

    /// The TRE_R38 code of general practice ("Médecine générale (SM)").
    public static let generalPracticeCode = "SM54"
    /// The codes a regulator means by "médecin généraliste" (SM54, SM53 Spécialiste MG, SM26 Qualifié MG).
    public static let generalPracticeCodes = ["SM54", "SM53", "SM26"]

    /// Builds the table; synonyms whose codes are unknown are kept (they may target professions only).
    public init(_ specialties: [Specialty]) {
        all = specialties
        var byCode: [String: Int] = [:]
        for (i, s) in specialties.enumerated() { byCode[s.code] = i }
        self.byCode = byCode
        var map: [String: (SearchTarget, Bool)] = [:]
        for s in specialties where s.isActive {
            let target = SearchTarget(label: s.short, specialtyCodes: [s.code], professionCodes: Self.profession(of: s.code))
            for text in [s.short, Self.stripSuffix(s.display)] {
                let key = TextNormalizer.key(text)
                if !key.isEmpty, map[key] == nil { map[key] = (target, false) }
            }
        }
        for (terms, target) in SpecialtySynonyms.table {
            for term in terms { map[TextNormalizer.key(term)] = (target, true) }
        }
        let sorted = map.map { (key: $0.key, target: $0.value.0, curated: $0.value.1) }.sorted { $0.key < $1.key }
        entries = sorted
        var byKey: [String: Int] = [:]
        for (i, e) in sorted.enumerated() { byKey[e.key] = i }
        self.byKey = byKey
    }

    /// Loads `specialties-tre-r38.csv` from `url`, or from the module bundle when `url` is nil.
    public static func load(from url: URL? = nil) throws -> Specialties {
        let url = try url ?? ReferenceResources.url(ReferenceResources.specialties)
        let (header, rows) = try ReferenceResources.rows(at: url)
        let h = HeaderMap(file: url.lastPathComponent, header: header)
        let c = try ["code", "display", "short", "status"].map(h.column)
        var list: [Specialty] = []
        for (line, f) in rows {
            guard f.count > c.max()! else {
                throw ReferenceDataError.badRow(file: url.lastPathComponent, line: line, reason: "nombre de colonnes")
            }
            list.append(Specialty(code: f[c[0]], display: f[c[1]], short: f[c[2]], isActive: f[c[3]] == "active"))
        }
        return Specialties(list)
    }

    /// The specialty with this code.
    public subscript(code code: String) -> Specialty? { byCode[code.uppercased()].map { all[$0] } }

    /// The dense index of a code (stable for a given table), used to feed ``IndexedSite``.
    public func index(of code: String) -> UInt16? { byCode[code.uppercased()].map { UInt16($0) } }

    /// Resolves typed text: exact synonym or label first, then a typo-tolerant match; empty when nothing fits.
    public func resolve(_ text: String) -> [SearchTarget] {
        let key = TextNormalizer.key(text)
        guard !key.isEmpty else { return [] }
        if let i = byKey[key] { return [entries[i].target] }
        let limit = EditDistance.tolerance(forLength: key.count)
        guard limit > 0 else { return [] }
        let q = Array(key.utf8)
        var scored: [(Int, Bool, String, SearchTarget)] = []
        for e in entries {
            let d = EditDistance.damerauLevenshtein(q, Array(e.key.utf8), limit: limit)
            if d <= limit { scored.append((d, e.curated, e.key, e.target)) }
        }
        scored.sort { ($0.0, $0.1 ? 0 : 1, $0.2) < ($1.0, $1.1 ? 0 : 1, $1.2) }
        return Self.unique(scored.map(\.3))
    }

    /// Autocomplete: targets whose key, or one of its words, starts with the typed prefix; curated synonyms
    /// first, then shorter keys.
    public func suggest(_ prefix: String, limit: Int = 10) -> [SearchTarget] {
        let p = TextNormalizer.key(prefix)
        guard !p.isEmpty, limit > 0 else { return [] }
        var hits: [(rank: Int, key: String, target: SearchTarget)] = []
        var lo = entries.startIndex, hi = entries.endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].key < p { lo = mid + 1 } else { hi = mid }
        }
        var i = lo
        while i < entries.count, entries[i].key.hasPrefix(p) {
            hits.append((entries[i].curated ? 0 : 1, entries[i].key, entries[i].target))
            i += 1
        }
        for e in entries where !e.key.hasPrefix(p) && e.key.contains(" " + p) {
            hits.append((e.curated ? 2 : 3, e.key, e.target))
        }
        hits.sort { ($0.rank, $0.key.count, $0.key) < ($1.rank, $1.key.count, $1.key) }
        return Array(Self.unique(hits.map(\.target)).prefix(limit))
    }

    private static func unique(_ targets: [SearchTarget]) -> [SearchTarget] {
        var seen = Set<SearchTarget>()
        return targets.filter { seen.insert($0).inserted }
    }

    private static func stripSuffix(_ display: String) -> String {
        guard let r = display.range(of: " (", options: .backwards), display.hasSuffix(")") else { return display }
        return String(display[..<r.lowerBound])
    }

    /// TRE_G15 profession implied by a TRE_R38 code prefix (SM médecin, SCD dentiste, SI infirmier, SP pharmacien).
    public static func profession(of code: String) -> [String] {
        if code.hasPrefix("SCD") { return ["40"] }
        if code.hasPrefix("SM") { return ["10"] }
        if code.hasPrefix("SI") { return ["60"] }
        if code.hasPrefix("SP") { return ["21"] }
        return []
    }
}
