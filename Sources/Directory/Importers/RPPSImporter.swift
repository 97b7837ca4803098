import Foundation
import SASDomain
import Storage

/// Imports an RPPS "PS_LibreAcces_Personne_activite" extraction: `|`-separated, one header line, one row per
/// practitioner × activity, UTF-8 or Latin-1. Columns are found by header name (accent- and case-insensitive), not
/// by position, so that the column additions the ANS makes over time do not break the import.
///
/// The whole import is one transaction: a file that fails half-way (I/O error, missing column) leaves the
/// directory as it was. Bad rows are reported with their line number and skipped. Re-importing updates in place
/// and never duplicates; it never overwrites SAS participation, which comes from the SAS enrichment file.
public struct RPPSImporter: Sendable {
    let database: any Database
    let geocoder: OfflineGeocoder
    let specialties: Specialties
    /// Practitioners written per batch of statements.
    let batchSize = 1_000

    public init(database: any Database, geocoder: OfflineGeocoder, specialties: Specialties) {
        self.database = database
        self.geocoder = geocoder
        self.specialties = specialties
    }

    /// Column names, as normalised keys.
    enum Column: String, CaseIterable {
        case idnps = "Identification nationale PP"
        case exerciseCivility = "Code civilité d'exercice"
        case civility = "Code civilité"
        case familyName = "Nom d'exercice"
        case givenName = "Prénom d'exercice"
        case profession = "Code profession"
        case skillType = "Code type savoir-faire"
        case skill = "Code savoir-faire"
        case complement = "Complément destinataire (coord. structure)"
        case number = "Numéro Voie (coord. structure)"
        case repetition = "Indice répétition voie (coord. structure)"
        case streetTypeCode = "Code type de voie (coord. structure)"
        case streetType = "Libellé type de voie (coord. structure)"
        case street = "Libellé Voie (coord. structure)"
        case cedex = "Bureau cedex (coord. structure)"
        case postcode = "Code postal (coord. structure)"
        case commune = "Code commune (coord. structure)"
        case city = "Libellé commune (coord. structure)"
        case phone = "Téléphone (coord. structure)"
        case structureID = "Ancien identifiant de la structure"

        static let required: [Column] = [.idnps, .familyName, .givenName, .profession]
        var key: String { RPPSImporter.headerKey(rawValue) }
    }

    static func headerKey(_ name: String) -> String {
        TextNormalizer.key(name.replacingOccurrences(of: "coord. structure", with: "coord structure"))
    }

    /// One practitioner being assembled from consecutive rows.
    struct Pending {
        var practitioner: Practitioner
        var sites: [PracticeSite]
    }

