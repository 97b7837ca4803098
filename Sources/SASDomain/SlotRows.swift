import Foundation

/// The slots one editor answer made, stored together: one object for all of them instead of one per slot.
///
/// Each slot is a row of plain values (times, flags, indices into the tables of Schedule sides, shared facts,
/// booking URLs, fullUrls and structure lists, and the span of its id in the answer's ``TextArena``); an
/// ``AggregatedSlot`` made from a row refers to the rows object and the row number. Building the 600 slots of a
/// large answer then allocates nothing per slot and counts one reference per slot, and freeing them frees one
/// object: the FHIR benchmark showed building and freeing one object per slot among its largest costs. The rows
/// never change once built; writing a field of a slot made from a row gives that slot a storage of its own first.
public final class SlotRows: @unchecked Sendable { // immutable once built
    @usableFromInline
    struct Row {
        @usableFromInline var start: Date
        @usableFromInline var end: Date
        @usableFromInline var owner: Int32
        @usableFromInline var facts: Int32
        /// Index into `bookingURLs`.
        @usableFromInline var bookingURL: Int32
        /// Index into `structureLists`; -1: the owner's structures.
        var structures: Int32
        var idOffset: UInt32
        /// -1: no id.
        var idLength: Int32
        /// Index into `fullUrls`; -1: none (or the facts' base followed by the id when `fullUrlFromBase`).
        var fullUrl: Int32
        @usableFromInline var assumedLocalTime: Bool
        var fullUrlFromBase: Bool
    }

    @usableFromInline let rows: [Row]
    @usableFromInline let owners: [AggregatedSlot.Owner]
    @usableFromInline let facts: [AggregatedSlot.Facts]
    @usableFromInline let bookingURLs: [String?]
    let fullUrls: [String]
    let structureLists: [[SlotStructure]]
    let ids: TextArena

    init(rows: [Row], owners: [AggregatedSlot.Owner], facts: [AggregatedSlot.Facts], bookingURLs: [String?],
         fullUrls: [String], structureLists: [[SlotStructure]], ids: TextArena) {
        self.rows = rows
        self.owners = owners
        self.facts = facts
        self.bookingURLs = bookingURLs
        self.fullUrls = fullUrls
        self.structureLists = structureLists
        self.ids = ids
    }

    /// An object without rows (a placeholder while a slot's storage is being made unique).
    @usableFromInline static let empty = SlotRows(rows: [], owners: [], facts: [], bookingURLs: [], fullUrls: [],
                                                    structureLists: [], ids: TextArena([]))

    /// Number of slots.
    public var count: Int { rows.count }

    /// The slots, in the order they were appended.
    public var slots: [AggregatedSlot] { rows.indices.map { AggregatedSlot(rows: self, row: $0) } }

    func slotID(_ i: Int) -> SlotText {
        let row = rows[i]
        guard row.idLength >= 0 else { return SlotText(nil) }
        return SlotText(arena: ids, offset: Int(row.idOffset), length: Int(row.idLength)) ?? SlotText(nil)
    }

    func fullUrlParts(_ i: Int) -> (fromBase: Bool, explicit: String?) {
        let row = rows[i]
        return (row.fullUrlFromBase, row.fullUrl >= 0 ? fullUrls[Int(row.fullUrl)] : nil)
    }

    @usableFromInline
    func ownStructures(_ i: Int) -> [SlotStructure]? {
        let k = rows[i].structures
        return k >= 0 ? structureLists[Int(k)] : nil
    }

    @usableFromInline
    func structures(_ i: Int) -> [SlotStructure] { ownStructures(i) ?? owners[Int(rows[i].owner)].structures }

    /// The row as a slot storage of its own (sharing the Schedule side and the facts).
    @usableFromInline
    func storage(_ i: Int) -> AggregatedSlot.Storage {
        let row = rows[i]
        let parts = fullUrlParts(i)
        return AggregatedSlot.Storage(owner: owners[Int(row.owner)], facts: facts[Int(row.facts)], structures: ownStructures(i),
                                      start: row.start, end: row.end, assumedLocalTime: row.assumedLocalTime,
                                      bookingURL: bookingURLs[Int(row.bookingURL)], slotID: slotID(i), fullUrl: parts.explicit,
                                      fullUrlFromBase: parts.fromBase)
    }
}

