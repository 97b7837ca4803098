import Foundation

/// Reads a text file line by line in fixed-size chunks, decoding each line as UTF-8 or, when a line is not valid
/// UTF-8, as Latin-1 (the older RPPS and FINESS extractions are Latin-1). Never holds the whole file in memory.
/// Not thread-safe: one task reads it at a time (it is handed to the import transaction, never shared).
public final class LineReader: @unchecked Sendable {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEOF = false
    private let chunkSize: Int
    /// Bytes consumed so far (for progress bars).
    public private(set) var bytesRead: Int = 0
    /// Total size of the file.
    public let totalBytes: Int
    /// 1-based number of the last line returned.
    public private(set) var lineNumber = 0
    /// True when at least one line had to be decoded as Latin-1.
    public private(set) var sawLatin1 = false

    /// Opens `url` for reading.
    public init(url: URL, chunkSize: Int = 1 << 20) throws {
        handle = try FileHandle(forReadingFrom: url)
        totalBytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        self.chunkSize = chunkSize
    }

    deinit { try? handle.close() }

    /// The next line without its line terminator, or nil at the end of the file.
    public func nextLine() throws -> String? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                var end = newline
                if end > position, buffer[end - 1] == 0x0D { end -= 1 }
                let line = decode(buffer[position..<end])
                bytesRead += newline + 1 - position
                position = newline + 1
                lineNumber += 1
                return line
            }
            if atEOF {
                guard position < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == 0x0D { end -= 1 }
                let line = decode(buffer[position..<end])
                bytesRead += buffer.count - position
                position = buffer.count
                lineNumber += 1
                return line
            }
            if position > 0 {
                buffer.removeFirst(position)
                position = 0
            }
            let data = try handle.read(upToCount: chunkSize) ?? Data()
            if data.isEmpty { atEOF = true } else { buffer.append(contentsOf: data) }
        }
    }

    private func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        if lineNumber == 0, slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) }
        if let text = String(validating: slice, as: UTF8.self) { return text }
        sawLatin1 = true
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(slice.count)
        for byte in slice { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }
}
