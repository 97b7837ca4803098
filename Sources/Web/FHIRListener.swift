import Foundation
import Hummingbird
import Logging

/// The FHIR listener's routes (HTTPS; mTLS when a client CA is configured). Later flows (INT_R03) plug in here.
struct FHIRRoutes {
    let environment: PlatformConfiguration.Environment

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in
            OperationsRoutes.json(.ok, ["status": "ok"])
        }
        router.get("/metadata") { _, _ in
            FHIRJSON.response(.ok, Self.capabilityStatement())
        }
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
            "rest": [["mode": "server", "security": ["description": "mTLS avec certificats IGC Santé, contrôle du CN et de l'OU"]]],
        ]
    }
}

/// JSON helpers for FHIR responses.
enum FHIRJSON {
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
