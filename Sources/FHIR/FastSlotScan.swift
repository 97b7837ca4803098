import Foundation
import SASDomain

/// One `Slot` entry read by the fast path: only what normalisation needs, with repeated values shared. Holds no
/// reference (strings are indices into the scan's tables), so building, moving and freeing 600 of them per bundle
/// counts no reference.
struct FastSlot {
    /// Position of its entry among the Bundle's `entry` elements (fast slots are not kept in `Bundle.entry`).
    var entry: Int
    /// Index into ``FastSlotScan/schedules`` (0: no schedule reference).
    var schedule = 0
    /// The id's bytes in ``FastSlotScan/idBytes`` (nil: no id).
    var arenaID: Range<Int>?
    var isFree = false
    var start: FHIRInstant?
    var end: FHIRInstant?
    /// Index into ``FastSlotScan/comments``: the booking URL from `comment` (0: none). Per slot: it usually names
    /// the practitioner, so it would split the shared facts.
    var comment = 0
    /// Index into ``FastSlotScan/facts``: the slot-level facts, shared with the slots that have the same.
    var facts = 0
    /// Index + 1 into ``FastSlotScan/fullUrls``: the entry's fullUrl (0: none, or the facts' `fullUrlBase` followed
    /// by the id when `fullUrlFromBase`).
    var fullUrl = 0
    var fullUrlFromBase = false
    /// Byte hashes of `fullUrl` and `id` (nil when absent), for ``FastSlotScan/keysAreUnique(_:)``.
    var fullUrlHash: UInt64?
    var idHash: UInt64?
    /// Byte range of `id` while the entry is being read.
    var idRange: Range<Int>?
    /// Which memoised values the slot has, while it is being read (see ``FastSlotScan/factsIndex(_:)``).
    var key = FactKey()

    init(entry: Int) { self.entry = entry }

    /// The id as a string (for problems and the rare checks that need one); `idBytes`: the scan's.
    func idString(_ idBytes: [UInt8]) -> String? {
        guard let arenaID else { return nil }
        return idBytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[arenaID]), as: UTF8.self) }
    }
}

/// The strings of a slot, given to ``NormaliserRun/add(_:facts:entry:schedule:model:)``: a model Slot's own (full
/// path), or taken from the scan's tables (fast path).
struct SlotStrings {
    var id: SlotText
    var bookingURL: String?
    var fullUrl: String?

    /// The three, taken apart (each then moves into the domain slot without a copy).
    consuming func parts() -> (SlotText, String?, String?) { (id, bookingURL, fullUrl) }
}

/// Indices of a slot's memoised values (0: element absent; otherwise index + 1 in the memo's values).
struct FactKey: Equatable {
    var meta = 0, service = 0, specialty = 0, appointment = 0, base = 0
}

/// Slot-level facts as the domain slot shares them, with what normalisation still needs from them.
struct SlotFactsEntry {
    let shared: AggregatedSlot.SharedFacts
    /// CPTS references of `Slot.serviceType` (R5 extension), resolved per slot against the bundle.
    let references: [Reference]
    /// `!references.isEmpty`, read per slot without touching the array.
    let hasReferences: Bool
    /// What precedes the id in the fullUrl of slots whose fullUrl is `…/Slot/<id>`.
    let fullUrlBase: String?

    init(kinds: SlotKinds, service: ServiceFacts, specialties: [SlotSpecialty], bookingMode: BookingMode?,
         fullUrlBase: String?) {
        shared = AggregatedSlot.SharedFacts(kinds: kinds, consultationTypes: service.types, bookingMode: bookingMode,
                                            reasons: service.reasons, specialties: specialties, fullUrlBase: fullUrlBase)
        references = service.references
        hasReferences = !service.references.isEmpty
        self.fullUrlBase = fullUrlBase
    }

