import Directory
import Foundation
import SASDomain

/// Turns a ``SearchRequest`` into a ``ResolvedQuery``: specialty text to codes, place text to a centre and radius
/// rings, the time window (Europe/Paris days), with French errors naming what to fix.
public struct QueryResolver: Sendable {
    let specialties: Specialties
    let geocoder: OfflineGeocoder

    /// Longest window accepted.
    public static let maximumWindow: TimeInterval = 7 * 86_400
    /// The label used when no specialty is given (what the live platform does for LRM calls without one).
    public static let defaultWhat = "Médecine générale"

    public init(specialties: Specialties, geocoder: OfflineGeocoder) {
        self.specialties = specialties
        self.geocoder = geocoder
    }

    /// The Europe/Paris calendar.
    public static let paris: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        calendar.locale = Locale(identifier: "fr_FR")
        return calendar
    }()

    /// The live platform's default window end: 23:59:59 of day D+2 in Europe/Paris.
    public static func defaultEnd(now: Date) -> Date {
        let day = paris.startOfDay(for: now)
        let d3 = paris.date(byAdding: .day, value: 3, to: day)!
        return d3.addingTimeInterval(-1)
    }

    /// Resolves everything; throws ``SearchInputError``.
    public func resolve(_ request: SearchRequest, now: Date = Date()) async throws -> ResolvedQuery {
        let (target, defaulted) = try resolveWhat(request.what)
        let place = try await resolvePlace(request)
        let cursor = try request.cursor.map(SearchCursor.decode)
        let window = try resolveWindow(from: cursor?.from ?? request.from, to: cursor?.to ?? request.to, now: now)
        guard (1...50).contains(request.pageSize) else {
            throw SearchInputError(.invalidParameter, parameter: "page_size",
                                   message: "La taille de page doit être comprise entre 1 et 50.")
        }
        guard (1...50).contains(request.minimumOffers) else {
            throw SearchInputError(.invalidParameter, parameter: "k",
                                   message: "Le nombre d'offres recherchées doit être compris entre 1 et 50.")
        }
        let department = geocoder.departments[code: place.departmentCode]
        var plan = RadiusPlan.plan(precision: place.precision, department: department)
        if let cursor { plan = .fixed(cursor.radiusKm, defaultKm: plan.defaultKm) }
        let query = ResolvedQuery(
            target: target, targetDefaulted: defaulted, place: place, radius: plan, window: window,
            consultationTypes: request.consultationTypes, mode: request.mode, role: request.role,
            preferredDoctor: request.preferredDoctor?.trimmingCharacters(in: .whitespaces).nilIfEmpty,
            pageSize: request.pageSize, minimumOffers: request.minimumOffers, cursor: cursor, now: now)
        if let cursor, cursor.fingerprint != query.fingerprint {
            throw SearchInputError(.invalidCursor, parameter: "cursor",
                                   message: "Ce curseur appartient à une autre recherche : relancez la recherche depuis la première page.")
        }
        return query
    }

    /// Specialty code, LRM `urn:oid:…|code`, or text (labels and synonyms, typo-tolerant).
    public func resolveWhat(_ raw: String?) throws -> (SearchTarget, Bool) {
        guard var text = raw?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return (specialties.resolve(Self.defaultWhat).first!, true)
        }
        if text.lowercased().hasPrefix("urn:oid:"), let bar = text.firstIndex(of: "|") {
            text = String(text[text.index(after: bar)...])
        }
        if let specialty = specialties[code: text], specialty.isActive {
            return (SearchTarget(label: specialty.short, specialtyCodes: [specialty.code],
                                 professionCodes: Specialties.profession(of: specialty.code)), false)
        }
        if let first = specialties.resolve(text).first { return (first, false) }
        let words = TextNormalizer.tokens(text)
        var suggestions = specialties.suggest(text, limit: 5).map(\.label)
        for word in words where suggestions.count < 5 && word.count >= 3 {
            for s in specialties.suggest(word, limit: 5).map(\.label) where !suggestions.contains(s) { suggestions.append(s) }
        }
        throw SearchInputError(.unknownSpecialty, parameter: "what",
                               message: "Spécialité inconnue : « \(text) ».", suggestions: Array(suggestions.prefix(5)))
    }

    func resolvePlace(_ request: SearchRequest) async throws -> SearchPlace {
        if let lat = request.latitude, let lon = request.longitude {
            guard lat.isFinite, lon.isFinite, (-90...90).contains(lat), (-180...180).contains(lon) else {
                throw SearchInputError(.invalidParameter, parameter: "lat",
                                       message: "Coordonnées invalides : la latitude doit être entre -90 et 90, la longitude entre -180 et 180.")
            }
            guard let nearest = geocoder.places.all.min(by: {
                Haversine.distanceKm(lat, lon, $0.latitude, $0.longitude) < Haversine.distanceKm(lat, lon, $1.latitude, $1.longitude)
            }), Haversine.distanceKm(lat, lon, nearest.latitude, nearest.longitude) < 100 else {
                throw SearchInputError(.unknownPlace, parameter: "lat",
                                       message: "Ces coordonnées sont hors du territoire couvert par le SAS.")
            }
            return SearchPlace(label: String(format: "Position %.4f, %.4f", lat, lon), latitude: lat, longitude: lon,
                               departmentCode: nearest.departmentCode, precision: "coordinates",
                               placeID: Haversine.distanceKm(lat, lon, nearest.latitude, nearest.longitude) < 10 ? nearest.id : nil)
        }
        if request.latitude != nil || request.longitude != nil {
            throw SearchInputError(.invalidParameter, parameter: "lat",
                                   message: "Indiquez la latitude et la longitude ensemble.")
        }
        guard let text = request.place?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            throw SearchInputError(.missingPlace, parameter: "where",
                                   message: "Indiquez où chercher : adresse, ville, code postal, code INSEE ou département.")
        }
        do {
            let result = try await geocoder.geocode(text)
            let precision = result.isAddressQuery ? "address" : result.precision.rawValue
            return SearchPlace(label: result.streetLine.map { "\($0), \(result.label)" } ?? result.label,
                               latitude: result.latitude, longitude: result.longitude,
                               departmentCode: result.departmentCode, precision: precision,
                               placeID: result.place?.id ?? (precision == "department" ? nil : nearestPlace(result.latitude, result.longitude)))
        } catch GeocodeError.notFound(_, let suggestions) {
            var labels = suggestions.map(\.label)
            if labels.isEmpty { labels = geocoder.suggest(String(text.prefix(4)), limit: 5).map(\.label) }
            throw SearchInputError(.unknownPlace, parameter: "where",
                                   message: "Localisation introuvable : « \(text) ».", suggestions: Array(labels.prefix(5)))
        }
    }

    /// The place at (or within 2 km of) a point: the commune an address geocoded to its city centre is in.
    func nearestPlace(_ lat: Double, _ lon: Double) -> Int? {
        guard let p = geocoder.places.all.min(by: {
            Haversine.distanceKm(lat, lon, $0.latitude, $0.longitude) < Haversine.distanceKm(lat, lon, $1.latitude, $1.longitude)
        }), Haversine.distanceKm(lat, lon, p.latitude, p.longitude) < 2 else { return nil }
        return p.id
    }

    /// `from` defaults to now (a start in the past is moved to now), `to` to the end of day D+2 (Paris).
    public func resolveWindow(from: Date?, to: Date?, now: Date) throws -> ClosedRange<Date> {
        let start = max(from ?? now, now)
        let end = to ?? Self.defaultEnd(now: now)
        if end <= now {
            throw SearchInputError(.invalidWindow, parameter: "to",
                                   message: "La période de recherche est dans le passé : choisissez une fin de période à venir.")
        }
        if end <= start {
            throw SearchInputError(.invalidWindow, parameter: "to",
                                   message: "La fin de la période doit être postérieure à son début.")
        }
        if end.timeIntervalSince(start) > Self.maximumWindow {
            throw SearchInputError(.invalidWindow, parameter: "to",
                                   message: "La période de recherche ne peut pas dépasser 7 jours.")
        }
        return start...end
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
