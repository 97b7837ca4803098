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

    /// One line split into fields.
    struct Record {
        /// 1-based line number in the file.
        let line: Int
        /// Decoded fields, blanks trimmed; nil when the line is malformed (unterminated quote).
        let fields: [String]?
        /// How the line was decoded.
        let encoding: Encoding
        /// True for a line without any byte other than blanks.
        let isBlank: Bool
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

    /// The next record, or nil at the end of the input.
    mutating func next() throws -> Record? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                defer { position = newline + 1 }
                return record(buffer[position..<newline])
            }
            if atEnd {
                guard position < buffer.count else { return nil }
                defer { position = buffer.count }
                return record(buffer[position..<buffer.count])
            }
            if position > 0 {
                buffer.removeSubrange(0..<position)
                position = 0
            }
            if let chunk = try nextChunk(), !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
        }
    }

    private mutating func record(_ raw: ArraySlice<UInt8>) -> Record {
        lineNumber += 1
        var bytes = raw
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let encoding: Encoding
        if bytes.allSatisfy({ $0 < 0x80 }) {
            encoding = .ascii
        } else {
            encoding = String(validating: bytes, as: UTF8.self) == nil ? .windows1252 : .utf8
        }
        let isBlank = bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 }
        let fields = Self.split(bytes).map { $0.map { Self.decode($0, encoding) } }
        return Record(line: lineNumber, fields: fields, encoding: encoding, isBlank: isBlank)
    }

    /// Splits on `;`, honouring double-quoted fields with doubled quotes inside (`"LIEU DE VIE ""X"""`).
    /// Nil when a quoted field is not closed.
    static func split(_ bytes: ArraySlice<UInt8>) -> [[UInt8]]? {
        var fields: [[UInt8]] = []
        var current: [UInt8] = []
        var i = bytes.startIndex
        var quoted = false
        var fieldStart = true
        while i < bytes.endIndex {
            let b = bytes[i]
            if quoted {
                if b == 0x22 {
                    if i + 1 < bytes.endIndex, bytes[i + 1] == 0x22 { current.append(0x22); i += 1 } else { quoted = false }
                } else {
                    current.append(b)
                }
            } else if b == 0x3B {
                fields.append(current)
                current.removeAll(keepingCapacity: true)
                fieldStart = true
                i += 1
                continue
            } else if b == 0x22, fieldStart || current.allSatisfy({ $0 == 0x20 }) {
                current.removeAll()
                quoted = true
            } else {
                current.append(b)
            }
            fieldStart = false
            i += 1
        }
        if quoted { return nil }
        fields.append(current)
        return fields
    }

    /// Decodes one field and trims surrounding blanks.
    static func decode(_ bytes: [UInt8], _ encoding: Encoding) -> String {
        let text: String
        switch encoding {
        case .ascii, .utf8:
            text = String(decoding: bytes, as: UTF8.self)
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            scalars.reserveCapacity(bytes.count)
            for byte in bytes { scalars.append(windows1252Scalar(byte)) }
            text = String(scalars)
        }
        return text.trimmingCharacters(in: .whitespaces)
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
