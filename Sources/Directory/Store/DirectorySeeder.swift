import Foundation
import Storage

/// Writes a synthetic France into storage (for the demo, the tests and the benchmarks), in one transaction.
public enum DirectorySeeder {
    /// What was written.
    public struct Report: Sendable, CustomStringConvertible {
        public var practitioners = 0
        public var sites = 0
        public var structures = 0
        public var vendorLinks = 0
        public var seconds = 0.0
        public var description: String {
            String(format: "%d praticiens, %d lieux d'exercice, %d structures, %d liens éditeur en %.1f s",
                   practitioners, sites, structures, vendorLinks, seconds)
        }
    }

    /// Seeds `france` (idempotent: the same seed writes the same rows again).
    public static func seed(_ france: SyntheticFrance, into database: any Database,
                            progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> Report {
        let started = Date()
        let total = france.count
        return try await database.transaction { tx in
            var report = Report()
            try await DirectoryStore.upsert(france.structures, on: tx)
            report.structures = france.structures.count
            var practitioners: [Practitioner] = []
            var sites: [PracticeSite] = []
            var links: [VendorLink] = []
            func flush() async throws {
                try await DirectoryStore.upsert(practitioners, source: "synthetic", keepParticipation: false, on: tx)
                try await DirectoryStore.upsert(sites, on: tx)
                try await DirectoryStore.upsert(links, on: tx)
                report.practitioners += practitioners.count
                report.sites += sites.count
                report.vendorLinks += links.count
                practitioners.removeAll(keepingCapacity: true)
                sites.removeAll(keepingCapacity: true)
                links.removeAll(keepingCapacity: true)
                progress?(report.practitioners, total)
            }
            for index in 0..<total {
                let record = france.record(at: index)
                practitioners.append(record.practitioner)
                sites.append(contentsOf: record.sites)
                if let link = record.vendorLink { links.append(link) }
                if practitioners.count >= 1_000 { try await flush() }
            }
            try await flush()
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: "seed", action: "directory.seed.synthetic",
                detail: "seed \(france.configuration.seed), \(report.practitioners) praticiens"))
            report.seconds = Date().timeIntervalSince(started)
            return report
        }
    }
}