/// Builds a ``SlotRows`` slot by slot (the FHIR normaliser's fast path). Tables are given once; each slot names its
/// entries by index, so appending one counts no reference.
public struct SlotRowsBuilder {
    private var rows: [SlotRows.Row] = []
    private var owners: [AggregatedSlot.Owner] = []
    /// Per template key: index into `owners` and into `structureLists` for the template's own structures (-1: none).
    private var templates: [(owner: Int32, structures: Int32)] = []
    private var structureLists: [[SlotStructure]] = []
    private let facts: [AggregatedSlot.SharedFacts]
    private let bookingURLs: [String?]
    private let fullUrls: [String]
    private let ids: TextArena

    /// `facts`, `bookingURLs` and `fullUrls`: the tables the appended slots' indices refer to (`bookingURLs` must
    /// not be empty: a slot without booking URL names an entry that is nil); `ids`: the arena of their id spans.
    public init(ids: TextArena, facts: [AggregatedSlot.SharedFacts], bookingURLs: [String?], fullUrls: [String],
                capacity: Int) {
        precondition(!bookingURLs.isEmpty, "bookingURLs needs an entry for slots without a booking URL")
        self.ids = ids
        self.facts = facts
        self.bookingURLs = bookingURLs
        self.fullUrls = fullUrls
        rows.reserveCapacity(capacity)
    }

    /// Number of slots appended.
    public var count: Int { rows.count }

    /// Appends the slot `AggregatedSlot(template:structures:start:end:assumedLocalTime:facts:bookingURL:slotID:fullUrl:
    /// fullUrlFromBase:)` would make with the template registered under `templateKey`, with its facts, booking URL and
    /// fullUrl given as indices into the tables (fullUrl nil: none) and its id as a range of the arena.
    public mutating func append(templateKey: Int, structures: [SlotStructure]?, start: Date, end: Date,
                                assumedLocalTime: Bool, facts k: Int, bookingURL: Int, id: Range<Int>?, fullUrl: Int?,
                                fullUrlFromBase: Bool) {
        precondition(templateKey >= 0 && templateKey < templates.count && templates[templateKey].owner >= 0,
                     "template key not registered")
        precondition(facts.indices.contains(k), "facts index out of range")
        precondition(bookingURLs.indices.contains(bookingURL), "booking URL index out of range")
        precondition(fullUrl.map { fullUrls.indices.contains($0) } ?? true, "fullUrl index out of range")
        var idOffset: UInt32 = 0, idLength: Int32 = -1
        if let id {
            guard let o = UInt32(exactly: id.lowerBound), let n = Int32(exactly: id.count), id.upperBound <= ids.count else {
                preconditionFailure("id outside the arena")
            }
            (idOffset, idLength) = (o, n)
        }
        let side = templates[templateKey]
        var listIndex = side.structures
        if let structures {
            structureLists.append(structures)
            listIndex = Int32(structureLists.count - 1)
        }
        let fromBase = fullUrlFromBase && facts[k].hasFullUrlBase && id != nil
        rows.append(SlotRows.Row(start: start, end: end, owner: side.owner, facts: Int32(k), bookingURL: Int32(bookingURL),
                                 structures: listIndex, idOffset: idOffset, idLength: idLength,
                                 fullUrl: fullUrlFromBase ? -1 : Int32(fullUrl ?? -1), assumedLocalTime: assumedLocalTime,
                                 fullUrlFromBase: fromBase))
    }

    /// Registers `template` (its Schedule side and own structures) under the caller's small number `key`; the same
    /// number must always come with the same template.
    public mutating func register(templateKey key: Int, template: AggregatedSlot) {
        precondition(key >= 0 && key < Int(Int32.max), "template key out of range")
        if key < templates.count, templates[key].owner >= 0 {
            precondition(owners[Int(templates[key].owner)] === template.owner, "one template key for two templates")
            return
        }
        while templates.count <= key { templates.append((-1, -1)) }
        owners.append(template.owner)
        var list: Int32 = -1
        if let own = template.ownStructures {
            structureLists.append(own)
            list = Int32(structureLists.count - 1)
        }
        templates[key] = (Int32(owners.count - 1), list)
    }

    /// The rows.
    public consuming func build() -> SlotRows {
        SlotRows(rows: rows, owners: owners, facts: facts.map(\.box), bookingURLs: bookingURLs, fullUrls: fullUrls,
                 structureLists: structureLists, ids: ids)
    }
}

extension AggregatedSlot {
    /// The slot stored at `row` of `rows`.
    public init(rows: SlotRows, row: Int) {
        precondition(rows.rows.indices.contains(row), "row out of range")
        repr = .row(rows, UInt32(row))
    }
}