    /// A model Slot's facts (the full path), not shared.
    init(_ slot: Slot) {
        self.init(kinds: SlotMapping.kinds(slot.meta), service: ServiceFacts(slot.serviceType),
                  specialties: SlotMapping.specialties(slot.specialty), bookingMode: SlotMapping.bookingMode(slot.appointmentType),
                  fullUrlBase: nil)
    }
}

/// The fast reader for `Bundle.entry` elements, used by ``BundleNormaliser``.
///
/// A `Slot` entry is read in one pass over the bytes: object keys are matched by hash without building strings,
/// `start`/`end` are parsed in place, and the sub-values that repeat across slots (meta, serviceType, specialty,
/// appointmentType, comment, schedule) are decoded once per distinct byte sequence by the *full* readers, then
/// mapped by the same `SlotMapping` functions, and reused (see ``PrefixMemo`` and ``ByteMemo``); each distinct
/// combination of meta, serviceType, specialty, appointmentType and fullUrl base becomes one ``SlotFactsEntry``
/// that all its slots share. The ids are copied into one byte arena (``idBytes``, a ``TextArena`` for the domain
/// slots), and `fullUrl` becomes a new string unless it is `…/Slot/<id>` (then its base is shared). A fast slot is
/// not handed back as a `Bundle.entry` element (the document positions of the others are in ``otherPositions``).
/// Anything else — another resource type, `resourceType` not first, an escaped string where bytes are compared, any error —
/// rewinds to the start of the entry and hands it to the full reader, so problems and error messages are exactly
/// those of the full path.
struct FastSlotScan {
    /// Slot entries read by the fast path, in bundle order.
    private(set) var slots: [FastSlot] = []
    /// Distinct `Slot.schedule` values; index 0 stands for "no reference" (absent or null).
    private(set) var schedules: [Reference?] = [nil]
    /// Distinct combinations of slot-level facts (see ``FastSlot/facts``).
    private(set) var facts: [SlotFactsEntry] = []
    /// The ids of the fast slots, one after the other (ASCII, see ``FastSlot/arenaID``).
    private(set) var idBytes: [UInt8] = []
    /// The document positions of the entries handed back (those not read as fast slots), in order.
    private(set) var otherPositions: [Int] = []
    /// The Bundle has more than one `entry` array (the last one wins: positions and slots read from the others
    /// would not be its entries).
    private(set) var repeatedEntryArray = false
    /// Distinct booking URLs (see ``FastSlot/comment``); index 0 stands for none.
    private(set) var comments: [String?] = [nil]
    /// The fullUrls that are not `base + id` (see ``FastSlot/fullUrl``).
    private(set) var fullUrls: [String] = []
    private var entryCount = 0
    private var metaMemo = PrefixMemo<SlotKinds>()
    private var serviceMemo = PrefixMemo<ServiceFacts>()
    private var specialtyMemo = PrefixMemo<[SlotSpecialty]>()
    private var appointmentMemo = PrefixMemo<BookingMode?>()
    private var commentMemo = ByteMemo<Int>()
    /// Distinct fullUrl bases (`…/Slot/`), by index.
    private var bases: [String] = []
    private var baseMemo = ByteMemo<Int>()
    private var factsTable = WordPairTable()
    private var lastFacts: (key: FactKey, index: Int)?
    private var scheduleMemo = ByteMemo<Int>()
    private var instantMemo = ByteMemo<FHIRInstant>()
    private var searchMemo = PrefixMemo<Bool>()
    /// The last `schedule`, `comment` and fullUrl base values (slots usually come grouped by schedule): checked
    /// before hashing.
    private var lastSchedule: (start: Int, length: Int, value: Int)?
    private var lastComment: (start: Int, length: Int, value: Int)?
    private var lastBase: (start: Int, length: Int, value: Int)?
    /// Keys of the last entry and Slot read, tried first (see ``KeyPredictor``).
    private var entryKeys = KeyPredictor<E>()
    private var slotKeys = KeyPredictor<F>()

