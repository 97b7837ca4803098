import Foundation
import SASDomain

/// Writes practitioners as an RPPS "PS_LibreAcces_Personne_activite" extraction: `|`-separated, one header
/// line, no quoting, a trailing `|` on every line, one row per practitioner × site, UTF-8.
///
/// Rows are buffered and streamed to a `FileHandle`, so 250,000 rows never sit in memory.
public final class RPPSExtractWriter {
    /// The header columns, verbatim from the public test file quoted in `ecosystem.md` §3.1.
    /// Note: that header has 52 columns (ecosystem.md's prose says 56); newer extractions may append more —
    /// importers must map columns by header name.
    public static let columns: [String] = [
        "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP", "Code civilité d'exercice",
        "Libellé civilité d'exercice", "Code civilité", "Libellé civilité", "Nom d'exercice", "Prénom d'exercice",
        "Code profession", "Libellé profession", "Code catégorie professionnelle", "Libellé catégorie professionnelle",
        "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
        "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site",
        "Numéro FINESS établissement juridique", "Identifiant technique de la structure", "Raison sociale site",
        "Enseigne commerciale site", "Complément destinataire (coord. structure)",
        "Complément point géographique (coord. structure)", "Numéro Voie (coord. structure)",
        "Indice répétition voie (coord. structure)", "Code type de voie (coord. structure)",
        "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
        "Mention distribution (coord. structure)", "Bureau cedex (coord. structure)", "Code postal (coord. structure)",
        "Code commune (coord. structure)", "Libellé commune (coord. structure)", "Code pays (coord. structure)",
        "Libellé pays (coord. structure)", "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)",
        "Télécopie (coord. structure)", "Adresse e-mail (coord. structure)", "Code Département (structure)",
        "Libellé Département (structure)", "Ancien identifiant de la structure", "Autorité d'enregistrement",
        "Code secteur d'activité", "Libellé secteur d'activité", "Code section tableau pharmaciens",
        "Libellé section tableau pharmaciens",
    ]

    /// The header line (with its trailing `|`, without newline).
    public static var headerLine: String { columns.joined(separator: "|") + "|" }

    private let handle: FileHandle
    private var buffer = Data()
    private let bufferSize: Int
    private let departments: Departments
    private let specialties: Specialties
    private var structures: [IDNST: Structure] = [:]
    /// Rows written so far (header excluded).
    public private(set) var rowsWritten = 0

    /// Writes to `handle`; `structures` fill the SIRET/FINESS columns of structure sites.
    public init(handle: FileHandle, departments: Departments, specialties: Specialties, structures: [Structure] = [],
                bufferSize: Int = 1 << 20) {
        self.handle = handle
        self.departments = departments
        self.specialties = specialties
        self.bufferSize = bufferSize
        for s in structures { self.structures[s.idnst] = s }
        buffer.reserveCapacity(bufferSize + 4096)
    }

    /// Appends the header line.
    public func writeHeader() throws {
        try append(Self.headerLine)
    }

    /// Appends one row per site of `record`.
    public func write(_ record: SyntheticRecord) throws {
        for (rang, site) in record.sites.enumerated() {
            try append(row(record.practitioner, site: site, rang: rang + 1))
            rowsWritten += 1
        }
    }

    /// Flushes buffered rows to the file handle.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func append(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= bufferSize { try flush() }
    }

    /// The 52 fields of one practitioner × site row, joined with `|` plus the trailing `|`.
    func row(_ p: Practitioner, site: PracticeSite, rang: Int) -> String {
        let structure = site.structure.flatMap { structures[$0] }
        let salaried = structure?.kind == .cds
        let specialty = p.specialtyCodes.first.flatMap { specialties[code: $0] }
        let cabinet = p.exerciseCivility == "DR" ? "CABINET DU DR \(p.familyName)"
            : "CABINET \(p.civility == .madame ? "MME" : "M.") \(p.familyName)"
        let siteName = structure?.name.uppercased() ?? cabinet
        let a = site.address
        let oldID = site.structure?.value ?? ("4" + p.rpps + String(format: "%03d", rang))
        let fields: [String] = [
            "8", p.rpps, p.idnps.value, p.exerciseCivility ?? "", p.exerciseCivility == "DR" ? "Docteur" : "",
            p.civility.rawValue, p.civility.label, p.familyName.uppercased(), p.givenName.uppercased(),
            p.professionCode, SyntheticFrance.professionLabels[p.professionCode] ?? "", "C", "Civil",
            specialty == nil ? "" : "S", specialty == nil ? "" : "Spécialité ordinale", specialty?.code ?? "",
            specialty.map { Self.stripSuffix($0.display) } ?? "",
            salaried ? "S" : "L", salaried ? "Salarié" : "Libéral",
            structure?.siret ?? "", structure?.siret.map { String($0.prefix(9)) } ?? "", structure?.finess ?? "", "",
            "R1" + String(format: "%013d", site.id), siteName, "", siteName, a.complement,
            a.number, a.repetition, a.streetTypeCode, a.streetType, a.streetName.uppercased(), "",
            "\(a.postcode) \(a.city.uppercased())", a.postcode, site.inseeCode ?? "", a.city.uppercased(), "", "",
            Self.nationalPhone(site.phone), "", "", "", site.departmentCode, departments[code: site.departmentCode]?.name ?? "",
            oldID, SyntheticFrance.authorities[p.professionCode] ?? "ARS/ARS/ARS",
            structure == nil ? "SA07" : "", structure == nil ? "Cabinet individuel" : "", "", "",
        ]
        return fields.map(Self.clean).joined(separator: "|") + "|"
    }

    /// "+33478123456" → "0478123456"; "+590590123456" → "0590123456".
    static func nationalPhone(_ e164: String) -> String {
        if e164.hasPrefix("+33") { return "0" + e164.dropFirst(3) }
        if e164.hasPrefix("+") { return "0" + e164.dropFirst(4) }
        return e164
    }

    private static func clean(_ field: String) -> String {
        guard field.contains(where: { $0 == "|" || $0.isNewline }) else { return field }
        return String(field.map { $0 == "|" || $0.isNewline ? " " : $0 })
    }

    private static func stripSuffix(_ display: String) -> String {
        guard display.hasSuffix(")"), let r = display.range(of: " (", options: .backwards) else { return display }
        return String(display[..<r.lowerBound])
    }
}

extension SyntheticFrance {
    /// Writes the whole synthetic directory as an RPPS extraction at `url` (replaced if present); returns the
    /// number of data rows.
    @discardableResult
    public func writeRPPSExtract(to url: URL) throws -> Int {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        let writer = RPPSExtractWriter(handle: handle, departments: departments, specialties: specialties,
                                       structures: structures)
        try writer.writeHeader()
        try forEachRecord { try writer.write($0) }
        try writer.flush()
        return writer.rowsWritten
    }
}
