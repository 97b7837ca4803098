import Foundation
import Hummingbird
import Logging

/// An error meant for the user: an HTTP status, a stable machine code and a French message.
public struct AppError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    /// Creates a user-facing error.
    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONEncoder().encode(["error": code, "message": message])
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error into a clean response: JSON `{error, message}` under `/api/`, a French HTML page elsewhere.
/// Internal errors never leak details to the client; they are logged with the request id.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let pages: Pages

    public init(pages: Pages) { self.pages = pages }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, code, message) = Self.describe(error, context: context)
            let wantsJSON = request.uri.path.hasPrefix("/api/")
                || (request.headers[.accept]?.contains("application/json") ?? false)
            if wantsJSON {
                let body = try JSONEncoder().encode(["error": code, "message": message, "request_id": context.requestID])
                return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
            return pages.response(
                "message", title: Self.heading(for: status),
                values: ["heading": Self.heading(for: status), "message": message, "backLink": true],
                context: context, status: status)
        }
    }

    /// Status, machine code and French message for an error; logs internal errors.
    static func describe(_ error: any Error, context: Context) -> (HTTPResponse.Status, String, String) {
        switch error {
        case let error as AppError:
            return (error.status, error.code, error.message)
        case let error as HTTPError:
            return (error.status, code(for: error.status), frenchMessage(for: error.status))
        default:
            context.logger.error("internal error", metadata: ["error": "\(String(reflecting: error))"])
            return (.internalServerError, "internal_error",
                    "Une erreur interne est survenue. Elle a été enregistrée ; communiquez la référence \(context.requestID) au support.")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: return "bad_request"
        case 401: return "unauthenticated"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 409: return "conflict"
        case 413: return "payload_too_large"
        case 422: return "unprocessable"
        case 503: return "unavailable"
        default: return status.code >= 500 ? "internal_error" : "error"
        }
    }

    static func heading(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: return "Page introuvable"
        case 401: return "Connexion requise"
        case 403: return "Accès refusé"
        case 405: return "Action non permise"
        case 503: return "Service momentanément indisponible"
        case 400..<500: return "Demande invalide"
        default: return "Erreur interne"
        }
    }

    static func frenchMessage(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: return "La page demandée n'existe pas. Vérifiez l'adresse ou revenez à l'accueil."
        case 401: return "Vous devez vous connecter pour accéder à cette page."
        case 403: return "Votre profil ne permet pas d'accéder à cette page."
        case 405: return "Cette adresse n'accepte pas cette méthode HTTP."
        case 413: return "La requête est trop volumineuse."
        case 503: return "Le service est momentanément indisponible. Réessayez dans quelques instants."
        case 400..<500: return "La demande n'a pas pu être traitée : elle est incomplète ou mal formée."
        default: return "Une erreur interne est survenue."
        }
    }
}
