import Foundation

/// One populated place of `places.csv` (GeoNames-derived: communes, arrondissements and some quarters).
public struct Place: Sendable, Hashable, Codable {
    /// Row index in the table (stable for a given file), used as the place id.
    public let id: Int
    /// Name as spelled in the data ("Saint-Étienne", "Lyon 03", "Paris 15 Vaugirard").
    public let name: String
    /// Department code ("69", "2A", "974").
    public let departmentCode: String
    /// Region name.
    public let region: String
    /// WGS84 latitude.
    public let latitude: Double
    /// WGS84 longitude.
    public let longitude: Double
    /// Population (GeoNames; sub-city quarters are counted again inside their city).
    public let population: Int
    /// GeoNames identifier.
    public let geonameID: Int

    /// Memberwise initialiser.
    public init(id: Int, name: String, departmentCode: String, region: String, latitude: Double,
                longitude: Double, population: Int, geonameID: Int) {
        self.id = id
        self.name = name
        self.departmentCode = departmentCode
        self.region = region
        self.latitude = latitude
        self.longitude = longitude
        self.population = population
        self.geonameID = geonameID
    }
}

/// The places table. No postcode and no INSEE code are available in this data set.
public struct Places: Sendable {
    /// All places, `all[i].id == i`.
    public let all: [Place]

    /// Wraps an already-built list (ids are reassigned to positions).
    public init(_ places: [Place]) {
        all = places.enumerated().map { i, p in
            Place(id: i, name: p.name, departmentCode: p.departmentCode, region: p.region, latitude: p.latitude,
                  longitude: p.longitude, population: p.population, geonameID: p.geonameID)
        }
    }

    private init(built: [Place]) { all = built }

    /// Loads `places.csv` from `url`, or from the module bundle when `url` is nil.
    /// Header: `name,department,region,latitude,longitude,population,geonameid` (columns found by name).
    public static func load(from url: URL? = nil) throws -> Places {
        let url = try url ?? ReferenceResources.url(ReferenceResources.places)
        let file = url.lastPathComponent
        let (header, rows) = try ReferenceResources.rows(at: url)
        let h = HeaderMap(file: file, header: header)
        let c = try ["name", "department", "region", "latitude", "longitude", "population", "geonameid"].map(h.column)
        let maxColumn = c.max()!
        var list: [Place] = []
        list.reserveCapacity(rows.count)
        for (line, f) in rows {
            guard f.count > maxColumn, let lat = Double(f[c[3]]), let lon = Double(f[c[4]]),
                  (-90...90).contains(lat), (-180...180).contains(lon) else {
                throw ReferenceDataError.badRow(file: file, line: line, reason: "coordonnées invalides")
            }
            list.append(Place(id: list.count, name: f[c[0]], departmentCode: f[c[1]].uppercased(), region: f[c[2]],
                              latitude: lat, longitude: lon, population: Int(f[c[5]]) ?? 0,
                              geonameID: Int(f[c[6]]) ?? 0))
        }
        return Places(built: list)
    }

    /// Places ordered by decreasing population (ties by name).
    public func byPopulation() -> [Place] {
        all.sorted { ($0.population, $1.name) > ($1.population, $0.name) }
    }
}