    /// The same fields as the full `Slot` reader (same hashing), so unknown keys are the same unknown keys.
    private enum F: String, CaseIterable, Sendable {
        case resourceType, id, meta, ext = "extension", identifier, serviceCategory, serviceType, specialty,
             appointmentType, schedule, status, start, end, overbooked, comment
    }
    private static let slotTable = KeyTable<F>()
    private enum E: String, CaseIterable, Sendable { case fullUrl, resource, search }
    private static let entryTable = KeyTable<E>()
    private enum S: String, CaseIterable, Sendable { case mode, score }
    private static let searchTable = KeyTable<S>()

    /// Thrown (and caught here) when an entry is left to the full reader.
    private struct NotFastPath: Error {}

    /// Notes the start of an `entry` array.
    mutating func entryArrayBegins() {
        if entryCount > 0 { repeatedEntryArray = true }
    }

    /// Reads one `entry` element: a fast Slot (kept here: nil) or whatever the full reader makes.
    mutating func readEntry(_ r: inout JSONReader) throws -> BundleEntry? {
        let index = entryCount
        entryCount += 1
        let at = r.pos, depth = r.depth
        let before = slots.count // the slot is built in place in `slots` (copying a FastSlot retains its fields)
        do {
            if try readFastEntry(&r, index: index, before: before) { return nil }
        } catch {}
        // Any other resource, or anything the fast reader declines: the full reader, from the start of the entry.
        // Memo entries added on the way stay valid (each maps bytes to what the full reader makes of them).
        if slots.count > before { slots.removeLast() }
        r.pos = at
        r.depth = depth
        let entry = try BundleEntry.readTolerantly(&r)
        otherPositions.append(index)
        return entry
    }

    /// Reads an entry whose resource is a Slot into `slots`; false as soon as the resource is something else (a
    /// common case, answered without throwing: an error is an allocation), throws when the fast reader declines.
    private mutating func readFastEntry(_ r: inout JSONReader, index: Int, before: Int) throws -> Bool {
        var fullUrl: ASCIIValue?
        guard try r.beginObject() else { throw NotFastPath() }
        var first = true
        var ordinal = 0
        while let key = try entryKeys.nextKey(&r, &first, &ordinal, Self.entryTable) {
            switch key {
            case .fullUrl?: fullUrl = try Self.readASCII(&r, seed: 1)
            case .search?: _ = try searchMemo.read(&r) { r in try Self.readSearch(&r); return true }
            case .resource?:
                if slots.count > before { slots.removeLast() } // a repeated key: the last one wins
                // Built in place: `slots` is moved out of `self` (O(1)) so that `readSlot` may mutate the memos.
                var built: [FastSlot] = []
                swap(&built, &slots)
                defer { swap(&built, &slots) }
                if built.isEmpty { built.reserveCapacity(r.count / 1024 + 16) } // ~1 KB per Slot entry
                built.append(FastSlot(entry: index))
                guard try readSlot(&r, into: &built[built.count - 1]) else { return false }
            case nil: try r.skipValue()
            }
        }
        guard slots.count > before else { throw NotFastPath() }
        let k = before
        slots[k].fullUrlHash = fullUrl?.hash
        if let url = fullUrl {
            if let id = slots[k].idRange, Self.names(r, url: url.start..<url.end, id: id) {
                slots[k].key.base = baseIndex(r, url.start, url.end - id.count) + 1
                slots[k].fullUrlFromBase = true
            } else {
                fullUrls.append(url.string(r))
                slots[k].fullUrl = fullUrls.count
            }
        }
        slots[k].facts = factsIndex(slots[k].key)
        return true
    }

    /// The positions of the other entries, handed over.
    mutating func takeOtherPositions() -> [Int] {
        var taken: [Int] = []
        swap(&taken, &otherPositions)
        return taken
    }

    /// The slots read, handed over (the scan keeps none, so the caller's array is uniquely referenced).
    mutating func takeSlots() -> [FastSlot] {
        var taken: [FastSlot] = []
        swap(&taken, &slots)
        return taken
    }

