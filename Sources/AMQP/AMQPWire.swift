import NIOCore

/// AMQP 0-9-1 frames and the field encodings of the methods this client uses (the protocol's §4.2 and §2.3.5).
public struct AMQPFrame: Sendable {
    public enum Kind: UInt8, Sendable { case method = 1, header = 2, body = 3, heartbeat = 8 }
    public var kind: Kind
    public var channel: UInt16
    public var payload: ByteBuffer

    static let end: UInt8 = 0xCE
}

/// Splits the byte stream into frames; refuses a frame larger than the negotiated maximum or a bad frame end.
struct AMQPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = AMQPFrame
    var maximumSize = 1 << 20

    struct Malformed: Error, CustomStringConvertible { let description: String }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 7 else { return .needMoreData }
        let start = buffer.readerIndex
        guard let type = buffer.getInteger(at: start, as: UInt8.self), let channel = buffer.getInteger(at: start + 1, as: UInt16.self),
              let size = buffer.getInteger(at: start + 3, as: UInt32.self) else { return .needMoreData }
        guard Int(size) <= maximumSize else { throw Malformed(description: "trame de \(size) octets (maximum \(maximumSize))") }
        guard buffer.readableBytes >= 7 + Int(size) + 1 else { return .needMoreData }
        guard let kind = AMQPFrame.Kind(rawValue: type) else { throw Malformed(description: "type de trame inconnu \(type)") }
        buffer.moveReaderIndex(forwardBy: 7)
        let payload = buffer.readSlice(length: Int(size))!
        guard buffer.readInteger(as: UInt8.self) == AMQPFrame.end else { throw Malformed(description: "fin de trame absente") }
        context.fireChannelRead(wrapInboundOut(AMQPFrame(kind: kind, channel: channel, payload: payload)))
        return .continue
    }
}

/// Field writing and reading (big-endian; short strings ≤ 255 bytes; tables of the types RabbitMQ sends).
enum AMQPCodec {
    static func frame(_ kind: AMQPFrame.Kind, channel: UInt16, _ payload: ByteBuffer, into out: inout ByteBuffer) {
        out.writeInteger(kind.rawValue)
        out.writeInteger(channel)
        out.writeInteger(UInt32(payload.readableBytes))
        var payload = payload
        out.writeBuffer(&payload)
        out.writeInteger(AMQPFrame.end)
    }

    static func method(_ classID: UInt16, _ methodID: UInt16, _ arguments: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        buffer.writeInteger(classID)
        buffer.writeInteger(methodID)
        arguments(&buffer)
        return buffer
    }

    static func shortString(_ text: String, _ buffer: inout ByteBuffer) {
        let bytes = Array(text.utf8.prefix(255))
        buffer.writeInteger(UInt8(bytes.count))
        buffer.writeBytes(bytes)
    }

    static func longString(_ bytes: [UInt8], _ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    /// A table of string, boolean and nested-table values (what the client sends).
    enum Value { case string(String), bool(Bool), table([(String, Value)]) }

    static func table(_ entries: [(String, Value)], _ buffer: inout ByteBuffer) {
        var body = ByteBufferAllocator().buffer(capacity: 128)
        for (key, value) in entries {
            shortString(key, &body)
            switch value {
            case .string(let text): body.writeInteger(UInt8(ascii: "S")); longString(Array(text.utf8), &body)
            case .bool(let flag): body.writeInteger(UInt8(ascii: "t")); body.writeInteger(UInt8(flag ? 1 : 0))
            case .table(let nested): body.writeInteger(UInt8(ascii: "F")); table(nested, &body)
            }
        }
        buffer.writeInteger(UInt32(body.readableBytes))
        buffer.writeBuffer(&body)
    }

    struct Truncated: Error {}

    static func readShortString(_ buffer: inout ByteBuffer) throws -> String {
        guard let length = buffer.readInteger(as: UInt8.self), let text = buffer.readString(length: Int(length)) else { throw Truncated() }
        return text
    }

    static func readLongString(_ buffer: inout ByteBuffer) throws -> [UInt8] {
        guard let length = buffer.readInteger(as: UInt32.self), let bytes = buffer.readBytes(length: Int(length)) else { throw Truncated() }
        return bytes
    }

    /// Skips a field table (its content is not needed).
    static func skipTable(_ buffer: inout ByteBuffer) throws {
        guard let length = buffer.readInteger(as: UInt32.self), buffer.readableBytes >= Int(length) else { throw Truncated() }
        buffer.moveReaderIndex(forwardBy: Int(length))
    }
}

/// The methods the client receives, decoded.
enum AMQPMethod {
    case connectionStart(mechanisms: [String])
    case connectionTune(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16)
    case connectionOpenOK
    case connectionClose(code: UInt16, text: String)
    case connectionCloseOK
    case connectionBlocked, connectionUnblocked
    case channelOpenOK
    case channelClose(code: UInt16, text: String)
    case channelCloseOK
    case confirmSelectOK
    case queueDeclareOK(messages: UInt32)
    case basicQosOK
    case basicConsumeOK(tag: String)
    case basicDeliver(tag: String, deliveryTag: UInt64, exchange: String, routingKey: String)
    case basicReturn(code: UInt16, text: String)
    case basicAck(deliveryTag: UInt64, multiple: Bool)
    case basicNack(deliveryTag: UInt64, multiple: Bool)
    case basicCancel(tag: String)
    case other(classID: UInt16, methodID: UInt16)

