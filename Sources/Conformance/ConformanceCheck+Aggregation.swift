import FHIR
import Foundation
import NIOHTTP1

extension ConformanceCheck {
    typealias Check = (id: String, title: String, optional: Bool, problems: [String], warnings: [String])

    /// One group search's answer, shared by the groups that search the same RPPS in the same mode.
    struct Search {
        let url: String
        let outcome: ProbeOutcome
        let view: BundleView?
        /// The setup's failed assertions (empty: a usable non-empty Bundle) and warnings.
        let problems: [String]
        let warnings: [String]
    }

    func search(_ rpps: [String], mode: KitSearch.Mode, window: (start: String, end: String)) async -> Search {
        let url = KitSearch.url(base: configuration.baseURL, rpps: rpps, mode: mode, window: window)
        let outcome = await probe.send(url, certificate: configuration.certificate)
        var problems: [String] = []
        var warnings: [String] = []
        var view: BundleView?
        if case .response(let status, let headers, let body, _) = outcome {
            if status != 200 { problems.append("200 attendu : \(outcome.summary).") }
            view = BundleView(body)
            if status == 200 {
                if view?.resourceType != "Bundle" { problems.append("La réponse n'est pas un Bundle.") }
                else if view?.entries.isEmpty ?? true { problems.append("Le Bundle est vide : des créneaux libres sont attendus pour ce RPPS d'ici J+2.") }
            }
            if !(headers.first(name: "content-type") ?? "").hasPrefix("application/fhir+json") {
                warnings.append("Content-Type « \(headers.first(name: "content-type") ?? "absent") » au lieu de application/fhir+json.")
            }
        } else {
            problems.append("Pas de réponse : \(outcome.summary).")
        }
        return Search(url: url, outcome: outcome, view: problems.isEmpty ? view : nil, problems: problems, warnings: warnings)
    }

