import Directory
import Foundation
import SASDomain
import Storage

/// Whose agenda: a practitioner's (by IDNPS) or a structure's (by IDNST).
public enum AgendaOwner: Hashable, Sendable, CustomStringConvertible {
    case practitioner(String)
    case structure(String)

    /// "idnps:810…" / "idnst:1690…", as stored in delegations.
    public var key: String {
        switch self {
        case .practitioner(let id): "idnps:\(id)"
        case .structure(let id): "idnst:\(id)"
        }
    }

    public init?(key: String) {
        if key.hasPrefix("idnps:"), let id = try? IDNPS(parsing: String(key.dropFirst(6))) { self = .practitioner(id.value) }
        else if key.hasPrefix("idnst:"), let id = try? IDNST(parsing: String(key.dropFirst(6))) { self = .structure(id.value) }
        else { return nil }
    }

    public var description: String { key }
}

/// A practitioner's participation settings as he (or his delegate) keeps them.
public struct PractitionerSettings: Sendable, Equatable {
    public var idnps: String
    public var name: String
    public var participation: SASParticipation
    /// The "vacances" switch: out of search until switched off.
    public var onVacation: Bool
    /// Hours per week declared for SAS patients.
    public var hoursPerWeek: Int?
    /// Shown to regulators on his cards (plain text, ≤ 1,000 characters).
    public var additionalInfo: String?
    /// Registered vendors holding his agenda.
    public var vendors: [String]
    public var version: Int
}

/// A practice site, for the agenda's site choice.
public struct SiteChoice: Sendable, Equatable {
    public var id: Int64
    public var label: String
}

/// A structure as its manager sees it.
public struct StructureView: Sendable, Equatable {
    public var structure: Structure
    public var participates: Bool
    public var hoursPerWeek: Int?
    public var additionalInfo: String?
    public var version: Int
    /// Practitioners taking part through the structure: (IDNPS, display name).
    public var members: [(idnps: String, name: String)]

    public static func == (a: StructureView, b: StructureView) -> Bool {
        a.structure == b.structure && a.participates == b.participates && a.hoursPerWeek == b.hoursPerWeek
            && a.additionalInfo == b.additionalInfo && a.version == b.version && a.members.map(\.idnps) == b.members.map(\.idnps)
    }
}

/// An active or revoked delegation.
public struct Delegation: Sendable, Equatable {
    public var id: String
    public var owner: AgendaOwner
    public var delegateAccountID: String
    public var delegateEmail: String
    public var grantedBy: String
    public var grantedAt: Date
    public var revokedAt: Date?
}

