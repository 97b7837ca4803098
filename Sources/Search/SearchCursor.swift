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

    /// Opaque text form (base64url of JSON with sorted keys, dates in seconds since 1970), written by hand: it is
    /// built for every page served, and a `JSONEncoder` per page showed in profiles.
    public func encoded() -> String {
        var w = ResponseJSON()
        var first = true
        w.raw("{")
        w.key("after", &first)
        var inner = true
        w.raw("{")
        w.key("group", &inner); w.number(after.group)
        w.key("id", &inner); w.string(after.id)
        w.key("metres", &inner); w.number(after.metres)
        w.key("start", &inner); w.number(after.start)
        w.raw("}")
        w.key("fingerprint", &first); w.string(fingerprint)
        w.key("from", &first); w.number(from.timeIntervalSince1970)
        w.key("radiusKm", &first); w.number(radiusKm)
        w.key("to", &first); w.number(to.timeIntervalSince1970)
        w.key("v", &first); w.number(v)
        w.raw("}")
        let base64 = Data(w.bytes).base64EncodedData()
        var url: [UInt8] = []
        url.reserveCapacity(base64.count)
        for b in base64 {
            switch b {
            case UInt8(ascii: "+"): url.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): url.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: url.append(b)
            }
        }
        return String(decoding: url, as: UTF8.self)
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
