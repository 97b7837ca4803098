import Foundation
import SASDomain

/// A French postal address split the way the RPPS extraction splits it.
public struct PostalAddress: Sendable, Hashable, Codable {
    /// House number ("12"), empty when none.
    public var number: String
    /// Repetition index ("B" bis, "T" ter), empty when none.
    public var repetition: String
    /// RPPS street-type code ("R", "AV", "BD"…).
    public var streetTypeCode: String
    /// Street-type label ("Rue", "Avenue"…).
    public var streetType: String
    /// Street name without its type ("de la République").
    public var streetName: String
    /// Extra line (building, "Centre médical"), empty when none.
    public var complement: String
    /// Postcode.
    public var postcode: String
    /// City label.
    public var city: String

    /// Memberwise initialiser.
    public init(number: String = "", repetition: String = "", streetTypeCode: String = "", streetType: String = "",
                streetName: String = "", complement: String = "", postcode: String, city: String) {
        self.number = number
        self.repetition = repetition
        self.streetTypeCode = streetTypeCode
        self.streetType = streetType
        self.streetName = streetName
        self.complement = complement
        self.postcode = postcode
        self.city = city
    }

    /// "12 rue de la République".
    public var streetLine: String {
        [number + (repetition.isEmpty ? "" : " " + repetition), streetType.lowercased(), streetName]
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Display lines: complement, street, "69003 Lyon".
    public var lines: [String] {
        [complement, streetLine, "\(postcode) \(city)"].filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}

/// A place where a practitioner works (RPPS "situation d'exercice", geocoded).
public struct PracticeSite: Sendable, Hashable, Codable {
    /// Site identifier (stable within a directory).
    public var id: Int64
    /// The practitioner working there.
    public var practitioner: IDNPS
    /// Postal address.
    public var address: PostalAddress
    /// True when the postcode was made up by the synthetic generator (dept + "0" + 2 digits).
    public var postcodeIsSynthetic: Bool
    /// INSEE commune code, when known.
    public var inseeCode: String?
    /// Department code.
    public var departmentCode: String
    /// WGS84 latitude.
    public var latitude: Double
    /// WGS84 longitude.
    public var longitude: Double
    /// Phone number in E.164 (`+33…`).
    public var phone: String
    /// The structure the site belongs to (MSP, CDS, SOS association), if any.
    public var structure: IDNST?
    /// The `places.csv` place the site is attached to, when known.
    public var placeID: Int?

    /// Memberwise initialiser.
    public init(id: Int64, practitioner: IDNPS, address: PostalAddress, postcodeIsSynthetic: Bool, inseeCode: String?,
                departmentCode: String, latitude: Double, longitude: Double, phone: String, structure: IDNST?,
                placeID: Int?) {
        self.id = id
        self.practitioner = practitioner
        self.address = address
        self.postcodeIsSynthetic = postcodeIsSynthetic
        self.inseeCode = inseeCode
        self.departmentCode = departmentCode
        self.latitude = latitude
        self.longitude = longitude
        self.phone = phone
        self.structure = structure
        self.placeID = placeID
    }
}

/// A booking-software vendor connected to the SAS aggregator.
public struct Vendor: Sendable, Hashable, Codable {
    /// Vendor identifier.
    public let id: String
    /// Corporate name.
    public let name: String

    /// Memberwise initialiser.
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// Which vendor holds a practitioner's agenda (practitioners without a link use the SAS agenda).
public struct VendorLink: Sendable, Hashable, Codable {
    /// The practitioner.
    public let practitioner: IDNPS
    /// The vendor.
    public let vendorID: String

    /// Memberwise initialiser.
    public init(practitioner: IDNPS, vendorID: String) {
        self.practitioner = practitioner
        self.vendorID = vendorID
    }
}
