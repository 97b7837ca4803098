import Foundation

// Map projections used by the FINESS geolocation rows, converted to and from WGS84 degrees.
//
// Datums: every projection here is defined on a French realisation of ITRS/ETRS (RGF93 for Lambert-93, RGAF09 or
// RRAF91 for the Antilles, RGFG95 for Guyane, RGR92 for La Réunion, RGM04 for Mayotte, RGSPM06 for
// Saint-Pierre-et-Miquelon), all on the GRS80 ellipsoid. They agree with WGS84 to well under a metre, far below the
// precision of an address geocode, so they are treated as WGS84 itself (no datum shift) and the GRS80 ellipsoid is
// used throughout (GRS80 and WGS84 differ by 0.1 mm in the semi-minor axis).
//
// Formulas:
// - Lambert conformal conic, two standard parallels: Snyder, "Map Projections — A Working Manual" (USGS PP 1395),
//   §15 (equations 15-1…15-11), i.e. IGN's ALG0001/ALG0002 (isometric latitude and its iterative inverse).
// - Transverse Mercator (UTM): Krüger's series in the third flattening n as given by Karney (2011), truncated at
//   n³; the first neglected terms are O(n⁴ · a) ≈ 0.05 mm, far below the 1 mm target over a zone.

/// A position in WGS84 decimal degrees (latitude north-positive, longitude east-positive).
public struct GeoCoordinate: Sendable, Hashable, Codable {
    /// Latitude, degrees.
    public var latitude: Double
    /// Longitude, degrees.
    public var longitude: Double

    /// Creates a position.
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// A projected position, metres (x = easting, y = northing).
public struct ProjectedPoint: Sendable, Hashable, Codable {
    /// Easting, metres.
    public var x: Double
    /// Northing, metres.
    public var y: Double

    /// Creates a projected point.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// The projected coordinate systems of the FINESS extraction, with forward (WGS84 → metres) and inverse conversions.
public enum MapProjection: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Hemisphere of a UTM zone (selects the false northing).
    public enum Hemisphere: String, Sendable, Hashable, Codable {
        /// North: false northing 0 m.
        case north = "N"
        /// South: false northing 10 000 000 m.
        case south = "S"
    }

    /// Lambert-93 (RGF93, EPSG:2154), metropolitan France and Corsica.
    case lambert93
    /// Universal Transverse Mercator zone 1…60.
    case utm(zone: Int, hemisphere: Hemisphere)

    /// UTM 20N: Guadeloupe, Martinique, Saint-Barthélemy, Saint-Martin (RGAF09, EPSG:5490).
    public static let utm20N = MapProjection.utm(zone: 20, hemisphere: .north)
    /// UTM 21N: Saint-Pierre-et-Miquelon (RGSPM06, EPSG:4467).
    public static let utm21N = MapProjection.utm(zone: 21, hemisphere: .north)
    /// UTM 22N: Guyane (RGFG95, EPSG:2972).
    public static let utm22N = MapProjection.utm(zone: 22, hemisphere: .north)
    /// UTM 38S: Mayotte (RGM04, EPSG:4471).
    public static let utm38S = MapProjection.utm(zone: 38, hemisphere: .south)
    /// UTM 40S: La Réunion (RGR92, EPSG:2975).
    public static let utm40S = MapProjection.utm(zone: 40, hemisphere: .south)

    /// Short name, in the FINESS spelling ("LAMBERT_93", "UTM_N20", "UTM_S40").
    public var description: String {
        switch self {
        case .lambert93: "LAMBERT_93"
        case .utm(let zone, let hemisphere): "UTM_\(hemisphere.rawValue)\(zone)"
        }
    }

    /// WGS84 degrees → projected metres.
    public func forward(_ c: GeoCoordinate) -> ProjectedPoint {
        switch self {
        case .lambert93: LambertConformalConic.lambert93.forward(c)
        case .utm(let zone, let hemisphere): TransverseMercator.utm(zone: zone, hemisphere: hemisphere).forward(c)
        }
    }

    /// Projected metres → WGS84 degrees (what the FINESS importer uses).
    public func inverse(_ p: ProjectedPoint) -> GeoCoordinate {
        switch self {
        case .lambert93: LambertConformalConic.lambert93.inverse(p)
        case .utm(let zone, let hemisphere): TransverseMercator.utm(zone: zone, hemisphere: hemisphere).inverse(p)
        }
    }

    /// The projection FINESS uses for a department (INSEE "971"… or FINESS "9A"… codes); Lambert-93 otherwise.
    public static func forDepartment(_ code: String) -> MapProjection {
        switch code.uppercased() {
        case "971", "972", "977", "978", "9A", "9B": .utm20N
        case "973", "9C": .utm22N
        case "974", "9D": .utm40S
        case "975", "9E": .utm21N
        case "976", "9F": .utm38S
        default: .lambert93
        }
    }

