import Foundation
import SASDomain
import Storage

/// Why an agenda write was refused (French message, shown as is).
public struct AgendaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Bad input (400/422).
        case invalid
        /// Another occurrence overlaps, or someone else changed it first (409).
        case conflict
        case notFound = "not_found"
        /// The acting account may not manage this agenda (403).
        case forbidden
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// One occurrence of the SAS agenda: a single slot ("créneau", capacity 1) or a range ("plage") taking
/// `capacity` patients.
public struct AgendaOccurrence: Sendable, Equatable, Codable {
    public var id: String
    public var practitioner: String
    /// Set when the occurrence belongs to a structure's agenda (entered by its manager or delegate).
    public var structure: String?
    public var siteID: Int64?
    public var seriesID: String?
    public var start: Date
    public var end: Date
    public var capacity: Int
    public var booked: Int
    public var consultationTypes: ConsultationTypes
    public var version: Int

    /// The Paris day.
    public var day: LocalDay { ParisClock.day(of: start) }
    public var startMinute: Int { ParisClock.minute(of: start) }
    /// End minute of the day (1440 for midnight at the end of the day).
    public var endMinute: Int {
        let m = ParisClock.minute(of: end)
        return m == 0 && end > start ? 1440 : m
    }
}

/// A weekly series in Paris wall-clock time.
public struct AgendaSeries: Sendable, Equatable, Codable {
    public var id: String
    public var practitioner: String
    public var structure: String?
    public var siteID: Int64?
    /// ISO weekday, 1 = Monday.
    public var weekday: Int
    public var startMinute: Int
    public var endMinute: Int
    public var firstDay: LocalDay
    public var lastDay: LocalDay
    public var consultationTypes: ConsultationTypes
    public var capacity: Int
    /// Days whose occurrence was edited or deleted alone (or kept for its patients): the series no longer writes them.
    public var exceptions: Set<LocalDay> = []
    public var version: Int
}

/// What a practitioner (or his delegate, or a structure manager) enters.
public struct SlotDraft: Sendable, Equatable {
    public var practitioner: IDNPS
    public var structure: IDNST?
    public var siteID: Int64?
    public var day: LocalDay
    public var startMinute: Int
    public var endMinute: Int
    /// 1 for a single slot, more for a range.
    public var capacity: Int
    public var consultationTypes: ConsultationTypes
    /// When set, the slot repeats every week on the same weekday until this day (inclusive).
    public var repeatUntil: LocalDay?

    public init(practitioner: IDNPS, structure: IDNST? = nil, siteID: Int64?, day: LocalDay, startMinute: Int,
                endMinute: Int, capacity: Int, consultationTypes: ConsultationTypes, repeatUntil: LocalDay? = nil) {
        self.practitioner = practitioner
        self.structure = structure
        self.siteID = siteID
        self.day = day
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.capacity = capacity
        self.consultationTypes = consultationTypes
        self.repeatUntil = repeatUntil
    }
}

/// A change of one occurrence, or of a whole series (then `day` is ignored and `repeatUntil` moves its end).
public struct SlotChange: Sendable, Equatable {
    public var day: LocalDay
    public var startMinute: Int
    public var endMinute: Int
    public var capacity: Int
    public var consultationTypes: ConsultationTypes
    public var siteID: Int64?
    public var repeatUntil: LocalDay?

    public init(day: LocalDay, startMinute: Int, endMinute: Int, capacity: Int, consultationTypes: ConsultationTypes,
                siteID: Int64?, repeatUntil: LocalDay? = nil) {
        self.day = day
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.capacity = capacity
        self.consultationTypes = consultationTypes
        self.siteID = siteID
        self.repeatUntil = repeatUntil
    }
}

