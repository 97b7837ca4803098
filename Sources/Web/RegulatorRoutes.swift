import Agenda
import Aggregator
import Foundation
import Hummingbird
import HubLink
import HTTPTypes
import Identity
import Search
import Storage

/// The regulator's workspace: the search page (streamed with JavaScript, rendered on the server without), the
/// orientations (vendor slot, SAS-agenda slot, "en sus") and "Mes orientations".
struct RegulatorRoutes {
    let engine: SearchEngine
    let store: OrientationStore
    let editors: EditorStore
    let agenda: StoredAgenda
    let pages: Pages
    /// The value of `origin` added to vendors' booking URLs (`sas`, or `sas-<environment>`).
    let bookingOrigin: String
    /// INT_L02 deliveries (nil: the LRM link is off).
    var hub: HubOutbox?

    func register(on router: Router<AppRequestContext>) {
        router.get("static/{file}") { _, context in try Self.asset(try context.parameters.require("file")) }
        let search = router.group("recherche").add(middleware: RequirePermission(permission: .search))
        search.get { request, context in try await searchPage(request.uri.queryParameters, context) }
        let orientations = router.group("orientations").add(middleware: RequirePermission(permission: .orient, formCSRF: true))
        orientations.get { request, context in try await orientationsPage(request, context) }
        orientations.post { request, context in try await self.orient(request, context) }
        orientations.get("{id}") { request, context in try await orientationDetail(request, context) }
        orientations.post("{id}/statut") { request, context in try await changeStatus(request, context) }
    }

    // MARK: search page

    /// The search page for `q` (what, where, when, types, médecin traitant); `lrm` adds the banner of a search opened
    /// by a regulation software (INT_L01) with what it could not use.
    func searchPage(_ q: Parameters, _ context: AppRequestContext, lrm: [String: Any]? = nil) async throws -> Response {
        var values: [String: Any] = [
            "what": q.get("what") ?? "", "where": q.get("where") ?? "",
            "from": q.get("from") ?? "", "to": q.get("to") ?? "",
            "typeAMB": q.get("type")?.contains("AMB") == true, "typeHH": q.get("type")?.contains("HH") == true,
            "typeVR": q.get("type")?.contains("VR") == true, "modeExtra": q.get("mode") == "en-sus",
            "doctor": q.get("medecin_traitant") ?? "", "csrf": context.session?.csrfToken ?? "",
        ]
        if let lrm { values["lrm"] = lrm }
        if q.get("what") != nil || q.get("where") != nil || q.get("lat") != nil {
            do {
                let parsed = try SearchRoutes.parse(q, context: context)
                let response = try await engine.search(parsed)
                values["results"] = SearchPageModel(response: response).values
            } catch let error as SearchInputError {
                values["error"] = error.message
            } catch let error as AppError {
                values["error"] = error.message
            }
        }
        var response = pages.response("search", title: "Recherche", values: values, context: context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        return response
    }

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self' https:"

    // MARK: orientations

    func orientationsPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let session = context.session else { throw AppError(.unauthorized, code: "unauthenticated", message: "Connectez-vous.") }
        let list = try await store.list(regulatorID: session.account.id, since: Self.startOfDay(Date()))
        let deliveries = try await hub?.latest(orientationIDs: list.map(\.id)) ?? [:]
        let values: [String: Any] = [
            "message": request.uri.queryParameters.get("message") ?? "",
            "orientations": list.map { o -> [String: Any] in
                [
                    "id": o.id, "kind": o.kind.label, "status": o.status.label, "statusCode": o.status.rawValue,
                    "category": o.category.label, "version": o.version, "csrf": session.csrfToken,
                    "cancellable": o.status.canMove(to: .cancelled) && (o.kind != .vendor || o.status == .inProgress),
                    "name": o.offerName, "phone": o.phone ?? "", "vendor": o.vendor ?? "",
                    "slot": o.slotStart.map { Self.dayTime($0) } ?? "—", "created": Self.time(o.createdAt),
                    "lrm": hub == nil ? "non transmis (liaison LRM non configurée)" : (deliveries[o.id]?.label ?? "en attente d'envoi"),
                    "lrmState": deliveries[o.id]?.state.rawValue ?? "",
                ]
            },
            "empty": list.isEmpty,
        ]
        if request.headers[.accept]?.contains("application/json") == true {
            return try SearchRoutes.json(.ok, list)
        }
        return pages.response("orientations", title: "Mes orientations", values: values, context: context)
    }

