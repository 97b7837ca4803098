import Foundation
import SASDomain
import Storage

/// Imports the FINESS etalab extraction (CPTS, MSP and CDS become directory structures) and the SAS enrichment file
/// (participation, structures, vendor links). Each import is one transaction; bad lines or entries are reported and
/// skipped, the rest is written.
public struct StructureImporters: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Imports a FINESS extraction. Establishments of other categories are counted, not stored.
    public func importFINESS(at url: URL) async throws -> ImportSummary {
        let started = Date()
        var summary = ImportSummary()
        var structures: [Structure] = []
        var others = 0
        let info: FinessExtractInfo
        do {
            info = try FinessExtractParser.forEach(url: url, onProblem: { summary.reject(line: $0.line, $0.reason) }) { establishment in
                if let structure = establishment.toStructure() { structures.append(structure) } else { others += 1 }
            }
        } catch {
            throw ImportFileError("\(error)")
        }
        let existing = Set(try await database.query("SELECT idnst FROM dir_structures").compactMap { $0.optionalString("idnst") })
        summary.linesRead = info.linesRead
        summary.encoding = info.sawWindows1252 ? "Windows-1252" : "UTF-8"
        summary.created = structures.filter { !existing.contains($0.idnst.value) }.count
        summary.updated = structures.count - summary.created
        let toWrite = structures, ignored = others, read = info.establishments
        try await database.transaction { tx in
            try await DirectoryStore.upsert(toWrite, on: tx)
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: "import", action: "directory.import.finess", target: url.lastPathComponent,
                detail: "\(read) établissements, \(toWrite.count) structures (CPTS, MSP, CDS), \(ignored) autres catégories"))
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Imports a SAS enrichment file (JSON).
    public func importEnrichment(at url: URL, resolvingINSEE: (String) -> Int? = { _ in nil }) async throws -> ImportSummary {
        let started = Date()
        var summary = ImportSummary()
        let data: EnrichmentData
        var problems: [EnrichmentProblem] = []
        do {
            data = try EnrichmentFile.load(url: url, resolvingINSEE: resolvingINSEE, onProblem: { problems.append($0) })
        } catch {
            throw ImportFileError("\(error)")
        }
        for (index, problem) in problems.enumerated() { summary.reject(line: index + 1, "\(problem.path) : \(problem.reason)") }
        summary.linesRead = data.participations.count + data.structures.count + data.vendorLinks.count + problems.count
        let payload = data
        let unknown = try await database.transaction { tx -> [String] in
            try await DirectoryStore.upsert(payload.structures.map(\.structure), on: tx)
            let missing = try await DirectoryStore.updateParticipation(payload.participations.map { ($0.idnps, $0.participation) }, on: tx)
            let known = Set(try await tx.query("SELECT idnps FROM dir_practitioners").compactMap { $0.optionalString("idnps") })
            let links = payload.vendorLinks.filter { known.contains($0.practitioner.value) }
            try await DirectoryStore.upsert(links, on: tx)
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: "import", action: "directory.import.enrichment", target: url.lastPathComponent,
                detail: "\(payload.participations.count) participations, \(payload.structures.count) structures, \(links.count) liens éditeur"))
            return missing.map(\.value) + payload.vendorLinks.filter { !known.contains($0.practitioner.value) }.map(\.practitioner.value)
        }
        for idnps in unknown { summary.reject(line: 0, "praticien \(idnps) inconnu de l'annuaire : entrée ignorée") }
        summary.updated = data.participations.count - unknown.count
        summary.created = data.structures.count
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }
}
