import Foundation

/// One French department with the SAS 2025 search-radius table (`departments.csv`).
public struct Department: Sendable, Hashable, Codable {
    /// INSEE department code: "01"…"95", "2A", "2B", "971"…"976".
    public let code: String
    /// Official name, e.g. "Rhône".
    public let name: String
    /// Region name.
    public let region: String
    /// SAS territory identifier, e.g. "SAS-69".
    public let sasTerritory: String
    /// Area in km² (0 for overseas departments in the source table).
    public let areaKm2: Double
    /// Radius covering the whole department, for department-level searches (0 overseas in the source).
    public let departmentRadiusKm: Double
    /// Department barycentre latitude (0 when unknown: overseas rows).
    public let centreLatitude: Double
    /// Department barycentre longitude (0 when unknown: overseas rows).
    public let centreLongitude: Double
    /// Default radius for an address or city search in this department (SAS `cityDefaultRadius`).
    public let defaultRadiusKm: Double
    /// Manual enlargement step (SAS `enlargementValue`).
    public let enlargementKm: Double

    /// Whether the table gives a real barycentre (false for 971–976, whose rows carry 0,0).
    public var hasCentre: Bool { centreLatitude != 0 || centreLongitude != 0 }

    /// The default radius, falling back to the 50 km cap where the SAS table says 0 (973, 976: SAS not deployed).
    public var effectiveDefaultRadiusKm: Double { defaultRadiusKm > 0 ? defaultRadiusKm : 50 }

    /// Memberwise initialiser.
    public init(code: String, name: String, region: String, sasTerritory: String, areaKm2: Double,
                departmentRadiusKm: Double, centreLatitude: Double, centreLongitude: Double,
                defaultRadiusKm: Double, enlargementKm: Double) {
        self.code = code
        self.name = name
        self.region = region
        self.sasTerritory = sasTerritory
        self.areaKm2 = areaKm2
        self.departmentRadiusKm = departmentRadiusKm
        self.centreLatitude = centreLatitude
        self.centreLongitude = centreLongitude
        self.defaultRadiusKm = defaultRadiusKm
        self.enlargementKm = enlargementKm
    }
}

/// The 101 departments, indexed by code and by normalised name.
public struct Departments: Sendable {
    /// All departments in file order.
    public let all: [Department]
    private let byCode: [String: Int]
    private let byKey: [String: Int]

    /// Builds the table from rows (codes are upper-cased; "2a" → "2A").
    public init(_ departments: [Department]) {
        all = departments
        var byCode: [String: Int] = [:]
        var byKey: [String: Int] = [:]
        for (i, d) in departments.enumerated() {
            byCode[d.code.uppercased()] = i
            byKey[TextNormalizer.key(d.name)] = i
        }
        self.byCode = byCode
        self.byKey = byKey
    }

    /// Loads `departments.csv` from `url`, or from the module bundle when `url` is nil.
    public static func load(from url: URL? = nil) throws -> Departments {
        let url = try url ?? ReferenceResources.url(ReferenceResources.departments)
        let (header, rows) = try ReferenceResources.rows(at: url)
        let h = HeaderMap(file: url.lastPathComponent, header: header)
        let cols = try ["code", "name", "region", "sas_territory", "area_km2", "department_radius_km",
                        "centre_latitude", "centre_longitude", "default_radius_km", "enlargement_km"].map(h.column)
        var list: [Department] = []
        for (line, f) in rows {
            guard f.count > cols.max()! else {
                throw ReferenceDataError.badRow(file: url.lastPathComponent, line: line, reason: "nombre de colonnes")
            }
            func number(_ i: Int) throws -> Double {
                guard let v = Double(f[cols[i]]) else {
                    throw ReferenceDataError.badRow(file: url.lastPathComponent, line: line, reason: "nombre invalide « \(f[cols[i]]) »")
                }
                return v
            }
            list.append(Department(
                code: f[cols[0]].uppercased(), name: f[cols[1]], region: f[cols[2]], sasTerritory: f[cols[3]],
                areaKm2: try number(4), departmentRadiusKm: try number(5), centreLatitude: try number(6),
                centreLongitude: try number(7), defaultRadiusKm: try number(8), enlargementKm: try number(9)))
        }
        return Departments(list)
    }

    /// The department with this code ("69", "2a", "971"); a single digit is zero-padded ("1" → "01").
    public subscript(code code: String) -> Department? {
        let c = code.uppercased()
        if let i = byCode[c] { return all[i] }
        if c.count == 1, let i = byCode["0" + c] { return all[i] }
        return nil
    }

    /// The department whose normalised name equals the normalised `name` ("rhone", "Côtes d'Armor").
    public func named(_ name: String) -> Department? {
        byKey[TextNormalizer.key(name)].map { all[$0] }
    }

    /// Normalised name keys with their department, for fuzzy and prefix matching.
    public var nameKeys: [(key: String, department: Department)] {
        byKey.map { ($0.key, all[$0.value]) }.sorted { $0.key < $1.key }
    }

    /// The department code of a 5-character INSEE commune code ("69123" → "69", "2A004" → "2A", "97411" → "974").
    public func departmentCode(forINSEE insee: String) -> String? {
        let c = insee.uppercased()
        guard c.count == 5 else { return nil }
        if c.hasPrefix("97") { return self[code: String(c.prefix(3))]?.code }
        return self[code: String(c.prefix(2))]?.code
    }

    /// The department code of a 5-digit postcode ("69003" → "69", "20000" → "2A", "20200" → "2B", "97200" → "972").
    public func departmentCode(forPostcode postcode: String) -> String? {
        guard postcode.count == 5, postcode.allSatisfy(\.isASCIIDigit) else { return nil }
        if postcode.hasPrefix("97") { return self[code: String(postcode.prefix(3))]?.code }
        if postcode.hasPrefix("20") {
            let n = Int(postcode.dropFirst(2)) ?? 0
            return n < 200 ? "2A" : "2B"
        }
        return self[code: String(postcode.prefix(2))]?.code
    }
}

extension Character {
    /// ASCII 0–9 only (`isNumber` also accepts other scripts' digits and fractions).
    var isASCIIDigit: Bool { isASCII && isNumber }
}