    /// The ids' bytes as the arena the domain slots share, handed over.
    mutating func takeIDArena() -> TextArena {
        var taken: [UInt8] = []
        swap(&taken, &idBytes)
        return TextArena(taken)
    }

    /// The index in `facts` of a combination of memoised values, added when new.
    private mutating func factsIndex(_ key: FactKey) -> Int {
        if let last = lastFacts, last.key == key { return last.index }
        let small = key.meta | key.service | key.specialty | key.appointment < 1 << 16 && key.base < 1 << 32
        let a = UInt64(truncatingIfNeeded: key.meta) | UInt64(truncatingIfNeeded: key.service) << 16
            | UInt64(truncatingIfNeeded: key.specialty) << 32 | UInt64(truncatingIfNeeded: key.appointment) << 48
        let b = UInt64(truncatingIfNeeded: key.base)
        if small, let known = factsTable.lookup(a, b) {
            lastFacts = (key, known)
            return known
        }
        facts.append(SlotFactsEntry(
            kinds: key.meta > 0 ? metaMemo.values[key.meta - 1] : [],
            service: key.service > 0 ? serviceMemo.values[key.service - 1] : .none,
            specialties: key.specialty > 0 ? specialtyMemo.values[key.specialty - 1] : [],
            bookingMode: key.appointment > 0 ? appointmentMemo.values[key.appointment - 1] : nil,
            fullUrlBase: key.base > 0 ? bases[key.base - 1] : nil))
        let index = facts.count - 1
        if small { factsTable.insert(a, b, index) } // otherwise (> 65,535 distinct values) not shared
        lastFacts = (key, index)
        return index
    }

    /// The index in `bases` of the fullUrl bytes `start..<end` (ASCII, unescaped: checked by `readASCII`).
    private mutating func baseIndex(_ r: JSONReader, _ start: Int, _ end: Int) -> Int {
        let length = end - start
        if let last = lastBase, last.length == length, Self.bytesMatch(r, start, last.start, length) { return last.value }
        let hash = byteHash(r.base + start, length, seed: 4)
        let k: Int
        if let known = baseMemo.lookup(r, start, length, hash: hash) {
            k = known
        } else {
            bases.append(String(decoding: UnsafeBufferPointer(start: r.base + start, count: length), as: UTF8.self))
            k = bases.count - 1
            baseMemo.insert(k, start: start, length: length, hash: hash)
        }
        lastBase = (start, length, k)
        return k
    }

    /// Validates `entry.search` exactly as the full entry reader does (its value is not used).
    private static func readSearch(_ r: inout JSONReader) throws {
        guard try r.beginObject() else { return }
        var first = true
        while let key = try r.nextKey(&first, searchTable) {
            switch key {
            case .mode?: _ = try r.readInternedString()
            case .score?: _ = try r.readDouble()
            case nil: try r.skipValue()
            }
        }
    }

