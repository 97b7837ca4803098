import Foundation

/// The offline geocoder, built from `places.csv` and `departments.csv`.
///
/// What it can and cannot do, honestly:
/// - Place names (communes, Paris/Lyon/Marseille arrondissements, some quarters) are matched accent-, case-,
///   hyphen- and "saint/st"-insensitively, then with typos (Damerau–Levenshtein ≤ 2, scaled down for short
///   names, similarity ≥ 0.75); homonyms are ranked by population. A department qualifier disambiguates:
///   "Saint-Denis (93)", "Vienne 38".
/// - The data has **no postcode and no INSEE code**. A 5-digit postcode therefore resolves to its department
///   (precision `.department`), except the Paris/Lyon/Marseille arrondissement postcodes (750xx, 6900x, 130xx)
///   which resolve to the arrondissement. An INSEE code ("69123", "2A004") likewise resolves to its department,
///   except the Paris/Lyon/Marseille commune and arrondissement codes (75056, 751xx, 69123, 6938x, 13055, 132xx).
///   With a city name next to the postcode ("13100 Aix-en-Provence") the city is found and checked against it.
/// - A street typed before the city ("12 rue de la République, Lyon") is kept in `streetLine`, but the
///   coordinates are the city's (`precision == .city`): no street data is shipped.
/// - Overseas departments have no barycentre in the table: their centre is their most populous place.
/// - Anything else throws ``GeocodeError/notFound(query:suggestions:)`` — never a wrong city silently.
public struct OfflineGeocoder: Geocoder {
    /// A name key's referent.
    enum Entry: Hashable, Sendable {
        case place(Int)
        case department(String)
    }

    /// The places table.
    public let places: Places
    /// The departments table.
    public let departments: Departments
    /// Minimum similarity (1 − distance / length) accepted for a typo match.
    public let minimumSimilarity: Double

    /// Normalised key → referents (places by decreasing population, then the department if any).
    let exact: [String: [Entry]]
    /// Fuzzy index over `fuzzyKeys`.
    let fuzzy: FuzzyNameIndex
    let fuzzyKeys: [String]
    /// Sorted keys for prefix autocomplete.
    let sortedKeys: [(key: String, entry: Entry)]
    /// Effective department centres (table barycentre, or most populous place overseas).
    let centres: [String: (latitude: Double, longitude: Double)]
    /// Sum of place populations per department.
    let departmentPopulation: [String: Int]

    /// Builds the index from already-loaded tables.
    public init(places: Places, departments: Departments, minimumSimilarity: Double = 0.75) {
        self.places = places
        self.departments = departments
        self.minimumSimilarity = minimumSimilarity
        var exact: [String: [Entry]] = [:]
        exact.reserveCapacity(places.all.count + 200)
        var population: [String: Int] = [:]
        var biggest: [String: Place] = [:]
        let byPopulation = places.all.sorted { ($0.population, $1.id) > ($1.population, $0.id) }
        for place in byPopulation {
            population[place.departmentCode, default: 0] += place.population
            if biggest[place.departmentCode] == nil { biggest[place.departmentCode] = place }
            let key = Self.placeKey(place.name)
            guard !key.isEmpty else { continue }
            exact[key, default: []].append(.place(place.id))
            if let alias = CityCodes.arrondissementAlias(ofKey: key), alias != key {
                exact[alias, default: []].append(.place(place.id))
            }
        }
        var centres: [String: (Double, Double)] = [:]
        for d in departments.all {
            exact[TextNormalizer.key(d.name), default: []].append(.department(d.code))
            if d.hasCentre {
                centres[d.code] = (d.centreLatitude, d.centreLongitude)
            } else if let p = biggest[d.code] {
                centres[d.code] = (p.latitude, p.longitude)
            }
        }
        self.exact = exact
        self.centres = centres
        self.departmentPopulation = population
        let keys = exact.keys.sorted()
        fuzzyKeys = keys
        fuzzy = FuzzyNameIndex(keys: keys)
        var sorted: [(String, Entry)] = []
        sorted.reserveCapacity(keys.count + 100)
        for key in keys { for entry in exact[key]! { sorted.append((key, entry)) } }
        sortedKeys = sorted
    }

    /// Loads the tables (explicit file URLs, or the copies bundled with the module) and builds the index.
    public init(placesURL: URL? = nil, departmentsURL: URL? = nil) throws {
        self.init(places: try Places.load(from: placesURL), departments: try Departments.load(from: departmentsURL))
    }

    /// The normalised lookup key of a place name ("Lyon 03" → "lyon 3", "Saint-Étienne" → "saint etienne").
    public static func placeKey(_ name: String) -> String {
        TextNormalizer.canonicalOrdinals(TextNormalizer.tokens(name)).joined(separator: " ")
    }

