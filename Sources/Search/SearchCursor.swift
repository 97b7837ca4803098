import Foundation

/// Where the next page starts: the rank key of the last card served, the radius and window of the first page, and
/// the fingerprint of the query. Pages are keyset-paginated over a deterministic order, so no card is skipped or
/// repeated because of reseeding (the live platform's random sort changes seed between pages).
public struct SearchCursor: Sendable, Hashable, Codable {
    /// Format version.
    public var v: Int = 1
    /// Query fingerprint.
    public var fingerprint: String
    /// Radius used by the first page, km.
    public var radiusKm: Double
    /// Window of the first page.
    public var from: Date
    /// See `from`.
    public var to: Date
    /// Rank key of the last card served.
    public var after: RankKey

    /// Opaque text form (base64url of JSON).
    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(self)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a cursor or throws ``SearchInputError`` (`invalid_cursor`).
    public static func decode(_ text: String) throws -> SearchCursor {
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64.append("=") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard text.count < 2048, let data = Data(base64Encoded: b64),
              let cursor = try? decoder.decode(SearchCursor.self, from: data), cursor.v == 1,
              cursor.radiusKm > 0, cursor.radiusKm <= 500, cursor.from <= cursor.to else {
            throw SearchInputError(.invalidCursor, parameter: "cursor",
                                   message: "Curseur de pagination invalide : relancez la recherche depuis la première page.")
        }
        return cursor
    }
}

/// The total order of result cards: group (0 médecin traitant, 1 with a slot, 2 without), earliest slot start
/// (seconds), distance (metres), then the card id.
public struct RankKey: Sendable, Hashable, Codable, Comparable {
    public var group: Int
    public var start: Int64
    public var metres: Int
    public var id: String

    public static func < (a: RankKey, b: RankKey) -> Bool {
        (a.group, a.start, a.metres, a.id) < (b.group, b.start, b.metres, b.id)
    }
}
