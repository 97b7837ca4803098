import Foundation
import SASDomain
import Storage

/// A regulator's orientation of a patient: to a vendor's slot (booked on the vendor's page), to a SAS-agenda slot
/// (booked here), or to a practitioner who takes patients beyond his availability ("en sus"). No patient identity is
/// ever recorded: an orientation says who oriented, to whom, when.
public struct Orientation: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A vendor's slot: the regulator books it on the vendor's page (the vendor then reports it, INT_R03).
        case vendor = "editeur"
        /// A SAS-agenda slot, booked in the platform.
        case agenda
        /// "En sus des disponibilités": the practitioner accepts the patient without a slot.
        case extra = "en_sus"

        public var label: String {
            switch self {
            case .vendor: "Créneau éditeur"
            case .agenda: "Agenda SAS"
            case .extra: "En sus des disponibilités"
            }
        }
    }

    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Started by the regulator, not yet confirmed (vendor page opened).
        case inProgress = "en_cours"
        case booked = "confirme"
        case cancelled = "annule"
        case fulfilled = "honore"
        case noShow = "non_honore"

        /// The changes a person may make on the platform (vendors' appointments move statuses freely: they are
        /// the reference for their own bookings).
        public func canMove(to next: Status) -> Bool {
            switch (self, next) {
            case (.inProgress, .booked), (.inProgress, .cancelled): true
            case (.booked, .cancelled), (.booked, .fulfilled), (.booked, .noShow): true
            case (.fulfilled, .noShow), (.noShow, .fulfilled): true
            default: false
            }
        }

        public var label: String {
            switch self {
            case .inProgress: "En cours"
            case .booked: "Rendez-vous pris"
            case .cancelled: "Annulé"
            case .fulfilled: "Honoré"
            case .noShow: "Non honoré"
            }
        }
    }

    /// The route of the orientation as the LRM knows it (INT_L02 `orientationCategory`): an individual practitioner,
    /// a CPTS, a health centre (MSP, CDS), SOS Médecins, or the vendors' "place de marché".
    public enum Category: String, Sendable, Codable, CaseIterable {
        case ps = "PS", cpts = "CPTS", msp = "MSP", cds = "CDS", sos = "SOS", pdm = "PDM"

        public var label: String {
            switch self {
            case .ps: "Professionnel à titre individuel"
            case .cpts: "CPTS"
            case .msp: "Maison de santé"
            case .cds: "Centre de santé"
            case .sos: "SOS Médecins"
            case .pdm: "Place de marché"
            }
        }
    }

    public var id: String
    public var kind: Kind
    public var category: Category
    public var status: Status
    /// The SAS territory (department) of the regulator who oriented: where the orientation is counted and which SAMU
    /// is told.
    public var territory: String?
    public var regulatorID: String
    public var regulatorEmail: String
    public var practitionerIDNPS: String?
    public var structureID: String?
    public var offerName: String
    public var phone: String?
    public var vendor: String?
    public var slotID: String?
    public var slotStart: Date?
    public var slotEnd: Date?
    public var bookingURL: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int
}

/// Why an orientation was refused (French, for the regulator).
public struct OrientationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case invalid, full, notFound = "not_found", conflict }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// What the regulator chose.
public struct OrientationRequest: Sendable, Equatable {
    public var kind: Orientation.Kind
    public var category: Orientation.Category = .ps
    public var practitionerIDNPS: String?
    public var structureID: String?
    public var offerName: String
    public var phone: String?
    public var vendor: String?
    public var slotID: String?
    public var slotStart: Date?
    public var slotEnd: Date?
    public var bookingURL: String?

    public init(kind: Orientation.Kind, practitionerIDNPS: String? = nil, structureID: String? = nil, offerName: String,
                phone: String? = nil, vendor: String? = nil, slotID: String? = nil, slotStart: Date? = nil,
                slotEnd: Date? = nil, bookingURL: String? = nil) {
        self.kind = kind
        self.practitionerIDNPS = practitionerIDNPS
        self.structureID = structureID
        self.offerName = offerName
        self.phone = phone
        self.vendor = vendor
        self.slotID = slotID
        self.slotStart = slotStart
        self.slotEnd = slotEnd
        self.bookingURL = bookingURL
    }
}

