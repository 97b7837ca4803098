import Aggregator
import Foundation
import NIOConcurrencyHelpers
import SASDomain
import Storage

/// Where vendors' slots come from: the aggregator (through the platform, which adds known vendor links).
public protocol EditorSlotProvider: Sendable {
    /// Streams the aggregator's events for these practitioners and SOS associations; `declared` are the vendor
    /// links the directory declares (the provider adds the ones it learned).
    func search(practitioners: [IDNPS], associations: [IDNST], cptsMode: Bool, window: ClosedRange<Date>,
                deadline: Duration, declared: [IDNPS: Set<String>]) async throws -> AsyncStream<AggregationEvent>
}

/// One free occurrence of the SAS agenda (slots practitioners enter on the platform).
public struct AgendaSlot: Sendable, Hashable, Codable {
    public var id: String
    public var practitioner: IDNPS
    public var siteID: Int64?
    public var start: Date
    public var end: Date
    public var consultationTypes: ConsultationTypes
    public var kinds: SlotKinds
    /// 1 = a single slot ("créneau"); more = a range ("plage") taking that many patients.
    public var capacity: Int
    public var booked: Int

    public init(id: String, practitioner: IDNPS, siteID: Int64?, start: Date, end: Date,
                consultationTypes: ConsultationTypes, kinds: SlotKinds, capacity: Int, booked: Int) {
        self.id = id
        self.practitioner = practitioner
        self.siteID = siteID
        self.start = start
        self.end = end
        self.consultationTypes = consultationTypes
        self.kinds = kinds
        self.capacity = capacity
        self.booked = booked
    }

    /// Places left.
    public var remaining: Int { max(0, capacity - booked) }
}

/// Reads free SAS-agenda occurrences.
public protocol AgendaSlotProvider: Sendable {
    /// Free occurrences (not cancelled, places left) of these practitioners starting in `window`.
    func freeSlots(for practitioners: [IDNPS], window: ClosedRange<Date>) async throws -> [AgendaSlot]
}

/// The SAS agenda in storage (`agenda_slots`: one row per occurrence; weekly series are expanded by the agenda
/// workspace when they are written).
///
/// Each node remembers which practitioners have a free occurrence to come, so that a search queries storage only for
/// candidates that have one. Every agenda write bumps `agenda.version` in its transaction; a node reads that version
/// (one primary-key lookup) at most every ``versionCheckMilliseconds`` and reloads the set when it moved, so a slot
/// entered on any node is searchable on every node within that delay. The set is also reloaded every
/// ``presenceSeconds`` (occurrences pass).
public final class StoredAgenda: AgendaSlotProvider {
    let database: any Database
    private struct Presence {
        var ids: Set<String> = []
        var loadedAt: ContinuousClock.Instant?
        var version: String?
        var checkedAt: ContinuousClock.Instant?
    }
    private let presence = NIOLockedValueBox(Presence())
    /// How long the presence set is trusted when the version did not move.
    public static let presenceSeconds = 60
    /// How often the version is read.
    public static let versionCheckMilliseconds = 200
    /// The settings key bumped by every write (same as `AgendaBook.versionKey`).
    public static let versionKey = "agenda.version"

    public init(database: any Database) { self.database = database }

    /// Forgets the presence set (after a write through this node).
    public func invalidate() { presence.withLockedValue { $0.loadedAt = nil } }

    func practitionersWithFreeSlots() async throws -> Set<String> {
        let now = ContinuousClock.now
        let state = presence.withLockedValue { $0 }
        var version = state.version
        if let loaded = state.loadedAt, now - loaded < .seconds(Self.presenceSeconds) {
            if let checked = state.checkedAt, now - checked < .milliseconds(Self.versionCheckMilliseconds) { return state.ids }
            version = try await PlatformSettings(database).get(Self.versionKey)
            if version == state.version {
                presence.withLockedValue { $0.checkedAt = now }
                return state.ids
            }
        } else {
            version = try await PlatformSettings(database).get(Self.versionKey)
        }
        let rows = try await database.query("""
            SELECT DISTINCT idnps FROM agenda_slots WHERE start_at >= ? AND cancelled = 0 AND booked < capacity
            """, [.date(Date())])
        let ids = Set(rows.compactMap { $0.optionalString("idnps") })
        presence.withLockedValue { $0 = Presence(ids: ids, loadedAt: now, version: version, checkedAt: now) }
        return ids
    }

    /// Bumps the version every node watches (in the writer's transaction).
    public static func bumpVersion(on executor: any SQLExecutor) async throws {
        try await PlatformSettings(executor).increment(versionKey)
    }

    public func freeSlots(for practitioners: [IDNPS], window: ClosedRange<Date>) async throws -> [AgendaSlot] {
        var slots: [AgendaSlot] = []
        let present = try await practitionersWithFreeSlots()
        let ids = practitioners.map(\.value).filter(present.contains)
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try await database.query("""
                SELECT id, idnps, site_id, start_at, end_at, consultation_types, slot_kinds, capacity, booked
                FROM agenda_slots
                WHERE idnps IN (\(marks)) AND start_at >= ? AND start_at <= ? AND cancelled = 0 AND booked < capacity
                ORDER BY start_at, id
                """, chunk.map(SQLValue.text) + [.date(window.lowerBound), .date(window.upperBound)])
            for row in rows {
                guard let id = row.optionalString("id"), let idnps = row.optionalString("idnps").flatMap({ try? IDNPS(parsing: $0) }),
                      let start = row["start_at"].intValue, let end = row["end_at"].intValue else { continue }
                slots.append(AgendaSlot(
                    id: id, practitioner: idnps, siteID: row["site_id"].intValue.map(Int64.init),
                    start: Date(timeIntervalSince1970: Double(start) / 1000), end: Date(timeIntervalSince1970: Double(end) / 1000),
                    consultationTypes: ConsultationTypes(rawValue: UInt8(truncatingIfNeeded: row["consultation_types"].intValue ?? 0)),
                    kinds: SlotKinds(rawValue: UInt8(truncatingIfNeeded: row["slot_kinds"].intValue ?? 0)),
                    capacity: row["capacity"].intValue ?? 1, booked: row["booked"].intValue ?? 0))
            }
        }
        return slots
    }

    /// Writes occurrences (used by the agenda workspace, the demo and tests).
    public static func insert(_ slots: [AgendaSlot], on executor: any SQLExecutor, now: Date = Date()) async throws {
        for s in slots {
            _ = try await executor.query("""
                INSERT INTO agenda_slots (id, idnps, site_id, start_at, end_at, consultation_types, slot_kinds, capacity,
                                          booked, cancelled, version, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?)
                """, [.text(s.id), .text(s.practitioner.value), s.siteID.map { .integer($0) } ?? .null, .date(s.start),
                      .date(s.end), .int(Int(s.consultationTypes.rawValue)), .int(Int(s.kinds.rawValue)), .int(s.capacity),
                      .int(s.booked), .date(now)])
        }
        try await bumpVersion(on: executor)
    }
}
