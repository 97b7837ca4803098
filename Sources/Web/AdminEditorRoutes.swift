import Aggregator
import Crypto
import Identity
import Foundation
import Hummingbird
import Storage

/// The editor registry's JSON API (`/api/v1/admin/editors`), for automation and the console. Opened by a national
/// administrator's session (`X-CSRF-Token` on changes; audited under his e-mail) or by the operator bearer token whose
/// SHA-256 is configured (`admin.api_token_sha256`; audited as "api-token"); closed otherwise.
struct AdminEditorRoutes {
    let store: EditorStore
    let aggregator: SlotAggregator
    let runs: ConformanceRuns
    let tokenSHA256: String?
    let onChange: @Sendable () async -> Void

    /// The body accepted by POST and PUT.
    struct EditorBody: Codable {
        var id: String?
        var name: String
        var environment: Editor.Environment?
        var baseURL: String
        var flows: [String]
        var clientCertificatePath: String?
        var clientKeyPath: String?
        var serverCAPath: String?
        var inboundCommonName: String?
        var inboundOrganizationalUnit: String?
        var timeoutMilliseconds: Int?
        var enabled: Bool?
        /// contact, cadrage, recette, en_service or suspendu (default en_service; kept as it is on PUT when absent).
        var onboardingState: String?
        /// Name expected on the vendor's server certificate when it differs from the base URL's host.
        var serverName: String?
    }