    /// Reads the coordinate system out of a FINESS `sourcecoordet` value, in any of the spellings seen in the
    /// extractions: a legacy last token (`…,LAMBERT_93`, `…,UTM_N20`), an EPSG code (`EPSG:2154 RGF93 / Lambert-93`,
    /// `EPSG:5490 RGAF09/UTM Zone 20N`) or a zone label (`WGS84/UTM zone 21N`). Nil when nothing is recognised.
    public static func fromFINESSSource(_ source: String) -> MapProjection? {
        let text = source.uppercased()
        if let range = text.range(of: "EPSG:") {
            let digits = text[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
            if let code = Int(digits), let projection = fromEPSG(code) { return projection }
        }
        if text.contains("LAMBERT_93") || text.contains("LAMBERT-93") || text.contains("LAMBERT 93") {
            return .lambert93
        }
        return utmZone(in: text)
    }

    /// The projection of an EPSG code FINESS is known to use (French and WGS84 UTM codes included).
    public static func fromEPSG(_ code: Int) -> MapProjection? {
        switch code {
        case 2154: return .lambert93
        case 4559, 5490: return .utm20N
        case 4467: return .utm21N
        case 2972: return .utm22N
        case 4471: return .utm38S
        case 2975: return .utm40S
        case 32601...32660: return .utm(zone: code - 32600, hemisphere: .north)
        case 32701...32760: return .utm(zone: code - 32700, hemisphere: .south)
        default: return nil
        }
    }

    /// `UTM_N20` / `UTM_S40` tokens, or `UTM ZONE 20N` / `UTM ZONE 38S` labels (text already upper-cased).
    private static func utmZone(in text: String) -> MapProjection? {
        let chars = Array(text)
        var i = 0
        while let start = index(of: "UTM", in: chars, from: i) {
            i = start + 3
            var j = i
            while j < chars.count, chars[j] == "_" || chars[j] == " " { j += 1 }
            if j + 4 <= chars.count, String(chars[j..<(j + 4)]) == "ZONE" { j += 4 }
            while j < chars.count, chars[j] == " " || chars[j] == "_" { j += 1 }
            var hemisphere: Hemisphere?
            if j < chars.count, let h = Hemisphere(rawValue: String(chars[j])) { hemisphere = h; j += 1 }
            var digits = ""
            while j < chars.count, chars[j].isASCII, chars[j].isNumber { digits.append(chars[j]); j += 1 }
            if hemisphere == nil, j < chars.count, let h = Hemisphere(rawValue: String(chars[j])) { hemisphere = h }
            if let zone = Int(digits), (1...60).contains(zone), let hemisphere {
                return .utm(zone: zone, hemisphere: hemisphere)
            }
        }
        return nil
    }

    private static func index(of needle: String, in chars: [Character], from: Int) -> Int? {
        let n = Array(needle)
        guard chars.count >= n.count, from <= chars.count - n.count else { return nil }
        for k in from...(chars.count - n.count) where Array(chars[k..<(k + n.count)]) == n { return k }
        return nil
    }
}

/// GRS80 ellipsoid constants and the isometric latitude shared by both projections.
enum GRS80 {
    /// Semi-major axis, metres.
    static let a = 6_378_137.0
    /// Flattening.
    static let f = 1 / 298.257_222_101
    /// First eccentricity.
    static let e = (f * (2 - f)).squareRoot()

    /// Isometric latitude ψ(φ) = atanh(sin φ) − e·atanh(e·sin φ) (IGN ALG0001).
    static func isometricLatitude(_ phi: Double) -> Double {
        let s = sin(phi)
        return atanh(s) - e * atanh(e * s)
    }

    /// Geodetic latitude from the isometric latitude, by fixed-point iteration (IGN ALG0002); converges to 1e-14 rad.
    static func latitude(fromIsometric psi: Double) -> Double {
        var phi = 2 * atan(exp(psi)) - .pi / 2
        for _ in 0..<30 {
            let es = e * sin(phi)
            let next = 2 * atan(pow((1 + es) / (1 - es), e / 2) * exp(psi)) - .pi / 2
            if abs(next - phi) < 1e-14 { return next }
            phi = next
        }
        return phi
    }
}

/// Lambert conformal conic with two standard parallels on GRS80 (Snyder §15).
struct LambertConformalConic: Sendable {
    /// Cone constant n.
    let n: Double
    /// a·F, the projection constant C of the IGN notes, metres.
    let c: Double
    /// Central meridian, radians.
    let lambda0: Double
    /// False easting, metres.
    let falseEasting: Double
    /// Projected y of the cone apex (false northing + ρ0), metres — "Ys" in the IGN notes.
    let apexY: Double

    /// Lambert-93: lat0 46.5°, lon0 3°, standard parallels 44° and 49°, E0 700 000 m, N0 6 600 000 m.
    static let lambert93 = LambertConformalConic(lat0: 46.5, lon0: 3, parallel1: 44, parallel2: 49,
                                                 falseEasting: 700_000, falseNorthing: 6_600_000)