    static func decode(_ payload: ByteBuffer) throws -> AMQPMethod {
        var b = payload
        guard let classID = b.readInteger(as: UInt16.self), let methodID = b.readInteger(as: UInt16.self) else { throw AMQPCodec.Truncated() }
        switch (classID, methodID) {
        case (10, 10):
            guard b.readableBytes >= 2 else { throw AMQPCodec.Truncated() }
            b.moveReaderIndex(forwardBy: 2)
            try AMQPCodec.skipTable(&b)
            let mechanisms = String(decoding: try AMQPCodec.readLongString(&b), as: UTF8.self)
            return .connectionStart(mechanisms: mechanisms.split(separator: " ").map(String.init))
        case (10, 30):
            guard let channels = b.readInteger(as: UInt16.self), let frame = b.readInteger(as: UInt32.self),
                  let heartbeat = b.readInteger(as: UInt16.self) else { throw AMQPCodec.Truncated() }
            return .connectionTune(channelMax: channels, frameMax: frame, heartbeat: heartbeat)
        case (10, 41): return .connectionOpenOK
        case (10, 50), (20, 40):
            guard let code = b.readInteger(as: UInt16.self) else { throw AMQPCodec.Truncated() }
            let text = try AMQPCodec.readShortString(&b)
            return classID == 10 ? .connectionClose(code: code, text: text) : .channelClose(code: code, text: text)
        case (10, 51): return .connectionCloseOK
        case (10, 60): return .connectionBlocked
        case (10, 61): return .connectionUnblocked
        case (20, 11): return .channelOpenOK
        case (20, 41): return .channelCloseOK
        case (85, 11): return .confirmSelectOK
        case (50, 11):
            _ = try AMQPCodec.readShortString(&b)
            return .queueDeclareOK(messages: b.readInteger(as: UInt32.self) ?? 0)
        case (60, 11): return .basicQosOK
        case (60, 21): return .basicConsumeOK(tag: try AMQPCodec.readShortString(&b))
        case (60, 30): return .basicCancel(tag: try AMQPCodec.readShortString(&b))
        case (60, 50):
            guard let code = b.readInteger(as: UInt16.self) else { throw AMQPCodec.Truncated() }
            return .basicReturn(code: code, text: try AMQPCodec.readShortString(&b))
        case (60, 60):
            let tag = try AMQPCodec.readShortString(&b)
            guard let deliveryTag = b.readInteger(as: UInt64.self), b.readInteger(as: UInt8.self) != nil else { throw AMQPCodec.Truncated() }
            let exchange = try AMQPCodec.readShortString(&b)
            return .basicDeliver(tag: tag, deliveryTag: deliveryTag, exchange: exchange, routingKey: try AMQPCodec.readShortString(&b))
        case (60, 80), (60, 120):
            guard let tag = b.readInteger(as: UInt64.self), let bits = b.readInteger(as: UInt8.self) else { throw AMQPCodec.Truncated() }
            return methodID == 80 ? .basicAck(deliveryTag: tag, multiple: bits & 1 == 1) : .basicNack(deliveryTag: tag, multiple: bits & 1 == 1)
        default: return .other(classID: classID, methodID: methodID)
        }
    }
}
