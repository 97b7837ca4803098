import Foundation
import SASDomain

/// Kinds of structures the SAS knows.
public enum StructureKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Communauté professionnelle territoriale de santé (FINESS).
    case cpts
    /// Maison de santé pluriprofessionnelle (FINESS).
    case msp
    /// Centre de santé (FINESS).
    case cds
    /// SOS Médecins association (SIRET).
    case sosMedecins

    /// French label.
    public var label: String {
        switch self {
        case .cpts: "CPTS"
        case .msp: "Maison de santé pluriprofessionnelle"
        case .cds: "Centre de santé"
        case .sosMedecins: "SOS Médecins"
        }
    }
}

/// The territory a structure covers.
public enum InterventionArea: Sendable, Hashable, Codable {
    /// A list of `places.csv` place ids (a CPTS covers communes).
    case places([Int])
    /// A disc.
    case radius(latitude: Double, longitude: Double, km: Double)
}

/// A fixed consultation place of an SOS Médecins association.
public struct ConsultationPlace: Sendable, Hashable, Codable {
    /// Name ("Centre de consultation Lyon Nord").
    public var name: String
    /// Address.
    public var address: PostalAddress
    /// WGS84 latitude.
    public var latitude: Double
    /// WGS84 longitude.
    public var longitude: Double

    /// Memberwise initialiser.
    public init(name: String, address: PostalAddress, latitude: Double, longitude: Double) {
        self.name = name
        self.address = address
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// A CPTS, MSP, CDS or SOS Médecins association.
public struct Structure: Sendable, Hashable, Codable {
    /// National structure id (`1` + FINESS, `3` + SIRET for SOS).
    public var idnst: IDNST
    /// Kind.
    public var kind: StructureKind
    /// Name.
    public var name: String
    /// Department code of its seat.
    public var departmentCode: String
    /// Seat latitude.
    public var latitude: Double
    /// Seat longitude.
    public var longitude: Double
    /// Phone (`+33…`).
    public var phone: String
    /// Covered territory.
    public var interventionArea: InterventionArea
    /// SOS Médecins fixed consultation places (empty for other kinds).
    public var consultationPlaces: [ConsultationPlace]

    /// Memberwise initialiser.
    public init(idnst: IDNST, kind: StructureKind, name: String, departmentCode: String, latitude: Double,
                longitude: Double, phone: String, interventionArea: InterventionArea,
                consultationPlaces: [ConsultationPlace] = []) {
        self.idnst = idnst
        self.kind = kind
        self.name = name
        self.departmentCode = departmentCode
        self.latitude = latitude
        self.longitude = longitude
        self.phone = phone
        self.interventionArea = interventionArea
        self.consultationPlaces = consultationPlaces
    }

    /// The bare FINESS (CPTS, MSP, CDS), or nil.
    public var finess: String? { idnst.kind == .finess ? idnst.unprefixed : nil }
    /// The bare SIRET (SOS Médecins), or nil.
    public var siret: String? { idnst.kind == .siret ? idnst.unprefixed : nil }
}

/// A SAS territory (one per department) with its search-radius rules.
public struct Territory: Sendable, Hashable, Codable {
    /// Identifier, e.g. "SAS-69".
    public let id: String
    /// Display name, e.g. "SAS-69 Rhône".
    public let name: String
    /// Department codes covered.
    public let departmentCodes: [String]
    /// Default radius for address/city searches, km.
    public let defaultRadiusKm: Double
    /// Enlargement step, km.
    public let enlargementKm: Double
    /// Radius for department-level searches, km.
    public let departmentRadiusKm: Double
    /// Barycentre latitude (0 when unknown).
    public let centreLatitude: Double
    /// Barycentre longitude (0 when unknown).
    public let centreLongitude: Double

    /// The territory of one department, from the radius table.
    public init(department d: Department) {
        id = d.sasTerritory
        name = "\(d.sasTerritory) \(d.name)"
        departmentCodes = [d.code]
        defaultRadiusKm = d.defaultRadiusKm
        enlargementKm = d.enlargementKm
        departmentRadiusKm = d.departmentRadiusKm
        centreLatitude = d.centreLatitude
        centreLongitude = d.centreLongitude
    }
}