    /// Reads a Slot resource into `slot`; false when the resource is not a Slot (`resourceType` first).
    private mutating func readSlot(_ r: inout JSONReader, into slot: inout FastSlot) throws -> Bool {
        guard try r.peek() == UInt8(ascii: "{") else { throw NotFastPath() }
        _ = try r.beginObject()
        var first = true
        // The full reader dispatches on the first `resourceType` key; only accept it in first position.
        guard try r.nextKey(&first, Self.slotTable) == .resourceType, try Self.stringEquals(&r, "Slot") == true else {
            return false
        }
        var ordinal = 0
        while let key = try slotKeys.nextKey(&r, &first, &ordinal, Self.slotTable) {
            switch key {
            case .resourceType?: _ = try Self.stringEquals(&r, "Slot")
            case .id?:
                let id = try Self.readASCII(&r, seed: 2)
                (slot.idHash, slot.idRange, slot.arenaID) = (id?.hash, id.map { $0.start..<$0.end }, nil)
                if let id {
                    if idBytes.isEmpty { idBytes.reserveCapacity(r.count / 32) } // ids are ~3 % of a Slot entry
                    let at = idBytes.count
                    idBytes.append(contentsOf: UnsafeBufferPointer(start: r.base + id.start, count: id.end - id.start))
                    slot.arenaID = at..<idBytes.count
                }
            case .meta?: slot.key.meta = try metaMemo.read(&r) { r in SlotMapping.kinds(try r.read(Meta.self)) } + 1
            case .ext?: _ = try r.readArray(of: Extension.self)
            case .identifier?: _ = try r.readArray(of: Identifier.self)
            case .serviceCategory?: _ = try r.readArray(of: CodeableConcept.self)
            case .serviceType?:
                slot.key.service = try serviceMemo.read(&r) { r in ServiceFacts(try r.readArray(of: CodeableConcept.self)) } + 1
            case .specialty?:
                slot.key.specialty = try specialtyMemo.read(&r) { r in
                    SlotMapping.specialties(try r.readArray(of: CodeableConcept.self))
                } + 1
            case .appointmentType?:
                slot.key.appointment = try appointmentMemo.read(&r) { r in
                    SlotMapping.bookingMode(try r.read(CodeableConcept.self))
                } + 1
            case .schedule?: slot.schedule = try readSchedule(&r)
            case .status?: slot.isFree = try Self.stringEquals(&r, "free") == true
            case .start?: slot.start = try readInstant(&r)
            case .end?: slot.end = try readInstant(&r)
            case .overbooked?: _ = try r.readBool()
            case .comment?: slot.comment = try readBookingURL(&r)
            case nil: try r.skipValue()
            }
        }
        return true
    }

    /// A string value's position and hash; its `String` is only built when needed (not for included resources,
    /// whose entries go to the full reader).
    struct ASCIIValue {
        var hash: UInt64
        var start: Int
        var end: Int

        func string(_ r: JSONReader) -> String {
            String(decoding: UnsafeBufferPointer(start: r.base + start, count: end - start), as: UTF8.self)
        }
    }

    /// Reads a string-or-null like `readString`, for values that are compared as keys (fullUrl, id). Escaped or
    /// non-ASCII text goes to the full path, where keys are compared as Swift strings.
    private static func readASCII(_ r: inout JSONReader, seed: UInt64) throws -> ASCIIValue? {
        let b = try r.peek()
        guard b == UInt8(ascii: "\"") else {
            if b == UInt8(ascii: "n") { try r.literal("null"); return nil }
            throw r.typeError("string")
        }
        guard let (start, end, hash) = try r.scanASCIIString(seed: seed) else { throw NotFastPath() }
        return ASCIIValue(hash: hash, start: start, end: end)
    }

    /// Whether the fullUrl bytes are `…/Slot/<id>` or `Slot/<id>` with a non-empty, slash-free id: then
    /// `BundleIndex.typeIDSuffix(fullUrl)` is exactly `Slot/<id>`.
    private static func names(_ r: JSONReader, url: Range<Int>, id: Range<Int>) -> Bool {
        let n = id.count
        guard n > 0, url.count >= n + 5, memcmp(r.base + url.upperBound - n, r.base + id.lowerBound, n) == 0,
              memcmp(r.base + url.upperBound - n - 5, "Slot/", 5) == 0 else { return false }
        if memchr(r.base + id.lowerBound, Int32(UInt8(ascii: "/")), n) != nil { return false }
        let typeStart = url.upperBound - n - 5
        return typeStart == url.lowerBound || r.base[typeStart - 1] == UInt8(ascii: "/")
    }