/// Participation settings, unavailability, structures, managers and delegations. Every change that the search sees
/// bumps the directory version in its transaction (each node rebuilds its index at its next poll, this one at once
/// through `onDirectoryChange`), and is audited.
public struct WorkspaceStore: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    public static let maximumInfoLength = 1_000
    public static let maximumUnavailabilities = 12

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()

    /// Plain text for regulators: tags and control characters removed, whitespace kept readable, ≤ 1,000 characters.
    public static func sanitise(_ text: String?) throws -> String? {
        guard let raw = text else { return nil }
        // A bound before any work: the form field allows 1,000 characters, markup may add some.
        guard raw.utf8.count <= 16_384 else {
            throw AgendaError(.invalid, "Les informations complémentaires sont trop longues : 1 000 caractères au plus.")
        }
        // One pass: markup (from a "<" opening a tag, comment or declaration to the next ">") becomes a space, control
        // and format characters go; a lone "<" or ">" ("enfants < 6 ans") stays as text (shown escaped).
        var scalars = String.UnicodeScalarView()
        let input = Array(raw.unicodeScalars)
        var inTag = false
        for (i, scalar) in input.enumerated() {
            if inTag { if scalar == ">" { inTag = false; scalars.append(" ") }; continue }
            if scalar == "<", i + 1 < input.count,
               input[i + 1].properties.isAlphabetic || "/!?".unicodeScalars.contains(input[i + 1]) {
                inTag = true
                continue
            }
            if scalar == "\n" || !(CharacterSet.controlCharacters.contains(scalar) || scalar.properties.generalCategory == .format) {
                scalars.append(scalar)
            }
        }
        let text = String(scalars)
        let lines = text.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        var cleaned = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        while cleaned.contains("\n\n\n") { cleaned = cleaned.replacingOccurrences(of: "\n\n\n", with: "\n\n") }
        guard cleaned.count <= maximumInfoLength else {
            throw AgendaError(.invalid, "Les informations complémentaires comptent \(cleaned.count) caractères : 1 000 au plus.")
        }
        return cleaned.isEmpty ? nil : cleaned
    }

    // MARK: practitioner

    /// The settings of a practitioner, or nil when he is not in the directory.
    public func settings(_ idnps: String) async throws -> PractitionerSettings? {
        guard let row = try await database.query("SELECT * FROM dir_practitioners WHERE idnps = ?", [.text(idnps)]).first else {
            return nil
        }
        let vendors = try await database.query("SELECT vendor FROM dir_vendor_links WHERE idnps = ? ORDER BY vendor",
                                               [.text(idnps)]).compactMap { $0.optionalString("vendor") }
        let vacations = row.optionalString("vacations").flatMap {
            try? Self.decoder.decode([VacationPeriod].self, from: Data($0.utf8))
        } ?? []
        let civility = row.optionalString("exercise_civility") == "DR" ? "Dr" : (row.optionalString("civility") == "MME" ? "Mme" : "M.")
        return PractitionerSettings(
            idnps: idnps,
            name: "\(civility) \(row.optionalString("given_name") ?? "") \(row.optionalString("family_name") ?? "")",
            participation: SASParticipation(
                participates: row.bool("participates"),
                mode: row["participation_mode"].intValue.flatMap(ParticipationMode.init(rawValue:)),
                structure: row.optionalString("participation_structure").flatMap { try? IDNST(parsing: $0) },
                acceptsExtraPatients: row.bool("accepts_extra"), forfaitReorientation: row.bool("forfait_reorientation"),
                vacations: vacations.sorted { $0.start < $1.start }),
            onVacation: row.bool("on_vacation"), hoursPerWeek: row["hours_per_week"].intValue,
            additionalInfo: row.optionalString("additional_info"), vendors: vendors,
            version: row["settings_version"].intValue ?? 1)
    }

    /// Departments of a practitioner's practice sites.
    public func departments(_ idnps: String) async throws -> Set<String> {
        Set(try await database.query("SELECT DISTINCT department FROM dir_sites WHERE idnps = ?", [.text(idnps)])
            .compactMap { $0.optionalString("department") })
    }

    /// Practice sites of a practitioner.
    public func sites(_ idnps: String) async throws -> [SiteChoice] {
        try await database.query("SELECT id, address, city, postcode FROM dir_sites WHERE idnps = ? ORDER BY id", [.text(idnps)])
            .compactMap { row in
                guard let id = row["id"].intValue else { return nil }
                let address = row.optionalString("address").flatMap { try? Self.decoder.decode(PostalAddress.self, from: Data($0.utf8)) }
                let label = address.map { $0.lines.joined(separator: ", ") }
                    ?? "\(row.optionalString("postcode") ?? "") \(row.optionalString("city") ?? "")"
                return SiteChoice(id: Int64(id), label: label)
            }
    }

    /// What the practitioner declares.
    public struct ParticipationForm: Sendable, Equatable {
        public var participates: Bool
        public var mode: ParticipationMode?
        public var structure: String?
        public var acceptsExtraPatients: Bool
        public var forfaitReorientation: Bool
        public var hoursPerWeek: Int?
        public var additionalInfo: String?
        public var vendors: [String]

        public init(participates: Bool, mode: ParticipationMode?, structure: String?, acceptsExtraPatients: Bool,
                    forfaitReorientation: Bool, hoursPerWeek: Int?, additionalInfo: String?, vendors: [String]) {
            self.participates = participates
            self.mode = mode
            self.structure = structure
            self.acceptsExtraPatients = acceptsExtraPatients
            self.forfaitReorientation = forfaitReorientation
            self.hoursPerWeek = hoursPerWeek
            self.additionalInfo = additionalInfo
            self.vendors = vendors
        }
    }

    /// Saves the participation settings (`knownVendors`: the registered vendors he may choose from).
    public func updateParticipation(_ idnps: String, expectedVersion: Int, form: ParticipationForm, knownVendors: Set<String>,
                                    actor: String, sourceAddress: String? = nil, now: Date = Date()) async throws -> PractitionerSettings {
        var form = form
        form.additionalInfo = try Self.sanitise(form.additionalInfo)
        if let hours = form.hoursPerWeek, !(0...168).contains(hours) {
            throw AgendaError(.invalid, "Le nombre d'heures par semaine doit être compris entre 0 et 168.")
        }
        var structure: IDNST?
        if form.participates {
            guard let mode = form.mode else {
                throw AgendaError(.invalid, "Indiquez comment vous participez au SAS (à titre individuel, via une CPTS, une MSP ou SOS Médecins).")
            }
            guard let hours = form.hoursPerWeek, hours >= 2 else {
                throw AgendaError(.invalid, "La participation au SAS suppose au moins 2 heures par semaine consacrées aux soins non programmés.")
            }
            _ = hours
            if mode != .individual {
                guard let text = form.structure?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                    throw AgendaError(.invalid, "Choisissez la structure par laquelle vous participez (\(mode.label.lowercased())).")
                }
                guard let id = try? IDNST(parsing: text) else {
                    throw AgendaError(.invalid, "Identifiant de structure invalide : « \(text) ».")
                }
                let expected: StructureKind = mode == .cpts ? .cpts : (mode == .msp ? .msp : .sosMedecins)
                guard let kind = try await database.query("SELECT kind FROM dir_structures WHERE idnst = ?", [.text(id.value)])
                    .first?.optionalString("kind") else {
                    throw AgendaError(.invalid, "Structure \(id.value) inconnue de l'annuaire.")
                }
                guard kind == expected.rawValue else {
                    throw AgendaError(.invalid, "La structure \(id.value) n'est pas une \(expected.label).")
                }
                structure = id
            }
            if form.acceptsExtraPatients && (mode == .msp || mode == .sosMedecins) {
                throw AgendaError(.invalid, "L'accueil de patients « en sus » ne s'applique pas à une participation via une MSP ou SOS Médecins.")
            }
        } else {
            form.mode = nil
            form.acceptsExtraPatients = false
            form.forfaitReorientation = false
        }
        let vendors = Array(Set(form.vendors.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })).sorted()
        if let unknown = vendors.first(where: { !knownVendors.contains($0) }) {
            throw AgendaError(.invalid, "Logiciel « \(unknown) » inconnu : choisissez parmi les éditeurs raccordés au SAS.")
        }
        let final = form, through = structure
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE dir_practitioners SET participates = ?, participation_mode = ?, participation_structure = ?,
                    accepts_extra = ?, forfait_reorientation = ?, hours_per_week = ?, additional_info = ?, updated_at = ?,
                    settings_version = settings_version + 1
                WHERE idnps = ? AND settings_version = ? RETURNING idnps
                """, [.bool(final.participates), final.mode.map { .int($0.rawValue) } ?? .null, .optional(through?.value),
                      .bool(final.acceptsExtraPatients), .bool(final.forfaitReorientation),
                      final.hoursPerWeek.map { .int($0) } ?? .null, .optional(final.additionalInfo), .date(now),
                      .text(idnps), .int(expectedVersion)])
            guard !rows.isEmpty else {
                if try await tx.query("SELECT idnps FROM dir_practitioners WHERE idnps = ?", [.text(idnps)]).isEmpty {
                    throw AgendaError(.notFound, "Professionnel \(idnps) absent de l'annuaire.")
                }
                throw AgendaError(.conflict, "Ces réglages viennent d'être modifiés par quelqu'un d'autre : rechargez la page et recommencez.")
            }
            try await tx.query("DELETE FROM dir_vendor_links WHERE idnps = ?", [.text(idnps)])
            for vendor in vendors {
                try await tx.query("INSERT INTO dir_vendor_links (idnps, vendor) VALUES (?, ?)", [.text(idnps), .text(vendor)])
            }
            try await DirectoryStore.bumpVersion(on: tx)
            let how = final.participates ? "participe (\(final.mode?.label ?? "?")\(through.map { " \($0.value)" } ?? ""))" : "ne participe pas"
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "participation.update", target: idnps,
                detail: "\(how) ; en sus : \(final.acceptsExtraPatients ? "oui" : "non") ; forfait réorientation : \(final.forfaitReorientation ? "oui" : "non") ; \(final.hoursPerWeek.map { "\($0) h/semaine" } ?? "heures non déclarées") ; logiciels : \(vendors.isEmpty ? "aucun" : vendors.joined(separator: ", "))",
                sourceAddress: sourceAddress, occurredAt: now))
        }
        guard let settings = try await settings(idnps) else { throw AgendaError(.notFound, "Professionnel \(idnps) absent de l'annuaire.") }
        return settings
    }

    /// The "vacances" switch.
    public func setVacation(_ idnps: String, on: Bool, actor: String, sourceAddress: String? = nil, now: Date = Date()) async throws {
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE dir_practitioners SET on_vacation = ?, updated_at = ?, settings_version = settings_version + 1
                WHERE idnps = ? RETURNING idnps
                """, [.bool(on), .date(now), .text(idnps)])
            guard !rows.isEmpty else { throw AgendaError(.notFound, "Professionnel \(idnps) absent de l'annuaire.") }
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: on ? "unavailability.vacation.on" : "unavailability.vacation.off",
                                                     target: idnps, sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Adds an unavailability from `first` to `last` (whole Paris days, inclusive).
    public func addUnavailability(_ idnps: String, from first: LocalDay, through last: LocalDay, actor: String,
                                  sourceAddress: String? = nil, now: Date = Date()) async throws {
        guard last >= first else {
            throw AgendaError(.invalid, "La fin de l'indisponibilité (\(last.frenchLabel)) précède son début (\(first.frenchLabel)).")
        }
        guard last >= ParisClock.day(of: now) else {
            throw AgendaError(.invalid, "Cette indisponibilité est entièrement passée : saisissez des dates à venir.")
        }
        guard first.days(to: last) <= 365 else {
            throw AgendaError(.invalid, "Une indisponibilité dure au plus un an : utilisez l'interrupteur « vacances » pour une absence plus longue.")
        }
        let period = VacationPeriod(start: ParisClock.instant(first, minute: 0), end: ParisClock.instant(last.adding(days: 1), minute: 0))
        try await editUnavailabilities(idnps, actor: actor, action: "unavailability.add",
                                       detail: "du \(first) au \(last)", sourceAddress: sourceAddress, now: now) { periods in
            if periods.contains(where: { $0.start < period.end && $0.end > period.start }) {
                throw AgendaError(.conflict, "Cette période chevauche une indisponibilité déjà déclarée.")
            }
            // Periods over for more than a day are dropped as they are no longer useful.
            periods = periods.filter { $0.end > now.addingTimeInterval(-86_400) } + [period]
            guard periods.count <= Self.maximumUnavailabilities else {
                throw AgendaError(.invalid, "\(Self.maximumUnavailabilities) indisponibilités au plus : supprimez-en une passée ou regroupez-les.")
            }
        }
    }

    /// Removes the unavailability starting at `start`.
    public func removeUnavailability(_ idnps: String, start: Date, actor: String, sourceAddress: String? = nil,
                                     now: Date = Date()) async throws {
        try await editUnavailabilities(idnps, actor: actor, action: "unavailability.remove",
                                       detail: "débutant le \(ParisClock.day(of: start))", sourceAddress: sourceAddress, now: now) { periods in
            let before = periods.count
            periods.removeAll { abs($0.start.timeIntervalSince(start)) < 1 }
            guard periods.count < before else { throw AgendaError(.notFound, "Cette indisponibilité n'existe plus.") }
        }
    }

    func editUnavailabilities(_ idnps: String, actor: String, action: String, detail: String, sourceAddress: String?,
                              now: Date, _ edit: @Sendable (inout [VacationPeriod]) throws -> Void) async throws {
        try await database.transaction { tx in
            let lock = tx.dialect == .postgres ? " FOR UPDATE" : ""
            guard let row = try await tx.query("SELECT vacations FROM dir_practitioners WHERE idnps = ?\(lock)", [.text(idnps)]).first else {
                throw AgendaError(.notFound, "Professionnel \(idnps) absent de l'annuaire.")
            }
            var periods = row.optionalString("vacations").flatMap {
                try? Self.decoder.decode([VacationPeriod].self, from: Data($0.utf8))
            } ?? []
            try edit(&periods)
            periods.sort { $0.start < $1.start }
            let json = periods.isEmpty ? nil : String(decoding: try Self.encoder.encode(periods), as: UTF8.self)
            try await tx.query("""
                UPDATE dir_practitioners SET vacations = ?, updated_at = ?, settings_version = settings_version + 1 WHERE idnps = ?
                """, [.optional(json), .date(now), .text(idnps)])
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: action, target: idnps, detail: detail,
                                                     sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    // MARK: structures

    /// Every structure of the directory.
    public func structures() async throws -> [Structure] {
        try await DirectoryIndexLoader.loadStructures(database, decoder: Self.decoder)
    }

    /// A structure with its settings and members.
    public func structure(_ idnst: String) async throws -> StructureView? {
        guard let structure = try await DirectoryIndexLoader.loadStructures(database, decoder: Self.decoder, idnst: idnst).first else {
            return nil
        }
        let settings = try await database.query("SELECT * FROM structure_settings WHERE idnst = ?", [.text(idnst)]).first
        let members = try await database.query("""
            SELECT idnps, exercise_civility, civility, given_name, family_name FROM dir_practitioners
            WHERE participation_structure = ? AND participates = 1 ORDER BY family_name, given_name, idnps
            """, [.text(idnst)]).compactMap { row -> (String, String)? in
            guard let id = row.optionalString("idnps") else { return nil }
            let civility = row.optionalString("exercise_civility") == "DR" ? "Dr" : (row.optionalString("civility") == "MME" ? "Mme" : "M.")
            return (id, "\(civility) \(row.optionalString("given_name") ?? "") \(row.optionalString("family_name") ?? "")")
        }
        return StructureView(structure: structure, participates: settings.map { $0.bool("participates") } ?? true,
                             hoursPerWeek: settings?["hours_per_week"].intValue, additionalInfo: settings?.optionalString("additional_info"),
                             version: settings?["version"].intValue ?? 0, members: members)
    }

    /// Saves a structure's settings (`expectedVersion` 0 when none were saved yet).
    public func updateStructure(_ idnst: String, expectedVersion: Int, participates: Bool, hoursPerWeek: Int?,
                                additionalInfo: String?, actor: String, sourceAddress: String? = nil, now: Date = Date()) async throws {
        let info = try Self.sanitise(additionalInfo)
        if let hours = hoursPerWeek, !(0...10_000).contains(hours) {
            throw AgendaError(.invalid, "Nombre d'heures par semaine invalide.")
        }
        if participates && (hoursPerWeek ?? 0) < 2 {
            throw AgendaError(.invalid, "La participation de la structure au SAS suppose au moins 2 heures par semaine.")
        }
        try await database.transaction { tx in
            guard try await !tx.query("SELECT idnst FROM dir_structures WHERE idnst = ?", [.text(idnst)]).isEmpty else {
                throw AgendaError(.notFound, "Structure \(idnst) inconnue de l'annuaire.")
            }
            let rows: [SQLRow]
            if expectedVersion == 0 {
                rows = try await tx.query("""
                    INSERT INTO structure_settings (idnst, participates, hours_per_week, additional_info, updated_by, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (idnst) DO NOTHING RETURNING idnst
                    """, [.text(idnst), .bool(participates), hoursPerWeek.map { .int($0) } ?? .null, .optional(info), .text(actor), .date(now)])
            } else {
                rows = try await tx.query("""
                    UPDATE structure_settings SET participates = ?, hours_per_week = ?, additional_info = ?, updated_by = ?,
                        updated_at = ?, version = version + 1
                    WHERE idnst = ? AND version = ? RETURNING idnst
                    """, [.bool(participates), hoursPerWeek.map { .int($0) } ?? .null, .optional(info), .text(actor), .date(now),
                          .text(idnst), .int(expectedVersion)])
            }
            guard !rows.isEmpty else {
                throw AgendaError(.conflict, "Les réglages de la structure viennent d'être modifiés par quelqu'un d'autre : rechargez la page.")
            }
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: actor, action: "structure.settings", target: idnst,
                detail: "participe : \(participates ? "oui" : "non") ; \(hoursPerWeek.map { "\($0) h/semaine" } ?? "heures non déclarées")",
                sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Invites a practitioner to take part through the structure: he becomes a member only when he accepts (on his
    /// participation page), since membership changes how he takes part in the SAS.
    public func invite(_ idnst: String, idnps: String, actor: String, sourceAddress: String? = nil, now: Date = Date()) async throws {
        guard let view = try await structure(idnst) else { throw AgendaError(.notFound, "Structure \(idnst) inconnue de l'annuaire.") }
        guard view.structure.kind != .cds else {
            throw AgendaError(.invalid, "Les professionnels d'un centre de santé participent à titre salarié : pas de rattachement ici.")
        }
        guard !view.members.contains(where: { $0.idnps == idnps }) else {
            throw AgendaError(.conflict, "Ce professionnel est déjà membre de la structure.")
        }
        try await database.transaction { tx in
            guard try await !tx.query("SELECT idnps FROM dir_practitioners WHERE idnps = ?", [.text(idnps)]).isEmpty else {
                throw AgendaError(.notFound, "Professionnel \(idnps) absent de l'annuaire.")
            }
            let rows = try await tx.query("""
                INSERT INTO structure_invitations (idnst, idnps, invited_by, invited_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (idnst, idnps) DO NOTHING RETURNING idnps
                """, [.text(idnst), .text(idnps), .text(actor), .date(now)])
            guard !rows.isEmpty else { throw AgendaError(.conflict, "Ce professionnel est déjà invité : il doit accepter depuis son espace.") }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "structure.member.invite", target: idnst, detail: idnps,
                                                     sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Pending invitations of a practitioner: (structure id, label).
    public func invitations(of idnps: String) async throws -> [(idnst: String, label: String)] {
        try await database.query("""
            SELECT i.idnst, s.name, s.kind FROM structure_invitations i JOIN dir_structures s ON s.idnst = i.idnst
            WHERE i.idnps = ? ORDER BY i.invited_at
            """, [.text(idnps)]).compactMap { row in
            guard let id = row.optionalString("idnst") else { return nil }
            let kind = row.optionalString("kind").flatMap(StructureKind.init(rawValue:))?.label ?? ""
            return (id, "\(row.optionalString("name") ?? id) — \(kind)")
        }
    }

    /// Practitioners a structure invited who have not answered.
    public func pendingInvitations(of idnst: String) async throws -> [String] {
        try await database.query("SELECT idnps FROM structure_invitations WHERE idnst = ? ORDER BY invited_at", [.text(idnst)])
            .compactMap { $0.optionalString("idnps") }
    }

    /// The practitioner's answer to an invitation.
    public func answer(_ idnst: String, idnps: String, accept: Bool, actor: String, sourceAddress: String? = nil,
                       now: Date = Date()) async throws {
        guard try await !database.query("SELECT idnps FROM structure_invitations WHERE idnst = ? AND idnps = ?",
                                        [.text(idnst), .text(idnps)]).isEmpty else {
            throw AgendaError(.notFound, "Cette invitation n'existe plus.")
        }
        // Joined first (it may be refused: already through another structure), then the invitation goes.
        if accept { try await join(idnst, idnps: idnps, actor: actor, sourceAddress: sourceAddress, now: now) }
        try await database.query("DELETE FROM structure_invitations WHERE idnst = ? AND idnps = ?", [.text(idnst), .text(idnps)])
        if !accept {
            try await AuditLog(database).record(AuditEntry(actor: actor, action: "structure.member.decline", target: idnst, detail: idnps,
                                                           sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Makes a practitioner a member (he then takes part in the SAS through the structure); on his acceptance.
    func join(_ idnst: String, idnps: String, actor: String, sourceAddress: String? = nil, now: Date = Date()) async throws {
        guard let structure = try await structure(idnst) else { throw AgendaError(.notFound, "Structure \(idnst) inconnue de l'annuaire.") }
        let mode: ParticipationMode
        switch structure.structure.kind {
        case .cpts: mode = .cpts
        case .msp: mode = .msp
        case .sosMedecins: mode = .sosMedecins
        case .cds: throw AgendaError(.invalid, "Les professionnels d'un centre de santé participent à titre salarié : pas de rattachement ici.")
        }
        try await database.transaction { tx in
            guard let row = try await tx.query("SELECT participation_structure FROM dir_practitioners WHERE idnps = ?", [.text(idnps)]).first else {
                throw AgendaError(.notFound, "Professionnel \(idnps) absent de l'annuaire.")
            }
            if let other = row.optionalString("participation_structure"), other != idnst {
                throw AgendaError(.conflict, "Vous participez déjà via la structure \(other) : modifiez d'abord vos réglages de participation.")
            }
            // Members of an MSP or SOS association do not take patients "en sus" (SAS rule).
            try await tx.query("""
                UPDATE dir_practitioners SET participates = 1, participation_mode = ?, participation_structure = ?,
                    accepts_extra = CASE WHEN ? = 1 THEN accepts_extra ELSE 0 END, updated_at = ?, settings_version = settings_version + 1
                WHERE idnps = ?
                """, [.int(mode.rawValue), .text(idnst), .bool(mode == .cpts), .date(now), .text(idnps)])
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "structure.member.join", target: idnst, detail: idnps,
                                                     sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Removes a member (he then takes part individually; his own settings page lets him change that).
    public func removeMember(_ idnst: String, idnps: String, actor: String, sourceAddress: String? = nil, now: Date = Date()) async throws {
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE dir_practitioners SET participation_mode = ?, participation_structure = NULL, updated_at = ?,
                    settings_version = settings_version + 1
                WHERE idnps = ? AND participation_structure = ? RETURNING idnps
                """, [.int(ParticipationMode.individual.rawValue), .date(now), .text(idnps), .text(idnst)])
            guard !rows.isEmpty else { throw AgendaError(.notFound, "Ce professionnel n'est pas membre de la structure.") }
            // The structure's agenda no longer holds his future slots (those with patients stay, his own now).
            try await tx.query("DELETE FROM agenda_slots WHERE idnps = ? AND structure_idnst = ? AND start_at > ? AND booked = 0",
                               [.text(idnps), .text(idnst), .date(now)])
            try await tx.query("UPDATE agenda_slots SET structure_idnst = NULL, series_id = NULL WHERE idnps = ? AND structure_idnst = ? AND start_at > ?",
                               [.text(idnps), .text(idnst), .date(now)])
            try await tx.query("DELETE FROM agenda_series WHERE idnps = ? AND structure_idnst = ?", [.text(idnps), .text(idnst)])
            try await AgendaBook.bumpVersion(tx)
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "structure.member.remove", target: idnst, detail: idnps,
                                                     sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Adds a fixed consultation place to an SOS Médecins association.
    public func addConsultationPlace(_ idnst: String, _ place: ConsultationPlace, actor: String, sourceAddress: String? = nil,
                                     now: Date = Date()) async throws {
        try await editConsultationPlaces(idnst, actor: actor, detail: "ajout : \(place.name)", sourceAddress: sourceAddress, now: now) { places in
            guard !places.contains(where: { $0.name == place.name }) else {
                throw AgendaError(.conflict, "Un lieu s'appelle déjà « \(place.name) ».")
            }
            guard places.count < 30 else { throw AgendaError(.invalid, "30 lieux de consultation au plus.") }
            places.append(place)
        }
    }

    /// Removes the fixed consultation place named `name`.
    public func removeConsultationPlace(_ idnst: String, named name: String, actor: String, sourceAddress: String? = nil,
                                        now: Date = Date()) async throws {
        try await editConsultationPlaces(idnst, actor: actor, detail: "retrait : \(name)", sourceAddress: sourceAddress, now: now) { places in
            guard let index = places.firstIndex(where: { $0.name == name }) else {
                throw AgendaError(.notFound, "Ce lieu de consultation n'existe plus.")
            }
            places.remove(at: index)
        }
    }

    /// Changes the places in one transaction (row locked on PostgreSQL), so that two managers never lose each other's change.
    func editConsultationPlaces(_ idnst: String, actor: String, detail: String, sourceAddress: String?, now: Date,
                                _ edit: @Sendable (inout [ConsultationPlace]) throws -> Void) async throws {
        try await database.transaction { tx in
            let lock = tx.dialect == .postgres ? " FOR UPDATE" : ""
            guard let row = try await tx.query("SELECT kind, places FROM dir_structures WHERE idnst = ?\(lock)", [.text(idnst)]).first else {
                throw AgendaError(.notFound, "Structure \(idnst) inconnue de l'annuaire.")
            }
            guard row.optionalString("kind") == StructureKind.sosMedecins.rawValue else {
                throw AgendaError(.invalid, "Seules les associations SOS Médecins déclarent des lieux fixes de consultation.")
            }
            var places = row.optionalString("places").flatMap { try? Self.decoder.decode([ConsultationPlace].self, from: Data($0.utf8)) } ?? []
            try edit(&places)
            let json = String(decoding: try Self.encoder.encode(places), as: UTF8.self)
            try await tx.query("UPDATE dir_structures SET places = ?, updated_at = ? WHERE idnst = ?", [.text(json), .date(now), .text(idnst)])
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "structure.places", target: idnst, detail: detail,
                                                     sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    // MARK: managers and delegations

    /// Structures an account manages.
    public func managedStructures(_ accountID: String) async throws -> [String] {
        try await database.query("SELECT idnst FROM structure_managers WHERE account_id = ? ORDER BY idnst", [.text(accountID)])
            .compactMap { $0.optionalString("idnst") }
    }

    /// Replaces the structures an account manages (by an account manager or administrator).
    /// `departments`: the departments the acting manager may act on (nil: every one, for national administrators).
    public func setManagedStructures(_ accountID: String, _ structures: [String], departments: Set<String>? = nil, actor: String,
                                     now: Date = Date()) async throws {
        var ids: [String] = []
        for text in structures {
            guard let id = try? IDNST(parsing: text) else { throw AgendaError(.invalid, "Identifiant de structure invalide : « \(text) ».") }
            ids.append(id.value)
        }
        let wanted = Array(Set(ids)).sorted()
        try await database.transaction { tx in
            for id in wanted {
                guard let department = try await tx.query("SELECT department FROM dir_structures WHERE idnst = ?", [.text(id)])
                    .first?.optionalString("department") else {
                    throw AgendaError(.invalid, "Structure \(id) inconnue de l'annuaire.")
                }
                if let departments, !departments.contains(department) {
                    throw AgendaError(.forbidden, "La structure \(id) (département \(department)) est hors de vos territoires.")
                }
            }
            try await tx.query("DELETE FROM structure_managers WHERE account_id = ?", [.text(accountID)])
            for id in wanted {
                try await tx.query("INSERT INTO structure_managers (account_id, idnst, granted_by, granted_at) VALUES (?, ?, ?, ?)",
                                   [.text(accountID), .text(id), .text(actor), .date(now)])
            }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "structure.managers", target: accountID,
                                                     detail: wanted.isEmpty ? "aucune structure" : wanted.joined(separator: ", "), occurredAt: now))
        }
    }

    /// Grants `delegateAccountID` rights on `owner`'s agenda.
    public func grant(_ owner: AgendaOwner, to delegateAccountID: String, actor: String, sourceAddress: String? = nil,
                      now: Date = Date()) async throws -> Delegation {
        let id = RandomID.uuid()
        try await database.transaction { tx in
            let existing = try await tx.query("""
                SELECT id FROM agenda_delegations WHERE owner = ? AND delegate_account_id = ? AND revoked_at IS NULL
                """, [.text(owner.key), .text(delegateAccountID)])
            guard existing.isEmpty else { throw AgendaError(.conflict, "Ce délégataire a déjà accès à cet agenda.") }
            try await tx.query("""
                INSERT INTO agenda_delegations (id, owner, delegate_account_id, granted_by, granted_at) VALUES (?, ?, ?, ?, ?)
                """, [.text(id), .text(owner.key), .text(delegateAccountID), .text(actor), .date(now)])
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "delegation.grant", target: owner.key,
                                                     detail: "délégataire \(delegateAccountID)", sourceAddress: sourceAddress, occurredAt: now))
        }
        guard let made = try await delegations(owner).first(where: { $0.id == id }) else {
            throw AgendaError(.notFound, "Délégation introuvable.")
        }
        return made
    }

    /// Revokes a delegation of `owner`.
    public func revoke(_ id: String, of owner: AgendaOwner, actor: String, sourceAddress: String? = nil, now: Date = Date()) async throws {
        try await database.transaction { tx in
            let rows = try await tx.query("""
                UPDATE agenda_delegations SET revoked_at = ?, revoked_by = ? WHERE id = ? AND owner = ? AND revoked_at IS NULL
                RETURNING delegate_account_id
                """, [.date(now), .text(actor), .text(id), .text(owner.key)])
            guard let row = rows.first else { throw AgendaError(.notFound, "Cette délégation n'existe pas ou est déjà révoquée.") }
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "delegation.revoke", target: owner.key,
                                                     detail: "délégataire \(row.optionalString("delegate_account_id") ?? "?")",
                                                     sourceAddress: sourceAddress, occurredAt: now))
        }
    }

    /// Delegations of an agenda (active first, then revoked, newest first).
    public func delegations(_ owner: AgendaOwner) async throws -> [Delegation] {
        try await database.query("""
            SELECT d.*, a.email FROM agenda_delegations d JOIN accounts a ON a.id = d.delegate_account_id
            WHERE d.owner = ? ORDER BY CASE WHEN d.revoked_at IS NULL THEN 0 ELSE 1 END, d.granted_at DESC
            """, [.text(owner.key)]).compactMap(Self.delegation)
    }

    /// Agendas an account may act on as a delegate.
    public func delegatedOwners(_ accountID: String) async throws -> [AgendaOwner] {
        try await database.query("""
            SELECT owner FROM agenda_delegations WHERE delegate_account_id = ? AND revoked_at IS NULL ORDER BY owner
            """, [.text(accountID)]).compactMap { $0.optionalString("owner").flatMap(AgendaOwner.init(key:)) }
    }

    static func delegation(_ row: SQLRow) -> Delegation? {
        guard let id = row.optionalString("id"), let owner = row.optionalString("owner").flatMap(AgendaOwner.init(key:)) else { return nil }
        return Delegation(id: id, owner: owner, delegateAccountID: row.optionalString("delegate_account_id") ?? "",
                          delegateEmail: row.optionalString("email") ?? "", grantedBy: row.optionalString("granted_by") ?? "",
                          grantedAt: row.optionalDate("granted_at") ?? .distantPast, revokedAt: row.optionalDate("revoked_at"))
    }
}
