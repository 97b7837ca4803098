@testable import Directory
import Foundation
import Testing

/// Lambert-93 and UTM conversions: definitional points, projection properties checked numerically (independently
/// of the series used), round trips, and reference points computed by pyproj.
@Suite struct ProjectionTests {
    static let a = 6_378_137.0
    static let e2 = { let f = 1 / 298.257_222_101; return f * (2 - f) }()

    /// Prime-vertical radius of curvature.
    static func primeVertical(_ phi: Double) -> Double { a / (1 - e2 * sin(phi) * sin(phi)).squareRoot() }
    /// Meridian radius of curvature.
    static func meridianRadius(_ phi: Double) -> Double { a * (1 - e2) / pow(1 - e2 * sin(phi) * sin(phi), 1.5) }
    /// Meridian arc from the equator, by Simpson integration (independent of the Krüger series).
    static func meridianArc(_ latitude: Double) -> Double {
        let phi = latitude * .pi / 180, steps = 2_000
        let h = phi / Double(steps)
        var sum = meridianRadius(0) + meridianRadius(phi)
        for i in 1..<steps { sum += meridianRadius(Double(i) * h) * (i % 2 == 1 ? 4 : 2) }
        return sum * h / 3
    }

    static func distance(_ p: ProjectedPoint, _ q: ProjectedPoint) -> Double { hypot(p.x - q.x, p.y - q.y) }

    /// Point scale factors along the parallel and along the meridian, measured on the projection.
    static func scales(_ projection: MapProjection, latitude: Double, longitude: Double) -> (east: Double, north: Double) {
        let d = 1e-4, phi = latitude * .pi / 180
        let p = projection.forward(GeoCoordinate(latitude: latitude, longitude: longitude))
        let east = projection.forward(GeoCoordinate(latitude: latitude, longitude: longitude + d))
        let north = projection.forward(GeoCoordinate(latitude: latitude + d, longitude: longitude))
        let rad = d * .pi / 180
        return (distance(p, east) / (primeVertical(phi) * cos(phi) * rad), distance(p, north) / (meridianRadius(phi) * rad))
    }

    // MARK: Lambert-93

    @Test func lambert93OriginIsExact() {
        let p = MapProjection.lambert93.forward(GeoCoordinate(latitude: 46.5, longitude: 3))
        #expect(abs(p.x - 700_000) < 1e-6)
        #expect(abs(p.y - 6_600_000) < 1e-6)
        let g = MapProjection.lambert93.inverse(ProjectedPoint(x: 700_000, y: 6_600_000))
        #expect(abs(g.latitude - 46.5) < 1e-12)
        #expect(abs(g.longitude - 3) < 1e-12)
    }

    @Test func lambert93ConstantsMatchThePublishedOnes() {
        // n, C and Ys as published for Lambert-93 (IGN notes; quoted identically by many public converters).
        let l = LambertConformalConic.lambert93
        #expect(abs(l.n - 0.7256077650532670) < 1e-12)
        #expect(abs(l.c - 11_754_255.426096) < 1e-4)
        #expect(abs(l.apexY - 12_655_612.049876) < 1e-4)
    }

    @Test(arguments: [44.0, 49.0])
    func lambert93IsTrueToScaleOnEachStandardParallel(latitude: Double) {
        for longitude in [-4.0, 3.0, 9.0] {
            let s = Self.scales(.lambert93, latitude: latitude, longitude: longitude)
            #expect(abs(s.east - 1) < 1e-7, "scale along the parallel at \(latitude)°, \(longitude)°: \(s.east)")
            #expect(abs(s.north - 1) < 1e-7, "scale along the meridian at \(latitude)°, \(longitude)°: \(s.north)")
        }
        // Between the parallels the map shrinks, outside it stretches.
        #expect(Self.scales(.lambert93, latitude: 46.5, longitude: 3).east < 0.9995)
        #expect(Self.scales(.lambert93, latitude: 42, longitude: 3).east > 1.0005)
        // On the central meridian a standard parallel point has x = 700 000 m.
        let p = MapProjection.lambert93.forward(GeoCoordinate(latitude: latitude, longitude: 3))
        #expect(abs(p.x - 700_000) < 1e-6)
    }

    @Test func lambert93RoundTripsOverFrance() {
        var worst = 0.0
        for lat in stride(from: 41.0, through: 51.5, by: 0.25) {
            for lon in stride(from: -5.5, through: 10.0, by: 0.25) {
                let g = GeoCoordinate(latitude: lat, longitude: lon)
                let back = MapProjection.lambert93.inverse(MapProjection.lambert93.forward(g))
                worst = max(worst, abs(back.latitude - lat), abs(back.longitude - lon))
            }
        }
        #expect(worst < 1e-9)
        var worstMetres = 0.0
        for x in stride(from: 100_000.0, through: 1_250_000, by: 50_000) {
            for y in stride(from: 6_050_000.0, through: 7_120_000, by: 50_000) {
                let p = ProjectedPoint(x: x, y: y)
                worstMetres = max(worstMetres, Self.distance(p, MapProjection.lambert93.forward(MapProjection.lambert93.inverse(p))))
            }
        }
        #expect(worstMetres < 1e-4)
    }

    // MARK: UTM

