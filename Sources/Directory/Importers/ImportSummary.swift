import Foundation

/// What an import did: counts, and every rejected line with its reason (in French).
public struct ImportSummary: Sendable, Codable, CustomStringConvertible {
    /// A rejected line.
    public struct Rejection: Sendable, Codable, Equatable {
        public let line: Int
        public let reason: String
    }

    public var linesRead = 0
    public var created = 0
    public var updated = 0
    public var sites = 0
    public var sitesWithoutCoordinates = 0
    public var rejectedCount = 0
    /// The first rejections (all are counted in `rejectedCount`; the list is capped to keep memory bounded).
    public var rejections: [Rejection] = []
    public var encoding = "UTF-8"
    public var seconds: Double = 0

    static let maxListed = 1_000

    mutating func reject(line: Int, _ reason: String) {
        rejectedCount += 1
        if rejections.count < Self.maxListed { rejections.append(Rejection(line: line, reason: reason)) }
    }

    public var description: String {
        var lines = [
            "Lignes lues : \(linesRead) (encodage \(encoding))",
            "Praticiens créés : \(created), mis à jour : \(updated)",
            "Lieux d'exercice : \(sites) (dont \(sitesWithoutCoordinates) non géolocalisables, ignorés)",
            "Lignes rejetées : \(rejectedCount)",
        ]
        for rejection in rejections.prefix(50) { lines.append("  ligne \(rejection.line) : \(rejection.reason)") }
        if rejectedCount > 50 { lines.append("  … et \(rejectedCount - 50) autres (voir le résumé JSON)") }
        lines.append(String(format: "Durée : %.1f s", seconds))
        return lines.joined(separator: "\n")
    }
}

/// A file that cannot be imported at all (nothing was written).
public struct ImportFileError: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "Import impossible : \(reason). Rien n'a été écrit." }
}