    /// Group 4 (and the search of 6.1.01): returns the results and the first booking URL of the one-place search.
    func aggregation(now: Date, report: Bool) async -> ([ConformanceResult], String?) {
        guard let practitioners = configuration.practitioners else {
            let skipped = ConformanceResult(id: "4", group: "4. Flux agrégateur", title: "Recherches de créneaux (INT_R01, INT_R04)",
                                            verdict: .skipped, messages: ["RPPS de test non fournis (--rpps, --rpps2, --rpps3, --rpps4)."])
            return (report ? [skipped] : [], nil)
        }
        let window = KitSearch.window(now: now)
        let lastDay = String(window.end.prefix(10))
        var results: [ConformanceResult] = []
        var searches: [String: Search] = [:]
        func cached(_ rpps: [String], _ mode: KitSearch.Mode) async -> Search {
            let key = mode.rawValue + "|" + rpps.joined(separator: ",")
            if let search = searches[key] { return search }
            let search = await self.search(rpps, mode: mode, window: window)
            searches[key] = search
            return search
        }

        // 4.1.01: one PS-style search on a fresh connection, under one second.
        let performanceGroup = "4.1 Temps de réponse"
        let performanceURL = KitSearch.url(base: configuration.baseURL, rpps: [practitioners.rpps], mode: .ps, window: window)
        let timed = await probe.send(performanceURL, certificate: configuration.certificate)
        var timing: [String] = []
        if case .response(let status, _, let body, let seconds) = timed {
            if status != 200 { timing.append("200 attendu : \(timed.summary).") }
            if BundleView(body)?.resourceType != "Bundle" { timing.append("La réponse n'est pas un Bundle.") }
            if seconds >= 1 { timing.append(String(format: "Temps de réponse %.3f s (connexion comprise) : moins d'une seconde attendu.", seconds)) }
        } else {
            timing.append("Pas de réponse : \(timed.summary).")
        }
        var performance = Self.result("4.1.01", group: performanceGroup, title: "Test de performance (< 1 s)", problems: timing,
                                      request: "GET \(performanceURL)", outcome: timed)
        if case .response(_, _, _, let seconds) = timed, timing.isEmpty {
            performance.messages.append(String(format: "Réponse en %.3f s.", seconds))
        }
        results.append(performance)

        let modes: [KitSearch.Mode] = configuration.cpts ? [.ps, .cpts] : [.ps]
        var bookingURL: String?
        for mode in modes {
            func group(_ number: String, _ title: String, _ rpps: [String],
                       _ checks: (AggregationChecks) -> [Check]) async {
                let search = await cached(rpps, mode)
                let name = "\(number) \(title) (\(mode.rawValue))"
                results.append(Self.result("\(number).01", mode: mode, group: name, title: "Recherche par RPPS — initialisation",
                                           problems: search.problems, warnings: search.warnings, request: "GET \(search.url)",
                                           outcome: search.outcome))
                let evaluated: [Check]
                if let view = search.view {
                    evaluated = checks(AggregationChecks(bundle: view, mode: mode, rpps: rpps[0], lastDay: lastDay,
                                                         requestURL: search.url, now: now))
                } else {
                    evaluated = checks(AggregationChecks(bundle: BundleView(json: [:]), mode: mode, rpps: rpps[0], lastDay: lastDay,
                                                         requestURL: search.url, now: now))
                        .map { ($0.id, $0.title, $0.optional, [], []) }
                }
                for check in evaluated {
                    if search.view == nil {
                        results.append(ConformanceResult(id: check.id, mode: mode.rawValue, group: name, title: check.title,
                                                         optional: check.optional, verdict: .skipped,
                                                         messages: ["Non exécuté : l'initialisation du groupe a échoué."]))
                    } else {
                        results.append(Self.result(check.id, mode: mode, group: name, title: check.title, optional: check.optional,
                                                   problems: check.problems, warnings: check.warnings,
                                                   request: "GET \(search.url)", outcome: search.outcome))
                    }
                }
            }
            func plain(_ id: String, _ title: String, _ problems: [String], optional: Bool = false)
                -> Check {
                (id, title, optional, problems, [])
            }

            await group("4.2", "Validation du Bundle", [practitioners.rpps]) { c in
                [plain("4.2.02", "Vérification du Bundle (règles des profils du guide)", c.profileStructure())]
            }
            await group("4.3", "PS avec un seul lieu de consultation", [practitioners.rpps]) { c in
                let (cardinality, total) = c.cardinalities()
                let (link, linkWarning) = c.linkEcho()
                var checks: [Check] = [
                    ("4.3.02", "Présence et cardinalités des ressources du Bundle", false, cardinality, total),
                    plain("4.3.03", "RPPS retourné", c.rppsReturned()),
                    plain("4.3.04", "Dates des créneaux (fenêtre, format, début avant fin)", c.dates()),
                    plain("4.3.05", "Cohérence des références Practitioner, PractitionerRole, Schedule et Location", c.references()),
                    plain("4.3.06", "Adresse du lieu (ligne, ville, code postal)", c.address()),
                    ("4.3.07", "Bundle.link.url identique à la requête", false, link, linkWarning),
                    plain("4.3.08", "URL de prise de rendez-vous sur chaque créneau", c.bookingURLs()),
                    plain("4.3.09", "Statut « free » des créneaux", c.freeStatus()),
                    plain("4.3.10", "appointmentType des créneaux", c.appointmentTypes()),
                ]
                if mode == .cpts {
                    checks += [
                        plain("4.3.11", "Présence et cardinalités des ressources CPTS", c.cptsCardinalities()),
                        plain("4.3.12", "Cohérence des références CPTS", c.cptsReferencesConsistent()),
                        plain("4.3.13", "Identifiant CPTS (FINESS)", c.cptsIdentifier()),
                    ]
                }
                return checks
            }
            await group("4.4", "PS avec deux lieux de consultation", [practitioners.rpps2]) { c in
                c.multiPlace().map { plain($0.id, $0.title, $0.problems) }
            }
            await group("4.5", "Recherche multi-PS", [practitioners.rpps3, practitioners.rpps4]) { c in
                [plain("4.5.02", "Présence de deux ressources Practitioner",
                       c.practitioners.count == 2 ? [] : ["Practitioner : 2 attendus, \(c.practitioners.count) reçu(s)."]),
                 plain("4.5.03", "Présence d'au moins deux ressources PractitionerRole",
                       c.roles.count >= 2 ? [] : ["PractitionerRole : au moins 2 attendus, \(c.roles.count) reçu(s)."]),
                 plain("4.5.04", "Présence d'au moins deux ressources Schedule",
                       c.schedules.count >= 2 ? [] : ["Schedule : au moins 2 attendus, \(c.schedules.count) reçu(s)."])]
            }
            await group("4.6", "Champs optionnels", [practitioners.rpps]) { c in
                let (family, given) = c.names()
                return [plain("4.6.02", "RPPS", c.rppsReturned()),
                        plain("4.6.03", "Présence du nom du PS", family),
                        plain("4.6.04", "Présence du prénom du PS", given),
                        plain("4.6.05", "Numéro de téléphone du PS", c.phone(), optional: true),
                        plain("4.6.06", "IDNST de la structure", c.structureIdentifier())]
            }
            await group("4.7", "Types de créneaux et de consultations", [practitioners.rpps]) { c in
                [plain("4.7.02", "Types de créneaux déclarés = retournés",
                       c.slotTypes(declared: mode == .ps ? configuration.slotTypes : configuration.cptsSlotTypes)),
                 plain("4.7.03", "Types de consultation déclarés = retournés", c.consultationTypes(declared: configuration.consultationTypes))]
            }
            if mode == .cpts {
                await group("4.8.1", "PS dans deux CPTS, créneaux distincts", [practitioners.rpps2]) { c in
                    c.twoCPTS(sharedSlot: false).map { plain($0.id, $0.title, $0.problems) }
                }
                await group("4.8.2", "PS dans deux CPTS, un créneau partagé", [practitioners.rpps2]) { c in
                    c.twoCPTS(sharedSlot: true).map { plain($0.id, $0.title, $0.problems) }
                }
                await group("4.9", "Champs optionnels de la CPTS", [practitioners.rpps]) { c in
                    [plain("4.9.02", "Nom de la CPTS", c.cptsName()), plain("4.9.03", "Téléphone de la CPTS", c.cptsPhone())]
                }
            }
            if mode == .ps, let view = await cached([practitioners.rpps], .ps).view {
                bookingURL = BundleView.strings(view.byProfile(FHIRSystems.Profile.slot), "comment").first
            }
        }
        return (report ? results : [], bookingURL)
    }

