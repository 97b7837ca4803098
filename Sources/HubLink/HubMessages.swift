import Foundation

/// The Hub Santé message formats of INT_L02 (JSON form): the EDXL-DE envelope, the RC-DE header and the use-case
/// payloads — `appointment` (RS-SAS-RDV) sent by the platform, `reference` (RC-REF, the LRM's final acknowledgement)
/// and `error` (RS-ERROR) received. No patient data exists in any of them.
public enum HubMessages {
    /// `yyyy-MM-ddTHH:mm:ss±hh:mm` in Paris time, as the schemas require (no `Z`, no fraction).
    public static func instant(_ date: Date) -> String {
        let zone = TimeZone(identifier: "Europe/Paris")!
        let offset = zone.secondsFromGMT(for: date)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: offset)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        return formatter.string(from: date) + String(format: "%@%02d:%02d", sign, minutes / 60, minutes % 60)
    }

    public struct Party: Codable, Sendable, Equatable {
        public var name: String
        public var URI: String
        public init(_ clientID: String) {
            name = clientID
            URI = "hubex:" + clientID
        }
    }

    public struct Practitioner: Codable, Sendable, Equatable {
        public var rppsId: String
        public var lastName: String
        public var firstName: String
        public var specialityCode: String?
        public var specialityUrl: String?
        public var professionCode: String?
        public var professionUrl: String?

        public init(rppsId: String, lastName: String, firstName: String, specialityCode: String? = nil, specialityUrl: String? = nil, professionCode: String? = nil, professionUrl: String? = nil) {
            self.rppsId = rppsId
            self.lastName = lastName
            self.firstName = firstName
            self.specialityCode = specialityCode
            self.specialityUrl = specialityUrl
            self.professionCode = professionCode
            self.professionUrl = professionUrl
        }
    }

    public struct Organization: Codable, Sendable, Equatable {
        public var organizationId: String
        public var name: String

        public init(organizationId: String, name: String) {
            self.organizationId = organizationId
            self.name = name
        }
    }

    public struct Regulator: Codable, Sendable, Equatable {
        public var regulatorId: String?
        public var regulatorName: String
        public var regulatorFirstname: String
        public var regulatorEmail: String

        public init(regulatorId: String? = nil, regulatorName: String, regulatorFirstname: String, regulatorEmail: String) {
            self.regulatorId = regulatorId
            self.regulatorName = regulatorName
            self.regulatorFirstname = regulatorFirstname
            self.regulatorEmail = regulatorEmail
        }
    }

    /// RS-SAS-RDV.
    public struct Appointment: Codable, Sendable, Equatable {
        public var appointmentId: String
        /// `CreateAppointment` or `UpdateAppointment`.
        public var method: String
        public var created: String
        public var start: String
        public var end: String?
        /// `pending`, `booked`, `fulfilled`, `noshow`, `cancelled`.
        public var status: String
        public var orientationCategory: String?
        public var practitioner: Practitioner?
        public var organization: Organization?
        public var regulator: Regulator

        public init(appointmentId: String, method: String, created: String, start: String, end: String? = nil, status: String, orientationCategory: String? = nil, practitioner: Practitioner? = nil, organization: Organization? = nil, regulator: Regulator) {
            self.appointmentId = appointmentId
            self.method = method
            self.created = created
            self.start = start
            self.end = end
            self.status = status
            self.orientationCategory = orientationCategory
            self.practitioner = practitioner
            self.organization = organization
            self.regulator = regulator
        }
    }

    /// RC-REF.
    public struct Reference: Codable, Sendable, Equatable {
        public var distributionID: String
        public var refused: Bool?
        public var errorDistributionID: String?
        public var step: String?

        public init(distributionID: String, refused: Bool? = nil, errorDistributionID: String? = nil, step: String? = nil) {
            self.distributionID = distributionID
            self.refused = refused
            self.errorDistributionID = errorDistributionID
            self.step = step
        }
    }

    public struct ErrorCode: Codable, Sendable, Equatable {
        public var statusCode: Int
        public var statusString: String

        public init(statusCode: Int, statusString: String) {
            self.statusCode = statusCode
            self.statusString = statusString
        }
    }

    /// RS-ERROR (the rejected message itself is not kept).
    public struct ErrorBody: Codable, Sendable, Equatable {
        public var errorCode: ErrorCode
        public var errorCause: String
        public var referencedDistributionID: String

        public init(errorCode: ErrorCode, errorCause: String, referencedDistributionID: String) {
            self.errorCode = errorCode
            self.errorCause = errorCause
            self.referencedDistributionID = referencedDistributionID
        }
    }

    /// The `message` of a content item: the RC-DE header with the use-case key, or an error alone.
    public struct Message: Codable, Sendable, Equatable {
        public var messageId: String?
        public var sender: Party?
        public var sentAt: String?
        public var kind: String?
        public var status: String?
        public var recipient: [Party]?
        public var appointment: Appointment?
        public var reference: Reference?
        public var error: ErrorBody?
    }

    public struct Envelope: Codable, Sendable, Equatable {
        public struct ExplicitAddress: Codable, Sendable, Equatable {
            public var explicitAddressScheme: String
            public var explicitAddressValue: String
        }
        public struct Descriptor: Codable, Sendable, Equatable {
            public var language: String
            public var explicitAddress: ExplicitAddress
        }
        public struct Embedded: Codable, Sendable, Equatable { public var message: Message }
        public struct JSONContent: Codable, Sendable, Equatable { public var embeddedJsonContent: Embedded }
        public struct Content: Codable, Sendable, Equatable { public var jsonContent: JSONContent }

        public var distributionID: String
        public var senderID: String
        public var dateTimeSent: String
        public var dateTimeExpires: String
        public var distributionStatus: String
        public var distributionKind: String
        public var descriptor: Descriptor
        public var content: [Content]

        public var message: Message? { content.first?.jsonContent.embeddedJsonContent.message }
        public var recipient: String { descriptor.explicitAddress.explicitAddressValue }
    }

    /// A new distribution id for `sender`: `<sender>_<uuid>`.
    public static func distributionID(sender: String) -> String { sender + "_" + UUID().uuidString.lowercased() }

    /// A `Report`, `Ack` or `Error` envelope around `message` (RC-DE header filled in for Report and Ack).
    public static func envelope(kind: String, sender: String, recipient: String, sent: Date, lifetime: TimeInterval = 86_400,
                                distributionID: String? = nil, appointment: Appointment? = nil, reference: Reference? = nil,
                                error: ErrorBody? = nil) -> Envelope {
        let id = distributionID ?? Self.distributionID(sender: sender)
        let sentAt = instant(sent)
        var message = Message(appointment: appointment, reference: reference, error: error)
        if kind != "Error" {
            message.messageId = id
            message.sender = Party(sender)
            message.sentAt = sentAt
            message.kind = kind
            message.status = "Actual"
            message.recipient = [Party(recipient)]
        }
        return Envelope(distributionID: id, senderID: sender, dateTimeSent: sentAt,
                        dateTimeExpires: instant(sent.addingTimeInterval(lifetime)), distributionStatus: "Actual",
                        distributionKind: kind,
                        descriptor: .init(language: "fr-FR", explicitAddress: .init(explicitAddressScheme: "hubex", explicitAddressValue: recipient)),
                        content: [.init(jsonContent: .init(embeddedJsonContent: .init(message: message)))])
    }

    public static func encode(_ envelope: Envelope) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(envelope)
    }

    public static func decode(_ data: Data) throws -> Envelope { try JSONDecoder().decode(Envelope.self, from: data) }
}
