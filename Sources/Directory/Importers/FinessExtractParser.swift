import Foundation
import SASDomain

// Streaming parser for the etalab FINESS extraction with geolocation, `etalab-cs1100507-stock-YYYYMMDD-HHMM.csv`
// (data.gouv.fr, dataset "finess-extraction-du-fichier-des-etablissements").
//
// Layout (no header row, `;`-separated, fields optionally double-quoted with doubled inner quotes, ISO-8859-1 /
// Windows-1252 historically, UTF-8 in some recent copies — detected per line):
//
//   line 1            finess;etalab;<schema version, e.g. 98 or 111>;<extraction date yyyy-MM-dd>
//   structureet       32 fields, by position (1-based):
//                      1 structureet        2 nofinesset        3 nofinessej         4 rs (raison sociale)
//                      5 rslongue           6 complrs           7 compldistrib       8 numvoie
//                      9 typvoie           10 voie             11 compvoie          12 lieuditbp
//                     13 commune           14 departement      15 libdepartement    16 ligneacheminement
//                     17 telephone         18 telecopie        19 categetab         20 libcategetab
//                     21 categagretab      22 libcategagretab  23 siret             24 codeape
//                     25 codemft           26 libmft           27 codesph           28 libsph
//                     29 dateouv           30 dateautor        31 maj (datemaj)     32 numuai
//   geolocalisation   6 fields: geolocalisation; nofinesset; coordxet; coordyet; sourcecoordet; datemaj
//
// Column names and order come from public loaders of this file (the etalab PDF description was not at hand) and
// are confirmed field by field against verbatim lines of 2020–2026 files quoted in public test fixtures, e.g.
//   structureet;010000024;010780054;CH DE FLEYRIAT;CENTRE HOSPITALIER DE BOURG-EN-BRESSE FLEYRIAT;;;900;RTE;
//   DE PARIS;;;451;01;AIN;01440 VIRIAT;0474454647;0474454114;355;Centre Hospitalier (C.H.);1102;…;2020-02-04;
// (the trailing `;` is the empty numuai: 32 fields). Files predating numuai presumably have 31; both are accepted,
// as are empty trailing fields beyond the known ones. All `structureet` rows come first, then all
// `geolocalisation` rows, so the file is read twice, in chunks: pass 1 keeps only the coordinates (a compact
// dictionary keyed by nofinesset, ~10 MB for the whole of France), pass 2 streams the establishments with their
// coordinates joined, so the caller never needs the whole file or all establishments in memory (row order does
// not matter). Overseas departments are written `9A` (Guadeloupe) … `9F` (Mayotte) with 3-digit communes; see
// `FinessFields`. The coordinate system is read from `sourcecoordet` (legacy last token `LAMBERT_93` /
// `UTM_N20`…, or `EPSG:…` / `UTM zone 20N` labels in newer files), else from the department.

/// A rejected or suspicious line of a FINESS extraction, with the reason in French.
public struct FinessProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 1-based line number.
    public let line: Int
    /// Why the line (or its coordinates) was not used, in French.
    public let reason: String

    /// Creates a problem report.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// "ligne 12 : …".
    public var description: String { "ligne \(line) : \(reason)" }
}

/// The first line of the extraction (`finess;etalab;<version>;<date>`).
public struct FinessExtractHeader: Sendable, Hashable, Codable {
    /// Schema version announced by the file ("98", "111").
    public let schemaVersion: String
    /// Extraction date as written (`yyyy-MM-dd`), empty when missing.
    public let date: String
}

/// Reading statistics of one extraction file.
public struct FinessExtractInfo: Sendable, Hashable {
    /// The header line, nil when the file has none.
    public var header: FinessExtractHeader?
    /// Lines in the file (including the header and rejected lines).
    public var linesRead: Int
    /// Establishments delivered.
    public var establishments: Int
    /// Establishments delivered with coordinates.
    public var geolocated: Int
    /// True when at least one line was decoded as Windows-1252 (not valid UTF-8).
    public var sawWindows1252: Bool
}

/// Everything read from one extraction file, establishments collected in file order.
public struct FinessExtract: Sendable {
    /// Reading statistics.
    public var info: FinessExtractInfo
    /// Establishments in file order, joined with their coordinates.
    public var establishments: [FinessEstablishment]

