import Foundation

extension FastSlotScan {
    /// Whether no entry of the bundle is a duplicate because of a fast slot.
    ///
    /// Fast slots are left out of ``BundleIndex``. That changes nothing as long as every indexed fullUrl is unique
    /// and every `Slot` key (`Slot/id`, plus the `Type/id` suffix of its fullUrl when that names another Slot) is
    /// unique: then the index would never have marked a duplicate involving a fast slot, and no reference the
    /// normaliser follows can usefully land on a Slot. Hashes are compared, so a (rare) collision only costs a
    /// trip through the full path. Non-ASCII values also go to the full path: `String` equality is Unicode
    /// canonical equivalence, which byte hashes do not model.
    static func keysAreUnique(_ entries: [BundleEntry], _ slots: [FastSlot]) -> Bool {
        var fullUrls = HashSet64(capacity: entries.count)
        var slotKeys = HashSet64(capacity: entries.count)
        var next = 0
        for (i, entry) in entries.enumerated() {
            let slotID: String?
            let isSlot: Bool
            if next < slots.count, slots[next].entry == i {
                (isSlot, slotID) = (true, slots[next].id)
                next += 1
            } else if let resource = entry.resource {
                if case .slot(let slot) = resource { (isSlot, slotID) = (true, slot.id) } else { (isSlot, slotID) = (false, nil) }
            } else {
                continue // not indexed by BundleIndex either
            }
            if let fullUrl = entry.fullUrl {
                guard let hash = asciiHash(fullUrl, seed: 1), fullUrls.insert(hash) else { return false }
            }
            guard isSlot else { continue }
            if let slotID {
                guard let hash = asciiHash(slotID, seed: 2), slotKeys.insert(hash) else { return false }
            }
            guard let fullUrl = entry.fullUrl, !(slotID.map { Self.fullUrl(fullUrl, endsWithSlotID: $0) } ?? false) else {
                continue
            }
            // General case (rare): the fullUrl's `Type/id` suffix is another Slot key, as in BundleIndex.
            if let suffix = BundleIndex.typeIDSuffix(fullUrl), suffix.type == "Slot", suffix.id != slotID {
                guard let hash = asciiHash(suffix.id, seed: 2), slotKeys.insert(hash) else { return false }
            }
        }
        return true
    }

    /// `…/Slot/<id>` or `Slot/<id>` with a slash-free id: then `BundleIndex.typeIDSuffix` is exactly `Slot/<id>`.
    private static func fullUrl(_ fullUrl: String, endsWithSlotID id: String) -> Bool {
        let url = fullUrl.utf8, tail = id.utf8
        guard !tail.isEmpty, url.count >= tail.count + 5, !tail.contains(UInt8(ascii: "/")) else { return false }
        let idStart = url.index(url.endIndex, offsetBy: -tail.count)
        guard url[idStart...].elementsEqual(tail) else { return false }
        let typeStart = url.index(idStart, offsetBy: -5)
        guard url[typeStart..<idStart].elementsEqual("Slot/".utf8) else { return false }
        return typeStart == url.startIndex || url[url.index(before: typeStart)] == UInt8(ascii: "/")
    }

    /// Hash of a string's UTF-8 bytes; nil when it is not pure ASCII.
    private static func asciiHash(_ string: String, seed: UInt64) -> UInt64? {
        var copy = string
        return copy.withUTF8 { bytes -> UInt64? in
            guard let base = bytes.baseAddress else { return byteHash(UnsafePointer(bitPattern: 1)!, 0, seed: seed) }
            var high: UInt8 = 0
            for b in bytes { high |= b }
            return high & 0x80 == 0 ? byteHash(base, bytes.count, seed: seed) : nil
        }
    }
}