    @Test(arguments: [MapProjection.utm20N, .utm21N, .utm22N, .utm38S, .utm40S])
    func utmCentralMeridianAndEquator(projection: MapProjection) throws {
        guard case .utm(let zone, let hemisphere) = projection else { Issue.record("not UTM"); return }
        let lon0 = Double(6 * zone - 183)
        let falseNorthing = hemisphere == .north ? 0.0 : 10_000_000
        let origin = projection.forward(GeoCoordinate(latitude: 0, longitude: lon0))
        #expect(abs(origin.x - 500_000) < 1e-6)
        #expect(abs(origin.y - falseNorthing) < 1e-6)
        let back = projection.inverse(ProjectedPoint(x: 500_000, y: falseNorthing))
        #expect(abs(back.latitude) < 1e-12)
        #expect(abs(back.longitude - lon0) < 1e-12)
        // On the central meridian, northing = k0 × meridian arc (arc integrated numerically, not by the series).
        for lat in [-25.0, -12.5, 5.0, 16.0, 47.0] {
            let p = projection.forward(GeoCoordinate(latitude: lat, longitude: lon0))
            #expect(abs(p.x - 500_000) < 1e-6)
            #expect(abs(p.y - (falseNorthing + 0.9996 * Self.meridianArc(lat))) < 1e-3, "latitude \(lat)")
        }
    }

    @Test func utmQuarterMeridianIsTheKnownValue() {
        // GRS80/WGS84 quarter meridian: 10 001 965.729 m.
        #expect(abs(TransverseMercator.rectifyingRadius * .pi / 2 - 10_001_965.729) < 1e-3)
    }

    @Test(arguments: [MapProjection.utm20N, .utm22N, .utm38S, .utm40S])
    func utmIsConformalAndRoundTripsOverTheZone(projection: MapProjection) throws {
        guard case .utm(let zone, _) = projection else { Issue.record("not UTM"); return }
        let lon0 = Double(6 * zone - 183)
        var worst = 0.0, worstMetres = 0.0
        for lat in stride(from: -30.0, through: 30.0, by: 2.5) {
            for dl in stride(from: -3.5, through: 3.5, by: 0.5) {
                let g = GeoCoordinate(latitude: lat, longitude: lon0 + dl)
                let p = projection.forward(g)
                let back = projection.inverse(p)
                worst = max(worst, abs(back.latitude - g.latitude), abs(back.longitude - g.longitude))
                worstMetres = max(worstMetres, Self.distance(p, projection.forward(back)))
                // Conformal: the same scale in every direction. Scale grows like k0 (1 + (x/R)²/2) away from the meridian.
                let s = Self.scales(projection, latitude: lat, longitude: lon0 + dl)
                #expect(abs(s.east - s.north) < 1e-7, "anisotropy at \(lat)°, Δλ \(dl)°")
                #expect(s.east >= 0.9996 - 1e-7 && s.east < 1.002)
            }
        }
        #expect(worst < 1e-9)
        #expect(worstMetres < 1e-3)
    }

    // MARK: Reference points

    /// Control values computed with pyproj (5 decimals) in a public FINESS loader's tests
    /// (EPSG:2154, 5490, 2972, 2975, 4471, 32621 → EPSG:4326), and one Lambert-93 vector from another public loader.
    @Test(arguments: [
        (MapProjection.lambert93, 870_262.2, 6_571_540.8, 46.22229, 5.20918),
        (.utm20N, 657_242.9, 1_795_384.4, 16.23400, -61.52874),
        (.utm22N, 353_672.8, 544_349.1, 4.92347, -52.31973),
        (.utm40S, 323_086.6, 7_679_599.8, -20.97571, 55.29821),
        (.utm38S, 524_819.9, 8_587_194.7, -12.77989, 45.22868),
        (.utm21N, 563_213.8, 5_180_306.8, 46.77332, -56.17201),
        (.lambert93, 882_408.3, 6_543_019.6, 45.96240165432614, 5.355651287573366),
    ])
    func independentReferencePoints(projection: MapProjection, x: Double, y: Double, lat: Double, lon: Double) {
        let g = projection.inverse(ProjectedPoint(x: x, y: y))
        // Half a unit of the 5th decimal (rounding) plus margin: ≤ 0.7 m.
        #expect(abs(g.latitude - lat) < 6e-6, "\(projection) latitude \(g.latitude)")
        #expect(abs(g.longitude - lon) < 6e-6, "\(projection) longitude \(g.longitude)")
    }

    // MARK: Choosing the projection

    @Test func projectionFromSourceText() {
        let cases: [(String, MapProjection?)] = [
            ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93", .lambert93),
            ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_N20", .utm20N),
            ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_N22", .utm22N),
            ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_S40", .utm40S),
            ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_S38", .utm38S),
            ("1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)", .lambert93),
            ("2,ATLASANTE,96,BAN,EPSG:5490 RGAF09/UTM Zone 20N (Antilles)", .utm20N),
            ("2,ATLASANTE,100,BDADRESSE,EPSG:4471 RGM04/UTM zone 38S (Mayotte)", .utm38S),
            ("2,ATLASANTE,90,BAN,WGS84/UTM zone 21N (St-Pierre-et-Miquelon)", .utm21N),
            ("", nil),
            ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,", nil),
        ]
        for (text, expected) in cases {
            #expect(MapProjection.fromFINESSSource(text) == expected, "\(text)")
        }
        #expect(MapProjection.utm40S.description == "UTM_S40")
    }

    @Test func projectionFromDepartment() {
        #expect(MapProjection.forDepartment("971") == .utm20N)
        #expect(MapProjection.forDepartment("9B") == .utm20N)
        #expect(MapProjection.forDepartment("973") == .utm22N)
        #expect(MapProjection.forDepartment("974") == .utm40S)
        #expect(MapProjection.forDepartment("9f") == .utm38S)
        #expect(MapProjection.forDepartment("2A") == .lambert93)
        #expect(MapProjection.forDepartment("69") == .lambert93)
    }
}
