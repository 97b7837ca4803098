import Aggregator
import Conformance
import Foundation
import Hummingbird
import HTTPTypes
import Identity
import Storage

/// The operator console for vendors (`/admin/editeurs`, national administrators): registration per environment,
/// onboarding states with dated notes, live health from this node's aggregator, suspension and reactivation (every
/// node applies the registry within `editors` polling period; this node at once), the kit inputs and the built-in
/// conformance check with its reports. The same operations are in the JSON API (`/api/v1/admin/editors`).
struct EditorConsoleRoutes {
    let store: EditorStore
    let aggregator: SlotAggregator
    let runs: ConformanceRuns
    let pages: Pages
    let onChange: @Sendable () async -> Void

    func register(on router: Router<AppRequestContext>) {
        let console = router.group("admin/editeurs").add(middleware: RequirePermission(permission: .operatePlatform, formCSRF: true))
        console.get { request, context in try await list(request, context) }
        console.post { request, context in try await create(request, context) }
        console.get("{id}") { request, context in try await detail(request, context) }
        console.post("{id}") { request, context in try await update(request, context) }
        console.post("{id}/etat") { request, context in try await changeState(request, context) }
        console.post("{id}/suspendre") { request, context in try await suspend(request, context, suspended: true) }
        console.post("{id}/reactiver") { request, context in try await suspend(request, context, suspended: false) }
        console.post("{id}/conformite/entrees") { request, context in try await saveInputs(request, context) }
        console.post("{id}/conformite") { request, context in try await startCheck(request, context) }
        console.get("{id}/conformite/{run}") { request, context in try await runPage(request, context) }
    }

