import Foundation
import SASDomain

/// A `geolocalisation` row kept between the two passes.
struct FinessRawPoint {
    /// Projected coordinates, metres.
    let point: ProjectedPoint
    /// `sourcecoordet` (interned: a file uses a handful of distinct values).
    let source: String
    /// Line of the row.
    let line: Int
}

/// Checks that a byte line is a FINESS record of a given type (first field, ASCII, case-insensitive).
enum FinessRecordType {
    static let geolocation = Array("geolocalisation".utf8)

    /// True when the first field is exactly `geolocalisation` (unquoted).
    static func isGeolocation(_ bytes: [UInt8]) -> Bool {
        SemicolonRecordReader.hasPrefix(bytes, geolocation)
            && (bytes.count == geolocation.count || bytes[geolocation.count] == 0x3B)
    }

    /// Accepts `expected` fields, one less (older files) or extra empty trailing fields; otherwise reports.
    static func checkCount(_ fields: [String], expected: Int, kind: String, line: Int,
                           report: (FinessProblem) -> Void) -> Bool {
        if fields.count >= expected - 1, fields.count <= expected { return true }
        if fields.count > expected, fields[expected...].allSatisfy(\.isEmpty) { return true }
        report(FinessProblem(line: line, reason: "nombre de champs inattendu pour \(kind) : \(fields.count) au lieu "
            + "de \(expected)"))
        return false
    }
}

/// Pass 1: validates the first line and keeps the coordinates of every `geolocalisation` row.
struct FinessGeolocationPass {
    let report: (FinessProblem) -> Void
    var header: FinessExtractHeader?
    var headerLine: Int?
    var points: [String: FinessRawPoint] = [:]
    var sawWindows1252 = false
    private var sawRecord = false
    private var sources: [String: String] = [:]

    init(report: @escaping (FinessProblem) -> Void) { self.report = report }

    private func problem(_ line: Int, _ reason: String) { report(FinessProblem(line: line, reason: reason)) }

    mutating func consume(_ line: (number: Int, bytes: [UInt8])) throws {
        if SemicolonRecordReader.isBlank(line.bytes) { return }
        if !sawRecord {
            sawRecord = true
            try first(line)
        }
        guard FinessRecordType.isGeolocation(line.bytes) else { return }
        let encoding = SemicolonRecordReader.encoding(of: line.bytes)
        if encoding == .windows1252 { sawWindows1252 = true }
        guard let f = SemicolonRecordReader.fields(line.bytes, encoding) else {
            return problem(line.number, "guillemet non fermé, ligne ignorée")
        }
        guard FinessRecordType.checkCount(f, expected: FinessExtractParser.geolocationFieldCount,
                                          kind: "geolocalisation", line: line.number, report: report) else { return }
        let finess = f[1]
        guard (try? IDNST.finess(finess)) != nil else {
            return problem(line.number, "numéro FINESS invalide « \(finess) » dans la géolocalisation")
        }
        if f[2].isEmpty, f[3].isEmpty { return } // listed but not geocoded
        guard let x = Self.number(f[2]), let y = Self.number(f[3]) else {
            return problem(line.number, "coordonnées non numériques (« \(f[2]) », « \(f[3]) ») pour \(finess)")
        }
        guard points[finess] == nil else {
            return problem(line.number, "géolocalisation en double pour l'établissement \(finess), ignorée")
        }
        let source = f.count > 4 ? f[4] : ""
        let interned = sources[source] ?? source
        sources[source] = interned
        points[finess] = FinessRawPoint(point: ProjectedPoint(x: x, y: y), source: interned, line: line.number)
    }