/// Orientations in storage (`orientations`), and the booking of SAS-agenda slots: the place is taken and the
/// orientation written in one transaction, with a guarded update, so that two regulators can never take the last
/// place of a slot together.
public struct OrientationStore: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Records an orientation by `regulator`; for a SAS-agenda slot, books one place first.
    public func orient(_ request: OrientationRequest, regulatorID: String, regulatorEmail: String,
                       territory: String? = nil, sourceAddress: String?, now: Date = Date()) async throws -> Orientation {
        let name = request.offerName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 300 else {
            throw OrientationError(.invalid, "Le professionnel ou la structure choisi est manquant.")
        }
        if let idnps = request.practitionerIDNPS, (try? IDNPS(parsing: idnps)) == nil {
            throw OrientationError(.invalid, "Identifiant du professionnel invalide : « \(idnps) ».")
        }
        switch request.kind {
        case .vendor:
            // The booking URL may be absent: a walk-in slot (e.g. an SOS Médecins fixed place without online booking).
            guard request.vendor != nil, request.slotStart != nil else {
                throw OrientationError(.invalid, "Créneau éditeur incomplet (éditeur ou début manquant).")
            }
        case .agenda:
            guard request.slotID != nil else { throw OrientationError(.invalid, "Créneau de l'agenda SAS manquant.") }
        case .extra:
            guard request.practitionerIDNPS != nil else {
                throw OrientationError(.invalid, "Une orientation « en sus » désigne un professionnel.")
            }
        }
        let initial = Orientation(
            id: RandomID.uuid(), kind: request.kind, category: request.category,
            status: request.kind == .vendor ? .inProgress : .booked, territory: territory, regulatorID: regulatorID,
            regulatorEmail: regulatorEmail, practitionerIDNPS: request.practitionerIDNPS, structureID: request.structureID,
            offerName: name, phone: request.phone, vendor: request.vendor, slotID: request.slotID,
            slotStart: request.slotStart, slotEnd: request.slotEnd, bookingURL: request.bookingURL,
            createdAt: now, updatedAt: now, version: 1)
        return try await database.transaction { tx -> Orientation in
            var orientation = initial
            if request.kind == .agenda, let slotID = request.slotID {
                let taken = try await tx.query("""
                    UPDATE agenda_slots SET booked = booked + 1, version = version + 1, updated_at = ?
                    WHERE id = ? AND cancelled = 0 AND booked < capacity AND start_at >= ?
                    RETURNING idnps, start_at, end_at, booked, capacity
                    """, [.date(now), .text(slotID), .date(now.addingTimeInterval(-15 * 60))])
                guard let row = taken.first else {
                    let exists = try await tx.query("SELECT booked, capacity, cancelled FROM agenda_slots WHERE id = ?",
                                                    [.text(slotID)])
                    if exists.isEmpty { throw OrientationError(.notFound, "Ce créneau de l'agenda SAS n'existe plus.") }
                    throw OrientationError(.full, "Ce créneau est complet : il vient d'être pris. Choisissez-en un autre.")
                }
                orientation.practitionerIDNPS = row.optionalString("idnps")
                orientation.slotStart = row.optionalDate("start_at")
                orientation.slotEnd = row.optionalDate("end_at")
                // Name and phone of the practitioner whose slot was booked, from the directory (not from the request).
                if let idnps = orientation.practitionerIDNPS, let who = try await tx.query("""
                    SELECT p.exercise_civility, p.given_name, p.family_name,
                           (SELECT s.phone FROM dir_sites s JOIN agenda_slots a ON a.site_id = s.id WHERE a.id = ?) AS phone
                    FROM dir_practitioners p WHERE p.idnps = ?
                    """, [.text(slotID), .text(idnps)]).first {
                    let title = who.optionalString("exercise_civility").map { $0 == "DR" ? "Dr " : "" } ?? ""
                    orientation.offerName = title + [who.optionalString("given_name"), who.optionalString("family_name")]
                        .compactMap { $0 }.joined(separator: " ")
                    orientation.phone = who.optionalString("phone") ?? orientation.phone
                }
            }
            try await tx.query("""
                INSERT INTO orientations (id, kind, category, territory, status, regulator_id, regulator_email,
                    practitioner_idnps, structure_id, offer_name, phone, vendor, slot_id, slot_start, slot_end, booking_url,
                    created_at, updated_at, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                """, [.text(orientation.id), .text(orientation.kind.rawValue), .text(orientation.category.rawValue),
                      .optional(orientation.territory), .text(orientation.status.rawValue),
                      .text(regulatorID), .text(regulatorEmail), .optional(orientation.practitionerIDNPS),
                      .optional(orientation.structureID), .text(orientation.offerName), .optional(orientation.phone),
                      .optional(orientation.vendor), .optional(orientation.slotID),
                      orientation.slotStart.map(SQLValue.date) ?? .null, orientation.slotEnd.map(SQLValue.date) ?? .null,
                      .optional(orientation.bookingURL), .date(now), .date(now)])
            try await Self.recordEvent(tx, orientationID: orientation.id, event: .created, status: orientation.status,
                                       actor: regulatorEmail, detail: "\(orientation.kind.label) — \(orientation.offerName)", at: now)
            try await AuditLog(tx).record(AuditEntry(
                actor: regulatorEmail, action: "orientation.create", target: orientation.id,
                detail: "\(orientation.kind.rawValue) → \(orientation.offerName)\(orientation.practitionerIDNPS.map { " (\($0))" } ?? "")\(orientation.vendor.map { " via \($0)" } ?? "")",
                sourceAddress: sourceAddress, occurredAt: now))
            return orientation
        }
    }

    /// The orientations of `regulatorID` created since `since`, newest first.
    public func list(regulatorID: String, since: Date) async throws -> [Orientation] {
        try await database.query("""
            SELECT * FROM orientations WHERE regulator_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC
            """, [.text(regulatorID), .date(since)]).map(Self.orientation)
    }

    /// Changes an orientation's status on a person's request (`actor`): the regulator who made it cancels it
    /// (a SAS-agenda place is given back), or corrects a fulfilled/no-show mark. A vendor booking already confirmed
    /// follows the vendor's own reports (INT_R03) and is refused here. `expectedVersion` guards concurrent edits.
    public func changeStatus(id: String, to status: Orientation.Status, regulatorID: String, actor: String,
                             expectedVersion: Int? = nil, reason: String? = nil, sourceAddress: String? = nil,
                             now: Date = Date()) async throws -> Orientation {
        try await database.transaction { tx -> Orientation in
            guard let current = try await tx.query("SELECT * FROM orientations WHERE id = ?", [.text(id)]).first.map(Self.orientation),
                  current.regulatorID == regulatorID else {
                throw OrientationError(.notFound, "Orientation introuvable.")
            }
            if let expectedVersion, expectedVersion != current.version {
                throw OrientationError(.conflict, "Cette orientation vient d'être modifiée (version \(current.version)) : rechargez la page.")
            }
            if current.status == status { return current }
            guard current.status.canMove(to: status) else {
                throw OrientationError(.invalid, "Passage de « \(current.status.label) » à « \(status.label) » impossible.")
            }
            if current.kind == .vendor && current.status != .inProgress {
                throw OrientationError(.invalid, "Ce rendez-vous est suivi par \(current.vendor ?? "l'éditeur") : modifiez-le sur sa page, son statut sera mis à jour ici.")
            }
            let updated = try await tx.query("""
                UPDATE orientations SET status = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?
                RETURNING *
                """, [.text(status.rawValue), .date(now), .text(id), .int(current.version)])
            guard let row = updated.first else {
                throw OrientationError(.conflict, "Cette orientation vient d'être modifiée : rechargez la page.")
            }
            if current.kind == .agenda, status == .cancelled, let slot = current.slotID {
                try await tx.query("""
                    UPDATE agenda_slots SET booked = booked - 1, version = version + 1, updated_at = ? WHERE id = ? AND booked > 0
                    """, [.date(now), .text(slot)])
                // The place is free again: every node's search must see it.
                try await AgendaBook.bumpVersion(tx)
            }
            try await Self.recordEvent(tx, orientationID: id, event: .status, status: status, actor: actor,
                                       detail: reason.map { String($0.prefix(300)) }, at: now)
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "orientation.status", target: id,
                                                     detail: "\(current.status.rawValue) → \(status.rawValue)\(reason.map { " : \($0.prefix(300))" } ?? "")",
                                                     sourceAddress: sourceAddress, occurredAt: now))
            return try Self.orientation(row)
        }
    }

    /// The history of an orientation, oldest first.
    public func history(id: String) async throws -> [OrientationEvent] {
        try await database.query("SELECT * FROM orientation_events WHERE orientation_id = ? ORDER BY sequence",
                                 [.text(id)]).map(OrientationEvent.init(row:))
    }

    /// Appends an event to the orientation's history, in the caller's transaction (the orientation row must have been
    /// updated first in that transaction, which serialises writers of one orientation). The history is what the LRM
    /// link publishes.
    public static func recordEvent(_ tx: any SQLExecutor, orientationID: String, event: OrientationEvent.Kind,
                                   status: Orientation.Status, actor: String, detail: String?, at now: Date) async throws {
        // The next number and the row in one statement (one round trip).
        try await tx.query("""
            INSERT INTO orientation_events (id, orientation_id, sequence, event, status, actor, detail, occurred_at)
            SELECT ?, ?, COALESCE(MAX(sequence), 0) + 1, ?, ?, ?, ?, ? FROM orientation_events WHERE orientation_id = ?
            """, [.text(RandomID.uuid()), .text(orientationID), .text(event.rawValue), .text(status.rawValue),
                  .text(actor), .optional(detail), .date(now), .text(orientationID)])
    }

    public func find(id: String) async throws -> Orientation? {
        try await database.query("SELECT * FROM orientations WHERE id = ?", [.text(id)]).first.map(Self.orientation)
    }

    static func orientation(_ row: SQLRow) throws -> Orientation {
        Orientation(
            id: try row.string("id"), kind: Orientation.Kind(rawValue: try row.string("kind")) ?? .vendor,
            category: row.optionalString("category").flatMap(Orientation.Category.init(rawValue:)) ?? .ps,
            status: Orientation.Status(rawValue: try row.string("status")) ?? .inProgress,
            territory: row.optionalString("territory"),
            regulatorID: try row.string("regulator_id"), regulatorEmail: try row.string("regulator_email"),
            practitionerIDNPS: row.optionalString("practitioner_idnps"), structureID: row.optionalString("structure_id"),
            offerName: try row.string("offer_name"), phone: row.optionalString("phone"), vendor: row.optionalString("vendor"),
            slotID: row.optionalString("slot_id"), slotStart: row.optionalDate("slot_start"),
            slotEnd: row.optionalDate("slot_end"), bookingURL: row.optionalString("booking_url"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"), version: try row.int("version"))
    }
}

/// One step in an orientation's life: created, status changed by a person, or updated by the vendor's report.
public struct OrientationEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case created
        /// A person changed the status on the platform.
        case status
        /// The vendor reported the appointment (INT_R03): status, time or practitioner.
        case appointment = "rendez_vous"
    }

    public var orientationID: String
    public var sequence: Int
    public var kind: Kind
    public var status: Orientation.Status
    public var actor: String
    public var detail: String?
    public var occurredAt: Date

    init(row: SQLRow) throws {
        orientationID = try row.string("orientation_id")
        sequence = try row.int("sequence")
        kind = Kind(rawValue: try row.string("event")) ?? .status
        status = Orientation.Status(rawValue: try row.string("status")) ?? .inProgress
        actor = try row.string("actor")
        detail = row.optionalString("detail")
        occurredAt = try row.date("occurred_at")
    }
}