    func register(on router: Router<AppRequestContext>) {
        let group = router.group("api/v1/admin/editors").add(middleware: BearerTokenMiddleware(tokenSHA256: tokenSHA256))
        group.get { _, _ in
            try Self.json(.ok, try await store.all())
        }
        group.get("{id}") { _, context in
            try Self.json(.ok, try await find(try context.parameters.require("id")))
        }
        group.get("{id}/health") { _, context in
            let id = try context.parameters.require("id")
            _ = try await find(id)
            let health = aggregator.health(editorID: id)
            return try Self.json(.ok, [
                "editor": id, "circuit": health.circuitState.rawValue,
                "requests": String(health.sampleCount),
                "latency_p50_ms": health.latencyP50.map { String(Int($0 / .milliseconds(1))) } ?? "—",
                "latency_p95_ms": health.latencyP95.map { String(Int($0 / .milliseconds(1))) } ?? "—",
                "share_under_1s": health.shareUnderOneSecond.map { String(format: "%.3f", $0) } ?? "—",
                "share_under_7s": health.shareUnderSevenSeconds.map { String(format: "%.3f", $0) } ?? "—",
            ])
        }
        group.post { request, context in
            let editor = try await Self.decode(request, id: nil)
            try await guarded { try await store.add(editor, actor: context.actor ?? "api-token") }
            await onChange()
            return try Self.json(.created, try await store.get(editor.id))
        }
        group.put("{id}") { request, context in
            let id = try context.parameters.require("id")
            let (decoded, body) = try await Self.decodeBody(request, id: id)
            var editor = decoded
            let existing = try await find(id)
            editor.createdAt = existing.createdAt
            if body.onboardingState == nil { editor.onboardingState = existing.onboardingState }
            if body.enabled == nil { editor.enabled = existing.enabled }
            try await guarded { try await store.update(editor, actor: context.actor ?? "api-token") }
            await onChange()
            return try Self.json(.ok, try await store.get(id))
        }
        for (action, enabled) in [("enable", true), ("disable", false)] {
            group.post("{id}/\(action)") { _, context in
                let id = try context.parameters.require("id")
                try await guarded { try await store.setEnabled(id, enabled, actor: context.actor ?? "api-token") }
                await onChange()
                return try Self.json(.ok, try await store.get(id))
            }
        }
        struct StateBody: Decodable {
            var state: String
            var note: String?
        }
        struct NoteBody: Decodable { var note: String? }
        group.get("{id}/history") { _, context in
            let id = try context.parameters.require("id")
            _ = try await find(id)
            return try Self.json(.ok, try await store.history(id))
        }
        group.post("{id}/state") { request, context in
            let id = try context.parameters.require("id")
            let body: StateBody = try await Self.body(request)
            guard let state = Editor.OnboardingState(rawValue: body.state) else {
                throw AppError(.unprocessableContent, code: "invalid_state",
                               message: "État inconnu « \(body.state) » : contact, cadrage, recette, en_service ou suspendu.")
            }
            try await guarded { try await store.changeState(id, to: state, note: body.note, actor: context.actor ?? "api-token") }
            await onChange()
            return try Self.json(.ok, try await store.get(id))
        }
        for (action, enabled) in [("suspend", false), ("reactivate", true)] {
            group.post("{id}/\(action)") { request, context in
                let id = try context.parameters.require("id")
                let body: NoteBody = (try? await Self.body(request)) ?? NoteBody()
                try await guarded { try await store.setEnabled(id, enabled, actor: context.actor ?? "api-token", note: body.note) }
                await onChange()
                return try Self.json(.ok, try await store.get(id))
            }
        }
        group.get("{id}/conformance-inputs") { _, context in
            let id = try context.parameters.require("id")
            _ = try await find(id)
            guard let inputs = try await runs.inputs(id) else {
                throw AppError(.notFound, code: "no_inputs", message: "Aucune entrée de contrôle enregistrée pour « \(id) ».")
            }
            return try Self.json(.ok, inputs)
        }
        group.put("{id}/conformance-inputs") { request, context in
            let id = try context.parameters.require("id")
            _ = try await find(id)
            let inputs: ConformanceRuns.Inputs = try await Self.body(request)
            try await guarded { try await runs.setInputs(inputs, for: id, actor: context.actor ?? "api-token") }
            return try Self.json(.ok, inputs)
        }
        group.get("{id}/conformance") { _, context in
            let id = try context.parameters.require("id")
            _ = try await find(id)
            return try Self.json(.ok, try await runs.runs(id))
        }
        // Starts a check (202 and the run); `?wait=true` answers with the report once it is done.
        group.post("{id}/conformance") { request, context in
            let id = try context.parameters.require("id")
            _ = try await find(id)
            let run = try await runs.start(editorID: id, actor: context.actor ?? "api-token")
            if request.uri.queryParameters.get("wait") == "true" {
                await runs.wait(run)
                if let (_, report) = try await runs.run(run), let report { return try Self.json(.ok, report) }
            }
            return try Self.json(.accepted, ["run": run, "report": "/api/v1/admin/editors/\(id)/conformance/\(run)"])
        }
        group.get("{id}/conformance/{run}") { _, context in
            let id = try context.parameters.require("id")
            guard let (run, report) = try await runs.run(try context.parameters.require("run")), run.editorID == id else {
                throw AppError(.notFound, code: "run_not_found", message: "Contrôle introuvable pour cet éditeur.")
            }
            if let report { return try Self.json(.ok, report) }
            return try Self.json(.accepted, run)
        }
        group.delete("{id}") { _, context in
            try await guarded { try await store.remove(try context.parameters.require("id"), actor: context.actor ?? "api-token") }
            await onChange()
            return Response(status: .noContent)
        }
    }

    func find(_ id: String) async throws -> Editor { try await Self.find(id, in: store) }

    /// One editor, or 404 with a French message (also the console's).
    static func find(_ id: String, in store: EditorStore) async throws -> Editor {
        do { return try await store.get(id) } catch EditorStore.RegistryError.notFound {
            throw AppError(.notFound, code: "editor_not_found", message: "Éditeur « \(id) » introuvable.")
        }
    }

    func guarded<T>(_ body: () async throws -> T) async throws -> T { try await Self.guarded(body) }