    static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "fr_FR")
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.dateFormat = "dd/MM/yyyy HH:mm"
        return formatter
    }()

    static let environmentLabels: [Editor.Environment: String] = [.recette: "Recette", .preproduction: "Pré-production", .production: "Production"]

    static func redirect(_ path: String, message: String) -> Response {
        Response(status: .seeOther, headers: [.location: path + "?message=" + RequirePermission.encode(message)])
    }

    func find(_ id: String) async throws -> Editor { try await AdminEditorRoutes.find(id, in: store) }

    func guarded<T>(_ body: () async throws -> T) async throws -> T { try await AdminEditorRoutes.guarded(body) }

    func health(_ editor: Editor) -> [String: Any] {
        let health = aggregator.health(editorID: editor.id)
        func ms(_ duration: Duration?) -> String {
            duration.map { "\(Int(Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15)) ms" } ?? "—"
        }
        let circuit: [String: String] = ["closed": "fermé (appels normaux)", "open": "ouvert (appels suspendus)", "halfOpen": "semi-ouvert (essai)"]
        return [
            "circuit": circuit[health.circuitState.rawValue] ?? health.circuitState.rawValue, "circuitCode": health.circuitState.rawValue,
            "requests": health.sampleCount, "p50": ms(health.latencyP50), "p95": ms(health.latencyP95),
            "under1s": ActivityRoutes.percent(health.shareUnderOneSecond), "under7s": ActivityRoutes.percent(health.shareUnderSevenSeconds),
        ]
    }

    // MARK: list and registration

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let editors = try await store.all()
        var rows: [[String: Any]] = []
        for editor in editors {
            let last = try await runs.runs(editor.id, limit: 1).first
            var row = health(editor)
            row.merge([
                "id": editor.id, "name": editor.name, "environment": Self.environmentLabels[editor.environment] ?? editor.environment.rawValue,
                "flows": editor.flows.sorted().map { $0.rawValue.uppercased() }.joined(separator: ", "),
                "state": editor.onboardingState.label, "stateCode": editor.onboardingState.rawValue, "enabled": editor.enabled,
                "conformance": last.map { run in
                    run.state == .running ? "en cours" : (run.passed == true ? "conforme" : (run.passed == false ? "non conforme" : "interrompu"))
                } ?? "jamais contrôlé",
            ]) { $1 }
            rows.append(row)
        }
        return pages.response("editors", title: "Éditeurs", values: [
            "message": request.uri.queryParameters.get("message") ?? "", "csrf": context.session?.csrfToken ?? "",
            "rows": rows, "empty": rows.isEmpty,
            "states": Editor.OnboardingState.allCases.filter { $0 != .suspendu }.map { ["code": $0.rawValue, "label": $0.label, "selected": $0 == .contact] },
            "environments": Editor.Environment.allCases.map { ["code": $0.rawValue, "label": Self.environmentLabels[$0] ?? $0.rawValue] },
        ], context: context)
    }

    /// The registration fields of the console's forms.
    static func editor(from form: [String: String], id: String, existing: Editor?) throws -> Editor {
        func field(_ name: String) -> String? {
            guard let value = form[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        var flows: Set<Editor.Flow> = []
        for flow in Editor.Flow.allCases where form["flux_\(flow.rawValue)"] != nil { flows.insert(flow) }
        guard let environment = Editor.Environment(rawValue: form["environnement"] ?? "") else {
            throw AppError(.unprocessableContent, code: "invalid_editor", message: "Environnement inconnu : recette, pré-production ou production.")
        }
        var timeout: Int?
        if let text = field("delai_ms") {
            guard let value = Int(text) else {
                throw AppError(.unprocessableContent, code: "invalid_editor", message: "Délai « \(text) » : un nombre de millisecondes est attendu.")
            }
            timeout = value
        }
        var state = existing?.onboardingState ?? .contact
        if existing == nil, let raw = form["etat"] {
            guard let parsed = Editor.OnboardingState(rawValue: raw), parsed != .suspendu else {
                throw AppError(.unprocessableContent, code: "invalid_editor", message: "État d'intégration inconnu « \(raw) ».")
            }
            state = parsed
        }
        return Editor(id: id, name: field("nom") ?? "", environment: environment, baseURL: field("url") ?? "", flows: flows,
                      clientCertificatePath: existing?.clientCertificatePath, clientKeyPath: existing?.clientKeyPath,
                      serverCAPath: field("ca"), inboundCommonName: field("cn"), inboundOrganizationalUnit: field("ou"),
                      timeoutMilliseconds: timeout, enabled: existing?.enabled ?? true, onboardingState: state,
                      serverName: field("nom_serveur"),
                      createdAt: existing?.createdAt ?? Date())
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let id = (form["id"] ?? "").trimmingCharacters(in: .whitespaces)
        let editor = try Self.editor(from: form, id: id, existing: nil)
        try await guarded { try await store.add(editor, actor: context.actor ?? "?") }
        await onChange()
        return Self.redirect("/admin/editeurs/\(id)", message: "Éditeur « \(editor.name) » enregistré (\(editor.onboardingState.label)).")
    }

    // MARK: one vendor

    func detail(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let editor = try await find(try context.parameters.require("id"))
        let history = try await store.history(editor.id)
        let inputs = try await runs.inputs(editor.id)
        let list = try await runs.runs(editor.id)
        if request.headers[.accept]?.contains("application/json") == true {
            struct Detail: Encodable {
                var editor: Editor
                var history: [EditorStore.OnboardingEvent]
                var inputs: ConformanceRuns.Inputs?
                var runs: [ConformanceRuns.Run]
            }
            return try SearchRoutes.json(.ok, Detail(editor: editor, history: history, inputs: inputs, runs: list))
        }
        var values: [String: Any] = [
            "message": request.uri.queryParameters.get("message") ?? "", "csrf": context.session?.csrfToken ?? "",
            "id": editor.id, "name": editor.name, "url": editor.baseURL, "cn": editor.inboundCommonName ?? "",
            "ou": editor.inboundOrganizationalUnit ?? "", "timeout": editor.timeoutMilliseconds.map(String.init) ?? "",
            "serverName": editor.serverName ?? "", "ca": editor.serverCAPath ?? "",
            "state": editor.onboardingState.label, "stateCode": editor.onboardingState.rawValue,
            "suspended": editor.onboardingState == .suspendu, "enabled": editor.enabled,
            "environmentLabel": Self.environmentLabels[editor.environment] ?? editor.environment.rawValue,
            "environments": Editor.Environment.allCases.map {
                ["code": $0.rawValue, "label": Self.environmentLabels[$0] ?? $0.rawValue, "selected": $0 == editor.environment]
            },
            "flows": Editor.Flow.allCases.map { ["code": $0.rawValue, "label": $0.rawValue.uppercased(), "checked": editor.flows.contains($0)] },
            "states": Editor.OnboardingState.allCases.filter { $0 != .suspendu }.map {
                ["code": $0.rawValue, "label": $0.label, "selected": $0 == editor.onboardingState]
            },
            "history": history.map { event -> [String: Any] in
                ["at": Self.formatter.string(from: event.at), "state": event.state.label, "note": event.note ?? "", "actor": event.actor]
            },
            "runs": list.map { run -> [String: Any] in
                ["runID": run.id, "at": Self.formatter.string(from: run.startedAt), "actor": run.actor,
                 "verdict": run.state == .running ? "en cours" : (run.state == .interrupted ? "interrompu" : (run.passed == true ? "conforme" : "non conforme")),
                 "verdictCode": run.state == .running ? "en_cours" : (run.passed == true ? "conforme" : "non_conforme"),
                 "summary": run.summary ?? ""]
            },
            "hasRuns": !list.isEmpty, "hasInputs": inputs != nil,
            "cptsAvailable": editor.flows.contains(.r04),
        ]
        values["health"] = health(editor)
        let shown = inputs ?? ConformanceRuns.Inputs(rpps: "", rpps2: "", rpps3: "", rpps4: "")
        values["inputs"] = [
            "rpps": shown.rpps, "rpps2": shown.rpps2, "rpps3": shown.rpps3, "rpps4": shown.rpps4, "cpts": shown.cpts,
            "slotTypes": shown.slotTypes.joined(separator: ","), "cptsSlotTypes": shown.cptsSlotTypes.joined(separator: ","),
            "consultationTypes": shown.consultationTypes.joined(separator: ","),
        ] as [String: Any]
        return pages.response("editor", title: "Éditeur \(editor.name)", values: values, context: context)
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let existing = try await find(try context.parameters.require("id"))
        let form = try await FormData.read(request)
        let editor = try Self.editor(from: form, id: existing.id, existing: existing)
        try await guarded { try await store.update(editor, actor: context.actor ?? "?") }
        await onChange()
        return Self.redirect("/admin/editeurs/\(existing.id)", message: "Enregistrement mis à jour.")
    }

    func changeState(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let editor = try await find(try context.parameters.require("id"))
        let form = try await FormData.read(request)
        guard let state = Editor.OnboardingState(rawValue: form["etat"] ?? ""), state != .suspendu else {
            throw AppError(.unprocessableContent, code: "invalid_state",
                           message: "État inconnu « \(form["etat"] ?? "") » : premier contact, cadrage, recette ou en service (la suspension a son propre bouton).")
        }
        try await guarded { try await store.changeState(editor.id, to: state, note: form["note"], actor: context.actor ?? "?") }
        await onChange()
        return Self.redirect("/admin/editeurs/\(editor.id)", message: "État : \(state.label).")
    }

    func suspend(_ request: Request, _ context: AppRequestContext, suspended: Bool) async throws -> Response {
        let editor = try await find(try context.parameters.require("id"))
        let form = try await FormData.read(request)
        let note = form["note"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        try await guarded { try await store.setEnabled(editor.id, !suspended, actor: context.actor ?? "?", note: note) }
        await onChange()
        return Self.redirect("/admin/editeurs/\(editor.id)", message: suspended
            ? "Éditeur suspendu : il n'est plus appelé (tous les nœuds l'appliquent en quelques secondes)."
            : "Éditeur réactivé : il est de nouveau appelé.")
    }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
    }

    func saveInputs(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let editor = try await find(try context.parameters.require("id"))
        let form = try await FormData.read(request)
        func value(_ name: String) -> String { (form[name] ?? "").trimmingCharacters(in: .whitespaces) }
        let inputs = ConformanceRuns.Inputs(rpps: value("rpps"), rpps2: value("rpps2"), rpps3: value("rpps3"), rpps4: value("rpps4"),
                                            cpts: form["cpts"] != nil, slotTypes: Self.list(form["types_creneaux"]),
                                            cptsSlotTypes: Self.list(form["types_creneaux_cpts"]),
                                            consultationTypes: Self.list(form["types_consultation"]))
        try await guarded { try await runs.setInputs(inputs, for: editor.id, actor: context.actor ?? "?") }
        return Self.redirect("/admin/editeurs/\(editor.id)", message: "Entrées du contrôle de conformité enregistrées.")
    }

    func startCheck(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let editor = try await find(try context.parameters.require("id"))
        let run = try await guarded { try await runs.start(editorID: editor.id, actor: context.actor ?? "?") }
        return Response(status: .seeOther, headers: [.location: "/admin/editeurs/\(editor.id)/conformite/\(run)"])
    }

    func runPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let editor = try await find(try context.parameters.require("id"))
        let runID = try context.parameters.require("run")
        guard let (run, report) = try await runs.run(runID), run.editorID == editor.id else {
            throw AppError(.notFound, code: "run_not_found", message: "Contrôle « \(runID) » introuvable pour cet éditeur.")
        }
        if request.headers[.accept]?.contains("application/json") == true {
            if let report { return try SearchRoutes.json(.ok, report) }
            return try SearchRoutes.json(.accepted, run)
        }
        return pages.response("conformance-run", title: "Contrôle de conformité — \(editor.name)", values: [
            "id": editor.id, "name": editor.name, "running": run.state == .running,
            "interrupted": run.state == .interrupted, "at": Self.formatter.string(from: run.startedAt), "actor": run.actor,
            "verdictCode": run.passed == true ? "conforme" : "non_conforme",
            "summary": report?.summary ?? "", "table": report?.htmlTable() ?? "",
            "duration": report.map { String(format: "%.1f s", $0.durationSeconds).replacingOccurrences(of: ".", with: ",") } ?? "",
        ], context: context)
    }
}
