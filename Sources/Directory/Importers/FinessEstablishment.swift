import Foundation
import SASDomain

/// One FINESS geographic establishment (`structureet` row) joined with its `geolocalisation` row, if any.
public struct FinessEstablishment: Sendable, Hashable, Codable {
    /// National structure identifier, `1` + the 9-character FINESS (nofinesset).
    public var idnst: IDNST
    /// FINESS of the legal entity (nofinessej), bare 9 characters; empty when absent.
    public var legalEntityFINESS: String
    /// Short corporate name (rs).
    public var name: String
    /// Long corporate name (rslongue); empty when absent.
    public var longName: String
    /// Name complement (complrs); empty when absent.
    public var nameComplement: String
    /// Establishment category code (categetab, TRE_R66: 604 CPTS, 603 MSP, 124 CDS, 355 CH…).
    public var categoryCode: String
    /// Establishment category label (libcategetab).
    public var categoryLabel: String
    /// Aggregated category code (categagretab).
    public var aggregateCategoryCode: String
    /// Aggregated category label (libcategagretab).
    public var aggregateCategoryLabel: String
    /// Postal address; `postcode` and `city` come from ligneacheminement ("69003 LYON").
    public var address: PostalAddress
    /// True when ligneacheminement is a CEDEX line (the postcode is then a CEDEX code, not the commune's).
    public var isCedex: Bool
    /// INSEE commune code (department + commune), nil when it cannot be derived.
    public var inseeCode: String?
    /// Department code in INSEE/SAS form ("01", "2A", "971"); FINESS overseas codes ("9A"…) are translated.
    public var departmentCode: String
    /// Phone in E.164 (`+33…`, `+590…` overseas) when recognised, otherwise as written; empty when absent.
    public var phone: String
    /// Fax, normalised like `phone`.
    public var fax: String
    /// SIRET (14 digits) when present.
    public var siret: String?
    /// Opening date (dateouv, `yyyy-MM-dd`), empty when absent.
    public var openingDate: String
    /// Last update of the FINESS record (maj), empty when absent.
    public var updateDate: String
    /// WGS84 latitude, nil when the establishment is not geolocated.
    public var latitude: Double?
    /// WGS84 longitude, nil when the establishment is not geolocated.
    public var longitude: Double?
    /// The projection the FINESS coordinates were given in.
    public var projection: MapProjection?
    /// The raw `sourcecoordet` of the geolocation ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93").
    public var geolocationSource: String
    /// 1-based line of the `structureet` row in the file.
    public var line: Int

    /// Memberwise initialiser.
    public init(idnst: IDNST, legalEntityFINESS: String = "", name: String, longName: String = "",
                nameComplement: String = "", categoryCode: String, categoryLabel: String = "",
                aggregateCategoryCode: String = "", aggregateCategoryLabel: String = "", address: PostalAddress,
                isCedex: Bool = false, inseeCode: String?, departmentCode: String, phone: String = "", fax: String = "",
                siret: String? = nil, openingDate: String = "", updateDate: String = "", latitude: Double? = nil,
                longitude: Double? = nil, projection: MapProjection? = nil, geolocationSource: String = "",
                line: Int = 0) {
        self.idnst = idnst
        self.legalEntityFINESS = legalEntityFINESS
        self.name = name
        self.longName = longName
        self.nameComplement = nameComplement
        self.categoryCode = categoryCode
        self.categoryLabel = categoryLabel
        self.aggregateCategoryCode = aggregateCategoryCode
        self.aggregateCategoryLabel = aggregateCategoryLabel
        self.address = address
        self.isCedex = isCedex
        self.inseeCode = inseeCode
        self.departmentCode = departmentCode
        self.phone = phone
        self.fax = fax
        self.siret = siret
        self.openingDate = openingDate
        self.updateDate = updateDate
        self.latitude = latitude
        self.longitude = longitude
        self.projection = projection
        self.geolocationSource = geolocationSource
        self.line = line
    }

    /// The bare 9-character FINESS.
    public var finess: String { idnst.unprefixed }

    /// True when coordinates are known.
    public var isGeolocated: Bool { latitude != nil && longitude != nil }

    /// The SAS structure kind of this category: 604 → CPTS, 603 → MSP, 124 → CDS; nil for other categories.
    public var structureKind: StructureKind? { Self.structureKind(forCategory: categoryCode) }

    /// The SAS structure kind of a FINESS category code (604 CPTS, 603 maison de santé, 124 centre de santé).
    public static func structureKind(forCategory code: String) -> StructureKind? {
        switch code {
        case "604": .cpts
        case "603": .msp
        case "124": .cds
        default: nil
        }
    }

    /// The SAS `Structure` for a CPTS, MSP or CDS; nil for other categories and for establishments without
    /// coordinates (a structure needs a seat position). FINESS has no intervention area: unless one is given
    /// (e.g. from the SAS enrichment file), the area is an empty commune list.
    public func toStructure(interventionArea: InterventionArea = .places([])) -> Structure? {
        guard let kind = structureKind, let latitude, let longitude else { return nil }
        return Structure(idnst: idnst, kind: kind, name: name, departmentCode: departmentCode, latitude: latitude,
                         longitude: longitude, phone: phone, interventionArea: interventionArea)
    }
}

/// Field-level helpers for the FINESS extraction: departments, INSEE codes, routing lines, phones, street types.
enum FinessFields {
    /// FINESS overseas department codes → INSEE department codes.
    static let overseasDepartments: [String: String] = [
        "9A": "971", "9B": "972", "9C": "973", "9D": "974", "9E": "975", "9F": "976", "9J": "986",
    ]