    /// Maps registry and conformance-input errors to HTTP statuses with French messages (API and console).
    static func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as EditorStore.InvalidEditor {
            throw AppError(.unprocessableContent, code: "invalid_editor", message: error.description)
        } catch EditorStore.RegistryError.notFound(let id) {
            throw AppError(.notFound, code: "editor_not_found", message: "Éditeur « \(id) » introuvable.")
        } catch EditorStore.RegistryError.alreadyExists(let id) {
            throw AppError(.conflict, code: "editor_exists", message: "L'éditeur « \(id) » existe déjà.")
        } catch let error as ConformanceRuns.InvalidInputs {
            throw AppError(.unprocessableContent, code: "invalid_inputs", message: "Entrées invalides : " + error.problems.joined(separator: " ; ") + ".")
        }
    }

    static func body<T: Decodable>(_ request: Request) async throws -> T {
        let data = Data(buffer: try await request.body.collect(upTo: 64 * 1024))
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw AppError(.badRequest, code: "invalid_json", message: "Corps JSON invalide (\(T.self)).")
        }
    }

    static func decode(_ request: Request, id: String?) async throws -> Editor {
        try await decodeBody(request, id: id).0
    }

    static func decodeBody(_ request: Request, id: String?) async throws -> (Editor, EditorBody) {
        let data = Data(buffer: try await request.body.collect(upTo: 64 * 1024))
        guard let body = try? JSONDecoder().decode(EditorBody.self, from: data) else {
            throw AppError(.badRequest, code: "invalid_json",
                           message: "Corps JSON invalide : name, baseURL et flows sont obligatoires (id aussi à la création).")
        }
        return (try editor(from: body, id: id), body)
    }

    /// The registry value of a JSON body (also used for `editors.registry_file`).
    static func editor(from body: EditorBody, id: String?) throws -> Editor {
        guard let editorID = id ?? body.id else {
            throw AppError(.badRequest, code: "missing_id", message: "L'identifiant (id) de l'éditeur est obligatoire.")
        }
        var flows = Set<Editor.Flow>()
        for raw in body.flows {
            guard let flow = Editor.Flow(rawValue: raw.lowercased()) else {
                throw AppError(.unprocessableContent, code: "invalid_editor", message: "Flux inconnu « \(raw) » : r01, r04, sos, r02 ou r03.")
            }
            flows.insert(flow)
        }
        var state = Editor.OnboardingState.enService
        if let raw = body.onboardingState {
            guard let parsed = Editor.OnboardingState(rawValue: raw) else {
                throw AppError(.unprocessableContent, code: "invalid_editor",
                               message: "État d'intégration inconnu « \(raw) » : contact, cadrage, recette, en_service ou suspendu.")
            }
            state = parsed
        }
        return Editor(id: editorID, name: body.name, environment: body.environment ?? .production, baseURL: body.baseURL,
                      flows: flows, clientCertificatePath: body.clientCertificatePath, clientKeyPath: body.clientKeyPath,
                      serverCAPath: body.serverCAPath, inboundCommonName: body.inboundCommonName,
                      inboundOrganizationalUnit: body.inboundOrganizationalUnit,
                      timeoutMilliseconds: body.timeoutMilliseconds, enabled: body.enabled ?? (state != .suspendu),
                      onboardingState: state, serverName: body.serverName?.isEmpty == true ? nil : body.serverName)
    }

    static func json<T: Encodable>(_ status: HTTPResponse.Status, _ value: T) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// Requires `Authorization: Bearer <token>` whose SHA-256 matches the configured one (compared in constant time).
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokenSHA256: String?
    /// What a session needs instead of the token.
    var permission: Permission = .operatePlatform

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A national administrator's session opens the API too (CSRF header on changes).
        if context.session != nil, request.headers[.authorization] == nil {
            return try await RequirePermission(permission: permission).handle(request, context: context, next: next)
        }
        guard let expected = tokenSHA256 else {
            throw AppError(.forbidden, code: "admin_api_disabled",
                           message: "L'API d'administration est désactivée sur ce nœud (admin.api_token_sha256 non configuré).")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw AppError(.unauthorized, code: "unauthenticated", message: "Jeton d'administration requis (Authorization: Bearer …).")
        }
        let digest = SHA256.hash(data: Data(header.dropFirst("Bearer ".count).utf8)).map { String(format: "%02x", $0) }.joined()
        guard digest.utf8.count == expected.utf8.count,
              zip(digest.utf8, expected.lowercased().utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw AppError(.unauthorized, code: "unauthenticated", message: "Jeton d'administration invalide.")
        }
        return try await next(request, context)
    }
}
