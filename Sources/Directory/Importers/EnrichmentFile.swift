import Foundation
import SASDomain

/// The SAS enrichment file (JSON): what the national directories lack — SAS participation, structure details
/// (intervention areas, SOS Médecins consultation places) and practitioner ↔ vendor links.
///
/// ```json
/// {
///   "version": 1,
///   "participation": [
///     { "idnps": "810001234567", "participates": true, "mode": "cpts", "structure": "1690000001",
///       "acceptsExtraPatients": true, "forfaitReorientation": false,
///       "vacations": [ { "start": "2026-07-01", "end": "2026-07-15" } ] }
///   ],
///   "structures": [
///     { "idnst": "1690000001", "kind": "CPTS", "name": "CPTS Lyon Est", "department": "69",
///       "latitude": 45.75, "longitude": 4.87, "phone": "04 78 00 00 00",
///       "interventionArea": { "inseeCodes": ["69383", "69388"] } },
///     { "idnst": "31234567800012", "kind": "SOS", "name": "SOS Médecins Lyon", "department": "69",
///       "latitude": 45.76, "longitude": 4.84,
///       "interventionArea": { "centre": { "latitude": 45.76, "longitude": 4.84 }, "radiusKm": 15 },
///       "consultationPlaces": [ { "name": "Centre Lyon 7", "latitude": 45.74, "longitude": 4.84,
///         "address": { "number": "12", "streetType": "Rue", "streetName": "de Marseille",
///                      "postcode": "69007", "city": "Lyon" } } ] }
///   ],
///   "vendorLinks": [ { "idnps": "810001234567", "vendor": "editeur-a" } ]
/// }
/// ```
///
/// Vacation days are calendar days in Europe/Paris: `start` is the first day of absence and `end` the last one
/// (both inclusive); they become a `VacationPeriod` from `start` 00:00 to the day after `end` 00:00, Paris time.
/// Identifiers are written as on the wire (IDNPS with its prefix; IDNST `1`+FINESS or `3`+SIRET, bare FINESS/SIRET
/// accepted). All three lists are optional. Use ``load(data:resolvingINSEE:onProblem:)`` to validate each entry.
public struct EnrichmentFile: Sendable, Hashable, Codable {
    /// Format version (1).
    public var version: Int?
    /// Practitioner participation settings.
    public var participation: [Participation]?
    /// Structures (CPTS, MSP, CDS, SOS Médecins).
    public var structures: [StructureEntry]?
    /// Practitioner ↔ booking-software links.
    public var vendorLinks: [VendorLinkEntry]?

    /// Creates a file.
    public init(version: Int? = 1, participation: [Participation]? = nil, structures: [StructureEntry]? = nil,
                vendorLinks: [VendorLinkEntry]? = nil) {
        self.version = version
        self.participation = participation
        self.structures = structures
        self.vendorLinks = vendorLinks
    }

    /// How a practitioner takes part in the SAS, as spelled in the file.
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        /// Individually.
        case individual
        /// Through a CPTS.
        case cpts
        /// Through a maison de santé pluriprofessionnelle.
        case msp
        /// Through an SOS Médecins association.
        case sos

        /// The model's participation mode.
        public var participationMode: ParticipationMode {
            switch self {
            case .individual: .individual
            case .cpts: .cpts
            case .msp: .msp
            case .sos: .sosMedecins
            }
        }

        /// The kind of structure this mode goes through (nil for `individual`).
        public var structureKind: StructureKind? {
            switch self {
            case .individual: nil
            case .cpts: .cpts
            case .msp: .msp
            case .sos: .sosMedecins
            }
        }

