import Foundation
import SASDomain

/// A skipped (or partly used) entry of the enrichment file: its JSON path and the reason, in French.
public struct EnrichmentProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// JSON path, e.g. `participation[3].vacations[0].end`.
    public let path: String
    /// Why, in French.
    public let reason: String

    /// Creates a problem report.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "participation[3] : …".
    public var description: String { "\(path) : \(reason)" }
}

/// A practitioner's validated SAS participation.
public struct ParticipationUpdate: Sendable, Hashable {
    /// The practitioner.
    public let idnps: IDNPS
    /// Its settings.
    public let participation: SASParticipation
}

/// A validated structure, with the INSEE codes of its intervention area as written in the file.
public struct EnrichedStructure: Sendable, Hashable {
    /// The structure; an INSEE-code area becomes `.places` with the place ids the resolver found.
    public let structure: Structure
    /// INSEE codes of the area (empty for a disc).
    public let inseeCodes: [String]
}

/// The valid content of an enrichment file, mapped onto the directory model.
public struct EnrichmentData: Sendable {
    /// Participation settings, in file order, one per practitioner.
    public var participations: [ParticipationUpdate] = []
    /// Structures, in file order, one per IDNST.
    public var structures: [EnrichedStructure] = []
    /// Vendor links, in file order, without duplicates.
    public var vendorLinks: [VendorLink] = []
}

/// Why an enrichment file cannot be used at all (not JSON, or not the expected top-level shape).
public struct EnrichmentFileError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// French explanation.
    public let reason: String
    /// "Fichier d'enrichissement illisible : …".
    public var description: String { "Fichier d'enrichissement illisible : \(reason)" }
    /// Foundation's user-facing text.
    public var errorDescription: String? { description }
}

extension EnrichmentFile {
    /// Reads and validates the file at `url`; see ``load(data:resolvingINSEE:onProblem:)``.
    public static func load(url: URL, resolvingINSEE resolve: (String) -> Int? = { _ in nil },
                            onProblem: (EnrichmentProblem) -> Void) throws -> EnrichmentData {
        try load(data: Data(contentsOf: url), resolvingINSEE: resolve, onProblem: onProblem)
    }

    /// Decodes the file entry by entry: an entry that is malformed or inconsistent is reported (JSON path and
    /// French reason) and skipped, the others are kept. `resolve` maps an INSEE commune code to a `places.csv`
    /// place id for INSEE-code intervention areas; codes it does not know are reported and left out of the area.
    /// Throws ``EnrichmentFileError`` only when the file as a whole is unreadable.
    public static func load(data: Data, resolvingINSEE resolve: (String) -> Int? = { _ in nil },
                            onProblem: (EnrichmentProblem) -> Void) throws -> EnrichmentData {
        let file: LenientFile
        do {
            file = try JSONDecoder().decode(LenientFile.self, from: data)
        } catch let error as DecodingError {
            throw EnrichmentFileError(reason: Self.topLevelReason(error))
        }
        if let version = file.version, version != 1 {
            onProblem(EnrichmentProblem(path: "version", reason: "version \(version) inconnue, lue comme la version 1"))
        }
        return withoutActuallyEscaping(onProblem) { report in
            withoutActuallyEscaping(resolve) { resolver in
                var validator = EnrichmentValidator(resolve: resolver, onProblem: report)
                // Structures first, so that participation entries can be checked against them.
                for (i, entry) in (file.structures ?? []).enumerated() {
                    validator.structure(entry, path: "structures[\(i)]")
                }
                for (i, entry) in (file.participation ?? []).enumerated() {
                    validator.participation(entry, path: "participation[\(i)]")
                }
                for (i, entry) in (file.vendorLinks ?? []).enumerated() {
                    validator.vendorLink(entry, path: "vendorLinks[\(i)]")
                }
                return validator.data
            }
        }
    }

    private static func topLevelReason(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "ce n'est pas un document JSON valide"
        default:
            let (path, reason) = Lenient<Int>.reason(error)
            return "structure inattendue " + (path.isEmpty ? "à la racine" : "dans « \(path) »") + " : \(reason)"
        }
    }
}

/// Top level decoded entry by entry (unknown keys are ignored).
private struct LenientFile: Decodable {
    let version: Int?
    let participation: [Lenient<EnrichmentFile.Participation>]?
    let structures: [Lenient<EnrichmentFile.StructureEntry>]?
    let vendorLinks: [Lenient<EnrichmentFile.VendorLinkEntry>]?
}

/// One array element: the decoded value, or where and why it could not be decoded.
private enum Lenient<Value: Decodable>: Decodable {
    case value(Value)
    case failure(path: String, reason: String)

    init(from decoder: any Decoder) {
        do {
            self = .value(try decoder.singleValueContainer().decode(Value.self))
        } catch {
            let (path, reason) = Self.reason(error)
            self = .failure(path: path.isEmpty ? EnrichmentPath.string(decoder.codingPath) : path, reason: reason)
        }
    }

    /// French path and reason of a decoding failure.
    static func reason(_ error: any Error) -> (path: String, reason: String) {
        switch error {
        case let error as EnrichmentFieldError:
            return (EnrichmentPath.string(error.path), error.reason)
        case DecodingError.keyNotFound(let key, let context):
            return (EnrichmentPath.string(context.codingPath), "champ obligatoire « \(key.stringValue) » absent")
        case DecodingError.typeMismatch(let type, let context):
            return (EnrichmentPath.string(context.codingPath), "type inattendu (\(EnrichmentPath.typeName(type)) attendu)")
        case DecodingError.valueNotFound(let type, let context):
            return (EnrichmentPath.string(context.codingPath), "valeur nulle (\(EnrichmentPath.typeName(type)) attendu)")
        case DecodingError.dataCorrupted(let context):
            return (EnrichmentPath.string(context.codingPath), "valeur illisible")
        default:
            return ("", "entrée illisible")
        }
    }
}

/// JSON paths and type names for messages.
enum EnrichmentPath {
    /// `participation[3].vacations[0].end`.
    static func string(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue { out += "[\(index)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
        }
        return out
    }

    /// French name of an expected JSON type.
    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "texte"
        case is Bool.Type: "booléen"
        case is Double.Type, is Int.Type: "nombre"
        default: "\(type)".hasPrefix("Array") ? "liste" : "objet"
        }
    }
}

extension Lenient {
    /// Unwraps the value or reports the failure.
    func value(or report: (EnrichmentProblem) -> Void) -> Value? {
        switch self {
        case .value(let value): return value
        case .failure(let path, let reason):
            report(EnrichmentProblem(path: path, reason: reason))
            return nil
        }
    }
}

extension EnrichmentValidator {
    fileprivate mutating func structure(_ entry: Lenient<EnrichmentFile.StructureEntry>, path: String) {
        if let value = entry.value(or: onProblem) { structure(value, path: path) }
    }

    fileprivate mutating func participation(_ entry: Lenient<EnrichmentFile.Participation>, path: String) {
        if let value = entry.value(or: onProblem) { participation(value, path: path) }
    }

    fileprivate mutating func vendorLink(_ entry: Lenient<EnrichmentFile.VendorLinkEntry>, path: String) {
        if let value = entry.value(or: onProblem) { vendorLink(value, path: path) }
    }
}
