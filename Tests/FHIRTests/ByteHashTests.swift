import Foundation
@testable import FHIR
import Testing

/// `scanASCIIString` hashes a string token while scanning it; its hash must be `byteHash` of the same bytes (the
/// fast path's key hashes are compared with hashes of model strings), whatever the length and what follows.
@Suite("Byte hash")
struct ByteHashTests {
    /// What follows the closing quote (in the same 8-byte word for short strings) must not count: non-ASCII bytes,
    /// backslashes and quotes there change nothing.
    @Test(arguments: ["", "\"}", ",\"next\":\"value with more than eight bytes\"}", "\u{E9}\u{E8}\u{E0}\u{F9}", #"\\"\\""#])
    func scanningHashesLikeByteHash(after: String) throws {
        for n in 0...41 {
            let text = String((0..<n).map { Character(UnicodeScalar(UInt8(0x61 + $0 % 26))) })
            let json = Array(("\"" + text + "\"" + after).utf8)
            try json.withUnsafeBytes { buffer in
                var r = JSONReader(buffer)
                let scanned = try #require(try r.scanASCIIString(seed: 7))
                #expect(scanned.start == 1 && scanned.end == 1 + n && r.pos == n + 2)
                let expected = byteHash(r.base + 1, n, seed: 7)
                #expect(scanned.hash == expected, "length \(n)")
            }
        }
    }

    @Test func escapedOrNonASCIIStringsAreRefused() throws {
        for token in [#""abc\"def""#, #""abcdefghijkl\\""#, "\"caf\u{E9} cr\u{E8}me\"", "\"0123456789\u{E9}\""] {
            let bytes = Array(token.utf8)
            try bytes.withUnsafeBytes { buffer in
                var r = JSONReader(buffer)
                let scanned = try r.scanASCIIString(seed: 1)
                #expect(scanned == nil, "\(token)")
            }
        }
        try Array("\"unterminated".utf8).withUnsafeBytes { buffer in
            var r = JSONReader(buffer)
            #expect(throws: JSONReadError.self) { _ = try r.scanASCIIString(seed: 1) }
        }
    }

    @Test func lengthAndSeedChangeTheHash() {
        let bytes = Array("aaaaaaaaaaaaaaaaaaaa".utf8)
        bytes.withUnsafeBufferPointer { b in
            let hashes = (0...20).map { byteHash(b.baseAddress!, $0) }
            #expect(Set(hashes).count == hashes.count)
            #expect(byteHash(b.baseAddress!, 12, seed: 1) != byteHash(b.baseAddress!, 12, seed: 2))
        }
    }
}