        /// Decodes case-insensitively; an unknown mode fails with a French reason.
        public init(from decoder: any Decoder) throws {
            let raw = try decoder.singleValueContainer().decode(String.self)
            guard let mode = Mode(rawValue: raw.lowercased()) else {
                throw EnrichmentFieldError(path: decoder.codingPath,
                                           reason: "mode « \(raw) » inconnu (individual, cpts, msp ou sos attendu)")
            }
            self = mode
        }
    }

    /// One practitioner's SAS participation (when `participates` is false, only `vacations` is kept).
    public struct Participation: Sendable, Hashable, Codable {
        /// IDNPS (`8` + RPPS).
        public var idnps: String
        /// Takes part in the SAS.
        public var participates: Bool
        /// How; required when participating.
        public var mode: Mode?
        /// IDNST of the CPTS, MSP or SOS association; required for those modes, absent for `individual`.
        public var structure: String?
        /// Accepts patients "en sus" (not possible via MSP or SOS Médecins). Default false.
        public var acceptsExtraPatients: Bool?
        /// Takes the "forfait de réorientation des urgences". Default false.
        public var forfaitReorientation: Bool?
        /// Declared absences.
        public var vacations: [Vacation]?

        /// Creates an entry.
        public init(idnps: String, participates: Bool, mode: Mode? = nil, structure: String? = nil,
                    acceptsExtraPatients: Bool? = nil, forfaitReorientation: Bool? = nil,
                    vacations: [Vacation]? = nil) {
            self.idnps = idnps
            self.participates = participates
            self.mode = mode
            self.structure = structure
            self.acceptsExtraPatients = acceptsExtraPatients
            self.forfaitReorientation = forfaitReorientation
            self.vacations = vacations
        }
    }

    /// An absence, first and last day inclusive (`yyyy-MM-dd`, Europe/Paris).
    public struct Vacation: Sendable, Hashable, Codable {
        /// First day of absence.
        public var start: String
        /// Last day of absence (inclusive).
        public var end: String

        /// Creates a period.
        public init(start: String, end: String) {
            self.start = start
            self.end = end
        }
    }

    /// Structure kinds, as spelled in the file.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Communauté professionnelle territoriale de santé.
        case cpts = "CPTS"
        /// Maison de santé pluriprofessionnelle.
        case msp = "MSP"
        /// Centre de santé.
        case cds = "CDS"
        /// SOS Médecins association.
        case sos = "SOS"

        /// The model's structure kind.
        public var structureKind: StructureKind {
            switch self {
            case .cpts: .cpts
            case .msp: .msp
            case .cds: .cds
            case .sos: .sosMedecins
            }
        }

        /// Decodes case-insensitively; an unknown kind fails with a French reason.
        public init(from decoder: any Decoder) throws {
            let raw = try decoder.singleValueContainer().decode(String.self)
            guard let kind = Kind(rawValue: raw.uppercased()) else {
                throw EnrichmentFieldError(path: decoder.codingPath,
                                           reason: "type de structure « \(raw) » inconnu (CPTS, MSP, CDS ou SOS attendu)")
            }
            self = kind
        }
    }

    /// A structure and what the national directories do not say about it.
    public struct StructureEntry: Sendable, Hashable, Codable {
        /// IDNST: `1`+FINESS for CPTS/MSP/CDS, `3`+SIRET for SOS Médecins.
        public var idnst: String
        /// Kind.
        public var kind: Kind
        /// Name.
        public var name: String
        /// Department code of the seat ("69", "2A", "974").
        public var department: String
        /// Seat latitude (WGS84).
        public var latitude: Double
        /// Seat longitude (WGS84).
        public var longitude: Double
        /// Phone (normalised to E.164 when French).
        public var phone: String?
        /// Covered territory.
        public var interventionArea: Area?
        /// Fixed consultation places (SOS Médecins only).
        public var consultationPlaces: [ConsultationPlaceEntry]?

        /// Creates an entry.
        public init(idnst: String, kind: Kind, name: String, department: String, latitude: Double, longitude: Double,
                    phone: String? = nil, interventionArea: Area? = nil,
                    consultationPlaces: [ConsultationPlaceEntry]? = nil) {
            self.idnst = idnst
            self.kind = kind
            self.name = name
            self.department = department
            self.latitude = latitude
            self.longitude = longitude
            self.phone = phone
            self.interventionArea = interventionArea
            self.consultationPlaces = consultationPlaces
        }
    }

    /// An intervention area: either a list of INSEE commune codes, or a centre and a radius.
    public struct Area: Sendable, Hashable, Codable {
        /// INSEE commune codes covered.
        public var inseeCodes: [String]?
        /// Disc centre.
        public var centre: Point?
        /// Disc radius, km.
        public var radiusKm: Double?

        /// Creates an area.
        public init(inseeCodes: [String]? = nil, centre: Point? = nil, radiusKm: Double? = nil) {
            self.inseeCodes = inseeCodes
            self.centre = centre
            self.radiusKm = radiusKm
        }
    }

    /// A WGS84 point.
    public struct Point: Sendable, Hashable, Codable {
        /// Latitude.
        public var latitude: Double
        /// Longitude.
        public var longitude: Double

        /// Creates a point.
        public init(latitude: Double, longitude: Double) {
            self.latitude = latitude
            self.longitude = longitude
        }
    }

    /// A fixed consultation place of an SOS Médecins association.
    public struct ConsultationPlaceEntry: Sendable, Hashable, Codable {
        /// Name.
        public var name: String
        /// Address.
        public var address: Address
        /// Latitude.
        public var latitude: Double
        /// Longitude.
        public var longitude: Double

        /// Creates a place.
        public init(name: String, address: Address, latitude: Double, longitude: Double) {
            self.name = name
            self.address = address
            self.latitude = latitude
            self.longitude = longitude
        }
    }

    /// A postal address; only `postcode` and `city` are required.
    public struct Address: Sendable, Hashable, Codable {
        /// House number.
        public var number: String?
        /// Repetition index ("B", "T").
        public var repetition: String?
        /// Street-type code ("R", "AV").
        public var streetTypeCode: String?
        /// Street-type label ("Rue").
        public var streetType: String?
        /// Street name.
        public var streetName: String?
        /// Extra line.
        public var complement: String?
        /// Postcode.
        public var postcode: String
        /// City.
        public var city: String

        /// Creates an address.
        public init(number: String? = nil, repetition: String? = nil, streetTypeCode: String? = nil,
                    streetType: String? = nil, streetName: String? = nil, complement: String? = nil,
                    postcode: String, city: String) {
            self.number = number
            self.repetition = repetition
            self.streetTypeCode = streetTypeCode
            self.streetType = streetType
            self.streetName = streetName
            self.complement = complement
            self.postcode = postcode
            self.city = city
        }

        /// The model address.
        public var postalAddress: PostalAddress {
            PostalAddress(number: number ?? "", repetition: repetition ?? "", streetTypeCode: streetTypeCode ?? "",
                          streetType: streetType ?? "", streetName: streetName ?? "", complement: complement ?? "",
                          postcode: postcode, city: city)
        }
    }

    /// Which vendor holds a practitioner's agenda.
    public struct VendorLinkEntry: Sendable, Hashable, Codable {
        /// IDNPS.
        public var idnps: String
        /// Vendor identifier.
        public var vendor: String

        /// Creates a link.
        public init(idnps: String, vendor: String) {
            self.idnps = idnps
            self.vendor = vendor
        }
    }
}

/// A field-level decoding error with its JSON path and a French reason.
struct EnrichmentFieldError: Error {
    let path: [any CodingKey]
    let reason: String
}