    /// The first non-blank line must be the `finess;etalab;…` header or a FINESS record.
    private mutating func first(_ line: (number: Int, bytes: [UInt8])) throws {
        let fields = SemicolonRecordReader.fields(line.bytes, SemicolonRecordReader.encoding(of: line.bytes)) ?? [""]
        switch fields[0].lowercased() {
        case "finess":
            header = FinessExtractHeader(schemaVersion: fields.count > 2 ? fields[2] : "",
                                         date: fields.count > 3 ? fields[3] : "")
            headerLine = line.number
        case "structureet", "geolocalisation":
            break
        default:
            throw FinessExtractError(reason: "la première ligne n'est ni l'en-tête « finess;etalab;… » ni un "
                + "enregistrement structureet/geolocalisation (« \(String(fields[0].prefix(40))) »)")
        }
    }

    /// "870215.7" (a decimal comma is accepted too).
    static func number(_ text: String) -> Double? {
        guard let value = Double(text.replacingOccurrences(of: ",", with: ".")), value.isFinite else { return nil }
        return value
    }
}

/// Pass 2: builds each establishment, joins its coordinates and hands it over.
struct FinessStructurePass {
    let report: (FinessProblem) -> Void
    let headerLine: Int?
    var points: [String: FinessRawPoint]
    var delivered = 0
    var geolocated = 0
    var sawWindows1252 = false
    private var seen: Set<String> = []
    /// Interned repeated labels (categories, cities) so many rows share their storage.
    private var interned: [String: String] = [:]
    /// `sourcecoordet` values already resolved.
    private var projections: [String: MapProjection?] = [:]

    init(report: @escaping (FinessProblem) -> Void, geolocations: FinessGeolocationPass) {
        self.report = report
        headerLine = geolocations.headerLine
        points = geolocations.points
    }

    private func problem(_ line: Int, _ reason: String) { report(FinessProblem(line: line, reason: reason)) }

    private mutating func intern(_ s: String) -> String {
        if let known = interned[s] { return known }
        interned[s] = s
        return s
    }

    mutating func consume(_ line: (number: Int, bytes: [UInt8]), _ body: (FinessEstablishment) throws -> Void) throws {
        if line.number == headerLine || SemicolonRecordReader.isBlank(line.bytes)
            || FinessRecordType.isGeolocation(line.bytes) { return }
        let encoding = SemicolonRecordReader.encoding(of: line.bytes)
        if encoding == .windows1252 { sawWindows1252 = true }
        guard let fields = SemicolonRecordReader.fields(line.bytes, encoding) else {
            return problem(line.number, "guillemet non fermé, ligne ignorée")
        }
        switch fields[0].lowercased() {
        case "structureet":
            if let establishment = structure(fields, line: line.number) {
                delivered += 1
                if establishment.isGeolocated { geolocated += 1 }
                try body(establishment)
            }
        case "geolocalisation": return // quoted type: already read in pass 1
        case "finess": problem(line.number, "ligne d'en-tête « finess;etalab » répétée, ignorée")
        default:
            problem(line.number, "type d'enregistrement inconnu « \(String(fields[0].prefix(40))) » "
                + "(structureet ou geolocalisation attendu)")
        }
    }

