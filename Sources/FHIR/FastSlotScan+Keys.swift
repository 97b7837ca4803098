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
    /// `entries`: the other entries (the fast slots are not among them).
    func keysAreUnique(_ entries: [BundleEntry]) -> Bool {
        var urlKeys = HashSet64(capacity: entries.count + slots.count)
        var slotKeys = HashSet64(capacity: entries.count + slots.count)
        // Fast slots: hashes were taken from the bytes while reading (ASCII only, unescaped); fields are read in place
        // (copying a FastSlot would retain all of them).
        for k in slots.indices {
            if let hash = slots[k].fullUrlHash, !urlKeys.insert(hash) { return false }
            if let hash = slots[k].idHash, !slotKeys.insert(hash) { return false }
            let explicitFullUrl = slots[k].fullUrl > 0 ? self.fullUrls[slots[k].fullUrl - 1] : nil
            if slots[k].fullUrlHash != nil, !slots[k].fullUrlFromBase,
               !Self.insertSuffixKey(explicitFullUrl, id: slots[k].idString(idBytes), into: &slotKeys) { return false }
        }
        for i in entries.indices {
            guard let resource = entries[i].resource else { continue } // not indexed by BundleIndex either
            let fullUrl = entries[i].fullUrl
            if let fullUrl {
                guard let hash = Self.asciiHash(fullUrl, seed: 1), urlKeys.insert(hash) else { return false }
            }
            guard case .slot(let slot) = resource else { continue }
            if let id = slot.id {
                guard let hash = Self.asciiHash(id, seed: 2), slotKeys.insert(hash) else { return false }
            }
            let namesID = fullUrl.flatMap { url in slot.id.map { Self.fullUrl(url, endsWithSlotID: $0) } } ?? false
            if !namesID, !Self.insertSuffixKey(fullUrl, id: slot.id, into: &slotKeys) { return false }
        }
        return true
    }

    /// The fullUrl's `Type/id` suffix is another Slot key when it names a Slot other than `id` (as in BundleIndex).
    private static func insertSuffixKey(_ fullUrl: String?, id: String?, into keys: inout HashSet64) -> Bool {
        guard let fullUrl, let suffix = BundleIndex.typeIDSuffix(fullUrl), suffix.type == "Slot", suffix.id != id else {
            return true
        }
        guard let hash = asciiHash(suffix.id, seed: 2) else { return false }
        return keys.insert(hash)
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