/// The write side of the SAS agenda. Every write runs in one transaction that also bumps `agenda.version` (every
/// node's search re-reads which practitioners have slots when it moves) and records an audit entry; overlapping
/// occurrences of one practitioner are refused, concurrent edits are caught by the row version.
public struct AgendaBook: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Limits of what may be entered.
    public static let maximumCapacity = 50
    public static let minimumMinutes = 5
    public static let maximumMinutes = 12 * 60
    /// A series ends at most this many days after its first day.
    public static let maximumSeriesDays = 365

    /// The settings key every node watches.
    public static let versionKey = "agenda.version"

    static func bumpVersion(_ tx: any SQLExecutor) async throws {
        try await PlatformSettings(tx).increment(versionKey)
    }

    // MARK: reading

    /// Occurrences of a practitioner's agenda (`structure` nil: all of his; set: only the structure's) or of a
    /// structure (`practitioner` nil) starting in `from..<to`, cancelled ones left out, by start.
    public func occurrences(practitioner: String?, structure: String?, from: Date, to: Date) async throws -> [AgendaOccurrence] {
        var sql = "SELECT * FROM agenda_slots WHERE cancelled = 0 AND start_at >= ? AND start_at < ?"
        var binds: [SQLValue] = [.date(from), .date(to)]
        if let practitioner { sql += " AND idnps = ?"; binds.append(.text(practitioner)) }
        if let structure { sql += " AND structure_idnst = ?"; binds.append(.text(structure)) }
        sql += " ORDER BY start_at, id"
        return try await database.query(sql, binds).map(Self.occurrence)
    }

    public func occurrence(_ id: String) async throws -> AgendaOccurrence? {
        try await database.query("SELECT * FROM agenda_slots WHERE id = ? AND cancelled = 0", [.text(id)]).first.map(Self.occurrence)
    }

    public func series(_ id: String) async throws -> AgendaSeries? {
        try await database.query("SELECT * FROM agenda_series WHERE id = ?", [.text(id)]).first.flatMap(Self.series)
    }

    static func occurrence(_ row: SQLRow) -> AgendaOccurrence {
        AgendaOccurrence(
            id: row.optionalString("id") ?? "", practitioner: row.optionalString("idnps") ?? "",
            structure: row.optionalString("structure_idnst"), siteID: row["site_id"].intValue.map(Int64.init),
            seriesID: row.optionalString("series_id"), start: row.optionalDate("start_at") ?? .distantPast,
            end: row.optionalDate("end_at") ?? .distantPast, capacity: row["capacity"].intValue ?? 1,
            booked: row["booked"].intValue ?? 0,
            consultationTypes: ConsultationTypes(rawValue: UInt8(truncatingIfNeeded: row["consultation_types"].intValue ?? 0)),
            version: row["version"].intValue ?? 1)
    }

    static func series(_ row: SQLRow) -> AgendaSeries? {
        guard let first = row.optionalString("first_day").flatMap(LocalDay.init),
              let last = row.optionalString("last_day").flatMap(LocalDay.init) else { return nil }
        return AgendaSeries(
            id: row.optionalString("id") ?? "", practitioner: row.optionalString("idnps") ?? "",
            structure: row.optionalString("structure_idnst"), siteID: row["site_id"].intValue.map(Int64.init),
            weekday: row["weekday"].intValue ?? 1, startMinute: row["start_minute"].intValue ?? 0,
            endMinute: row["end_minute"].intValue ?? 0, firstDay: first, lastDay: last,
            consultationTypes: ConsultationTypes(rawValue: UInt8(truncatingIfNeeded: row["consultation_types"].intValue ?? 0)),
            capacity: row["capacity"].intValue ?? 1,
            exceptions: Set((row.optionalString("exceptions") ?? "").split(separator: ",").compactMap { LocalDay(String($0)) }),
            version: row["version"].intValue ?? 1)
    }

    /// Marks `day` as an exception of its series (the occurrence left it).
    static func except(_ day: LocalDay, of seriesID: String?, on tx: any SQLExecutor) async throws {
        guard let seriesID else { return }
        try await tx.query("UPDATE agenda_series SET exceptions = exceptions || ? WHERE id = ?", [.text(",\(day)"), .text(seriesID)])
    }

    // MARK: validation and expansion

    /// Checks the time, capacity and modality of an entry (French errors).
    static func validate(startMinute: Int, endMinute: Int, capacity: Int, types: ConsultationTypes) throws {
        guard (0..<1440).contains(startMinute), (1...1440).contains(endMinute) else {
            throw AgendaError(.invalid, "Heure invalide : saisissez une heure entre 00:00 et 24:00.")
        }
        guard endMinute > startMinute else {
            throw AgendaError(.invalid, "L'heure de fin (\(ParisClock.clock(endMinute))) doit suivre l'heure de début (\(ParisClock.clock(startMinute))).")
        }
        let length = endMinute - startMinute
        guard length >= minimumMinutes else {
            throw AgendaError(.invalid, "Un créneau dure au moins \(minimumMinutes) minutes.")
        }
        guard length <= maximumMinutes else {
            throw AgendaError(.invalid, "Un créneau ou une plage dure au plus 12 heures.")
        }
        guard capacity >= 1 else {
            throw AgendaError(.invalid, "Le nombre de patients d'une plage doit être d'au moins 1 (une plage de capacité 0 ne peut recevoir personne).")
        }
        guard capacity <= maximumCapacity else {
            throw AgendaError(.invalid, "Une plage reçoit au plus \(maximumCapacity) patients.")
        }
        guard !types.isEmpty else {
            throw AgendaError(.invalid, "Choisissez au moins une modalité : cabinet, domicile ou téléconsultation.")
        }
    }

    /// The days of a weekly series from `first` to `last` (inclusive), same weekday as `first`.
    public static func weeklyDays(from first: LocalDay, through last: LocalDay) -> [LocalDay] {
        stride(from: 0, through: first.days(to: last), by: 7).map { first.adding(days: $0) }
    }

    /// Checks a series' end (French errors).
    static func validateSeries(first: LocalDay, last: LocalDay) throws {
        guard last >= first else {
            throw AgendaError(.invalid, "La fin de la récurrence (\(last.frenchLabel)) précède sa première date.")
        }
        guard first.days(to: last) <= maximumSeriesDays else {
            throw AgendaError(.invalid, "Une récurrence hebdomadaire s'arrête au plus un an après sa première date (au plus tard le \(first.adding(days: maximumSeriesDays).frenchLabel)).")
        }
    }

    /// Refuses when a planned occurrence overlaps an existing one of the practitioner (other than `ignoring`).
    static func checkOverlaps(_ planned: [(start: Date, end: Date)], practitioner: String, ignoring: Set<String>,
                              on tx: any SQLExecutor) async throws {
        guard let low = planned.map(\.start).min(), let high = planned.map(\.end).max() else { return }
        let existing = try await tx.query("""
            SELECT id, start_at, end_at FROM agenda_slots
            WHERE idnps = ? AND cancelled = 0 AND start_at < ? AND end_at > ? ORDER BY start_at
            """, [.text(practitioner), .date(high), .date(low)])
            .compactMap { row -> (String, Date, Date)? in
                guard let id = row.optionalString("id"), let s = row.optionalDate("start_at"), let e = row.optionalDate("end_at"),
                      !ignoring.contains(id) else { return nil }
                return (id, s, e)
            }
        for p in planned {
            if let clash = existing.first(where: { $0.1 < p.end && $0.2 > p.start }) {
                let day = ParisClock.day(of: clash.1)
                throw AgendaError(.conflict, "Ce créneau chevauche un créneau existant le \(day.frenchLabel) de \(ParisClock.clock(ParisClock.minute(of: clash.1))) à \(ParisClock.clock(ParisClock.minute(of: clash.2)))." )
            }
        }
    }

    /// Serialises writes to one practitioner's agenda (PostgreSQL row lock; SQLite transactions already are).
    static func lock(_ practitioner: String, on tx: any SQLExecutor) async throws {
        let sql = tx.dialect == .postgres
            ? "SELECT idnps FROM dir_practitioners WHERE idnps = ? FOR UPDATE"
            : "SELECT idnps FROM dir_practitioners WHERE idnps = ?"
        guard try await !tx.query(sql, [.text(practitioner)]).isEmpty else {
            throw AgendaError(.notFound, "Professionnel \(practitioner) absent de l'annuaire.")
        }
    }

    static func checkSite(_ siteID: Int64?, practitioner: String, on tx: any SQLExecutor) async throws {
        guard let siteID else { return }
        guard try await !tx.query("SELECT id FROM dir_sites WHERE id = ? AND idnps = ?",
                                  [.integer(siteID), .text(practitioner)]).isEmpty else {
            throw AgendaError(.invalid, "Ce lieu d'exercice n'est pas l'un de ceux du professionnel.")
        }
    }

    /// "cabinet, téléconsultation".
    public static func describe(_ types: ConsultationTypes) -> String {
        types.types.map { type -> String in
            switch type {
            case .ambulatory: "cabinet"
            case .homeVisit: "domicile"
            case .teleconsultation: "téléconsultation"
            }
        }.joined(separator: ", ")
    }

    static func insert(_ occurrence: AgendaOccurrence, createdBy: String, on tx: any SQLExecutor, now: Date) async throws {
        try await tx.query("""
            INSERT INTO agenda_slots (id, idnps, site_id, start_at, end_at, consultation_types, slot_kinds, capacity, booked,
                                      cancelled, version, updated_at, series_id, structure_idnst, created_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 1, ?, ?, ?, ?)
            """, [.text(occurrence.id), .text(occurrence.practitioner), occurrence.siteID.map { .integer($0) } ?? .null,
                  .date(occurrence.start), .date(occurrence.end), .int(Int(occurrence.consultationTypes.rawValue)),
                  .int(Int(SlotKinds.snp.rawValue)), .int(occurrence.capacity), .date(now), .optional(occurrence.seriesID),
                  .optional(occurrence.structure), .text(createdBy)])
    }

    // MARK: writing

    /// Creates a slot or range, dated or weekly; returns the series (when recurring) and the occurrences written.
    public func create(_ draft: SlotDraft, actor: String, sourceAddress: String? = nil,
                       now: Date = Date()) async throws -> (series: AgendaSeries?, occurrences: [AgendaOccurrence]) {
        try Self.validate(startMinute: draft.startMinute, endMinute: draft.endMinute, capacity: draft.capacity,
                          types: draft.consultationTypes)
        let days: [LocalDay]
        if let until = draft.repeatUntil {
            try Self.validateSeries(first: draft.day, last: until)
            days = Self.weeklyDays(from: draft.day, through: until)
        } else {
            days = [draft.day]
        }
        let seriesID = draft.repeatUntil == nil ? nil : RandomID.uuid()
        var planned = days.map { day in
            AgendaOccurrence(
                id: RandomID.uuid(), practitioner: draft.practitioner.value, structure: draft.structure?.value,
                siteID: draft.siteID, seriesID: seriesID, start: ParisClock.instant(day, minute: draft.startMinute),
                end: ParisClock.instant(day, minute: draft.endMinute), capacity: draft.capacity, booked: 0,
                consultationTypes: draft.consultationTypes, version: 1)
        }
        guard let first = planned.first, first.start > now else {
            throw AgendaError(.invalid, "Ce créneau commence dans le passé (\(draft.day.frenchLabel) à \(ParisClock.clock(draft.startMinute))) : choisissez une date à venir.")
        }
        planned = planned.filter { $0.end > $0.start }
        let series = seriesID.map {
            AgendaSeries(id: $0, practitioner: draft.practitioner.value, structure: draft.structure?.value, siteID: draft.siteID,
                         weekday: draft.day.weekday, startMinute: draft.startMinute, endMinute: draft.endMinute,
                         firstDay: draft.day, lastDay: draft.repeatUntil ?? draft.day,
                         consultationTypes: draft.consultationTypes, capacity: draft.capacity, version: 1)
        }
        let written = planned
        try await database.transaction { tx in
            try await Self.lock(draft.practitioner.value, on: tx)
            try await Self.checkSite(draft.siteID, practitioner: draft.practitioner.value, on: tx)
            try await Self.checkOverlaps(written.map { ($0.start, $0.end) }, practitioner: draft.practitioner.value,
                                         ignoring: [], on: tx)
            if let series {
                try await tx.query("""
                    INSERT INTO agenda_series (id, idnps, structure_idnst, site_id, weekday, start_minute, end_minute, first_day,
                        last_day, consultation_types, capacity, created_by, created_at, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                    """, [.text(series.id), .text(series.practitioner), .optional(series.structure),
                          series.siteID.map { .integer($0) } ?? .null, .int(series.weekday), .int(series.startMinute),
                          .int(series.endMinute), .text(series.firstDay.description), .text(series.lastDay.description),
                          .int(Int(series.consultationTypes.rawValue)), .int(series.capacity), .text(actor), .date(now), .date(now)])
            }
            for occurrence in written {
                try await Self.insert(occurrence, createdBy: actor, on: tx, now: now)
            }
            try await Self.bumpVersion(tx)
            let what = draft.capacity == 1 ? "créneau" : "plage de \(draft.capacity) patients"
            let when = "\(draft.day) \(ParisClock.clock(draft.startMinute))–\(ParisClock.clock(draft.endMinute))"
            let repeatText = draft.repeatUntil.map { ", chaque semaine jusqu'au \($0) (\(written.count) occurrences)" } ?? ""
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "agenda.create", target: series?.id ?? written.first?.id,
                detail: "\(draft.practitioner.value)\(draft.structure.map { " pour \($0.value)" } ?? "") : \(what) \(when) (\(Self.describe(draft.consultationTypes)))\(repeatText)",
                sourceAddress: sourceAddress, occurredAt: now))
        }
        return (series, written)
    }

    /// Changes one occurrence (it leaves its series: later edits of the series no longer touch it).
    public func update(_ id: String, expectedVersion: Int, to change: SlotChange, actor: String,
                       sourceAddress: String? = nil, now: Date = Date()) async throws -> AgendaOccurrence {
        try Self.validate(startMinute: change.startMinute, endMinute: change.endMinute, capacity: change.capacity,
                          types: change.consultationTypes)
        let start = ParisClock.instant(change.day, minute: change.startMinute)
        let end = ParisClock.instant(change.day, minute: change.endMinute)
        guard start > now else {
            throw AgendaError(.invalid, "Ce créneau commencerait dans le passé : choisissez une date à venir.")
        }
        return try await database.transaction { tx -> AgendaOccurrence in
            guard let current = try await tx.query("SELECT * FROM agenda_slots WHERE id = ? AND cancelled = 0", [.text(id)])
                .first.map(Self.occurrence) else {
                throw AgendaError(.notFound, "Ce créneau n'existe plus.")
            }
            try await Self.lock(current.practitioner, on: tx)
            guard current.version == expectedVersion else {
                throw AgendaError(.conflict, "Ce créneau vient d'être modifié par quelqu'un d'autre (version \(current.version)) : rechargez la semaine et recommencez.")
            }
            guard current.end > now else { throw AgendaError(.invalid, "Un créneau passé ne se modifie plus.") }
            guard change.capacity >= current.booked else {
                throw AgendaError(.invalid, "\(current.booked) patient(s) y sont déjà orientés : la capacité ne peut pas descendre en dessous.")
            }
            if current.booked > 0 && (start != current.start || end != current.end) {
                throw AgendaError(.invalid, "Des patients y sont déjà orientés : l'horaire ne peut plus changer (annulez leurs orientations d'abord).")
            }
            try await Self.checkSite(change.siteID, practitioner: current.practitioner, on: tx)
            try await Self.checkOverlaps([(start, end)], practitioner: current.practitioner, ignoring: [id], on: tx)
            let rows = try await tx.query("""
                UPDATE agenda_slots SET start_at = ?, end_at = ?, capacity = ?, consultation_types = ?, site_id = ?,
                    series_id = NULL, version = version + 1, updated_at = ?
                WHERE id = ? AND version = ? AND booked <= ? RETURNING *
                """, [.date(start), .date(end), .int(change.capacity), .int(Int(change.consultationTypes.rawValue)),
                      change.siteID.map { .integer($0) } ?? .null, .date(now), .text(id), .int(expectedVersion),
                      .int(change.capacity)])
            guard let row = rows.first else {
                throw AgendaError(.conflict, "Ce créneau vient d'être réservé ou modifié : rechargez la semaine et recommencez.")
            }
            try await Self.except(current.day, of: current.seriesID, on: tx)
            try await Self.bumpVersion(tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "agenda.update", target: id,
                detail: "\(current.practitioner) : \(current.day) \(ParisClock.clock(current.startMinute)) → \(change.day) \(ParisClock.clock(change.startMinute))–\(ParisClock.clock(change.endMinute)), \(change.capacity) patient(s) (\(Self.describe(change.consultationTypes)))",
                sourceAddress: sourceAddress, occurredAt: now))
            return Self.occurrence(row)
        }
    }

    /// Changes a series from today on: its future occurrences without patients are rewritten; those with patients
    /// stay as they are (and leave the series). Returns the series and how many occurrences were kept.
    public func updateSeries(_ id: String, expectedVersion: Int, to change: SlotChange, actor: String,
                             sourceAddress: String? = nil, now: Date = Date()) async throws -> (series: AgendaSeries, kept: Int) {
        try Self.validate(startMinute: change.startMinute, endMinute: change.endMinute, capacity: change.capacity,
                          types: change.consultationTypes)
        return try await database.transaction { tx -> (AgendaSeries, Int) in
            guard var series = try await tx.query("SELECT * FROM agenda_series WHERE id = ?", [.text(id)]).first.flatMap(Self.series) else {
                throw AgendaError(.notFound, "Cette récurrence n'existe plus.")
            }
            try await Self.lock(series.practitioner, on: tx)
            guard series.version == expectedVersion else {
                throw AgendaError(.conflict, "Cette récurrence vient d'être modifiée par quelqu'un d'autre : rechargez la semaine et recommencez.")
            }
            let lastDay = change.repeatUntil ?? series.lastDay
            try Self.validateSeries(first: series.firstDay, last: lastDay)
            try await Self.checkSite(change.siteID, practitioner: series.practitioner, on: tx)
            // Future occurrences: those with patients stay (detached), the others are replaced.
            let today = ParisClock.day(of: now)
            let lock = tx.dialect == .postgres ? " FOR UPDATE" : ""
            let future = try await tx.query("SELECT * FROM agenda_slots WHERE series_id = ? AND start_at > ?\(lock)",
                                             [.text(id), .date(now)]).map(Self.occurrence)
            let kept = future.filter { $0.booked > 0 }
            // Today's occurrence already under way stays as it is (and today is not written again).
            let started = try await tx.query("SELECT start_at FROM agenda_slots WHERE series_id = ? AND start_at <= ? AND start_at >= ?",
                                             [.text(id), .date(now), .date(ParisClock.instant(today, minute: 0))])
                .compactMap { $0.optionalDate("start_at") }.map(ParisClock.day(of:))
            let keptDays = Set(kept.map(\.day)).union(series.exceptions).union(started)
            let planned = Self.weeklyDays(from: series.firstDay, through: lastDay)
                .filter { $0 >= today && !keptDays.contains($0) }
                .map { day in
                    AgendaOccurrence(
                        id: RandomID.uuid(), practitioner: series.practitioner, structure: series.structure,
                        siteID: change.siteID, seriesID: id, start: ParisClock.instant(day, minute: change.startMinute),
                        end: ParisClock.instant(day, minute: change.endMinute), capacity: change.capacity, booked: 0,
                        consultationTypes: change.consultationTypes, version: 1)
                }
                .filter { $0.start > now }
            try await Self.checkOverlaps(planned.map { ($0.start, $0.end) }, practitioner: series.practitioner,
                                         ignoring: Set(future.filter { $0.booked == 0 }.map(\.id)), on: tx)
            try await tx.query("DELETE FROM agenda_slots WHERE series_id = ? AND start_at > ? AND booked = 0",
                               [.text(id), .date(now)])
            try await tx.query("UPDATE agenda_slots SET series_id = NULL WHERE series_id = ? AND start_at > ? AND booked > 0",
                               [.text(id), .date(now)])
            for occurrence in planned { try await Self.insert(occurrence, createdBy: actor, on: tx, now: now) }
            let rows = try await tx.query("""
                UPDATE agenda_series SET start_minute = ?, end_minute = ?, capacity = ?, consultation_types = ?, site_id = ?,
                    last_day = ?, exceptions = ?, updated_at = ?, version = version + 1
                WHERE id = ? AND version = ? RETURNING *
                """, [.int(change.startMinute), .int(change.endMinute), .int(change.capacity),
                      .int(Int(change.consultationTypes.rawValue)), change.siteID.map { .integer($0) } ?? .null,
                      .text(lastDay.description), .text(keptDays.sorted().map { ",\($0)" }.joined()), .date(now), .text(id),
                      .int(expectedVersion)])
            guard let row = rows.first, let updated = Self.series(row) else {
                throw AgendaError(.conflict, "Cette récurrence vient d'être modifiée : rechargez la semaine et recommencez.")
            }
            series = updated
            try await Self.bumpVersion(tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "agenda.series.update", target: id,
                detail: "\(series.practitioner) : chaque semaine \(ParisClock.clock(change.startMinute))–\(ParisClock.clock(change.endMinute)) jusqu'au \(lastDay), \(change.capacity) patient(s) ; \(planned.count) occurrence(s) réécrite(s), \(kept.count) gardée(s) (patients orientés)",
                sourceAddress: sourceAddress, occurredAt: now))
            return (series, kept.count)
        }
    }

    /// Deletes one occurrence without patients.
    public func delete(_ id: String, expectedVersion: Int?, actor: String, sourceAddress: String? = nil,
                       now: Date = Date()) async throws {
        try await database.transaction { tx in
            guard let current = try await tx.query("SELECT * FROM agenda_slots WHERE id = ? AND cancelled = 0", [.text(id)])
                .first.map(Self.occurrence) else {
                throw AgendaError(.notFound, "Ce créneau n'existe plus.")
            }
            if let expectedVersion, expectedVersion != current.version {
                throw AgendaError(.conflict, "Ce créneau vient d'être modifié par quelqu'un d'autre : rechargez la semaine et recommencez.")
            }
            guard current.end > now else { throw AgendaError(.invalid, "Un créneau passé ne se supprime plus (il reste dans l'historique).") }
            guard current.booked == 0 else {
                throw AgendaError(.invalid, "\(current.booked) patient(s) y sont orientés : ce créneau ne peut pas être supprimé (les régulateurs doivent d'abord annuler leurs orientations).")
            }
            let rows = try await tx.query("DELETE FROM agenda_slots WHERE id = ? AND version = ? AND booked = 0 RETURNING id",
                                          [.text(id), .int(current.version)])
            guard !rows.isEmpty else {
                throw AgendaError(.conflict, "Ce créneau vient d'être réservé ou modifié : rechargez la semaine et recommencez.")
            }
            try await Self.except(current.day, of: current.seriesID, on: tx)
            try await Self.bumpVersion(tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "agenda.delete", target: id,
                detail: "\(current.practitioner) : \(current.day) \(ParisClock.clock(current.startMinute))–\(ParisClock.clock(current.endMinute))",
                sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Deletes a series: its future occurrences without patients go, those with patients stay as single slots.
    /// Returns (deleted, kept).
    @discardableResult
    public func deleteSeries(_ id: String, expectedVersion: Int? = nil, actor: String, sourceAddress: String? = nil,
                             now: Date = Date()) async throws -> (deleted: Int, kept: Int) {
        try await database.transaction { tx -> (Int, Int) in
            guard let series = try await tx.query("SELECT * FROM agenda_series WHERE id = ?", [.text(id)]).first.flatMap(Self.series) else {
                throw AgendaError(.notFound, "Cette récurrence n'existe plus.")
            }
            try await Self.lock(series.practitioner, on: tx)
            if let expectedVersion, expectedVersion != series.version {
                throw AgendaError(.conflict, "Cette récurrence vient d'être modifiée par quelqu'un d'autre : rechargez la semaine et recommencez.")
            }
            let deleted = try await tx.query("DELETE FROM agenda_slots WHERE series_id = ? AND start_at > ? AND booked = 0 RETURNING id",
                                             [.text(id), .date(now)]).count
            let kept = try await tx.query("UPDATE agenda_slots SET series_id = NULL WHERE series_id = ? RETURNING id, booked",
                                          [.text(id)]).filter { ($0["booked"].intValue ?? 0) > 0 }.count
            try await tx.query("DELETE FROM agenda_series WHERE id = ?", [.text(id)])
            try await Self.bumpVersion(tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "agenda.series.delete", target: id,
                detail: "\(series.practitioner) : récurrence du \(series.firstDay) au \(series.lastDay) supprimée ; \(deleted) occurrence(s) supprimée(s), \(kept) gardée(s) (patients orientés)",
                sourceAddress: sourceAddress, occurredAt: now))
            return (deleted, kept)
        }
    }
}
