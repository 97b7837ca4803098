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

    public var id: String
    public var kind: Kind
    public var status: Status
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
                       sourceAddress: String?, now: Date = Date()) async throws -> Orientation {
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
            id: UUID().uuidString.lowercased(), kind: request.kind,
            status: request.kind == .vendor ? .inProgress : .booked, regulatorID: regulatorID,
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
                INSERT INTO orientations (id, kind, status, regulator_id, regulator_email, practitioner_idnps, structure_id,
                    offer_name, phone, vendor, slot_id, slot_start, slot_end, booking_url, created_at, updated_at, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                """, [.text(orientation.id), .text(orientation.kind.rawValue), .text(orientation.status.rawValue),
                      .text(regulatorID), .text(regulatorEmail), .optional(orientation.practitionerIDNPS),
                      .optional(orientation.structureID), .text(orientation.offerName), .optional(orientation.phone),
                      .optional(orientation.vendor), .optional(orientation.slotID),
                      orientation.slotStart.map(SQLValue.date) ?? .null, orientation.slotEnd.map(SQLValue.date) ?? .null,
                      .optional(orientation.bookingURL), .date(now), .date(now)])
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

    public func find(id: String) async throws -> Orientation? {
        try await database.query("SELECT * FROM orientations WHERE id = ?", [.text(id)]).first.map(Self.orientation)
    }

    static func orientation(_ row: SQLRow) throws -> Orientation {
        Orientation(
            id: try row.string("id"), kind: Orientation.Kind(rawValue: try row.string("kind")) ?? .vendor,
            status: Orientation.Status(rawValue: try row.string("status")) ?? .inProgress,
            regulatorID: try row.string("regulator_id"), regulatorEmail: try row.string("regulator_email"),
            practitionerIDNPS: row.optionalString("practitioner_idnps"), structureID: row.optionalString("structure_id"),
            offerName: try row.string("offer_name"), phone: row.optionalString("phone"), vendor: row.optionalString("vendor"),
            slotID: row.optionalString("slot_id"), slotStart: row.optionalDate("slot_start"),
            slotEnd: row.optionalDate("slot_end"), bookingURL: row.optionalString("booking_url"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"), version: try row.int("version"))
    }
}
