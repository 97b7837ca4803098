import FHIR
import Identity
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import SASDomain

/// The vendor's booking web pages: the `Slot.comment` URL a regulator is redirected to. Regulator rights are only
/// granted when the link carries `origin=sas` (or an environment variant such as `sas-preprod`) and the regulator is
/// logged in; without `origin` the page refuses, as the national test kit expects.
struct SandboxBookingRoutes {
    let editor: SandboxEditor
    static let sessions = NIOLockedValueBox<[String: SandboxUser]>([:])

    /// A regulator logged into the sandbox: shown name, and the identifier the vendor reports in INT_R03.
    struct SandboxUser: Sendable {
        var label: String
        var operatorType: String
        var operatorSystem: String
        var operatorValue: String
    }
    /// The sandbox's local password, shown on its login page (no real secret: it is a test vendor).
    static let demoPassword = "bac-a-sable"

    func register(on router: Router<SandboxRequestContext>) {
        router.get("rdv/{idnps}") { request, context in
            let idnps = try context.parameters.require("idnps")
            guard let origin = request.uri.queryParameters.get("origin"), origin == "sas" || origin.hasPrefix("sas-") else {
                return Self.page(403, "Accès réservé", """
                    <p>Cette page de prise de rendez-vous pour la régulation n'est accessible que depuis la plateforme SAS
                    (paramètre <code>origin=sas</code> absent).</p>
                    """)
            }
            guard let user = Self.user(request) else {
                let back = request.uri.description
                // With Pro Santé Connect, go straight to it: a regulator with a PSC session comes back logged in.
                let login = editor.configuration.psc == nil ? "/connexion" : "/connexion/psc"
                return Response(status: .seeOther, headers: [.location: login + "?retour=" + Self.encode(back)])
            }
            guard let id = try? IDNPS(parsing: idnps), let practitioner = editor.configuration.roster.practitioners[id] else {
                return Self.page(404, "Agenda introuvable", "<p>Aucun agenda pour \(Self.escape(idnps)).</p>")
            }
            let now = Date()
            let window = now...now.addingTimeInterval(3 * 86_400)
            var rows = ""
            let booked = editor.bookedSlots.withLockedValue { $0 }
            for (s, _) in practitioner.sites.enumerated() {
                let agenda = SandboxAgenda(seed: editor.configuration.seed)
                for slot in (practitioner.regularAgenda
                             ? agenda.regularSlots(for: id, siteIndex: s, cptsCount: 0, window: window)
                             : agenda.slots(for: id, siteIndex: s, inCPTS: false, window: window))
                    .filter({ $0.free && !booked.contains($0.id) })
                    .prefix(12) {
                    let label = FHIRInstant(slot.start).canonical.prefix(16).replacingOccurrences(of: "T", with: " ")
                    let selected = slot.id == request.uri.queryParameters.get("creneau") ? " aria-current=\"true\"" : ""
                    rows += """
                        <li\(selected)><form method="post" action="/rdv/\(Self.escape(idnps))/reserver">
                        <input type="hidden" name="creneau" value="\(Self.escape(slot.id))">
                        <input type="hidden" name="origin" value="\(Self.escape(origin))">
                        <input type="hidden" name="debut" value="\(FHIRInstant(slot.start).canonical)">
                        <input type="hidden" name="fin" value="\(FHIRInstant(slot.end).canonical)">
                        <button>Réserver le \(label)</button></form></li>
                        """
                }
            }
            return Self.page(200, "Agenda de \(practitioner.givenName) \(practitioner.familyName)", """
                <p>Connecté·e en tant que régulateur SAS : <strong>\(Self.escape(user.label))</strong> (origine <code>\(Self.escape(origin))</code>).</p>
                <ul class="creneaux">\(rows.isEmpty ? "<li>Aucun créneau disponible.</li>" : rows)</ul>
                """)
        }
        // An SOS Médecins fixed place's page (the `Slot.comment` of the SOS search): same gating as a practitioner's.
        router.get("sos/{idnst}/{place}") { request, context in
            let idnst = try context.parameters.require("idnst")
            guard let origin = request.uri.queryParameters.get("origin"), origin == "sas" || origin.hasPrefix("sas-") else {
                return Self.page(403, "Accès réservé", "<p>Page réservée à la plateforme SAS (paramètre <code>origin=sas</code> absent).</p>")
            }
            guard let user = Self.user(request) else {
                let login = editor.configuration.psc == nil ? "/connexion" : "/connexion/psc"
                return Response(status: .seeOther, headers: [.location: login + "?retour=" + Self.encode(request.uri.description)])
            }
            guard let id = try? IDNST(parsing: idnst), let association = editor.configuration.roster.associations[id],
                  let index = Int(try context.parameters.require("place")), association.places.indices.contains(index) else {
                return Self.page(404, "Lieu introuvable", "<p>Aucun lieu fixe de consultation « \(Self.escape(idnst)) ».</p>")
            }
            let place = association.places[index]
            let slot = request.uri.queryParameters.get("creneau") ?? ""
            let booked = editor.bookedSlots.withLockedValue { $0.contains(slot) }
            return Self.page(200, "\(association.structure.name) — \(place.city)", """
                <p>Connecté·e en tant que régulateur SAS : <strong>\(Self.escape(user.label))</strong> (origine <code>\(Self.escape(origin))</code>).</p>
                <p>\(Self.escape(place.line)), \(Self.escape(place.postalCode)) \(Self.escape(place.city))\(place.phone.map { " — ☎ " + Self.escape($0) } ?? "")</p>
                \(slot.isEmpty ? "" : booked ? "<p>Ce créneau vient d'être réservé.</p>" : """
                <form method="post" action="/rdv/\(Self.escape(idnst))/reserver"><input type="hidden" name="creneau" value="\(Self.escape(slot))">
                <input type="hidden" name="origin" value="\(Self.escape(origin))"><button>Réserver ce créneau</button></form>
                """)
                """)
        }
        router.post("rdv/{idnps}/reserver") { request, context in
            let idnps = try context.parameters.require("idnps")
            guard let user = Self.user(request) else { return Self.page(401, "Connexion requise", "<p>Session expirée.</p>") }
            let form = try await Self.form(request)
            guard let slot = form["creneau"], form["origin"].map({ $0 == "sas" || $0.hasPrefix("sas-") }) == true else {
                return Self.page(400, "Demande invalide", "<p>Créneau ou origine manquant.</p>")
            }
            let already = editor.bookedSlots.withLockedValue { booked in booked.contains(slot) }
            guard !already else { return Self.page(409, "Créneau déjà pris", "<p>Ce créneau vient d'être réservé.</p>") }
            editor.book(slotID: slot)
            editor.logger.info("sandbox booking", metadata: ["slot": "\(slot)", "regulator": "\(user.label)", "idnps": "\(idnps)"])
            // INT_R03: tell the platform, as a real vendor must right after a regulator's booking.
            var reported = ""
            if let practitioner = try? IDNPS(parsing: idnps), let start = form["debut"].flatMap({ try? FHIRInstant(parsing: $0) }),
               let end = form["fin"].flatMap({ try? FHIRInstant(parsing: $0) }) {
                let status = await editor.recordBooking(
                    id: slot, operatorType: user.operatorType, operatorSystem: user.operatorSystem,
                    operatorValue: user.operatorValue, operatorLabel: user.label, practitioner: practitioner,
                    start: start.date, end: end.date)
                reported = switch status {
                case .some(200...299): "<p class=\"int-r03\">Rendez-vous transmis à la plateforme SAS (INT_R03).</p>"
                case .some(let code) where (400...499).contains(code) && code != 408 && code != 429:
                    "<p class=\"int-r03\">La plateforme SAS a refusé le rendez-vous (HTTP \(code)).</p>"
                case _ where editor.configuration.platformFHIRBase == nil: ""
                default: "<p class=\"int-r03\">Plateforme SAS injoignable : le rendez-vous lui sera transmis dès que possible.</p>"
                }
            }
            return Self.page(200, "Rendez-vous confirmé",
                             "<p>Le rendez-vous \(Self.escape(slot)) est réservé par \(Self.escape(user.label)).</p>\(reported)")
        }
        // The vendor's back-office: its appointments, their INT_R03 report, and the status changes that follow a
        // booking (cancelled, fulfilled, no-show), each reported to the platform.
        router.get("back-office") { request, _ in
            guard Self.user(request) != nil else {
                return Response(status: .seeOther, headers: [.location: "/connexion?retour=/back-office"])
            }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "fr_FR")
            formatter.timeZone = TimeZone(identifier: "Europe/Paris")
            formatter.dateFormat = "dd/MM/yyyy HH:mm"
            var rows = ""
            for entry in editor.appointments.all {
                let report = entry.refused ? "refusé par la plateforme (\(entry.lastResult ?? ""))"
                    : (entry.pending ? "en attente (\(entry.attempts) essai(s)\(entry.lastResult.map { " ; dernier : \($0)" } ?? ""))" : "transmis")
                var actions = ""
                for status in [SandboxAppointments.Status.cancelled, .fulfilled, .noshow] where entry.status == .booked {
                    actions += """
                        <form method="post" action="/back-office/\(Self.escape(entry.id))/statut" style="display:inline">
                        <input type="hidden" name="statut" value="\(status.rawValue)"><button>\(status.label)</button></form>
                        """
                }
                rows += "<tr data-rdv=\"\(Self.escape(entry.id))\" data-statut=\"\(entry.status.rawValue)\" data-transmis=\"\(entry.pending || entry.refused ? "non" : "oui")\">"
                    + "<td>\(formatter.string(from: entry.start))</td><td>\(Self.escape(entry.practitioner.value))</td>"
                    + "<td>\(Self.escape(entry.operatorLabel))</td><td>\(entry.status.label)</td><td>\(Self.escape(report))</td><td>\(actions)</td></tr>"
            }
            return Self.page(200, "Back-office — \(editor.configuration.name)", rows.isEmpty
                ? "<p>Aucun rendez-vous.</p>"
                : "<table><thead><tr><th>Début</th><th>Praticien</th><th>Régulateur</th><th>Statut</th><th>Plateforme SAS (INT_R03)</th><th></th></tr></thead><tbody>\(rows)</tbody></table>")
        }
        router.post("back-office/{id}/statut") { request, context in
            guard Self.user(request) != nil else { return Self.page(401, "Connexion requise", "<p>Session expirée.</p>") }
            let id = try context.parameters.require("id")
            let form = try await Self.form(request)
            guard let status = form["statut"].flatMap(SandboxAppointments.Status.init(rawValue:)), status != .booked,
                  editor.appointments.entry(id) != nil else {
                return Self.page(400, "Demande invalide", "<p>Rendez-vous ou statut inconnu.</p>")
            }
            await editor.changeAppointment(id, to: status)
            return Response(status: .seeOther, headers: [.location: "/back-office"])
        }
        router.get("connexion") { request, _ in
            let back = request.uri.queryParameters.get("retour") ?? "/"
            return Self.page(200, "Connexion — \(editor.configuration.name)", """
                <form method="post" action="/connexion">
                <input type="hidden" name="retour" value="\(Self.escape(back))">
                <p><label>Adresse e-mail <input type="email" name="email" required autofocus></label></p>
                <p><label>Mot de passe <input type="password" name="password" required></label></p>
                <p><button>Se connecter</button></p>
                <p class="aide">Bac à sable : comptes créés par la plateforme SAS (INT_R02), mot de passe « \(Self.demoPassword) ».</p>
                </form>
                \(editor.configuration.psc == nil ? "" : "<p><a href=\"/connexion/psc?retour=\(Self.encode(back))\">Se connecter avec Pro Santé Connect</a></p>")
                """)
        }
        router.get("connexion/psc") { request, _ in
            guard let psc = try editor.pscLogin() else {
                return Self.page(404, "Pro Santé Connect non configuré", "<p>Connexion par mot de passe uniquement.</p>")
            }
            let back = request.uri.queryParameters.get("retour").flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil }
            do {
                let url = try await psc.startLogin(returnTo: back).url
                return Response(status: .found, headers: [.location: url.absoluteString])
            } catch let error as PSCError {
                return Self.page(503, "Pro Santé Connect indisponible", "<p>\(Self.escape(error.message))</p>")
            }
        }
        router.get("connexion/psc/retour") { request, _ in
            guard let psc = try editor.pscLogin() else {
                return Self.page(404, "Pro Santé Connect non configuré", "<p>Connexion par mot de passe uniquement.</p>")
            }
            let q = request.uri.queryParameters
            guard let code = q.get("code"), let state = q.get("state") else {
                return Self.page(401, "Connexion refusée", "<p>Pro Santé Connect n'a pas authentifié l'utilisateur (\(Self.escape(q.get("error") ?? "réponse incomplète"))).</p>")
            }
            let result: (identity: PSCIdentity, returnTo: String?)
            do {
                result = try await psc.completeLogin(code: code, state: state)
            } catch let error as PSCError {
                editor.logger.warning("sandbox PSC login refused", metadata: ["detail": "\(error.detail)"])
                return Self.page(401, "Connexion refusée", "<p>\(Self.escape(error.message))</p>")
            }
            // The regulator account synchronised by the platform (INT_R02) when there is one for this IDNPS.
            let accounts = await editor.accounts.all()
            let synced = accounts.first { $0.active && $0.identifierValue == result.identity.idnps }
            let name = [result.identity.givenName, result.identity.familyName].compactMap { $0 }.joined(separator: " ")
            let user = "\(name) (IDNPS \(result.identity.idnps)\(synced == nil ? ", compte non synchronisé" : ""))"
            let token = UUID().uuidString
            Self.sessions.withLockedValue {
                $0[token] = SandboxUser(label: user, operatorType: "IDNPS", operatorSystem: IdentifierSystem.idnps,
                                        operatorValue: result.identity.idnps)
            }
            editor.logger.info("sandbox PSC login", metadata: ["idnps": "\(result.identity.idnps)", "synced": "\(synced != nil)"])
            return Response(status: .seeOther, headers: [
                .location: result.returnTo ?? "/", .setCookie: "sandbox_session=\(token); Path=/; HttpOnly; Secure; SameSite=Lax",
            ])
        }
        router.post("connexion") { request, _ in
            let form = try await Self.form(request)
            let email = form["email"]?.lowercased() ?? ""
            let accounts = await editor.accounts.all()
            guard form["password"] == Self.demoPassword,
                  let account = accounts.first(where: { $0.active && $0.email.lowercased() == email }) else {
                return Self.page(401, "Connexion refusée", "<p>Compte inconnu, désactivé, ou mot de passe erroné.</p>")
            }
            let token = UUID().uuidString
            let national = account.identifierSystem == IdentifierSystem.idnps
            Self.sessions.withLockedValue {
                $0[token] = SandboxUser(label: email, operatorType: national ? "IDNPS" : "INTRN",
                                        operatorSystem: account.identifierSystem, operatorValue: account.identifierValue)
            }
            let back = form["retour"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil } ?? "/"
            return Response(status: .seeOther, headers: [
                .location: back, .setCookie: "sandbox_session=\(token); Path=/; HttpOnly; Secure; SameSite=Lax",
            ])
        }
    }

    static func user(_ request: Request) -> SandboxUser? {
        guard let cookie = request.headers[.cookie] else { return nil }
        for part in cookie.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "sandbox_session" {
                return sessions.withLockedValue { $0[String(kv[1])] }
            }
        }
        return nil
    }

    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 64 * 1024)
        var result: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if kv.count == 2 { result[kv[0]] = kv[1] }
        }
        return result
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func page(_ status: Int, _ title: String, _ body: String) -> Response {
        let html = """
            <!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font:16px system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
            button{font:inherit;padding:.3rem .8rem}li[aria-current]{font-weight:bold}.aide{color:#555}</style></head>
            <body><h1>\(escape(title))</h1>\(body)</body></html>
            """
        return Response(status: .init(code: status), headers: [.contentType: "text/html; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