    // MARK: - Geocoder

    /// Resolves free text; see the type documentation for the rules.
    public func geocode(_ query: String) async throws -> GeocodeResult {
        try resolve(query)
    }

    /// Structured resolution for importers: postcode + city label ("25300", "DOUBS") and/or INSEE code.
    public func resolve(postcode: String?, city: String?, inseeCode: String? = nil) throws -> GeocodeResult {
        var parts: [String] = []
        let postcode = postcode?.trimmingCharacters(in: .whitespaces) ?? ""
        if let insee = inseeCode?.trimmingCharacters(in: .whitespaces), !insee.isEmpty,
           CityCodes.insee(insee) != nil || postcode.isEmpty {
            parts.append(insee)
        } else if !postcode.isEmpty {
            parts.append(postcode)
        }
        if let city, !city.isEmpty { parts.append(city) }
        return try resolve(parts.joined(separator: " "))
    }

    /// Autocomplete over place and department names (prefix of the normalised name), by population.
    /// A numeric prefix lists the departments whose code starts with it.
    public func suggest(_ prefix: String, limit: Int = 10) -> [Suggestion] {
        guard limit > 0 else { return [] }
        let raw = prefix.trimmingCharacters(in: .whitespaces).uppercased()
        if !raw.isEmpty, raw.count <= 3, raw.first!.isASCIIDigit {
            return departments.all.filter { $0.code.hasPrefix(raw) }.prefix(limit).map(suggestion(department:))
        }
        let p = Self.placeKey(prefix)
        guard !p.isEmpty else { return [] }
        var lo = 0, hi = sortedKeys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sortedKeys[mid].key < p { lo = mid + 1 } else { hi = mid }
        }
        var hits: [Suggestion] = []
        var i = lo
        while i < sortedKeys.count, sortedKeys[i].key.hasPrefix(p) {
            hits.append(suggestion(sortedKeys[i].entry))
            i += 1
        }
        return Self.top(hits, limit: limit)
    }

    // MARK: - Building blocks

    func suggestion(_ entry: Entry) -> Suggestion {
        switch entry {
        case .place(let id): suggestion(place: places.all[id])
        case .department(let code): suggestion(department: departments[code: code]!)
        }
    }

    func suggestion(place p: Place) -> Suggestion {
        Suggestion(kind: .place, label: "\(p.name) (\(departmentCode(of: p)))", departmentCode: departmentCode(of: p),
                   placeID: p.id, latitude: p.latitude, longitude: p.longitude, population: p.population)
    }

    func suggestion(department d: Department) -> Suggestion {
        let c = centres[d.code] ?? (d.centreLatitude, d.centreLongitude)
        return Suggestion(kind: .department, label: "\(d.name) (\(d.code))", departmentCode: d.code, placeID: nil,
                          latitude: c.latitude, longitude: c.longitude, population: departmentPopulation[d.code] ?? 0)
    }

    /// The department of a place; arrondissements of Paris/Lyon/Marseille always get their city's department
    /// (GeoNames files "Paris 16 Passy" under 92).
    func departmentCode(of place: Place) -> String {
        if let alias = CityCodes.arrondissementAlias(ofKey: Self.placeKey(place.name)),
           let d = CityCodes.department(ofCity: String(alias.split(separator: " ")[0])) {
            return d
        }
        return place.departmentCode
    }

    func result(place p: Place, score: Double, streetLine: String?, postcode: String?, insee: String?,
                alternatives: [Suggestion]) -> GeocodeResult {
        GeocodeResult(latitude: p.latitude, longitude: p.longitude, departmentCode: departmentCode(of: p),
                      precision: .city, label: "\(p.name) (\(departmentCode(of: p)))", place: p, streetLine: streetLine,
                      postcode: postcode, inseeCode: insee, score: score, alternatives: alternatives)
    }

    func result(department d: Department, score: Double, streetLine: String?, postcode: String?, insee: String?,
                alternatives: [Suggestion]) -> GeocodeResult {
        let c = centres[d.code] ?? (d.centreLatitude, d.centreLongitude)
        return GeocodeResult(latitude: c.latitude, longitude: c.longitude, departmentCode: d.code, precision: .department,
                             label: "\(d.name) (\(d.code))", place: nil, streetLine: streetLine, postcode: postcode,
                             inseeCode: insee, score: score, alternatives: alternatives)
    }

    /// Best `limit` suggestions by population, one per label.
    static func top(_ suggestions: [Suggestion], limit: Int) -> [Suggestion] {
        var seen = Set<String>()
        return suggestions.sorted { ($0.population, $1.label) > ($1.population, $0.label) }
            .filter { seen.insert($0.label).inserted }
            .prefix(limit).map { $0 }
    }
}
