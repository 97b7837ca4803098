import FHIR
import Foundation
import SASDomain
import Storage

/// An appointment a vendor reported through INT_R03, as the platform keeps it: who booked (the regulator), with whom,
/// when, its status, and the orientation it completes. No patient data: the resource's other elements are dropped.
public struct AppointmentRecord: Sendable, Equatable {
    public enum Profile: String, Sendable { case individual = "sas", sos }

    public var id: String
    public var editorID: String
    public var identifierSystem: String
    public var identifierValue: String
    public var status: String
    public var profile: Profile
    public var operatorType: String
    public var operatorSystem: String
    public var operatorValue: String
    public var regulatorID: String?
    public var practitionerIDNPS: String?
    public var start: Date
    public var end: Date
    public var bookedAt: Date?
    public var orientationID: String?
    public var version: Int
}

/// Why an INT_R03 write is refused: `structure` problems answer 400, business rules 422, ownership 409.
public struct AppointmentRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400, 422, 412 (stale `If-Match`), 409 (another vendor's identifier).
    public enum Kind: Sendable { case structure, businessRule, conflict, ownership }
    public var kind: Kind
    public var message: String
    public var expression: String?
    public init(_ kind: Kind, _ message: String, expression: String? = nil) {
        self.kind = kind
        self.message = message
        self.expression = expression
    }
    public var description: String { message }
}

