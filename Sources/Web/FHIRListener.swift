import Agenda
import FHIR
import Foundation
import Hummingbird
import Logging

/// The FHIR listener's routes (HTTPS; mTLS when a client CA is configured): metadata and INT_R03 appointments.
struct FHIRRoutes {
    let environment: PlatformConfiguration.Environment
    /// INT_R03 storage (nil: the flow is not served, e.g. in tests of the listener alone).
    var appointments: AppointmentStore?

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in
            OperationsRoutes.json(.ok, ["status": "ok"])
        }
        router.get("/metadata") { _, _ in
            FHIRJSON.response(.ok, Self.capabilityStatement())
        }
        guard let appointments else { return }
        // INT_R03: the vendor identified by its client certificate reports an appointment (POST) or its changes
        // (conditional PUT on the identifier, creating when unknown).
        router.post("/Appointment") { request, context in
            try await write(request, context, store: appointments, conditional: nil)
        }
        router.put("/Appointment") { request, context in
            let q = request.uri.queryParameters
            guard let token = q.get("identifier") ?? q.get("Identifier") else {
                throw AppError(.badRequest, code: "invalid",
                               message: "PUT conditionnel : le paramètre identifier=system|value est obligatoire.")
            }
            return try await write(request, context, store: appointments, conditional: token)
        }
    }

    func write(_ request: Request, _ context: AppRequestContext, store: AppointmentStore,
               conditional token: String?) async throws -> Response {
        guard let editor = context.clientParty else {
            throw AppError(.forbidden, code: "client_not_allowed", message: "Appelant non identifié par son certificat client.")
        }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.isEmpty || type.contains("json") else {
            throw AppError(.unsupportedMediaType, code: "not-supported", message: "application/fhir+json attendu.")
        }
        let body = try await request.body.collect(upTo: 256 * 1024)
        let appointment: Appointment
        do {
            appointment = try FHIR.FHIRJSON.decode(Appointment.self, from: Data(buffer: body))
        } catch {
            throw AppError(.badRequest, code: "invalid", message: "Ressource Appointment illisible : \(error)")
        }
        let validated: AppointmentStore.Validated
        do {
            validated = try AppointmentStore.validate(appointment)
        } catch {
            throw AppError(error.kind == .structure ? .badRequest : .unprocessableContent, code: "invalid",
                           message: error.message + (error.expression.map { " (\($0))" } ?? ""))
        }
        if let token {
            let parts = token.split(separator: "|", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == validated.identifierSystem, parts[1] == validated.identifierValue else {
                throw AppError(.unprocessableContent, code: "invalid",
                               message: "L'identifiant de la requête (\(token)) ne correspond pas à Appointment.identifier.")
            }
        }
        var expected: Int?
        if let match = request.headers[.ifMatch] {
            expected = Int(match.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        do {
            let (record, created) = try await store.upsert(validated, editorID: editor, expectedVersion: expected,
                                                           likelyNew: token == nil)
            var response = FHIRJSON.response(created ? .created : .ok, json: Self.resource(record))
            response.headers[.location] = "Appointment/\(record.id)/_history/\(record.version)"
            response.headers[.eTag] = "W/\"\(record.version)\""
            return response
        } catch let rejection as AppointmentRejection {
            let status: HTTPResponse.Status = switch rejection.kind {
            case .conflict: .preconditionFailed
            case .ownership: .conflict
            case .structure: .badRequest
            case .businessRule: .unprocessableContent
            }
            throw AppError(status, code: "conflict", message: rejection.message)
        }
    }

    /// What the platform answers: the stored appointment (no patient data), with its SAS id.
    /// The stored appointment as FHIR JSON, written directly (this answers every INT_R03 write: no dictionary
    /// bridging, instants in Paris time as the IG shows them).
    static func resource(_ r: AppointmentRecord) -> String {
        let q = FHIRJSON.quoted
        var json = "{\"resourceType\":\"Appointment\",\"id\":\(q(r.id)),\"meta\":{\"versionId\":\"\(r.version)\"},"
        json += "\"extension\":[{\"url\":\(q(FHIRSystems.appointmentOperatorExtension)),\"valueReference\":{\"identifier\":{"
        json += "\"type\":{\"coding\":[{\"system\":\"http://interopsante.org/fhir/CodeSystem/fr-v2-0203\",\"code\":\(q(r.operatorType))}]},"
        json += "\"system\":\(q(r.operatorSystem)),\"value\":\(q(r.operatorValue))}}}],"
        json += "\"identifier\":[{\"system\":\(q(r.identifierSystem)),\"value\":\(q(r.identifierValue))}],"
        json += "\"status\":\(q(r.status)),\"start\":\"\(FHIRInstant.format(r.start))\",\"end\":\"\(FHIRInstant.format(r.end))\""
        if let idnps = r.practitionerIDNPS {
            json += ",\"participant\":[{\"actor\":{\"identifier\":{\"type\":{\"coding\":[{\"system\":"
            json += "\"http://interopsante.org/fhir/CodeSystem/fr-v2-0203\",\"code\":\"IDNPS\"}]},"
            json += "\"system\":\"urn:oid:1.2.250.1.71.4.2.1\",\"value\":\(q(idnps))}},\"status\":\"accepted\"}]"
        }
        return json + "}"
    }

    /// The platform's CapabilityStatement: what it serves today, nothing more.
    static func capabilityStatement() -> [String: Any] {
        [
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-22",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "software": ["name": "Plateforme numérique SAS"],
            "rest": [["mode": "server", "security": ["description": "mTLS avec certificats IGC Santé, contrôle du CN et de l'OU"],
                      "resource": [["type": "Appointment",
                                    "supportedProfile": ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS",
                                                         "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment"],
                                    "interaction": [["code": "create"], ["code": "update"]],
                                    "updateCreate": true, "conditionalUpdate": true,
                                    "searchParam": [["name": "identifier", "type": "token"]]]]]],
        ]
    }
}

/// JSON helpers for FHIR responses.
enum FHIRJSON {
    /// A JSON string literal for `text` (quotes, backslashes and control characters escaped).
    static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A FHIR response from JSON text already written.
    static func response(_ status: HTTPResponse.Status, json: String) -> Response {
        Response(status: status, headers: [.contentType: "application/fhir+json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func response(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/fhir+json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An OperationOutcome with one issue; `code` is a FHIR issue type (`not-found`, `invalid`, `exception`…).
    static func outcome(_ status: HTTPResponse.Status, code: String, text: String, requestID: String) -> Response {
        response(status, [
            "resourceType": "OperationOutcome",
            "issue": [[
                "severity": status.code >= 500 ? "fatal" : "error",
                "code": code,
                "diagnostics": text,
                "details": ["text": text],
            ]],
            "meta": ["tag": [["system": "urn:sas:request-id", "code": requestID]]],
        ])
    }
}

/// Turns every error on the FHIR listener into an HTTP status with an OperationOutcome body.
struct FHIRErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, _, message) = ErrorMiddleware.describe(error, context: context)
            let code: String
            switch status.code {
            case 404: code = "not-found"
            case 401, 403: code = "security"
            case 405: code = "not-supported"
            case 409: code = "conflict"
            case 400, 422: code = "invalid"
            default: code = "exception"
            }
            return FHIRJSON.outcome(status, code: code, text: message, requestID: context.requestID)
        }
    }
}