    // MARK: 6 — SSO

    static let errorWords = ["erreur", "probleme", "incident", "echec", "non autorise", "acces refuse", "authentification echouee",
                             "page introuvable", "ressource non trouvee", "not found", "404", "connexion impossible",
                             "session invalide", "desole", "impossible de", "oups", "invalid", "acces reserve", "refuse"]
    static let loginWords = ["connexion", "authentification", "identification", "login", "sign in", "s identifier", "se connecter",
                             "authentifiez-vous", "mot de passe", "password", "username", "utilisateur", "email", "compte",
                             "account", "s inscrire", "register"]

    /// Lower-case text without diacritics (the kit's keyword scan, over the raw page).
    static func folded(_ html: String) -> String {
        html.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "fr_FR"))
            .replacingOccurrences(of: "'", with: " ").replacingOccurrences(of: "’", with: " ")
    }

    /// Follows up to `limit` redirects without a client certificate, like a browser; returns every URL visited.
    func follow(_ start: String, limit: Int) async -> (visited: [String], outcome: ProbeOutcome) {
        var url = start
        var visited = [start]
        var outcome = await probe.send(url, certificate: nil, accept: "text/html")
        var hops = 0
        while case .response(let status, let headers, _, _) = outcome, (300..<400).contains(status),
              let location = headers.first(name: "location"), hops < limit {
            guard let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString else { break }
            visited.append(next)
            if next.hasPrefix(configuration.pscAuthorizationPrefix) { break }
            url = next
            hops += 1
            outcome = await probe.send(url, certificate: nil, accept: "text/html")
        }
        return (visited, outcome)
    }

    func sso(bookingURL: String?) async -> [ConformanceResult] {
        let group = "6. SSO (redirection avec et sans origin)"
        guard let bookingURL else {
            return ["6.1.02", "6.1.03"].map {
                ConformanceResult(id: $0, group: group, title: $0 == "6.1.02" ? "Connexion sans le paramètre origin" : "Connexion avec origin sans être identifié",
                                  verdict: .skipped, messages: ["Aucune URL de prise de rendez-vous (Slot.comment) dans la recherche du RPPS de test."])
            }
        }
        var results: [ConformanceResult] = []
        guard let parsed = URL(string: bookingURL), parsed.scheme == "https", parsed.host != nil else {
            return ["6.1.02", "6.1.03"].map {
                ConformanceResult(id: $0, group: group, title: $0 == "6.1.02" ? "Connexion sans le paramètre origin" : "Avec origin, sans être identifié : redirection vers Pro Santé Connect",
                                  verdict: .fail, messages: ["URL de prise de rendez-vous « \(bookingURL) » : une URL https est attendue (Slot.comment)."])
            }
        }
        // 6.1.02: without origin, the vendor's page refuses (error or login), it never opens a regulator session.
        let (visited, outcome) = await follow(bookingURL, limit: 3)
        var problems: [String] = []
        if case .response(let status, let headers, let body, _) = outcome {
            let type = headers.first(name: "content-type") ?? ""
            if type.contains("text/html") {
                let text = Self.folded(String(decoding: body, as: UTF8.self))
                let refused = status >= 400 || Self.errorWords.contains(where: text.contains) || Self.loginWords.contains(where: text.contains)
                if !refused { problems.append("Sans origin, la page (HTTP \(status)) ne montre ni erreur ni connexion.") }
            } else if !(400..<600).contains(status) {
                problems.append("Sans origin, une erreur ou une page de connexion est attendue : \(outcome.summary).")
            }
        } else {
            problems.append("Page de prise de rendez-vous injoignable sans certificat : \(outcome.summary).")
        }
        results.append(Self.result("6.1.02", group: group, title: "Connexion sans le paramètre origin", problems: problems,
                                   request: visited.map { "GET " + $0 }.joined(separator: "\n"), outcome: outcome))
        // 6.1.03: with origin and no session, the page sends the regulator to Pro Santé Connect.
        let withOrigin = bookingURL + (bookingURL.contains("?") ? "&" : "?") + "origin=" + configuration.origin
        let (chain, last) = await follow(withOrigin, limit: 5)
        let reached = chain.contains { $0.hasPrefix(configuration.pscAuthorizationPrefix) }
        results.append(Self.result("6.1.03", group: group, title: "Avec origin, sans être identifié : redirection vers Pro Santé Connect",
                                   problems: reached ? [] : ["Pas de redirection vers Pro Santé Connect (\(configuration.pscAuthorizationPrefix)) ; dernière réponse : \(last.summary)."],
                                   request: chain.map { "GET " + $0 }.joined(separator: "\n"), outcome: last))
        results.append(ConformanceResult(id: "6.2.01", group: group, title: "Accès direct à l'agenda une fois connecté (contrôle manuel)",
                                         verdict: .skipped,
                                         messages: ["Contrôle manuel : connecté à Pro Santé Connect, ouvrir \(withOrigin) — l'agenda doit s'ouvrir sans nouvelle authentification."]))
        return results
    }
}