    private mutating func structure(_ f: [String], line: Int) -> FinessEstablishment? {
        guard FinessRecordType.checkCount(f, expected: FinessExtractParser.structureFieldCount, kind: "structureet",
                                          line: line, report: report) else { return nil }
        guard let idnst = try? IDNST.finess(f[1]) else {
            problem(line, "numéro FINESS d'établissement invalide « \(f[1]) »")
            return nil
        }
        guard seen.insert(f[1]).inserted else {
            problem(line, "établissement \(f[1]) en double, seule sa première ligne est gardée")
            return nil
        }
        let name = f[3].isEmpty ? f[4] : f[3]
        let routing = FinessFields.routingLine(f[15])
        guard !name.isEmpty else {
            problem(line, "raison sociale absente pour l'établissement \(f[1])")
            return nil
        }
        guard let department = FinessFields.departmentCode(f[13])
            ?? FinessFields.department(fromPostcode: routing.postcode) else {
            problem(line, "département « \(f[13]) » non reconnu pour l'établissement \(f[1])")
            return nil
        }
        let complement = [f[6], f[11]].filter { !$0.isEmpty }.joined(separator: ", ")
        let address = PostalAddress(number: f[7], repetition: f[10], streetTypeCode: f[8],
                                    streetType: FinessFields.streetTypeLabel(f[8]), streetName: f[9],
                                    complement: complement, postcode: routing.postcode, city: intern(routing.city))
        let siret = f[22].count == 14 && f[22].allSatisfy { $0.isASCII && $0.isNumber } ? f[22] : nil
        var establishment = FinessEstablishment(
            idnst: idnst, legalEntityFINESS: f[2], name: name, longName: f[4], nameComplement: f[5],
            categoryCode: intern(f[18]), categoryLabel: intern(f[19]), aggregateCategoryCode: intern(f[20]),
            aggregateCategoryLabel: intern(f[21]), address: address, isCedex: routing.cedex,
            inseeCode: FinessFields.inseeCode(department: f[13], commune: f[12]), departmentCode: department,
            phone: FinessFields.phone(f[16]), fax: FinessFields.phone(f[17]), siret: siret, openingDate: f[28],
            updateDate: f[30], line: line)
        if let raw = points.removeValue(forKey: f[1]) { locate(&establishment, raw) }
        return establishment
    }

    /// Converts the projected point to WGS84 and stores it, unless it is implausible for the department.
    private mutating func locate(_ e: inout FinessEstablishment, _ raw: FinessRawPoint) {
        let named: MapProjection?
        if let cached = projections[raw.source] {
            named = cached
        } else {
            named = MapProjection.fromFINESSSource(raw.source)
            projections[raw.source] = named
        }
        let projection = named ?? MapProjection.forDepartment(e.departmentCode)
        let c = projection.inverse(raw.point)
        guard c.latitude.isFinite, c.longitude.isFinite else {
            return problem(raw.line, "coordonnées impossibles à convertir (\(raw.point.x), \(raw.point.y) en "
                + "\(projection)) pour \(e.finess), établissement gardé sans coordonnées")
        }
        guard FinessTerritory.contains(c, department: e.departmentCode) else {
            let position = String(format: "%.5f, %.5f", c.latitude, c.longitude)
            return problem(raw.line, "coordonnées hors du département \(e.departmentCode) pour \(e.finess) "
                + "(\(position) d'après \(projection)), établissement gardé sans coordonnées")
        }
        e.latitude = c.latitude
        e.longitude = c.longitude
        e.projection = projection
        e.geolocationSource = raw.source
    }

    /// Reports the coordinates whose establishment never appeared.
    func finish() {
        for (finess, raw) in points.sorted(by: { $0.value.line < $1.value.line }) {
            problem(raw.line, "géolocalisation d'un établissement absent du fichier (\(finess)), ignorée")
        }
    }
}

/// Generous bounding boxes of French territories, to catch coordinates given in the wrong projection.
enum FinessTerritory {
    private static let boxes: [String: (lat: ClosedRange<Double>, lon: ClosedRange<Double>)] = [
        "971": (15.6...18.4, -63.4...(-60.7)), "972": (14.1...15.2, -61.5...(-60.5)),
        "973": (1.8...6.2, -54.9...(-51.3)), "974": (-21.7...(-20.6), 54.9...56.1),
        "975": (46.5...47.4, -56.7...(-55.9)), "976": (-13.3...(-12.3), 44.7...45.6),
    ]
    /// Metropolitan France and Corsica.
    private static let metropole = (lat: 41.0...51.6, lon: -5.8...10.0)

    /// Whether `c` plausibly lies in `department`; unknown territories (986…) are not checked.
    static func contains(_ c: GeoCoordinate, department: String) -> Bool {
        let box: (lat: ClosedRange<Double>, lon: ClosedRange<Double>)
        if let overseas = boxes[department] {
            box = overseas
        } else if department.count == 3 {
            return true
        } else {
            box = metropole
        }
        return box.lat.contains(c.latitude) && box.lon.contains(c.longitude)
    }
}