    /// Imports the file at `url`. `progress` receives (bytes read, total bytes).
    public func importFile(at url: URL, progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> ImportSummary {
        let started = Date()
        let reader: LineReader
        do { reader = try LineReader(url: url) } catch { throw ImportFileError("fichier illisible (\(url.path))") }
        guard let headerLine = try reader.nextLine() else { throw ImportFileError("fichier vide") }
        let header = headerLine.split(separator: "|", omittingEmptySubsequences: false).map { Self.headerKey(String($0)) }
        var index: [Column: Int] = [:]
        for column in Column.allCases {
            if let i = header.firstIndex(of: column.key) { index[column] = i }
        }
        let missing = Column.required.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw ImportFileError("colonnes obligatoires absentes de l'en-tête : \(missing.map(\.rawValue).joined(separator: ", "))")
        }
        let existing = try await DirectoryStore(database: database).existingIDNPS()
        let box = ImportState(existing: existing)
        let columnIndex = index
        // Lines end with "|", so the header splits into its columns plus one empty field.
        let headerCount = header.last == "" ? header.count - 1 : header.count
        let summary = try await database.transaction { tx in
            var batch: [Pending] = []
            var current: Pending?
            while let line = try reader.nextLine() {
                box.summary.linesRead += 1
                if line.isEmpty { continue }
                let fields = line.split(separator: "|", omittingEmptySubsequences: false)
                // Every line ends with a trailing "|": the split gives one more (empty) field than columns named.
                guard fields.count >= headerCount else {
                    box.summary.reject(line: reader.lineNumber, "\(fields.count) champs au lieu de \(headerCount)")
                    continue
                }
                do {
                    let row = try self.parse(fields, index: columnIndex, line: reader.lineNumber, state: box)
                    if let pending = current, pending.practitioner.idnps == row.practitioner.idnps {
                        current = Self.merge(pending, row)
                    } else {
                        if let pending = current { batch.append(pending) }
                        current = row
                    }
                } catch let error as RowError {
                    box.summary.reject(line: reader.lineNumber, error.reason)
                }
                if batch.count >= self.batchSize {
                    try await self.write(batch, on: tx, state: box)
                    batch.removeAll(keepingCapacity: true)
                    progress?(reader.bytesRead, reader.totalBytes)
                }
            }
            if let pending = current { batch.append(pending) }
            try await self.write(batch, on: tx, state: box)
            try await DirectoryStore.bumpVersion(on: tx)
            try await AuditLog(tx).record(AuditEntry(
                actor: "import", action: "directory.import.rpps", target: url.lastPathComponent,
                detail: "lus \(box.summary.linesRead), créés \(box.summary.created), mis à jour \(box.summary.updated), rejetés \(box.summary.rejectedCount)"))
            progress?(reader.totalBytes, reader.totalBytes)
            return box.summary
        }
        var result = summary
        result.encoding = reader.sawLatin1 ? "Latin-1" : "UTF-8"
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    struct RowError: Error { let reason: String }

    private func parse(_ fields: [Substring], index: [Column: Int], line: Int, state: ImportState) throws -> Pending {
        func value(_ column: Column) -> String {
            guard let i = index[column], i < fields.count else { return "" }
            return fields[i].trimmingCharacters(in: .whitespaces)
        }
        let rawID = value(.idnps)
        guard !rawID.isEmpty else { throw RowError(reason: "identifiant national (IDNPS) absent") }
        let idnps: IDNPS
        do { idnps = try IDNPS(parsing: rawID) } catch {
            let reason = (error as? NationalIdentifierError)?.message ?? "\(error)"
            throw RowError(reason: "IDNPS « \(rawID) » invalide : \(reason)")
        }
        let family = value(.familyName), given = value(.givenName), profession = value(.profession)
        guard !family.isEmpty else { throw RowError(reason: "nom d'exercice absent") }
        guard !profession.isEmpty else { throw RowError(reason: "code profession absent") }
        var specialtyCodes: [String] = []
        let skill = value(.skill)
        if !skill.isEmpty, specialties[code: skill] != nil { specialtyCodes.append(skill) }
        let civility: Civility = ["MME", "MLLE"].contains(value(.civility).uppercased()) ? .madame : .monsieur
        let exercise = value(.exerciseCivility)
        let practitioner = Practitioner(
            idnps: idnps, civility: civility, exerciseCivility: exercise.isEmpty ? nil : exercise, familyName: family,
            givenName: given, professionCode: profession, specialtyCodes: specialtyCodes, participation: .none)
        var sites: [PracticeSite] = []
        var postcode = value(.postcode)
        var city = value(.city)
        let cedex = value(.cedex)
        if city.isEmpty, !cedex.isEmpty {
            // "25300 DOUBS": the distribution office carries postcode and city when the commune is empty.
            let parts = cedex.split(separator: " ", maxSplits: 1)
            if postcode.isEmpty, let first = parts.first, first.count == 5, first.allSatisfy(\.isNumber) { postcode = String(first) }
            if parts.count == 2 { city = String(parts[1]) }
        }
        if !postcode.isEmpty || !city.isEmpty || !value(.commune).isEmpty {
            let address = PostalAddress(
                number: value(.number), repetition: value(.repetition), streetTypeCode: value(.streetTypeCode),
                streetType: value(.streetType), streetName: value(.street), complement: value(.complement),
                postcode: postcode, city: city)
            if let geo = try? geocoder.resolve(postcode: postcode, city: city, inseeCode: value(.commune).isEmpty ? nil : value(.commune)),
               geo.precision != .department {
                let structure = value(.structureID).isEmpty ? nil : try? IDNST(parsing: value(.structureID))
                sites.append(PracticeSite(
                    id: DirectoryStore.siteID(idnps: idnps.value, address: address), practitioner: idnps, address: address,
                    postcodeIsSynthetic: false, inseeCode: value(.commune).isEmpty ? nil : value(.commune),
                    departmentCode: geo.departmentCode, latitude: geo.latitude, longitude: geo.longitude,
                    phone: Self.normalisePhone(value(.phone)), structure: structure, placeID: geo.place?.id))
            } else {
                state.summary.sitesWithoutCoordinates += 1
            }
        }
        return Pending(practitioner: practitioner, sites: sites)
    }

    static func merge(_ a: Pending, _ b: Pending) -> Pending {
        var merged = a
        for code in b.practitioner.specialtyCodes where !merged.practitioner.specialtyCodes.contains(code) {
            merged.practitioner.specialtyCodes.append(code)
        }
        for site in b.sites where !merged.sites.contains(where: { $0.id == site.id }) { merged.sites.append(site) }
        return merged
    }

    private func write(_ batch: [Pending], on tx: any SQLExecutor, state: ImportState) async throws {
        guard !batch.isEmpty else { return }
        var practitioners: [Practitioner] = []
        for var pending in batch {
            let id = pending.practitioner.idnps.value
            if let earlier = state.writtenSpecialties[id] {
                // The same practitioner again, not on consecutive lines: keep what earlier rows brought.
                pending.practitioner.specialtyCodes = Array(Set(earlier).union(pending.practitioner.specialtyCodes)).sorted()
            } else if state.existing.contains(id) {
                state.summary.updated += 1
            } else {
                state.summary.created += 1
            }
            state.writtenSpecialties[id] = pending.practitioner.specialtyCodes
            practitioners.append(pending.practitioner)
        }
        try await DirectoryStore.upsert(practitioners, source: "rpps", keepParticipation: true, on: tx)
        let sites = batch.flatMap(\.sites)
        state.summary.sites += sites.count
        try await DirectoryStore.upsert(sites, on: tx)
    }

    /// `0478123456` → `+33478123456`; other forms are kept as given.
    static func normalisePhone(_ raw: String) -> String {
        let digits = raw.filter(\.isNumber)
        if digits.count == 10, digits.hasPrefix("0") { return "+33" + digits.dropFirst() }
        if digits.count == 11, digits.hasPrefix("33") { return "+" + digits }
        return raw
    }
}

/// Mutable state of one import, confined to the import's transaction task.
final class ImportState: @unchecked Sendable {
    var summary = ImportSummary()
    let existing: Set<String>
    var writtenSpecialties: [String: [String]] = [:]
    init(existing: Set<String>) { self.existing = existing }
}
