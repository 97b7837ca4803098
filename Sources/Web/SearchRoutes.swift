import Directory
import FHIR
import Foundation
import Hummingbird
import Identity
import Logging
import NIOCore
import SASDomain
import Search

/// `GET /api/v1/search` (JSON), `GET /api/v1/search/stream` (Server-Sent Events) and `GET /api/v1/search/suggest`
/// (autocomplete), documented in `openapi/sas-search.yaml`. Callers authenticate with an API token of scope
/// `search` (regulator sessions arrive with the identity module).
struct SearchRoutes {
    let engine: SearchEngine
    let tokens: APITokenStore
    let specialties: Specialties
    let geocoder: OfflineGeocoder
    let logger: Logger

    func register(on router: Router<AppRequestContext>) {
        let group = router.group("api/v1/search")
            .add(middleware: RequirePermission(permission: .search, apiTokens: (tokens, APIScope.search)))
        group.get { request, context in
            let search = try Self.parse(request.uri.queryParameters, context: context)
            do {
                let response = try await engine.search(search)
                log(response, context: context, streamed: false)
                return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(bytes: ResponseJSON.encode(response))))
            } catch let error as SearchInputError {
                return try Self.json(.unprocessableContent, ErrorBody(error))
            }
        }
        group.get("stream") { request, context in
            let search = try Self.parse(request.uri.queryParameters, context: context)
            let engine = self.engine
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .unbounded)
            let task = Task {
                do {
                    let response = try await engine.search(search) { event in
                        continuation.yield(Self.sse(event))
                    }
                    log(response, context: context, streamed: true)
                } catch let error as SearchInputError {
                    continuation.yield(Self.sse(name: "error", (try? Self.encoder.encode(ErrorBody(error))) ?? Data()))
                } catch {
                    logger.error("streamed search failed", metadata: ["request_id": "\(context.requestID)", "error": "\(error)"])
                    continuation.yield(Self.sse(name: "error", (try? Self.encoder.encode(
                        ErrorBody(code: "internal_error", message: "Erreur interne : la recherche a échoué.", parameter: nil,
                                  suggestions: []))) ?? Data()))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
            return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
                            body: ResponseBody(asyncSequence: stream))
        }
        group.get("suggest") { request, _ in
            let params = request.uri.queryParameters
            let what = params["what"[...]].map(String.init) ?? ""
            let place = params["where"[...]].map(String.init) ?? ""
            return try Self.json(.ok, Suggestions(
                what: what.count >= 2 ? specialties.suggest(what, limit: 8).map(\.label) : [],
                places: place.count >= 2 ? geocoder.suggest(place, limit: 8).map {
                    .init(label: $0.label, kind: $0.kind.rawValue, departmentCode: $0.departmentCode)
                } : []))
        }
    }

    func log(_ response: SearchResponse, context: AppRequestContext, streamed: Bool) {
        logger.info("search", metadata: [
            "request_id": "\(context.requestID)", "actor": "\(context.actor ?? "-")", "streamed": "\(streamed)",
            "what": "\(response.query.what.label)", "department": "\(response.query.place.departmentCode)",
            "radius_km": "\(response.radius.km)", "results": "\(response.total)", "elapsed_ms": "\(response.elapsedMs)",
            "complete": "\(response.complete)"])
    }

    struct Suggestions: Codable {
        struct Place: Codable { var label: String; var kind: String; var departmentCode: String }
        var what: [String]
        var places: [Place]
    }

    /// The error body of a refused search.
    struct ErrorBody: Codable {
        var error: String
        var message: String
        var parameter: String?
        var suggestions: [String]

        init(_ e: SearchInputError) {
            self.init(code: e.code.rawValue, message: e.message, parameter: e.parameter, suggestions: e.suggestions)
        }

        init(code: String, message: String, parameter: String?, suggestions: [String]) {
            self.error = code
            self.message = message
            self.parameter = parameter
            self.suggestions = suggestions
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = FastISO8601.encodingStrategy
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func sse(name: String, _ data: Data) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("event: \(name)\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }

    static func sse(_ event: SearchEvent) -> ByteBuffer {
        let data: Data?
        switch event {
        case .query(let summary): data = try? encoder.encode(summary)
        case .directory(let km, let candidates): data = try? encoder.encode(DirectoryEvent(ringKm: km, candidates: candidates))
        case .slots(let arrival): data = try? encoder.encode(arrival)
        case .ring(let outcome): data = try? encoder.encode(outcome)
        case .final(let response): data = Data(ResponseJSON.encode(response))
        }
        return sse(name: event.name, data ?? Data("{}".utf8))
    }

    struct DirectoryEvent: Codable {
        var ringKm: Double
        var candidates: [CandidateSummary]
    }

    /// Reads the query string; malformed values are refused with a French message naming the parameter.
    static func parse(_ params: Parameters, context: AppRequestContext) throws -> SearchRequest {
        // A session searches with its role's visibility; an API token as a regulator.
        let role: SearchRole = context.session.map { $0.account.roles.contains(.regulator) ? .regulator : .ioa } ?? .regulator
        func text(_ key: String) -> String? {
            params[key[...]].map(String.init).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func invalid(_ key: String, _ message: String) -> AppError {
            AppError(.unprocessableContent, code: "invalid_parameter", message: "Paramètre « \(key) » invalide : \(message)")
        }
        func number(_ key: String) throws -> Double? {
            guard let t = text(key) else { return nil }
            guard let v = Double(t.replacingOccurrences(of: ",", with: ".")), v.isFinite else { throw invalid(key, "nombre attendu.") }
            return v
        }
        func integer(_ key: String, default value: Int) throws -> Int {
            guard let t = text(key) else { return value }
            guard let v = Int(t) else { throw invalid(key, "entier attendu.") }
            return v
        }
        func date(_ key: String, endOfDay: Bool) throws -> Date? {
            guard let t = text(key) else { return nil }
            guard let d = SearchDates.parse(t, endOfDay: endOfDay) else {
                throw invalid(key, "date attendue (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS+01:00).")
            }
            return d
        }
        for key in ["what", "where", "medecin_traitant", "cursor"] where (text(key)?.count ?? 0) > 300 {
            throw invalid(key, "300 caractères au plus.")
        }
        var types: ConsultationTypes = []
        if let raw = text("type") {
            for code in raw.split(separator: ",") {
                guard let type = ConsultationType(code: code.trimmingCharacters(in: .whitespaces)) else {
                    throw invalid("type", "« \(code) » inconnu (AMB cabinet, HH domicile, VR téléconsultation).")
                }
                types.insert(type)
            }
        }
        var mode = SearchMode.slots
        if let raw = text("mode") {
            guard let m = SearchMode(rawValue: raw) else { throw invalid("mode", "« creneaux » ou « en-sus » attendu.") }
            mode = m
        }
        return SearchRequest(
            what: text("what"), place: text("where"), latitude: try number("lat"), longitude: try number("lon"),
            from: try date("from", endOfDay: false), to: try date("to", endOfDay: true), consultationTypes: types,
            // The role comes from the caller's identity, never from a parameter: an API token searches as a regulator.
            mode: mode, preferredDoctor: text("medecin_traitant"), role: role,
            pageSize: try integer("page_size", default: 5), cursor: text("cursor"), minimumOffers: try integer("k", default: 5))
    }
}

/// Dates of the search API: full ISO 8601 instants (with offset or `Z`, fractional seconds optional), or a day
/// (`2026-11-28`, Europe/Paris: its start for `from`, its last second for `to`).
enum SearchDates {
    static func parse(_ text: String, endOfDay: Bool) -> Date? {
        if text.utf8.count > 10 { // an instant: the FHIR parser (one pass, no formatter to build on every request)
            guard let instant = FHIRInstant.parse(text), !instant.isDateOnly, !instant.assumedLocalTime,
                  text.utf8.contains(UInt8(ascii: "T")) else { return nil }
            return instant.date
        }
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        let calendar = QueryResolver.paris
        guard let start = calendar.date(from: DateComponents(year: y, month: m, day: d)),
              calendar.component(.day, from: start) == d else { return nil }
        return endOfDay ? calendar.date(byAdding: .day, value: 1, to: start)!.addingTimeInterval(-1) : start
    }
}