/// Validation of `FrAppointmentSAS` and `sas-sos-appointment` bodies (the IG's mandatory elements), and their
/// storage with matching to the regulator's orientation.
public struct AppointmentStore: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    static let identifierTypeSystem = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
    static let sosProfile = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment"
    static let statuses: Set<String> = ["booked", "fulfilled", "noshow", "cancelled"]

    /// The validated content of an INT_R03 body (not yet stored).
    public struct Validated: Sendable, Equatable {
        public var identifierSystem: String
        public var identifierValue: String
        public var status: String
        public var profile: AppointmentRecord.Profile
        public var operatorType: String
        public var operatorSystem: String
        public var operatorValue: String
        public var practitionerIDNPS: String?
        public var start: Date
        public var end: Date
        public var bookedAt: Date?
    }

    /// Checks the IG's rules; `structure` errors for missing or malformed elements, `businessRule` for values.
    public static func validate(_ appointment: Appointment) throws(AppointmentRejection) -> Validated {
        let sos = appointment.meta?.profile?.contains(sosProfile) == true
        guard let identifiers = appointment.identifier, identifiers.count == 1, let identifier = identifiers.first,
              let system = identifier.system, !system.isEmpty, let value = identifier.value, !value.isEmpty,
              system.count <= 256, value.count <= 256 else {
            throw AppointmentRejection(.structure, "Appointment.identifier : un identifiant (system et value) est obligatoire.",
                                       expression: "Appointment.identifier")
        }
        guard let status = appointment.status else {
            throw AppointmentRejection(.structure, "Appointment.status est obligatoire.", expression: "Appointment.status")
        }
        guard statuses.contains(status) || (sos && status == "pending") else {
            throw AppointmentRejection(.businessRule, "Statut « \(status) » refusé : booked, fulfilled, noshow ou cancelled\(sos ? " (ou pending pour SOS Médecins)" : "").",
                                       expression: "Appointment.status")
        }
        guard let start = appointment.start?.date, let end = appointment.end?.date else {
            throw AppointmentRejection(.structure, "Appointment.start et Appointment.end sont obligatoires (instants avec fuseau).",
                                       expression: "Appointment.start")
        }
        guard end >= start else {
            throw AppointmentRejection(.businessRule, "La fin du rendez-vous précède son début.", expression: "Appointment.end")
        }
        guard let operatorIdentifier = appointment.appointmentOperator?.identifier,
              let coding = operatorIdentifier.type?.coding, coding.count == 1,
              coding[0].system == identifierTypeSystem, let type = coding[0].code,
              let operatorSystem = operatorIdentifier.system, let operatorValue = operatorIdentifier.value,
              !operatorValue.isEmpty else {
            throw AppointmentRejection(.structure, "Extension FrAppointmentOperator obligatoire : identifiant du régulateur (type fr-v2-0203, system, value).",
                                       expression: "Appointment.extension:appointmentOperator")
        }
        guard ["IDNPS", "INTRN"].contains(type) else {
            throw AppointmentRejection(.businessRule, "Type d'identifiant du régulateur « \(type) » refusé (IDNPS ou INTRN).",
                                       expression: "Appointment.extension:appointmentOperator")
        }
        guard let participants = appointment.participant, !participants.isEmpty else {
            throw AppointmentRejection(.structure, "Appointment.participant est obligatoire.", expression: "Appointment.participant")
        }
        var practitioner: String?
        for participant in participants {
            let allowed: Set<String> = sos ? ["accepted", "needs-action"] : ["accepted"]
            guard let participantStatus = participant.status, allowed.contains(participantStatus) else {
                throw AppointmentRejection(.businessRule, "participant.status doit valoir \(allowed.sorted().joined(separator: " ou ")).",
                                           expression: "Appointment.participant.status")
            }
            guard let actor = participant.actor else { continue }
            if actor.type == "Patient" || actor.reference?.hasPrefix("Patient") == true {
                throw AppointmentRejection(.businessRule, "Aucune donnée patient n'est acceptée par la plateforme SAS.",
                                           expression: "Appointment.participant.actor")
            }
            guard let id = actor.identifier, id.type?.coding?.first?.code == "IDNPS",
                  let raw = id.value, let idnps = try? IDNPS(parsing: raw) else {
                throw AppointmentRejection(.businessRule, "participant.actor : l'IDNPS du professionnel (8+RPPS ou 0+ADELI) est attendu.",
                                           expression: "Appointment.participant.actor.identifier")
            }
            practitioner = idnps.value
        }
        if !sos && practitioner == nil {
            throw AppointmentRejection(.structure, "participant.actor : le professionnel effecteur est obligatoire (hors SOS Médecins).",
                                       expression: "Appointment.participant.actor")
        }
        return Validated(identifierSystem: system, identifierValue: value, status: status, profile: sos ? .sos : .individual,
                         operatorType: type, operatorSystem: operatorSystem, operatorValue: operatorValue,
                         practitionerIDNPS: practitioner, start: start, end: end, bookedAt: appointment.created?.date)
    }

    /// Creates or updates the appointment `editorID` reports: returns the record and whether it was created.
    /// Idempotent: the same body twice leaves one row, unchanged. `expectedVersion` (from `If-Match`) refuses a
    /// concurrent update with a conflict. An identifier belongs to the vendor that wrote it first (unique across
    /// vendors): another vendor writing it is refused.
    ///
    /// One transaction of few, simple statements (each is a round trip, and PostgreSQL plans every one): a POST
    /// (`likelyNew`) inserts first and reads only when the identifier exists; a conditional PUT reads first. The
    /// regulator is looked up inside the write; the matching orientation is chosen from a plain index read.
    public func upsert(_ validated: Validated, editorID: String, expectedVersion: Int? = nil, likelyNew: Bool = false,
                       now: Date = Date()) async throws -> (record: AppointmentRecord, created: Bool) {
        let regulatorLookup: (sql: String, bind: SQLValue)
        if validated.operatorType == "IDNPS", let idnps = try? IDNPS(parsing: validated.operatorValue) {
            regulatorLookup = ("(SELECT id FROM accounts WHERE idnps = ?)", .text(idnps.value))
        } else {
            regulatorLookup = ("(SELECT id FROM accounts WHERE id = ?)", .text(validated.operatorValue.lowercased()))
        }
        return try await database.transaction { tx -> (AppointmentRecord, Bool) in
            let identifier: [SQLValue] = [.text(validated.identifierSystem), .text(validated.identifierValue)]
            // The creation and its audit entry: one statement on PostgreSQL (a data-modifying WITH, so that the entry
            // exists exactly when the row was inserted), two on SQLite.
            func insert() async throws -> AppointmentRecord? {
                let id = RandomID.uuid()
                let audit = AuditEntry(actor: "editeur:\(editorID)", action: "appointment.create", target: id,
                                       detail: "\(validated.status) \(validated.identifierValue)", occurredAt: now)
                let insertSQL = """
                    INSERT INTO appointments (id, editor_id, identifier_system, identifier_value, status, profile, operator_type,
                        operator_system, operator_value, regulator_id, practitioner_idnps, start_at, end_at, booked_at, version,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, \(regulatorLookup.sql), ?, ?, ?, ?, 1, ?, ?)
                    ON CONFLICT DO NOTHING
                    RETURNING *
                    """
                let binds: [SQLValue] = [.text(id), .text(editorID)] + identifier + [
                    .text(validated.status), .text(validated.profile.rawValue), .text(validated.operatorType),
                    .text(validated.operatorSystem), .text(validated.operatorValue), regulatorLookup.bind,
                    .optional(validated.practitionerIDNPS), .date(validated.start), .date(validated.end),
                    validated.bookedAt.map(SQLValue.date) ?? .null, .date(now), .date(now)]
                if tx.dialect == .postgres {
                    return try await tx.query("""
                        WITH written AS (\(insertSQL)),
                        audited AS (
                            INSERT INTO audit_log (id, occurred_at, actor, action, target, detail)
                            SELECT ?, ?, ?, ?, ?, ? FROM written)
                        SELECT * FROM written
                        """, binds + [.text(audit.id), .date(audit.occurredAt), .text(audit.actor), .text(audit.action),
                                      .optional(audit.target), .optional(audit.detail)])
                        .first.map(Self.record)
                }
                guard let record = try await tx.query(insertSQL, binds).first.map(Self.record) else { return nil }
                try await AuditLog(tx).record(audit)
                return record
            }
            func existing() async throws -> AppointmentRecord? {
                guard let row = try await tx.query(
                    "SELECT * FROM appointments WHERE identifier_system = ? AND identifier_value = ?", identifier).first else {
                    return nil
                }
                let record = try Self.record(row)
                guard record.editorID == editorID else {
                    throw AppointmentRejection(.ownership, "Ce rendez-vous (\(validated.identifierSystem)|\(validated.identifierValue)) appartient à un autre éditeur : un éditeur ne peut écrire que ses propres rendez-vous.")
                }
                return record
            }
            var current = likelyNew ? nil : try await existing()
            if current == nil {
                if let inserted = try await insert() {
                    return try await Self.complete(inserted, created: true, audited: true, editorID: editorID, now: now, tx)
                }
                // The identifier exists (or was just written by a concurrent transaction): update it instead.
                current = try await existing()
            }
            guard let mine = current else { throw AppointmentRejection(.conflict, "Rendez-vous introuvable après écriture.") }
            guard let updated = try await Self.update(mine, with: validated, expectedVersion: expectedVersion,
                                                      regulator: regulatorLookup, now: now, tx) else {
                return (mine, false)
            }
            return try await Self.complete(updated, created: false, audited: false, editorID: editorID, now: now, tx)
        }
    }

    /// After the appointment's row is written: the orientation matched (once) and kept in step (the orientation's
    /// history records it), the audit entry unless written with the row.
    static func complete(_ written: AppointmentRecord, created: Bool, audited: Bool, editorID: String, now: Date,
                         _ tx: any SQLExecutor) async throws -> (AppointmentRecord, Bool) {
        var record = written
        let status = Self.orientationStatus(record.status)
        var linked = false
        if record.orientationID == nil, let regulator = record.regulatorID {
            // The regulator's vendor orientations around the start that no appointment completes yet (index read);
            // this vendor's, for this practitioner or none named; the closest in time wins, then the smaller id.
            let candidates = try await tx.query("""
                SELECT id, slot_start, practitioner_idnps FROM orientations
                WHERE regulator_id = ? AND slot_start >= ? AND slot_start <= ? AND kind = 'editeur' AND vendor = ?
                  AND appointment_id IS NULL
                """, [.text(regulator), .date(record.start.addingTimeInterval(-7_200)),
                      .date(record.start.addingTimeInterval(7_200)), .text(record.editorID)])
            let chosen = candidates.filter { row in
                let practitioner = row.optionalString("practitioner_idnps")
                return practitioner == nil || practitioner == record.practitionerIDNPS
            }.min { a, b in
                let da = abs((a.optionalDate("slot_start") ?? .distantPast).timeIntervalSince(record.start))
                let db = abs((b.optionalDate("slot_start") ?? .distantPast).timeIntervalSince(record.start))
                return da != db ? da < db : (a.optionalString("id") ?? "") < (b.optionalString("id") ?? "")
            }?.optionalString("id")
            if let chosen {
                // Taken with its status in one guarded update: a concurrent appointment cannot take it too.
                let taken = try await tx.query("""
                    UPDATE orientations SET appointment_id = ?, status = ?, slot_start = ?, slot_end = ?, updated_at = ?,
                        version = version + 1
                    WHERE id = ? AND appointment_id IS NULL RETURNING id
                    """, [.text(record.id), .text(status.rawValue), .date(record.start), .date(record.end), .date(now),
                          .text(chosen)])
                if !taken.isEmpty {
                    try await tx.query("UPDATE appointments SET orientation_id = ? WHERE id = ?", [.text(chosen), .text(record.id)])
                    record.orientationID = chosen
                    linked = true
                }
            }
        }
        if let orientation = record.orientationID {
            let changed = linked ? true : !(try await tx.query("""
                UPDATE orientations SET status = ?, slot_start = ?, slot_end = ?, updated_at = ?, version = version + 1
                WHERE id = ? AND (status <> ? OR slot_start IS NULL OR slot_start <> ? OR slot_end IS NULL OR slot_end <> ?)
                RETURNING id
                """, [.text(status.rawValue), .date(record.start), .date(record.end), .date(now), .text(orientation),
                      .text(status.rawValue), .date(record.start), .date(record.end)]).isEmpty)
            if changed {
                try await OrientationStore.recordEvent(
                    tx, orientationID: orientation, event: .appointment, status: status, actor: "editeur:\(editorID)",
                    detail: "rendez-vous \(record.identifierValue) : \(record.status)", at: now)
            }
        }
        if !audited {
            try await AuditLog(tx).record(AuditEntry(
                actor: "editeur:\(editorID)", action: created ? "appointment.create" : "appointment.update", target: record.id,
                detail: "\(record.status) \(record.identifierValue)\(record.orientationID.map { " → orientation \($0)" } ?? " (non rapproché)")",
                occurredAt: now))
        }
        return (record, created)
    }

    /// Applies `validated` to the stored `record` (nil when nothing changes: an idempotent repeat).
    static func update(_ record: AppointmentRecord, with validated: Validated, expectedVersion: Int?,
                       regulator: (sql: String, bind: SQLValue), now: Date, _ tx: any SQLExecutor) async throws -> AppointmentRecord? {
        if let expectedVersion, expectedVersion != record.version {
            throw AppointmentRejection(.conflict, "Version \(expectedVersion) périmée : la version courante est \(record.version).")
        }
        let same = record.status == validated.status && record.start == validated.start && record.end == validated.end
            && record.practitionerIDNPS == validated.practitionerIDNPS && record.operatorValue == validated.operatorValue
        if same { return nil }
        let rows = try await tx.query("""
            UPDATE appointments SET status = ?, operator_type = ?, operator_system = ?, operator_value = ?,
                regulator_id = COALESCE(\(regulator.sql), regulator_id), practitioner_idnps = ?, start_at = ?, end_at = ?,
                version = version + 1, updated_at = ?
            WHERE id = ? RETURNING *
            """, [.text(validated.status), .text(validated.operatorType), .text(validated.operatorSystem),
                  .text(validated.operatorValue), regulator.bind, .optional(validated.practitionerIDNPS),
                  .date(validated.start), .date(validated.end), .date(now), .text(record.id)])
        return try rows.first.map(Self.record) ?? record
    }

    static func orientationStatus(_ status: String) -> Orientation.Status {
        switch status {
        case "booked": .booked
        case "cancelled": .cancelled
        case "fulfilled": .fulfilled
        case "noshow": .noShow
        default: .inProgress
        }
    }

    public func find(id: String) async throws -> AppointmentRecord? {
        try await database.query("SELECT * FROM appointments WHERE id = ?", [.text(id)]).first.map(Self.record)
    }

    static func record(_ row: SQLRow) throws -> AppointmentRecord {
        AppointmentRecord(
            id: try row.string("id"), editorID: try row.string("editor_id"), identifierSystem: try row.string("identifier_system"),
            identifierValue: try row.string("identifier_value"), status: try row.string("status"),
            profile: AppointmentRecord.Profile(rawValue: try row.string("profile")) ?? .individual,
            operatorType: try row.string("operator_type"), operatorSystem: try row.string("operator_system"),
            operatorValue: try row.string("operator_value"), regulatorID: row.optionalString("regulator_id"),
            practitionerIDNPS: row.optionalString("practitioner_idnps"), start: try row.date("start_at"),
            end: try row.date("end_at"), bookedAt: row.optionalDate("booked_at"), orientationID: row.optionalString("orientation_id"),
            version: try row.int("version"))
    }
}