    /// Records an orientation. JSON (`X-CSRF-Token`) from the search page's script, or a form (`_csrf`) without it.
    func orient(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let session = context.session else { throw AppError(.unauthorized, code: "unauthenticated", message: "Connectez-vous.") }
        let (fields, isJSON) = try await Self.fields(request, limit: 64 * 1024)
        var orientation: OrientationRequest
        do {
            orientation = try await Self.request(from: fields, editors: editors)
        } catch let error as OrientationError {
            throw AppError(.unprocessableContent, code: "invalid_orientation", message: error.message)
        }
        if orientation.kind == .vendor, let url = orientation.bookingURL {
            orientation.bookingURL = Self.withOrigin(url, bookingOrigin)
        }
        let saved: Orientation
        do {
            saved = try await store.orient(orientation, regulatorID: session.account.id,
                                           regulatorEmail: session.account.email,
                                           territory: session.account.territories.sorted().first,
                                           sourceAddress: context.remoteAddress)
        } catch let error as OrientationError {
            let status: HTTPResponse.Status = error.kind == .full ? .conflict : (error.kind == .notFound ? .notFound : .unprocessableContent)
            if !isJSON {
                return Response(status: .seeOther, headers: [.location: "/orientations?message=" + RequirePermission.encode(error.message)])
            }
            throw AppError(status, code: error.kind == .full ? "complet" : "invalid_orientation", message: error.message)
        }
        if saved.kind == .agenda { agenda.invalidate() }
        let message: String
        switch saved.kind {
        case .vendor where saved.bookingURL == nil:
            message = "Créneau sans réservation en ligne : adressez le patient à \(saved.offerName)\(saved.phone.map { " (☎ \($0))" } ?? "") pour \(saved.slotStart.map(Self.dayTime) ?? "ce créneau")."
        case .vendor: message = "Orientation en cours : terminez la réservation sur la page de \(saved.vendor ?? "l'éditeur")."
        case .agenda: message = "Rendez-vous réservé dans l'agenda SAS : \(saved.offerName), \(saved.slotStart.map(Self.dayTime) ?? "")."
        case .extra: message = "Orientation « en sus » enregistrée : appelez \(saved.offerName)\(saved.phone.map { " au \($0)" } ?? "")."
        }
        if !isJSON {
            if saved.kind == .vendor, let url = saved.bookingURL {
                return Response(status: .seeOther, headers: [.location: url])
            }
            return Response(status: .seeOther, headers: [.location: "/orientations?message=" + RequirePermission.encode(message)])
        }
        var body: [String: Any] = ["id": saved.id, "status": saved.status.rawValue, "kind": saved.kind.rawValue, "message": message]
        if let url = saved.bookingURL { body["redirect"] = url }
        if let phone = saved.phone { body["phone"] = phone }
        return Response(status: .created, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))))
    }

    /// `GET /orientations/{id}`: one of the regulator's orientations with its history (JSON).
    func orientationDetail(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let session = context.session else { throw AppError(.unauthorized, code: "unauthenticated", message: "Connectez-vous.") }
        let id = try context.parameters.require("id")
        guard let orientation = try await store.find(id: id), orientation.regulatorID == session.account.id else {
            throw AppError(.notFound, code: "not_found", message: "Orientation introuvable.")
        }
        struct Detail: Encodable { let orientation: Orientation; let history: [OrientationEvent] }
        return try SearchRoutes.json(.ok, Detail(orientation: orientation, history: try await store.history(id: id)))
    }

    /// `POST /orientations/{id}/statut` (`statut`, optional `version` and `motif`): the regulator cancels an
    /// orientation or corrects its outcome. Form (`_csrf`, back to the list) or JSON (`X-CSRF-Token`).
    func changeStatus(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let session = context.session else { throw AppError(.unauthorized, code: "unauthenticated", message: "Connectez-vous.") }
        let id = try context.parameters.require("id")
        let (fields, isJSON) = try await Self.fields(request, limit: 16 * 1024)
        guard let status = fields["statut"].flatMap(Orientation.Status.init(rawValue:)) else {
            throw AppError(.unprocessableContent, code: "invalid_status",
                           message: "Statut inconnu « \(fields["statut"] ?? "") » (annule, honore ou non_honore attendu).")
        }
        var version: Int?
        if let raw = fields["version"], !raw.isEmpty {
            guard let number = Int(raw), number > 0 else {
                throw AppError(.unprocessableContent, code: "invalid_version", message: "Version invalide « \(raw) » (nombre entier attendu).")
            }
            version = number
        }
        do {
            let saved = try await store.changeStatus(id: id, to: status, regulatorID: session.account.id,
                                                     actor: session.account.email, expectedVersion: version,
                                                     reason: fields["motif"].flatMap { $0.isEmpty ? nil : $0 },
                                                     sourceAddress: context.remoteAddress)
            if saved.kind == .agenda { agenda.invalidate() }
            if !isJSON {
                return Response(status: .seeOther, headers: [.location: "/orientations?message=" + RequirePermission.encode(
                    "Orientation vers \(saved.offerName) : \(saved.status.label.lowercased()).")])
            }
            return try SearchRoutes.json(.ok, saved)
        } catch let error as OrientationError {
            if !isJSON {
                return Response(status: .seeOther, headers: [.location: "/orientations?message=" + RequirePermission.encode(error.message)])
            }
            let status: HTTPResponse.Status = switch error.kind {
            case .notFound: .notFound
            case .conflict: .conflict
            default: .unprocessableContent
            }
            throw AppError(status, code: error.kind.rawValue, message: error.message)
        }
    }

    /// The submitted fields: a JSON object (the page's script, `X-CSRF-Token`) or a form (`_csrf`).
    static func fields(_ request: Request, limit: Int) async throws -> (fields: [String: String], isJSON: Bool) {
        guard request.headers[.contentType]?.contains("application/json") == true else {
            return (try await FormData.read(request), false)
        }
        let body = try await request.body.collect(upTo: limit)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw AppError(.badRequest, code: "invalid_body", message: "Corps JSON attendu.")
        }
        return (object.compactMapValues { $0 as? String ?? ($0 as? NSNumber)?.stringValue }, true)
    }

    /// Validates the fields of an orientation. A vendor's booking URL must be HTTPS on the host of that registered,
    /// enabled vendor: the platform never redirects a regulator to an arbitrary site.
    static func request(from fields: [String: String], editors: EditorStore) async throws -> OrientationRequest {
        guard let kind = fields["kind"].flatMap(Orientation.Kind.init(rawValue:)) else {
            throw OrientationError(.invalid, "Type d'orientation inconnu (editeur, agenda ou en_sus attendu).")
        }
        func date(_ key: String) throws -> Date? {
            guard let text = fields[key], !text.isEmpty else { return nil }
            guard let date = SearchDates.parse(text, endOfDay: false) else {
                throw OrientationError(.invalid, "Date invalide pour « \(key) » : \(text).")
            }
            return date
        }
        var request = OrientationRequest(
            kind: kind, practitionerIDNPS: fields["idnps"].flatMap { $0.isEmpty ? nil : $0 },
            structureID: fields["idnst"].flatMap { $0.isEmpty ? nil : $0 }, offerName: fields["name"] ?? "",
            phone: fields["phone"].flatMap { $0.isEmpty ? nil : $0 }, vendor: fields["source"].flatMap { $0.isEmpty ? nil : $0 },
            slotID: fields["slot"].flatMap { $0.isEmpty ? nil : $0 }, slotStart: try date("start"), slotEnd: try date("end"),
            bookingURL: fields["url"].flatMap { $0.isEmpty ? nil : $0 })
        if let raw = fields["categorie"], !raw.isEmpty {
            guard let category = Orientation.Category(rawValue: raw.uppercased()) else {
                throw OrientationError(.invalid, "Catégorie d'orientation inconnue « \(raw) » (PS, CPTS, MSP, CDS, SOS ou PDM attendu).")
            }
            request.category = category
        }
        if kind == .vendor {
            guard let vendor = request.vendor, let editor = try? await editors.get(vendor), editor.enabled else {
                throw OrientationError(.invalid, "Éditeur inconnu ou suspendu : « \(request.vendor ?? "") ».")
            }
            if let raw = request.bookingURL {
                guard let url = URLComponents(string: raw), url.scheme == "https",
                      let host = url.host, host == URLComponents(string: editor.baseURL)?.host else {
                    throw OrientationError(.invalid, "Adresse de réservation refusée : elle doit être sur le site HTTPS de \(editor.name).")
                }
            }
        }
        if kind == .agenda { request.vendor = nil; request.bookingURL = nil }
        return request
    }

    /// `url` with `origin` set (replacing any value already there).
    static func withOrigin(_ url: String, _ origin: String) -> String {
        // Work on the encoded items, so the vendor's own parameters keep their exact encoding (%2B stays %2B).
        guard var components = URLComponents(string: url) else { return url }
        var items = (components.percentEncodedQueryItems ?? []).filter { $0.name != "origin" }
        items.append(URLQueryItem(name: "origin", value: origin))
        components.percentEncodedQueryItems = items
        return components.string ?? url
    }

    // MARK: helpers

    static let paris = TimeZone(identifier: "Europe/Paris")!

    static func startOfDay(_ date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = paris
        return calendar.startOfDay(for: date)
    }

    static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "fr_FR")
        formatter.timeZone = paris
        formatter.dateFormat = format
        return formatter
    }

    static func time(_ date: Date) -> String { formatter("HH:mm").string(from: date) }
    static func dayTime(_ date: Date) -> String { formatter("EEE d MMM HH:mm").string(from: date) }

    /// Files of the workspace (script, style), served from the module's resources with a one-hour cache.
    static func asset(_ name: String) throws -> Response {
        let types = ["recherche.js": "text/javascript; charset=utf-8", "agenda.js": "text/javascript; charset=utf-8", "sas.css": "text/css; charset=utf-8"]
        guard let type = types[name], let url = Bundle.module.resourceURL?.appendingPathComponent("Templates/static/\(name)"),
              let data = try? Data(contentsOf: url) else {
            throw AppError(.notFound, code: "not_found", message: "Fichier introuvable.")
        }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
}

