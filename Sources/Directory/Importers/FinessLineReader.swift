import Foundation

/// Reads `;`-separated records from a byte source in fixed-size chunks, one line at a time, and decodes each line's
/// fields as UTF-8 when the line is valid UTF-8, otherwise as Windows-1252 (the FINESS extraction is historically
/// ISO-8859-1/Windows-1252; some recent copies are UTF-8). Never holds more than one chunk plus one line in memory.
struct SemicolonRecordReader {
    /// How a line was decoded.
    enum Encoding: String, Sendable {
        /// Only ASCII bytes (same text in every candidate encoding).
        case ascii
        /// Valid UTF-8 with non-ASCII characters.
        case utf8
        /// Not valid UTF-8: decoded as Windows-1252.
        case windows1252
    }

    private let nextChunk: () throws -> [UInt8]?
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private(set) var lineNumber = 0

    /// Reads from `chunks`, a function returning the next chunk of bytes or nil at the end.
    init(chunks: @escaping () throws -> [UInt8]?) {
        nextChunk = chunks
    }

    /// The next line (1-based number, bytes without CR/LF and without a leading UTF-8 BOM), or nil at the end.
    mutating func nextLine() throws -> (number: Int, bytes: [UInt8])? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                defer { position = newline + 1 }
                return line(buffer[position..<newline])
            }
            if atEnd {
                guard position < buffer.count else { return nil }
                defer { position = buffer.count }
                return line(buffer[position..<buffer.count])
            }
            if position > 0 {
                buffer.removeSubrange(0..<position)
                position = 0
            }
            if let chunk = try nextChunk(), !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
        }
    }

    private mutating func line(_ raw: ArraySlice<UInt8>) -> (number: Int, bytes: [UInt8]) {
        lineNumber += 1
        var bytes = raw
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        return (lineNumber, Array(bytes))
    }

    /// Whether the line starts with `prefix` (ASCII, case-insensitive), e.g. `geolocalisation;`.
    static func hasPrefix(_ bytes: [UInt8], _ prefix: [UInt8]) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        for i in 0..<prefix.count where bytes[i] | 0x20 != prefix[i] | 0x20 { return false }
        return true
    }

    /// True for a line with nothing but blanks.
    static func isBlank(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 } }

    /// How the line is encoded: ASCII, valid UTF-8, or else Windows-1252.
    static func encoding(of bytes: [UInt8]) -> Encoding {
        if bytes.allSatisfy({ $0 < 0x80 }) { return .ascii }
        return String(validating: bytes, as: UTF8.self) == nil ? .windows1252 : .utf8
    }

    /// Splits on `;`, honouring double-quoted fields with doubled quotes inside (`"LIEU DE VIE ""X"""`), and
    /// decodes each field (blanks trimmed). Nil when a quoted field is not closed.
    static func fields(_ bytes: [UInt8], _ encoding: Encoding) -> [String]? {
        var fields: [String] = []
        fields.reserveCapacity(32)
        var i = 0
        let n = bytes.count
        while true {
            var start = i
            while start < n, bytes[start] == 0x20 { start += 1 }
            if start < n, bytes[start] == 0x22 {
                var value: [UInt8] = []
                var j = start + 1
                var closed = false
                while j < n {
                    if bytes[j] == 0x22 {
                        if j + 1 < n, bytes[j + 1] == 0x22 { value.append(0x22); j += 2; continue }
                        closed = true
                        j += 1
                        break
                    }
                    value.append(bytes[j])
                    j += 1
                }
                guard closed else { return nil }
                while j < n, bytes[j] != 0x3B { value.append(bytes[j]); j += 1 } // text after the closing quote
                fields.append(decode(value[...], encoding))
                i = j
            } else {
                var end = start
                while end < n, bytes[end] != 0x3B { end += 1 }
                fields.append(decode(bytes[start..<end], encoding))
                i = end
            }
            if i >= n { return fields }
            i += 1 // past the `;`
            if i == n { fields.append(""); return fields }
        }
    }

    /// Decodes one field and trims surrounding blanks (spaces and tabs).
    static func decode(_ raw: ArraySlice<UInt8>, _ encoding: Encoding) -> String {
        var bytes = raw
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        switch encoding {
        case .ascii, .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            scalars.reserveCapacity(bytes.count)
            for byte in bytes { scalars.append(windows1252Scalar(byte)) }
            return String(scalars)
        }
    }

    /// Windows-1252 → Unicode: ISO-8859-1 except 0x80–0x9F (undefined positions map to the C1 control, as WHATWG).
    static func windows1252Scalar(_ byte: UInt8) -> Unicode.Scalar {
        guard (0x80...0x9F).contains(byte) else { return Unicode.Scalar(byte) }
        let value = c1Table[Int(byte - 0x80)]
        return Unicode.Scalar(value) ?? Unicode.Scalar(byte)
    }

    private static let c1Table: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
}

extension SemicolonRecordReader {
    /// A reader over a file, read `chunkSize` bytes at a time.
    static func file(_ url: URL, chunkSize: Int) throws -> SemicolonRecordReader {
        let handle = try FileHandle(forReadingFrom: url)
        let box = HandleBox(handle)
        return SemicolonRecordReader {
            guard let data = try box.handle.read(upToCount: max(1, chunkSize)), !data.isEmpty else { return nil }
            return [UInt8](data)
        }
    }

    /// A reader over bytes already in memory, served `chunkSize` bytes at a time (tests exercise chunk boundaries).
    static func bytes(_ data: Data, chunkSize: Int) -> SemicolonRecordReader {
        var offset = 0
        let size = max(1, chunkSize)
        return SemicolonRecordReader {
            guard offset < data.count else { return nil }
            let end = min(data.count, offset + size)
            defer { offset = end }
            return [UInt8](data[(data.startIndex + offset)..<(data.startIndex + end)])
        }
    }
}

/// Closes its file handle when the reader that captured it goes away.
private final class HandleBox {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }
    deinit { try? handle.close() }
}