    /// FINESS `departement` → INSEE/SAS department code ("9A" → "971", "1" → "01"); nil when not recognisable.
    static func departmentCode(_ raw: String) -> String? {
        let code = raw.uppercased()
        if let overseas = overseasDepartments[code] { return overseas }
        if code == "2A" || code == "2B" { return code }
        guard !code.isEmpty, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        switch code.count {
        case 1: return "0" + code
        case 2: return code == "00" || code == "20" ? nil : code
        case 3 where code.hasPrefix("97") || code.hasPrefix("98"): return code
        default: return nil
        }
    }

    /// Department from a postcode when the FINESS column is unusable ("20xxx" is Corsica: < 20200 → 2A).
    static func department(fromPostcode postcode: String) -> String? {
        guard postcode.count == 5, postcode.allSatisfy({ $0.isASCII && $0.isNumber }), postcode != "00000" else {
            return nil
        }
        if postcode.hasPrefix("97") || postcode.hasPrefix("98") { return String(postcode.prefix(3)) }
        if postcode.hasPrefix("20") { return postcode < "20200" ? "2A" : "2B" }
        return String(postcode.prefix(2))
    }

    /// INSEE commune code from the FINESS `departement` and `commune` columns.
    ///
    /// Metropolitan: department (2 characters, Corsica `2A`/`2B`) + 3-digit commune (`01` + `451` → `01451`).
    /// Overseas, FINESS writes `9A`…`9F` with a 3-digit commune whose first digit is the department's last one
    /// (`9A` + `101` → `97101`); a 3-digit department (`971`…`976`) comes with a 2-digit commune (`971` + `01`).
    /// Saint-Barthélemy and Saint-Martin still appear under Guadeloupe with their pre-2007 codes (97123, 97127):
    /// they are given their current codes 97701 and 97801.
    static func inseeCode(department rawDepartment: String, commune: String) -> String? {
        guard let department = departmentCode(rawDepartment), !commune.isEmpty,
              commune.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let code: String
        switch (department.count, commune.count) {
        case (2, 3):
            code = department + commune
        case (3, 2):
            code = department + commune
        case (3, 3) where commune.first == department.last:
            code = String(department.prefix(2)) + commune
        default:
            return nil
        }
        switch code {
        case "97123": return "97701"
        case "97127": return "97801"
        default: return code
        }
    }

    /// Splits ligneacheminement: "69003 LYON" → ("69003", "LYON", false); "97306 CAYENNE CEDEX" →
    /// ("97306", "CAYENNE", true). A line without a leading 5-digit postcode is returned whole as the city.
    static func routingLine(_ raw: String) -> (postcode: String, city: String, cedex: Bool) {
        var tokens = raw.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var postcode = ""
        if let first = tokens.first, first.count == 5, first.allSatisfy({ $0.isASCII && $0.isNumber }) {
            postcode = first
            tokens.removeFirst()
        }
        var cedex = false
        if let index = tokens.lastIndex(where: { $0.uppercased() == "CEDEX" }), index > 0 {
            let rest = tokens[(index + 1)...]
            if rest.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }) {
                cedex = true
                tokens.removeSubrange(index...)
            }
        }
        return (postcode, tokens.joined(separator: " "), cedex)
    }

    /// Phone in E.164: French national numbers become `+33…`, overseas ones use their own country code
    /// (Guadeloupe +590, Martinique +596, Guyane +594, La Réunion and Mayotte +262, Saint-Pierre-et-Miquelon +508).
    /// Anything else is returned unchanged (trimmed); empty stays empty.
    static func phone(_ raw: String) -> String {
        let digits = raw.filter { $0.isASCII && $0.isNumber }
        guard digits.count == 10, digits.hasPrefix("0") else {
            if digits.count == 11, digits.hasPrefix("33") { return "+" + digits }
            return raw.trimmingCharacters(in: .whitespaces)
        }
        let national = String(digits.dropFirst())
        switch national.prefix(3) {
        case "590", "690", "691": return "+590" + national
        case "596", "696", "697": return "+596" + national
        case "594", "694": return "+594" + national
        case "262", "263", "692", "693", "269", "639": return "+262" + national
        case "508": return "+508" + national
        default: return "+33" + national
        }
    }

    /// Labels of the FINESS street-type codes (typvoie); unknown codes are shown as written.
    static func streetTypeLabel(_ code: String) -> String {
        streetTypes[code.uppercased()] ?? code
    }

    private static let streetTypes: [String: String] = [
        "ALL": "Allée", "AV": "Avenue", "BD": "Boulevard", "BRG": "Bourg", "CAR": "Carrefour", "CHE": "Chemin",
        "CHEM": "Cheminement", "CHS": "Chaussée", "CITE": "Cité", "CLOS": "Clos", "CRS": "Cours", "DOM": "Domaine",
        "ESP": "Esplanade", "FG": "Faubourg", "HAM": "Hameau", "IMP": "Impasse", "LD": "Lieu-dit",
        "LOT": "Lotissement", "MAIL": "Mail", "PARC": "Parc", "PAS": "Passage", "PL": "Place", "PLT": "Plateau",
        "PRO": "Promenade", "QUAI": "Quai", "QUA": "Quartier", "R": "Rue", "RES": "Résidence", "RLE": "Ruelle",
        "RPT": "Rond-point", "RTE": "Route", "SEN": "Sentier", "SQ": "Square", "TRA": "Traverse", "VLA": "Villa",
        "VOIE": "Voie", "ZA": "Zone d'activité", "ZAC": "Zone d'aménagement concerté", "ZI": "Zone industrielle",
    ]
}
