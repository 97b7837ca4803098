import Agenda
import EditorSync
import Foundation
import Logging
import Storage

/// INT_L02's transactional outbox: every orientation event (written in the same transaction as the orientation's
/// change) becomes an RS-SAS-RDV message to the SAMU of the regulator's territory, published in order per orientation
/// (event n+1 waits until event n is confirmed by the broker), retried with backoff across restarts and outages,
/// followed until the LRM's final acknowledgement; Hub and LRM errors are recorded, expiry-type ones (400, 500) sent
/// again unless a later message already carries the orientation's state.
public struct HubOutbox: Sendable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case waiting = "en_attente"
        case sent = "envoye"
        case received = "recu"
        case error = "erreur"
        case unconfigured = "non_configure"
        case superseded = "remplace"
    }

    /// One event's delivery.
    public struct Delivery: Sendable, Codable, Equatable {
        public var eventID: String
        public var orientationID: String
        public var sequence: Int
        public var state: State
        public var recipient: String?
        public var distributionID: String?
        public var attempts: Int
        public var errorCode: Int?
        public var errorCause: String?
        public var sentAt: Date?
        public var ackedAt: Date?
        public var updatedAt: Date

        /// French, for the regulator and the console.
        public var label: String {
            switch state {
            case .received: return "reçu par le SAMU (\(recipient ?? "?"))"
            case .sent: return "envoyé au SAMU (\(recipient ?? "?")), en attente d'accusé de réception"
            case .waiting: return attempts == 0 ? "en attente d'envoi" : "en attente d'envoi (\(attempts) essai(s) : \(errorCause ?? "—"))"
            case .unconfigured: return "non transmis : SAMU du territoire non configuré"
            case .error: return "refusé (\(errorCode.map(String.init) ?? "?")) : \(errorCause ?? "—")"
            case .superseded: return "remplacé par un message plus récent"
            }
        }
    }

    let database: any Database
    /// The platform's client id (`fr.health.ptfsas` in production, `fr.health.test.ptfsas` elsewhere).
    public let senderID: String
    let logger: Logger
    /// Events older than this are not published when the link starts (the Hub keeps messages 24 h).
    let horizon: TimeInterval = 86_400

    public init(database: any Database, senderID: String, logger: Logger) {
        self.database = database
        self.senderID = senderID
        self.logger = logger
    }

    static func backoff(_ attempts: Int) -> TimeInterval { min(600, 5 * pow(2, Double(max(0, attempts - 1)))) }

    // MARK: the message of an event

    static let statusCodes: [Orientation.Status: String] = [
        .inProgress: "pending", .booked: "booked", .cancelled: "cancelled", .fulfilled: "fulfilled", .noShow: "noshow",
    ]

    /// Builds the envelope of one event, or nil when the territory has no SAMU configured.
    func message(eventID: String, distributionID: String, now: Date) async throws -> (HubMessages.Envelope, String)? {
        guard let event = try await database.query("""
            SELECT e.sequence, e.status AS event_status, o.* FROM orientation_events e JOIN orientations o ON o.id = e.orientation_id
            WHERE e.id = ?
            """, [.text(eventID)]).first else { return nil }
        guard let territory = event.optionalString("territory"),
              let recipient = try await database.query("SELECT samu_client_id FROM sas_territories WHERE code = ? AND active = 1",
                                                       [.text(territory)]).first?.optionalString("samu_client_id") else {
            return nil
        }
        let status = Orientation.Status(rawValue: try event.string("event_status")) ?? .inProgress
        let createdAt = try event.date("created_at")
        let start = event.optionalDate("slot_start") ?? createdAt
        var practitioner: HubMessages.Practitioner?
        if let idnps = event.optionalString("practitioner_idnps"), HubValidation.matches(idnps, HubValidation.rpps),
           let row = try await database.query("SELECT family_name, given_name, specialties, profession_code FROM dir_practitioners WHERE idnps = ?",
                                              [.text(idnps)]).first {
            let specialty = (row.optionalString("specialties") ?? "").split(separator: ",").first.map(String.init)
            practitioner = HubMessages.Practitioner(
                rppsId: idnps, lastName: try row.string("family_name"), firstName: try row.string("given_name"),
                specialityCode: specialty,
                specialityUrl: specialty == nil ? nil : "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
                professionCode: row.optionalString("profession_code"),
                professionUrl: row.optionalString("profession_code") == nil ? nil : "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante")
        }
        var organization: HubMessages.Organization?
        if let structure = event.optionalString("structure_id"), HubValidation.matches(structure, HubValidation.structure) {
            let name = try await database.query("SELECT name FROM dir_structures WHERE idnst = ?", [.text(structure)]).first?.optionalString("name")
            let offer = try event.string("offer_name")
            organization = HubMessages.Organization(organizationId: structure, name: name ?? offer)
        }
        let regulatorID = try event.string("regulator_id")
        let account = try await database.query("SELECT display_name, email, idnps FROM accounts WHERE id = ?", [.text(regulatorID)]).first
        let fallbackEmail = try event.string("regulator_email")
        let email = account?.optionalString("email") ?? fallbackEmail
        let names = RegulatorProfile.names(from: account?.optionalString("display_name") ?? email)
        let appointment = HubMessages.Appointment(
            appointmentId: try event.string("id"),
            method: try event.int("sequence") == 1 ? "CreateAppointment" : "UpdateAppointment",
            created: HubMessages.instant(createdAt), start: HubMessages.instant(start),
            end: event.optionalDate("slot_end").map(HubMessages.instant), status: Self.statusCodes[status] ?? "pending",
            orientationCategory: event.optionalString("category"), practitioner: practitioner, organization: organization,
            regulator: .init(regulatorId: account?.optionalString("idnps"), regulatorName: names.family,
                             regulatorFirstname: names.given, regulatorEmail: email))
        let envelope = HubMessages.envelope(kind: "Report", sender: senderID, recipient: recipient, sent: now,
                                            distributionID: distributionID, appointment: appointment)
        return (envelope, recipient)
    }

    // MARK: publishing

    /// Records a delivery row for every recent event that has none (several nodes may do it: one wins).
    func discover(now: Date) async throws {
        try await database.query("""
            INSERT INTO hub_deliveries (event_id, orientation_id, sequence, state, next_attempt_at, updated_at)
            SELECT e.id, e.orientation_id, e.sequence, 'en_attente', ?, ? FROM orientation_events e
            WHERE e.occurred_at >= ? AND NOT EXISTS (SELECT 1 FROM hub_deliveries d WHERE d.event_id = e.id)
            ON CONFLICT DO NOTHING
            """, [.date(now), .date(now), .date(now.addingTimeInterval(-horizon))])
    }

    /// The events due now whose earlier events are all out of the way (sent, received, errors, superseded).
    func due(now: Date, limit: Int = 50) async throws -> [String] {
        try await database.query("""
            SELECT d.event_id FROM hub_deliveries d
            WHERE d.state IN ('en_attente', 'non_configure') AND d.next_attempt_at <= ?
              AND (d.lease_until IS NULL OR d.lease_until < ?)
              AND NOT EXISTS (SELECT 1 FROM hub_deliveries p WHERE p.orientation_id = d.orientation_id AND p.sequence < d.sequence
                              AND p.state IN ('en_attente', 'non_configure'))
            ORDER BY d.next_attempt_at, d.sequence LIMIT \(limit)
            """, [.date(now), .date(now)]).map { try $0.string("event_id") }
    }

    /// One publishing pass; returns how many messages were confirmed by the broker.
    @discardableResult
    public func publishDue(through transport: any HubTransport, now: Date = Date()) async throws -> Int {
        try await discover(now: now)
        var sent = 0
        // Passes until nothing more is sent: an orientation's next event becomes due once the previous one is out.
        for _ in 0..<10 {
            let before = sent
            try await publishPass(through: transport, now: now, sent: &sent)
            if sent == before { break }
        }
        return sent
    }

    /// Publishes the due events; each belongs to a different orientation (an orientation's next event is only due
    /// once the previous one is out), so up to 32 are in flight at once, each waiting for its broker confirm.
    func publishPass(through transport: any HubTransport, now: Date, sent: inout Int) async throws {
        let due = try await due(now: now, limit: 500)
        var confirmed = 0
        try await withThrowingTaskGroup(of: Bool.self) { group in
            var pending = due[...]
            for _ in 0..<32 {
                guard let eventID = pending.popFirst() else { break }
                group.addTask { try await publishOne(eventID, through: transport, now: now) }
            }
            while let published = try await group.next() {
                if published { confirmed += 1 }
                if let eventID = pending.popFirst() {
                    group.addTask { try await publishOne(eventID, through: transport, now: now) }
                }
            }
        }
        sent += confirmed
    }

    /// Leases, builds, checks and publishes one event; true when the broker confirmed it.
    func publishOne(_ eventID: String, through transport: any HubTransport, now: Date) async throws -> Bool {
        // A lease so that one node sends it.
        // The same rules as `due`, checked again: the list may be seconds old and another node may have sent it.
        let leased = try await database.query("""
            UPDATE hub_deliveries SET lease_until = ? WHERE event_id = ? AND state IN ('en_attente', 'non_configure')
              AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
              AND NOT EXISTS (SELECT 1 FROM hub_deliveries p WHERE p.orientation_id = hub_deliveries.orientation_id
                              AND p.sequence < hub_deliveries.sequence AND p.state IN ('en_attente', 'non_configure'))
            RETURNING attempts
            """, [.date(now.addingTimeInterval(120)), .text(eventID), .date(now), .date(now)])
        guard let attempts = leased.first.flatMap({ $0["attempts"].intValue }) else { return false }
        let distributionID = HubMessages.distributionID(sender: senderID)
        guard let (envelope, recipient) = try await message(eventID: eventID, distributionID: distributionID, now: now) else {
            try await database.query("""
                UPDATE hub_deliveries SET state = 'non_configure', next_attempt_at = ?, lease_until = NULL, updated_at = ? WHERE event_id = ?
                """, [.date(now.addingTimeInterval(30)), .date(now), .text(eventID)])
            return false
        }
        let body = try HubMessages.encode(envelope)
        let problems = HubValidation.problems(body)
        guard problems.isEmpty else {
            logger.error("INT_L02 message invalid, not sent", metadata: ["event": "\(eventID)", "problems": "\(problems)"])
            try await finish(eventID, state: .error, code: 300, cause: "message non conforme aux schémas : " + problems.joined(separator: " ; "),
                             recipient: recipient, now: now)
            return false
        }
        // The distribution id is recorded before publishing: an acknowledgement can come back before the confirm.
        try await database.query("UPDATE hub_deliveries SET distribution_id = ?, recipient = ? WHERE event_id = ?",
                                 [.text(distributionID), .text(recipient), .text(eventID)])
        do {
            try await transport.publish(body, routingKey: senderID, contentType: "application/json", persistent: true)
            try await database.query("""
                UPDATE hub_deliveries SET state = CASE WHEN state = 'recu' THEN 'recu' ELSE 'envoye' END, attempts = attempts + 1,
                    sent_at = ?, lease_until = NULL, error_code = NULL, error_cause = NULL, updated_at = ? WHERE event_id = ?
                """, [.date(now), .date(now), .text(eventID)])
            return true
        } catch {
            try await database.query("""
                UPDATE hub_deliveries SET state = CASE WHEN state = 'recu' THEN 'recu' ELSE 'en_attente' END, attempts = attempts + 1,
                    next_attempt_at = ?, lease_until = NULL, error_cause = ?, updated_at = ? WHERE event_id = ?
                """, [.date(now.addingTimeInterval(Self.backoff(attempts + 1))), .text(String(describing: error)),
                      .date(now), .text(eventID)])
            return false
        }
    }

    func finish(_ eventID: String, state: State, code: Int?, cause: String?, recipient: String?, now: Date) async throws {
        try await database.query("""
            UPDATE hub_deliveries SET state = ?, error_code = ?, error_cause = ?, recipient = COALESCE(?, recipient),
                lease_until = NULL, updated_at = ? WHERE event_id = ?
            """, [.text(state.rawValue), code.map { .int($0) } ?? .null, .optional(cause), .optional(recipient), .date(now), .text(eventID)])
    }

    // MARK: receiving

    /// Handles a message of the platform's `.ack` or `.info` queue: acknowledged once stored, rejected (dead-lettered)
    /// when unreadable, given back to the queue when storage fails (the broker delivers it again).
    public func receive(_ delivery: HubDelivery, now: Date = Date()) async -> HubDisposition {
        guard let envelope = try? HubMessages.decode(delivery.body), let message = envelope.message else {
            logger.warning("INT_L02 unreadable message", metadata: ["queue": "\(delivery.queue)"])
            return .reject
        }
        do {
            if let reference = message.reference {
                try await database.query("""
                    UPDATE hub_deliveries SET state = 'recu', acked_at = ?, updated_at = ? WHERE distribution_id = ? AND state IN ('en_attente', 'envoye', 'erreur')
                    """, [.date(now), .date(now), .text(reference.distributionID)])
                return .acknowledge
            }
            if let error = message.error {
                guard let row = try await database.query("SELECT event_id, orientation_id, sequence FROM hub_deliveries WHERE distribution_id = ?",
                                                         [.text(error.referencedDistributionID)]).first else { return .acknowledge }
                let eventID = try row.string("event_id")
                let code = error.errorCode.statusCode
                if code == 400 || code == 500 {
                    // Expired before or after routing: send it again, unless a later message carries (or will carry)
                    // the orientation's state.
                    let later = try await database.query("""
                        SELECT 1 FROM hub_deliveries WHERE orientation_id = ? AND sequence > ? AND state NOT IN ('erreur', 'remplace')
                        """, [.text(try row.string("orientation_id")), .int(try row.int("sequence"))])
                    if later.isEmpty {
                        try await database.query("""
                            UPDATE hub_deliveries SET state = 'en_attente', distribution_id = NULL, next_attempt_at = ?, error_code = ?,
                                error_cause = ?, updated_at = ? WHERE event_id = ?
                            """, [.date(now), .int(code), .text(error.errorCause), .date(now), .text(eventID)])
                    } else {
                        try await finish(eventID, state: .superseded, code: code, cause: error.errorCause, recipient: nil, now: now)
                    }
                } else {
                    // Schema, routing, sender or functional errors are not retried blindly.
                    try await finish(eventID, state: .error, code: code, cause: "\(error.errorCode.statusString) : \(error.errorCause)",
                                     recipient: nil, now: now)
                }
                return .acknowledge
            }
            return .acknowledge
        } catch {
            logger.error("INT_L02 receipt not stored, given back to the broker", metadata: ["error": "\(error)"])
            return .requeue
        }
    }

    // MARK: reading

    static func delivery(_ row: SQLRow) throws -> Delivery {
        Delivery(eventID: try row.string("event_id"), orientationID: try row.string("orientation_id"), sequence: try row.int("sequence"),
                 state: State(rawValue: try row.string("state")) ?? .waiting, recipient: row.optionalString("recipient"),
                 distributionID: row.optionalString("distribution_id"), attempts: row["attempts"].intValue ?? 0,
                 errorCode: row["error_code"].intValue, errorCause: row.optionalString("error_cause"),
                 sentAt: row.optionalDate("sent_at"), ackedAt: row.optionalDate("acked_at"), updatedAt: try row.date("updated_at"))
    }

    /// The deliveries of one orientation, in order.
    public func deliveries(orientationID: String) async throws -> [Delivery] {
        try await database.query("SELECT * FROM hub_deliveries WHERE orientation_id = ? ORDER BY sequence", [.text(orientationID)])
            .map(Self.delivery)
    }

    /// The latest delivery of each of `orientationIDs`.
    public func latest(orientationIDs: [String]) async throws -> [String: Delivery] {
        var result: [String: Delivery] = [:]
        for id in orientationIDs {
            if let last = try await deliveries(orientationID: id).last { result[id] = last }
        }
        return result
    }

    /// Recent deliveries (console), latest first.
    public func recent(limit: Int = 200) async throws -> [Delivery] {
        try await database.query("SELECT * FROM hub_deliveries ORDER BY updated_at DESC LIMIT \(limit)").map(Self.delivery)
    }

    /// Sends an event again (console), with a fresh distribution id — refused while it is being sent, or when a later
    /// message of the orientation already carries its state (sending the older one would overwrite it at the LRM).
    public func retry(eventID: String, actor: String, now: Date = Date()) async throws -> Bool {
        let rows = try await database.query("""
            UPDATE hub_deliveries SET state = 'en_attente', distribution_id = NULL, next_attempt_at = ?, updated_at = ?
            WHERE event_id = ? AND state IN ('erreur', 'non_configure') AND (lease_until IS NULL OR lease_until < ?)
              AND NOT EXISTS (SELECT 1 FROM hub_deliveries l WHERE l.orientation_id = hub_deliveries.orientation_id
                              AND l.sequence > hub_deliveries.sequence AND l.state NOT IN ('erreur', 'remplace'))
            RETURNING event_id
            """, [.date(now), .date(now), .text(eventID), .date(now)])
        if !rows.isEmpty { try await AuditLog(database).record(AuditEntry(actor: actor, action: "hub.retry", target: eventID)) }
        return !rows.isEmpty
    }
}
