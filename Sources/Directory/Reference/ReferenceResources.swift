import Foundation

/// Errors raised while loading the shipped reference tables.
public enum ReferenceDataError: Error, LocalizedError, Sendable, Equatable {
    /// The resource is missing from the bundle.
    case missingResource(String)
    /// The file could not be read or decoded as UTF-8.
    case unreadable(String)
    /// A row is malformed (1-based line number, reason).
    case badRow(file: String, line: Int, reason: String)

    public var errorDescription: String? {
        switch self {
        case .missingResource(let name): "Fichier de référence introuvable : \(name)"
        case .unreadable(let name): "Fichier de référence illisible : \(name)"
        case .badRow(let file, let line, let reason): "\(file), ligne \(line) : \(reason)"
        }
    }
}

/// Locates the CSV files shipped with the `Directory` module.
///
/// The target declares `resources: [.copy("Resources")]`; the loader also accepts the files being copied
/// individually to the bundle root, so either declaration works.
public enum ReferenceResources {
    /// `places.csv`: 15,500 French places (name, department, region, latitude, longitude, population, geonameid).
    public static let places = "places"
    /// `departments.csv`: the 101 departments with the SAS radius table.
    public static let departments = "departments"
    /// `specialties-tre-r38.csv`: the TRE_R38 specialty nomenclature.
    public static let specialties = "specialties-tre-r38"

    /// The bundled URL of the named CSV resource.
    public static func url(_ name: String) throws -> URL {
        if let url = Bundle.module.url(forResource: name, withExtension: "csv", subdirectory: "Resources") {
            return url
        }
        if let url = Bundle.module.url(forResource: name, withExtension: "csv") { return url }
        throw ReferenceDataError.missingResource("\(name).csv")
    }

    /// Reads a CSV file (bundled or explicit) into rows of fields, skipping the header and blank lines.
    /// Works on raw UTF-8 bytes (Foundation line enumeration is slow on Linux); quoted lines go through ``CSV``;
    /// invalid UTF-8 sequences become U+FFFD.
    static func rows(at url: URL) throws -> (header: [String], rows: [(line: Int, fields: [String])]) {
        guard let data = try? Data(contentsOf: url) else { throw ReferenceDataError.unreadable(url.lastPathComponent) }
        var header: [String] = []
        var rows: [(Int, [String])] = []
        let ok: Bool = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Bool in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
            var lineNumber = 0
            var fields: [String] = []
            while start < bytes.count {
                var end = start
                var quoted = false
                while end < bytes.count, bytes[end] != 0x0A { if bytes[end] == 0x22 { quoted = true }; end += 1 }
                lineNumber += 1
                var stop = end
                if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
                if stop > start {
                    let line = UnsafeBufferPointer(rebasing: bytes[start..<stop])
                    if quoted {
                        fields = CSV.split(String(decoding: line, as: UTF8.self))
                    } else {
                        fields.removeAll(keepingCapacity: true)
                        var fieldStart = 0
                        for i in 0...line.count where i == line.count || line[i] == 0x2C {
                            fields.append(String(decoding: UnsafeBufferPointer(rebasing: line[fieldStart..<i]), as: UTF8.self))
                            fieldStart = i + 1
                        }
                    }
                    if header.isEmpty { header = fields } else { rows.append((lineNumber, fields)) }
                }
                start = end + 1
            }
            return true
        }
        guard ok else { throw ReferenceDataError.unreadable(url.lastPathComponent) }
        return (header, rows)
    }
}

/// A minimal RFC 4180 line splitter (comma separated, double-quoted fields, `""` escapes).
enum CSV {
    static func split(_ line: String, separator: Character = ",") -> [String] {
        if !line.contains("\"") { return line.split(separator: separator, omittingEmptySubsequences: false).map(String.init) }
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { inQuotes = false; pending = next }
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                inQuotes = true
            } else if c == separator {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        fields.append(field)
        return fields
    }
}

/// Looks up a column index by header name and fails with a readable error when absent.
struct HeaderMap {
    let file: String
    let index: [String: Int]

    init(file: String, header: [String]) {
        self.file = file
        var index: [String: Int] = [:]
        for (i, name) in header.enumerated() { index[name.trimmingCharacters(in: .whitespaces)] = i }
        self.index = index
    }

    func column(_ name: String) throws -> Int {
        guard let i = index[name] else { throw ReferenceDataError.badRow(file: file, line: 1, reason: "colonne « \(name) » absente") }
        return i
    }
}