    /// Reads a string-or-null value as the full reader would and compares it with `word` without building it;
    /// nil for `null`. Escaped strings are left to the full path (their unescaping rules live there).
    private static func stringEquals(_ r: inout JSONReader, _ word: StaticString) throws -> Bool? {
        let b = try r.peek()
        guard b == UInt8(ascii: "\"") else {
            if b == UInt8(ascii: "n") { try r.literal("null"); return nil }
            throw r.typeError("string")
        }
        let (start, end, escaped) = try r.scanString()
        if escaped { throw NotFastPath() }
        return end - start == word.utf8CodeUnitCount && memcmp(r.base + start, word.utf8Start, end - start) == 0
    }

    /// `comment` → index of the booking URL in `comments`, memoised by the string's bytes (the same URL repeats for
    /// every slot of a practitioner).
    private mutating func readBookingURL(_ r: inout JSONReader) throws -> Int {
        func added(_ url: String?) -> Int {
            guard url != nil else { return 0 }
            comments.append(url)
            return comments.count - 1
        }
        guard try r.peek() == UInt8(ascii: "\"") else { return added(SlotMapping.bookingURL(try r.readString())) }
        let at = r.pos
        if let last = lastComment, Self.bytesMatch(r, at, last.start, last.length) { // whole token, quotes included
            r.pos += last.length
            return last.value
        }
        let (start, end, escaped) = try r.scanString()
        if escaped {
            r.pos = at
            return added(SlotMapping.bookingURL(try r.readString()))
        }
        let hash = byteHash(r.base + start, end - start)
        let k: Int
        if let known = commentMemo.lookup(r, start, end - start, hash: hash) {
            k = known
        } else {
            k = added(SlotMapping.bookingURL(String(decoding: UnsafeBufferPointer(start: r.base + start, count: end - start),
                                                    as: UTF8.self)))
            commentMemo.insert(k, start: start, length: end - start, hash: hash)
        }
        lastComment = (at, r.pos - at, k)
        return k
    }

    /// `schedule` → index into `schedules`, memoised by the reference object's bytes.
    private mutating func readSchedule(_ r: inout JSONReader) throws -> Int {
        guard try r.peek() == UInt8(ascii: "{") else {
            guard let reference = try r.read(Reference.self) else { return 0 }
            schedules.append(reference)
            return schedules.count - 1
        }
        let start = r.pos
        if let last = lastSchedule, Self.bytesMatch(r, start, last.start, last.length) { // a whole object: self-delimiting
            r.pos += last.length
            return last.value
        }
        try r.skipValue()
        let length = r.pos - start
        let hash = byteHash(r.base + start, length)
        let k: Int
        if let known = scheduleMemo.lookup(r, start, length, hash: hash) {
            k = known
        } else {
            r.pos = start // decode the first occurrence with the full reader (depth limits, types, escapes)
            schedules.append(try r.read(Reference.self))
            k = schedules.count - 1
            scheduleMemo.insert(k, start: start, length: length, hash: hash)
        }
        lastSchedule = (start, length, k)
        return k
    }

    /// `start`/`end`, memoised by the string's bytes (slot times repeat across practitioners and days).
    private mutating func readInstant(_ r: inout JSONReader) throws -> FHIRInstant? {
        guard try r.peek() == UInt8(ascii: "\"") else { return try r.readInstant() }
        let at = r.pos
        guard let (start, end, hash) = try r.scanASCIIString(seed: 3) else { // escaped or not ASCII: not memoised
            r.pos = at
            return try r.readInstant()
        }
        if let known = instantMemo.lookup(r, start, end - start, hash: hash) { return known }
        r.pos = at
        guard let instant = try r.readInstant() else { return nil }
        instantMemo.insert(instant, start: start, length: end - start, hash: hash)
        return instant
    }

    /// Whether the `length` bytes at `pos` equal those at `start` (an earlier, fully read value).
    @inline(__always)
    private static func bytesMatch(_ r: JSONReader, _ pos: Int, _ start: Int, _ length: Int) -> Bool {
        length <= r.count - pos && memcmp(r.base + pos, r.base + start, length) == 0
    }
}
