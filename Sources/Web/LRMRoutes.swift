import Directory
import Foundation
import Hummingbird
import Identity
import SASDomain
import Storage

/// INT_L01, the contextual search: the regulation software (LRM) of a SAMU opens
/// `/sas/recherche?origin=…&practitioner=…&specialty=…&streetnumber=…&streetname=…&city=…&inseecode=…` in the
/// regulator's browser. The origin must be registered and enabled (else the live platform's "flux désactivé" message);
/// the médecin traitant (`urn:oid:1.2.250.1.71.4.2.1|8…` or a name) is pinned first; the specialty (`urn:oid:…|code`
/// of TRE_R38, or text) defaults to general practice; the patient's address is rebuilt from the INSEE code or the
/// city and checked before searching. Whatever cannot be used is said on the page, never silently dropped. A regulator
/// not logged in goes through the login and comes back to the same URL. No patient identity is read or kept.
struct LRMRoutes {
    let origins: LRMOriginStore
    let regulator: RegulatorRoutes
    let geocoder: OfflineGeocoder
    let specialties: Specialties
    let pages: Pages
    let database: any Database

    static let disabledFlow = "Le flux entre le logiciel de régulation médicale à l'origine de la recherche et la plateforme numérique SAS est désactivé pour des raisons techniques. Veuillez contacter le support pour plus de renseignements."
    static let idnpsOID = "1.2.250.1.71.4.2.1"
    static let specialtyOID = "1.2.250.1.213.2.28"
    static let generalPractice = "SM54"

    func register(on router: Router<AppRequestContext>) {
        router.group("sas/recherche").add(middleware: RequirePermission(permission: .search)).get { request, context in
            try await open(request, context)
        }
    }

    struct Notice {
        var code: String
        var text: String
    }

