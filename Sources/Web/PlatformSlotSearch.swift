import Aggregator
import Foundation
import Logging
import SASDomain
import Search
import Storage

/// The platform's entry to the aggregator: adds what storage knows about which vendor holds which agenda (links
/// learned from earlier answers and links declared in the directory), runs the search, and records the links the
/// answers teach, so that the next search asks each practitioner's vendor only.
public struct PlatformSlotSearch: EditorSlotProvider {
    let aggregator: SlotAggregator
    let database: any Database
    let logger: Logger

    public init(aggregator: SlotAggregator, database: any Database, logger: Logger) {
        self.aggregator = aggregator
        self.database = database
        self.logger = logger
    }

    /// Known vendors per practitioner: learned (`editor_links`) and declared (`dir_vendor_links`).
    public func knownEditors(for practitioners: [IDNPS]) async throws -> [IDNPS: Set<String>] {
        let values = practitioners.map(\.value)
        var known = try await EditorLinks(database: database).editors(for: values)
        for chunk in stride(from: 0, to: values.count, by: 500).map({ Array(values[$0..<min($0 + 500, values.count)]) }) {
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try await database.query("SELECT idnps, vendor FROM dir_vendor_links WHERE idnps IN (\(placeholders))",
                                                chunk.map(SQLValue.text)) {
                if let id = row.optionalString("idnps"), let vendor = row.optionalString("vendor") { known[id, default: []].insert(vendor) }
            }
        }
        var result: [IDNPS: Set<String>] = [:]
        for idnps in practitioners { if let editors = known[idnps.value] { result[idnps] = editors } }
        return result
    }

    /// Streams a search (see ``SlotAggregator/search(_:)``), recording learned links as they arrive.
    public func search(practitioners: [IDNPS], associations: [IDNST] = [], cptsMode: Bool = false,
                       window: ClosedRange<Date>, deadline: Duration) async throws -> AsyncStream<AggregationEvent> {
        let known = try await knownEditors(for: practitioners)
        let upstream = aggregator.search(AggregationRequest(
            practitioners: practitioners, associations: associations, cptsMode: cptsMode, window: window,
            deadline: deadline, knownEditors: known))
        let links = EditorLinks(database: database)
        let logger = self.logger
        return AsyncStream { continuation in
            let task = Task {
                for await event in upstream {
                    if case .learnedLinks(let editorID, let practitioners) = event {
                        do { try await links.record(editorID: editorID, idnps: Set(practitioners.map(\.value))) } catch {
                            logger.warning("could not record learned links", metadata: ["editor": "\(editorID)", "error": "\(error)"])
                        }
                    }
                    continuation.yield(event)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