    init(lat0: Double, lon0: Double, parallel1: Double, parallel2: Double, falseEasting: Double,
         falseNorthing: Double) {
        func m(_ phi: Double) -> Double { cos(phi) / (1 - GRS80.e * GRS80.e * sin(phi) * sin(phi)).squareRoot() }
        let (p1, p2, p0) = (parallel1 * .pi / 180, parallel2 * .pi / 180, lat0 * .pi / 180)
        // ln t(φ) = −ψ(φ): Snyder's t is exp(−isometric latitude).
        let n = (log(m(p1)) - log(m(p2))) / (GRS80.isometricLatitude(p2) - GRS80.isometricLatitude(p1))
        let c = GRS80.a * m(p1) / n * exp(n * GRS80.isometricLatitude(p1))
        self.n = n
        self.c = c
        lambda0 = lon0 * .pi / 180
        self.falseEasting = falseEasting
        apexY = falseNorthing + c * exp(-n * GRS80.isometricLatitude(p0))
    }

    func forward(_ g: GeoCoordinate) -> ProjectedPoint {
        let rho = c * exp(-n * GRS80.isometricLatitude(g.latitude * .pi / 180))
        let theta = n * (g.longitude * .pi / 180 - lambda0)
        return ProjectedPoint(x: falseEasting + rho * sin(theta), y: apexY - rho * cos(theta))
    }

    func inverse(_ p: ProjectedPoint) -> GeoCoordinate {
        let dx = p.x - falseEasting
        let dy = apexY - p.y
        let rho = (dx * dx + dy * dy).squareRoot()
        let theta = atan2(dx, dy)
        let psi = -log(rho / c) / n
        return GeoCoordinate(latitude: GRS80.latitude(fromIsometric: psi) * 180 / .pi,
                             longitude: (lambda0 + theta / n) * 180 / .pi)
    }
}

/// Transverse Mercator on GRS80 via Krüger's n-series (Karney 2011), truncated at n³.
struct TransverseMercator: Sendable {
    /// Central meridian, radians.
    let lambda0: Double
    /// Scale factor on the central meridian.
    let k0: Double
    /// False easting, metres.
    let falseEasting: Double
    /// False northing, metres.
    let falseNorthing: Double

    /// Third flattening n = f / (2 − f).
    static let thirdFlattening = GRS80.f / (2 - GRS80.f)
    /// Rectifying radius A (a quarter meridian is π·A/2), metres.
    static let rectifyingRadius: Double = {
        let n = thirdFlattening
        return GRS80.a / (1 + n) * (1 + n * n / 4 + n * n * n * n / 64)
    }()
    /// Forward series coefficients α1…α3.
    static let alpha: [Double] = {
        let n = thirdFlattening
        return [n / 2 - 2 * n * n / 3 + 5 * n * n * n / 16, 13 * n * n / 48 - 3 * n * n * n / 5, 61 * n * n * n / 240]
    }()
    /// Inverse series coefficients β1…β3.
    static let beta: [Double] = {
        let n = thirdFlattening
        return [n / 2 - 2 * n * n / 3 + 37 * n * n * n / 96, n * n / 48 + n * n * n / 15, 17 * n * n * n / 480]
    }()

    /// A UTM zone: central meridian 6·zone − 183°, k0 0.9996, E0 500 000 m, N0 0 (north) or 10 000 000 m (south).
    static func utm(zone: Int, hemisphere: MapProjection.Hemisphere) -> TransverseMercator {
        TransverseMercator(lambda0: Double(6 * zone - 183) * .pi / 180, k0: 0.9996, falseEasting: 500_000,
                           falseNorthing: hemisphere == .north ? 0 : 10_000_000)
    }

    func forward(_ g: GeoCoordinate) -> ProjectedPoint {
        let dl = g.longitude * .pi / 180 - lambda0
        let tanChi = sinh(GRS80.isometricLatitude(g.latitude * .pi / 180)) // tangent of the conformal latitude
        let xiPrime = atan2(tanChi, cos(dl))
        let etaPrime = atanh(sin(dl) / (1 + tanChi * tanChi).squareRoot())
        var xi = xiPrime, eta = etaPrime
        for (j, a) in Self.alpha.enumerated() {
            let k = Double(2 * (j + 1))
            xi += a * sin(k * xiPrime) * cosh(k * etaPrime)
            eta += a * cos(k * xiPrime) * sinh(k * etaPrime)
        }
        let scale = k0 * Self.rectifyingRadius
        return ProjectedPoint(x: falseEasting + scale * eta, y: falseNorthing + scale * xi)
    }

    func inverse(_ p: ProjectedPoint) -> GeoCoordinate {
        let scale = k0 * Self.rectifyingRadius
        let xi = (p.y - falseNorthing) / scale
        let eta = (p.x - falseEasting) / scale
        var xiPrime = xi, etaPrime = eta
        for (j, b) in Self.beta.enumerated() {
            let k = Double(2 * (j + 1))
            xiPrime -= b * sin(k * xi) * cosh(k * eta)
            etaPrime -= b * cos(k * xi) * sinh(k * eta)
        }
        let chi = asin(sin(xiPrime) / cosh(etaPrime)) // conformal latitude
        let lambda = lambda0 + atan2(sinh(etaPrime), cos(xiPrime))
        let phi = GRS80.latitude(fromIsometric: atanh(sin(chi)))
        return GeoCoordinate(latitude: phi * 180 / .pi, longitude: lambda * 180 / .pi)
    }
}