    /// `urn:oid:<oid>|<value>` split, or nil when the text is not of that form.
    static func urn(_ text: String) -> (oid: String, value: String)? {
        guard text.lowercased().hasPrefix("urn:oid:"), let bar = text.firstIndex(of: "|") else { return nil }
        let oid = String(text[text.index(text.startIndex, offsetBy: 8)..<bar])
        let value = String(text[text.index(after: bar)...])
        guard !oid.isEmpty, oid.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), !oid.hasPrefix("."), !oid.hasSuffix("."),
              !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        return (oid, value)
    }

    func error(_ status: HTTPResponse.Status, _ message: String, _ context: AppRequestContext) -> Response {
        pages.response("message", title: "Recherche depuis le LRM", values: [
            "heading": "Recherche depuis le logiciel de régulation", "message": message, "backLink": false,
            "link": "/recherche", "linkLabel": "Ouvrir la recherche sans pré-remplissage",
        ], context: context, status: status)
    }

    func audit(_ context: AppRequestContext, origin: String, outcome: String) async {
        try? await AuditLog(database).record(AuditEntry(actor: context.actor ?? "?", action: "lrm.search", target: origin,
                                                        detail: outcome, sourceAddress: context.remoteAddress,
                                                        requestID: context.requestID))
    }

    func open(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        func text(_ key: String) -> String? {
            guard let value = q.get(key)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        for key in ["origin", "practitioner", "specialty", "streetnumber", "streetname", "city", "inseecode"] where (text(key)?.count ?? 0) > 300 {
            return error(.unprocessableContent, "Paramètre « \(key) » trop long (300 caractères au plus).", context)
        }
        // 1. The origin: registered and enabled, or the flow is off for this SAMU.
        guard let code = text("origin"), let origin = try await origins.active(code) else {
            await audit(context, origin: text("origin") ?? "", outcome: "origine refusée")
            return error(.forbidden, Self.disabledFlow, context)
        }
        var notices: [Notice] = []

        // 2. The specialty.
        var what = Self.generalPractice
        if let raw = text("specialty") {
            if let (oid, value) = Self.urn(raw) {
                if oid == Self.specialtyOID, specialties[code: value] != nil {
                    what = value.uppercased()
                } else if oid == Self.specialtyOID {
                    notices.append(Notice(code: "specialite_inconnue",
                                          text: "Spécialité « \(value) » inconnue de la nomenclature TRE_R38 : recherche en médecine générale."))
                } else {
                    notices.append(Notice(code: "specialite_non_reconnue",
                                          text: "Spécialité « \(raw) » hors nomenclature des spécialités ordinales (TRE_R38) : recherche en médecine générale."))
                }
            } else if raw.lowercased().contains("urn") || raw.contains(":") {
                notices.append(Notice(code: "specialite_format",
                                      text: "Spécialité « \(raw) » mal formée (urn:oid:…|code attendu) : recherche en médecine générale."))
            } else {
                what = raw
            }
        }

        // 3. The médecin traitant.
        var doctor = ""
        if let raw = text("practitioner") {
            if raw.lowercased().contains("urn") || raw.lowercased().contains("oid") || raw.contains(":") {
                if let (oid, value) = Self.urn(raw), oid == Self.idnpsOID, value.count == 12, value.hasPrefix("8"),
                   let idnps = try? IDNPS(parsing: value) {
                    doctor = idnps.value
                } else {
                    notices.append(Notice(code: "medecin_traitant_format",
                                          text: "Le médecin traitant renseigné (« \(raw) ») n'a pas pu être identifié : urn:oid:1.2.250.1.71.4.2.1|8 suivi des 11 chiffres du RPPS attendu."))
                }
            } else {
                doctor = raw
            }
        } else {
            notices.append(Notice(code: "medecin_traitant_absent", text: "Le médecin traitant n'a pas été renseigné par le logiciel de régulation."))
        }

        // 4. The patient's address, checked before searching.
        let number = (text("streetnumber") ?? "").filter(\.isNumber)
        let street = text("streetname")
        if !number.isEmpty && street == nil {
            await audit(context, origin: code, outcome: "adresse incomplète")
            return error(.unprocessableContent, "Adresse du patient incomplète : un numéro (\(number)) sans nom de rue.", context)
        }
        let city = text("city"), insee = text("inseecode")
        if let insee, !(insee.count == 5 && insee.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "A" || $0 == "B" || $0 == "a" || $0 == "b") })) {
            notices.append(Notice(code: "code_insee_invalide", text: "Code INSEE « \(insee) » invalide : la commune est lue dans le nom de ville."))
        }
        let validINSEE = insee.flatMap { notices.contains { $0.code == "code_insee_invalide" } ? nil : $0 }
        guard city != nil || validINSEE != nil else {
            await audit(context, origin: code, outcome: "commune absente")
            return error(.unprocessableContent, "Adresse du patient incomplète : ni commune ni code INSEE transmis par le logiciel de régulation.", context)
        }
        let located: GeocodeResult
        do {
            located = try geocoder.resolve(postcode: nil, city: city, inseeCode: validINSEE)
        } catch let failure as GeocodeError {
            await audit(context, origin: code, outcome: "commune introuvable")
            return error(.unprocessableContent, "Commune du patient introuvable (« \([validINSEE, city].compactMap { $0 }.joined(separator: " ")) ») : \(failure.localizedDescription)", context)
        }
        guard located.precision != .department else {
            await audit(context, origin: code, outcome: "commune indéterminée")
            return error(.unprocessableContent, "La commune du patient n'a pas pu être déterminée : le code INSEE « \(validINSEE ?? "") » ne désigne que le département \(located.departmentCode). Le nom de la commune est nécessaire.", context)
        }
        let streetLine = [number, street ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
        let where_ = (streetLine.isEmpty ? "" : streetLine + ", ") + located.label

        await audit(context, origin: code, outcome: notices.isEmpty ? "recherche ouverte" : "recherche ouverte (" + notices.map(\.code).joined(separator: ", ") + ")")
        let lrm: [String: Any] = [
            "origin": origin.code, "label": origin.label, "territory": origin.territory ?? "",
            "notices": notices.map { ["code": $0.code, "text": $0.text] },
        ]
        var query: [(Substring, Substring)] = [("what", Substring(what)), ("where", Substring(where_))]
        if !doctor.isEmpty { query.append(("medecin_traitant", Substring(doctor))) }
        return try await regulator.searchPage(Parameters(query), context, lrm: lrm)
    }
}