    /// The header line, nil when the file has none.
    public var header: FinessExtractHeader? { info.header }
    /// Lines in the file.
    public var linesRead: Int { info.linesRead }
    /// True when at least one line was decoded as Windows-1252.
    public var sawWindows1252: Bool { info.sawWindows1252 }
}

/// Why a file cannot be read as a FINESS extraction at all (nothing is delivered from it).
public struct FinessExtractError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// French explanation.
    public let reason: String
    /// "Fichier FINESS illisible : …".
    public var description: String { "Fichier FINESS illisible : \(reason)" }
    /// Foundation's user-facing text.
    public var errorDescription: String? { description }
}

/// Parses the etalab FINESS extraction (`etalab-cs1100507-stock-*.csv`) in a streaming fashion.
///
/// Every rejected line is passed to `onProblem` with its number and a French reason; problems of
/// `geolocalisation` lines come from the first pass, so reports are not strictly in line order.
public enum FinessExtractParser {
    /// Number of fields of a `structureet` row in current files (31 before numuai was added).
    public static let structureFieldCount = 32
    /// Number of fields of a `geolocalisation` row.
    public static let geolocationFieldCount = 6

    /// Reads `url` and returns all its establishments.
    public static func parse(url: URL, onProblem: (FinessProblem) -> Void) throws -> [FinessEstablishment] {
        try parseExtract(url: url, onProblem: onProblem).establishments
    }

    /// Reads `url` (`chunkSize` bytes at a time) and returns its statistics and all its establishments.
    public static func parseExtract(url: URL, chunkSize: Int = 1 << 20,
                                    onProblem: (FinessProblem) -> Void) throws -> FinessExtract {
        var all: [FinessEstablishment] = []
        let info = try forEach(url: url, chunkSize: chunkSize, onProblem: onProblem) { all.append($0) }
        return FinessExtract(info: info, establishments: all)
    }

    /// Parses an extraction already in memory (tests, small files), served `chunkSize` bytes at a time.
    public static func parseExtract(data: Data, chunkSize: Int = 1 << 20,
                                    onProblem: (FinessProblem) -> Void) throws -> FinessExtract {
        var all: [FinessEstablishment] = []
        let info = try forEach(data: data, chunkSize: chunkSize, onProblem: onProblem) { all.append($0) }
        return FinessExtract(info: info, establishments: all)
    }

    /// Streams the establishments of `url` to `body`, in file order, coordinates joined; memory stays bounded by
    /// the coordinates dictionary. Throws ``FinessExtractError`` before delivering anything when the file is not
    /// a FINESS extraction; an error thrown by `body` stops the reading.
    public static func forEach(url: URL, chunkSize: Int = 1 << 20, onProblem: (FinessProblem) -> Void,
                               _ body: (FinessEstablishment) throws -> Void) throws -> FinessExtractInfo {
        try run({ try SemicolonRecordReader.file(url, chunkSize: chunkSize) }, onProblem: onProblem, body)
    }

    /// Streams the establishments of an in-memory extraction; see ``forEach(url:chunkSize:onProblem:_:)``.
    public static func forEach(data: Data, chunkSize: Int = 1 << 20, onProblem: (FinessProblem) -> Void,
                               _ body: (FinessEstablishment) throws -> Void) throws -> FinessExtractInfo {
        try run({ SemicolonRecordReader.bytes(data, chunkSize: chunkSize) }, onProblem: onProblem, body)
    }

    private static func run(_ makeReader: () throws -> SemicolonRecordReader, onProblem: (FinessProblem) -> Void,
                            _ body: (FinessEstablishment) throws -> Void) throws -> FinessExtractInfo {
        try withoutActuallyEscaping(onProblem) { report in
            var reader = try makeReader()
            var geolocations = FinessGeolocationPass(report: report)
            while let line = try reader.nextLine() { try geolocations.consume(line) }
            reader = try makeReader()
            var structures = FinessStructurePass(report: report, geolocations: geolocations)
            while let line = try reader.nextLine() { try structures.consume(line, body) }
            structures.finish()
            return FinessExtractInfo(header: geolocations.header, linesRead: reader.lineNumber,
                                     establishments: structures.delivered, geolocated: structures.geolocated,
                                     sawWindows1252: geolocations.sawWindows1252 || structures.sawWindows1252)
        }
    }
}
