import Foundation

extension String {
    /// ASCII-whitespace trim that returns `self` untouched (no copy, no bridging) in the common case.
    var trimmedASCII: String {
        let utf8 = self.utf8
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        guard let first = utf8.first, let last = utf8.last else { return self }
        if !isBlank(first) && !isBlank(last) { return self }
        guard let start = utf8.firstIndex(where: { !isBlank($0) }), let end = utf8.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