/// The search response shaped for the server-rendered results (no JavaScript).
struct SearchPageModel {
    let response: SearchResponse

    /// The heading of a slot's day: "Aujourd'hui", "Demain", "Après-demain", else "Mardi 27 octobre" (Paris days,
    /// counted on the calendar: around a daylight-saving change, now + 24 h is not always tomorrow).
    static func dayName(_ date: Date, now: Date, label: DateFormatter = RegulatorRoutes.formatter("EEEE d MMMM")) -> String {
        switch ParisClock.day(of: now).days(to: ParisClock.day(of: date)) {
        case 0: return "Aujourd'hui"
        case 1: return "Demain"
        case 2: return "Après-demain"
        default: // "mardi 31 mars" → "Mardi 31 mars" (month names stay lower-case in French)
            let text = label.string(from: date)
            return text.prefix(1).uppercased() + text.dropFirst()
        }
    }

    var values: [String: Any] {
        let now = Date()
        let label = RegulatorRoutes.formatter("EEEE d MMMM")
        let iso = ISO8601DateFormatter()
        func dayName(_ date: Date) -> String { Self.dayName(date, now: now, label: label) }
        let cards: [[String: Any]] = response.results.map { card in
            var groups: [(String, [[String: Any]])] = []
            for slot in card.slots {
                let name = dayName(slot.start)
                let entry: [String: Any] = [
                    "time": RegulatorRoutes.time(slot.start), "types": slot.consultationTypes.joined(separator: " "),
                    "start": iso.string(from: slot.start), "end": iso.string(from: slot.end), "source": slot.source,
                    "url": slot.bookingURL ?? "", "agendaSlot": slot.agendaSlotID ?? "",
                    "isAgenda": slot.agendaSlotID != nil, "remaining": slot.remaining.map(String.init) ?? "",
                ]
                if let index = groups.firstIndex(where: { $0.0 == name }) { groups[index].1.append(entry) } else { groups.append((name, [entry])) }
            }
            return [
                "id": card.id, "kind": card.kind.rawValue, "name": card.name, "idnps": card.idnps ?? "", "idnst": card.idnst ?? "",
                "specialties": card.specialties.joined(separator: ", "), "address": card.address.joined(separator: ", "),
                "phone": card.phone ?? "", "info": card.additionalInfo ?? "", "distance": String(format: "%.1f", card.distanceKm).replacingOccurrences(of: ".", with: ","),
                "pourquoi": card.pourquoi, "days": groups.map { ["day": $0.0, "slots": $0.1] },
                "hasSlots": !card.slots.isEmpty, "extra": card.acceptsExtraPatients && card.slots.isEmpty,
                "preferred": card.preferredDoctor,
            ]
        }
        let failed = response.sources.filter { $0.status != "ok" }
        return [
            "cards": cards, "count": response.total, "radius": response.radius.reason,
            "failed": failed.map { ["message": $0.message, "source": $0.source] }, "hasFailed": !failed.isEmpty,
            "warnings": response.warnings.map(\.message),
            "place": response.query.place.label, "what": response.query.what.label,
        ]
    }
}
