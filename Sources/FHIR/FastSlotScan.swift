import Foundation
import SASDomain

/// One `Slot` entry read by the fast path: only what normalisation needs, with repeated values shared.
struct FastSlot {
    /// Index in `Bundle.entry`.
    var entry: Int
    var id: String?
    var isFree = false
    var start: FHIRInstant?
    var end: FHIRInstant?
    var kinds = SlotKinds()
    var service = ServiceFacts.none
    var specialties: [SlotSpecialty] = []
    var bookingMode: BookingMode?
    var bookingURL: String?
    /// Index into ``FastSlotScan/schedules`` (0: no schedule reference).
    var schedule = 0

    init(entry: Int) { self.entry = entry }
}

/// The fast reader for `Bundle.entry` elements, used by ``BundleNormaliser``.
///
/// A `Slot` entry is read in one pass over the bytes: object keys are matched by hash without building strings,
/// `start`/`end` are parsed in place, and the sub-values that repeat across slots (meta, serviceType, specialty,
/// appointmentType, comment, schedule) are decoded once per distinct byte sequence by the *full* readers, then
/// mapped by the same `SlotMapping` functions, and reused (see ``PrefixMemo`` and ``ByteMemo``). Only `id` and
/// `fullUrl` become new strings. Anything else — another resource type, `resourceType` not first, an escaped
/// string where bytes are compared, any error — rewinds to the start of the entry and hands it to the full
/// reader, so problems and error messages are exactly those of the full path.
struct FastSlotScan {
    /// Slot entries read by the fast path, in bundle order.
    private(set) var slots: [FastSlot] = []
    /// Distinct `Slot.schedule` values; index 0 stands for "no reference" (absent or null).
    private(set) var schedules: [Reference?] = [nil]
    private var entryCount = 0
    private var metaMemo = PrefixMemo<SlotKinds>()
    private var serviceMemo = PrefixMemo<ServiceFacts>()
    private var specialtyMemo = PrefixMemo<[SlotSpecialty]>()
    private var appointmentMemo = PrefixMemo<BookingMode?>()
    private var commentMemo = ByteMemo<String?>()
    private var scheduleMemo = ByteMemo<Int>()

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

    /// Reads one `entry` element: a fast Slot (returned entry has only `fullUrl`) or whatever the full reader makes.
    mutating func readEntry(_ r: inout JSONReader) throws -> BundleEntry {
        let index = entryCount
        entryCount += 1
        let at = r.pos, depth = r.depth
        do {
            var slot: FastSlot?
            var fullUrl: String?
            guard try r.beginObject() else { throw NotFastPath() }
            var first = true
            while let key = try r.nextKey(&first, Self.entryTable) {
                switch key {
                case .fullUrl?: fullUrl = try r.readString()
                case .search?: try Self.readSearch(&r)
                case .resource?: slot = try readSlot(&r, entry: index)
                case nil: try r.skipValue()
                }
            }
            guard let slot else { throw NotFastPath() }
            slots.append(slot)
            return BundleEntry(fullUrl: fullUrl)
        } catch {
            // Memo entries added on the way stay valid (each maps bytes to what the full reader makes of them).
            r.pos = at
            r.depth = depth
            return try BundleEntry.readTolerantly(&r)
        }
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

    private mutating func readSlot(_ r: inout JSONReader, entry: Int) throws -> FastSlot {
        guard try r.peek() == UInt8(ascii: "{") else { throw NotFastPath() }
        _ = try r.beginObject()
        var first = true
        // The full reader dispatches on the first `resourceType` key; only accept it in first position.
        guard try r.nextKey(&first, Self.slotTable) == .resourceType, try Self.stringEquals(&r, "Slot") == true else {
            throw NotFastPath()
        }
        var slot = FastSlot(entry: entry)
        while let key = try r.nextKey(&first, Self.slotTable) {
            switch key {
            case .resourceType?: _ = try Self.stringEquals(&r, "Slot")
            case .id?: slot.id = try r.readString()
            case .meta?: slot.kinds = try metaMemo.read(&r) { r in SlotMapping.kinds(try r.read(Meta.self)) }
            case .ext?: _ = try r.readArray(of: Extension.self)
            case .identifier?: _ = try r.readArray(of: Identifier.self)
            case .serviceCategory?: _ = try r.readArray(of: CodeableConcept.self)
            case .serviceType?:
                slot.service = try serviceMemo.read(&r) { r in ServiceFacts(try r.readArray(of: CodeableConcept.self)) }
            case .specialty?:
                slot.specialties = try specialtyMemo.read(&r) { r in
                    SlotMapping.specialties(try r.readArray(of: CodeableConcept.self))
                }
            case .appointmentType?:
                slot.bookingMode = try appointmentMemo.read(&r) { r in SlotMapping.bookingMode(try r.read(CodeableConcept.self)) }
            case .schedule?: slot.schedule = try readSchedule(&r)
            case .status?: slot.isFree = try Self.stringEquals(&r, "free") == true
            case .start?: slot.start = try r.readInstant()
            case .end?: slot.end = try r.readInstant()
            case .overbooked?: _ = try r.readBool()
            case .comment?: slot.bookingURL = try readBookingURL(&r)
            case nil: try r.skipValue()
            }
        }
        return slot
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

    /// `comment` → booking URL, memoised by the string's bytes (the same URL repeats for every slot of a practitioner).
    private mutating func readBookingURL(_ r: inout JSONReader) throws -> String? {
        guard try r.peek() == UInt8(ascii: "\"") else { return SlotMapping.bookingURL(try r.readString()) }
        let at = r.pos
        let (start, end, escaped) = try r.scanString()
        if escaped {
            r.pos = at
            return SlotMapping.bookingURL(try r.readString())
        }
        let hash = byteHash(r.base + start, end - start)
        if let url = commentMemo.lookup(r, start, end - start, hash: hash) { return url }
        let url = SlotMapping.bookingURL(String(decoding: UnsafeBufferPointer(start: r.base + start, count: end - start),
                                                as: UTF8.self))
        commentMemo.insert(url, start: start, length: end - start, hash: hash)
        return url
    }

    /// `schedule` → index into `schedules`, memoised by the reference object's bytes.
    private mutating func readSchedule(_ r: inout JSONReader) throws -> Int {
        guard try r.peek() == UInt8(ascii: "{") else {
            guard let reference = try r.read(Reference.self) else { return 0 }
            schedules.append(reference)
            return schedules.count - 1
        }
        let start = r.pos
        try r.skipValue()
        let length = r.pos - start
        let hash = byteHash(r.base + start, length)
        if let k = scheduleMemo.lookup(r, start, length, hash: hash) { return k }
        r.pos = start // decode the first occurrence with the full reader (depth limits, types, escapes)
        let reference = try r.read(Reference.self)
        schedules.append(reference)
        scheduleMemo.insert(schedules.count - 1, start: start, length: length, hash: hash)
        return schedules.count - 1
    }
}
