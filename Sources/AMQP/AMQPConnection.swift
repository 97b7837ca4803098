import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// An AMQP 0-9-1 error: the broker closed the connection or a channel (code and text), or the link failed.
public struct AMQPError: Error, Sendable, CustomStringConvertible {
    public let code: Int
    public let description: String
    public init(code: Int = 0, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// A message delivered to a consumer.
public struct AMQPDelivery: Sendable {
    public let deliveryTag: UInt64
    public let queue: String
    public let routingKey: String
    public let contentType: String?
    /// delivery_mode 2.
    public let persistent: Bool
    public let body: ByteBuffer
}

/// A client connection to an AMQP 0-9-1 broker (RabbitMQ) over TCP or TLS: SASL EXTERNAL (certificate login) or
/// PLAIN, negotiated heartbeats, one publishing channel in confirm mode (each publish waits for the broker's ack;
/// `mandatory` messages the broker cannot route are errors) and consuming channels with manual acknowledgement.
public final class AMQPConnection: Sendable {
    public enum Authentication: Sendable {
        /// The client certificate's CN is the user (`ssl_cert_login_from = common_name`).
        case external
        case plain(username: String, password: String)
    }

    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// nil: plain TCP (tests only).
        public var tls: TLSConfiguration?
        /// Server name checked on the broker's certificate (default: the host).
        public var serverName: String?
        public var virtualHost: String
        public var authentication: Authentication
        /// Heartbeat asked for, in seconds (the broker's value wins when lower; 0 disables).
        public var heartbeat: UInt16
        public var connectTimeout: TimeAmount

        public init(host: String, port: Int, tls: TLSConfiguration?, serverName: String? = nil, virtualHost: String = "/",
                    authentication: Authentication, heartbeat: UInt16 = 30, connectTimeout: TimeAmount = .seconds(5)) {
            self.host = host
            self.port = port
            self.tls = tls
            self.serverName = serverName
            self.virtualHost = virtualHost
            self.authentication = authentication
            self.heartbeat = heartbeat
            self.connectTimeout = connectTimeout
        }
    }

    struct State {
        /// One awaited method per channel (RPC-style methods are answered in order).
        var waiting: [UInt16: [CheckedContinuation<AMQPMethod, any Error>]] = [:]
        var confirms: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextDeliveryTag: UInt64 = 1
        /// Publications the broker returned as unroutable (by the message id = delivery tag they carry).
        var returnedTags = Set<UInt64>()
        var returning = false
        var blocked = false
        var handshakeDone = false
        var consumers: [UInt16: (queue: String, continuation: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation)] = [:]
        var assembling: [UInt16: (deliveryTag: UInt64, routingKey: String, size: UInt64, contentType: String?, persistent: Bool, body: ByteBuffer)] = [:]
        var closed: AMQPError?
        var lastFrame = NIODeadline.now()
        var frameMax: UInt32 = 131_072
        var nextChannel: UInt16 = 2
    }

    let channel: any Channel
    let state = NIOLockedValueBox(State())
    let publishLock = NIOLock()
    /// How long a publish waits for the broker's confirm.
    let confirmTimeout = TimeAmount.seconds(30)

    init(channel: any Channel) { self.channel = channel }

    /// Connects, authenticates, tunes, opens the virtual host and the publishing channel (confirm mode).
    public static func connect(_ configuration: Configuration) async throws -> AMQPConnection {
        let (stream, continuation) = AsyncThrowingStream<AMQPFrame, any Error>.makeStream()
        let tlsContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        // An IP address is not a server name (SNI): the certificate is then checked against the address.
                        let name = configuration.serverName ?? configuration.host
                        let isAddress = (try? SocketAddress(ipAddress: name, port: 0)) != nil
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tlsContext, serverHostname: isAddress ? nil : name))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMQPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameForwarder(continuation: continuation))
                }
            }
            .connect(host: configuration.host, port: configuration.port).get()
        let connection = AMQPConnection(channel: channel)
        Task { await connection.run(stream) }
        // The TLS handshake and the AMQP opening must finish within the connection timeout too.
        let openingLimit = configuration.connectTimeout + .seconds(5)
        channel.eventLoop.scheduleTask(in: openingLimit) {
            guard !connection.state.withLockedValue({ $0.handshakeDone }) else { return }
            connection.fail(AMQPError("ouverture de la connexion (TLS et AMQP) non terminée en \(openingLimit.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        do {
            try await connection.handshake(configuration)
        } catch {
            try? await channel.close()
            throw error
        }
        return connection
    }

    /// Pushes the decoded frames into the connection's loop; a closed link ends it, a failed one ends it with the
    /// error (TLS, malformed frame), which the waiting calls then report.
    final class FrameForwarder: ChannelInboundHandler, Sendable {
        typealias InboundIn = AMQPFrame
        let continuation: AsyncThrowingStream<AMQPFrame, any Error>.Continuation
        init(continuation: AsyncThrowingStream<AMQPFrame, any Error>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { continuation.finish() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    // MARK: sending

    func write(_ frames: [(AMQPFrame.Kind, UInt16, ByteBuffer)]) {
        var out = channel.allocator.buffer(capacity: 256)
        for (kind, number, payload) in frames { AMQPCodec.frame(kind, channel: number, payload, into: &out) }
        channel.writeAndFlush(out, promise: nil)
    }

    /// Sends a method and waits for the next method on that channel.
    func call(_ number: UInt16, _ method: ByteBuffer?) async throws -> AMQPMethod {
        try await withCheckedThrowingContinuation { continuation in
            let failure = state.withLockedValue { state -> AMQPError? in
                if let closed = state.closed { return closed }
                state.waiting[number, default: []].append(continuation)
                return nil
            }
            if let failure { return continuation.resume(throwing: failure) }
            if let method { write([(.method, number, method)]) }
        }
    }

    func handshake(_ configuration: Configuration) async throws {
        var header = channel.allocator.buffer(capacity: 8)
        header.writeBytes(Array("AMQP".utf8) + [0, 0, 9, 1])
        let started: AMQPMethod = try await withCheckedThrowingContinuation { continuation in
            let failure = state.withLockedValue { state -> AMQPError? in
                if let closed = state.closed { return closed }
                state.waiting[0, default: []].append(continuation)
                return nil
            }
            if let failure { return continuation.resume(throwing: failure) }
            channel.writeAndFlush(header, promise: nil)
        }
        guard case .connectionStart(let mechanisms) = started else { throw AMQPError("réponse inattendue à l'ouverture : \(started)") }
        let (mechanism, response): (String, [UInt8])
        switch configuration.authentication {
        case .external: (mechanism, response) = ("EXTERNAL", [])
        case .plain(let user, let password): (mechanism, response) = ("PLAIN", [0] + Array(user.utf8) + [0] + Array(password.utf8))
        }
        guard mechanisms.contains(mechanism) else {
            throw AMQPError("mécanisme \(mechanism) refusé par le courtier (proposés : \(mechanisms.joined(separator: ", ")))")
        }
        let startOK = AMQPCodec.method(10, 11) { b in
            AMQPCodec.table([("product", .string("plateforme-sas")), ("platform", .string("Swift")),
                             ("capabilities", .table([("publisher_confirms", .bool(true)), ("basic.nack", .bool(true)),
                                                      ("consumer_cancel_notify", .bool(true)), ("connection.blocked", .bool(true))]))], &b)
            AMQPCodec.shortString(mechanism, &b)
            AMQPCodec.longString(response, &b)
            AMQPCodec.shortString("fr_FR", &b)
        }
        let tune = try await call(0, startOK)
        guard case .connectionTune(let channelMax, let frameMax, let serverHeartbeat) = tune else {
            if case .connectionClose(let code, let text) = tune { throw AMQPError(code: Int(code), "connexion refusée : \(text)") }
            throw AMQPError("réponse inattendue à l'authentification : \(tune)")
        }
        let heartbeat = serverHeartbeat == 0 ? configuration.heartbeat : min(serverHeartbeat, configuration.heartbeat)
        let negotiatedFrame = frameMax == 0 ? 131_072 : min(frameMax, 131_072)
        state.withLockedValue { $0.frameMax = negotiatedFrame }
        write([(.method, 0, AMQPCodec.method(10, 31) { b in
            b.writeInteger(channelMax == 0 ? 2047 : min(channelMax, 2047))
            b.writeInteger(negotiatedFrame)
            b.writeInteger(heartbeat)
        })])
        let opened = try await call(0, AMQPCodec.method(10, 40) { b in
            AMQPCodec.shortString(configuration.virtualHost, &b)
            AMQPCodec.shortString("", &b)
            b.writeInteger(UInt8(0))
        })
        guard case .connectionOpenOK = opened else {
            if case .connectionClose(let code, let text) = opened { throw AMQPError(code: Int(code), "hôte virtuel refusé : \(text)") }
            throw AMQPError("réponse inattendue à l'ouverture de l'hôte virtuel : \(opened)")
        }
        if heartbeat > 0 { startHeartbeats(every: heartbeat) }
        _ = try await call(1, AMQPCodec.method(20, 10) { AMQPCodec.shortString("", &$0) })
        guard case .confirmSelectOK = try await call(1, AMQPCodec.method(85, 10) { $0.writeInteger(UInt8(0)) }) else {
            throw AMQPError("le courtier refuse le mode confirmation")
        }
        state.withLockedValue { $0.handshakeDone = true }
    }

    /// Sends a heartbeat every half period and closes the link after two silent periods.
    func startHeartbeats(every seconds: UInt16) {
        let period = TimeAmount.seconds(Int64(seconds))
        let half = TimeAmount.milliseconds(Int64(seconds) * 500)
        channel.eventLoop.scheduleRepeatedTask(initialDelay: half, delay: half) { [weak self] task in
            guard let self else { return task.cancel() }
            if !self.channel.isActive { return task.cancel() }
            let silent = self.state.withLockedValue { NIODeadline.now() - $0.lastFrame }
            if silent > period * 2 {
                self.fail(AMQPError("aucune trame du courtier depuis \(silent.nanoseconds / 1_000_000_000) s (battements de cœur de \(seconds) s)"))
                self.channel.close(promise: nil)
                return task.cancel()
            }
            var empty = self.channel.allocator.buffer(capacity: 0)
            empty.clear()
            self.write([(.heartbeat, 0, empty)])
        }
    }

    // MARK: receiving

    func run(_ frames: AsyncThrowingStream<AMQPFrame, any Error>) async {
        do {
            for try await frame in frames { receive(frame) }
        } catch {
            return fail(AMQPError("connexion au courtier interrompue : \(error)"))
        }
        fail(AMQPError("connexion au courtier fermée"))
    }

    func receive(_ frame: AMQPFrame) {
        state.withLockedValue { $0.lastFrame = .now() }
        switch frame.kind {
        case .heartbeat: return
        case .method:
            guard let method = try? AMQPMethod.decode(frame.payload) else { return }
            handle(method, channel: frame.channel)
        case .header:
            var payload = frame.payload
            guard payload.readableBytes >= 14 else { return }
            payload.moveReaderIndex(forwardBy: 4)
            let size = payload.readInteger(as: UInt64.self) ?? 0
            let flags = payload.readInteger(as: UInt16.self) ?? 0
            let contentType = flags & 0x8000 != 0 ? try? AMQPCodec.readShortString(&payload) : nil
            if flags & 0x4000 != 0 { _ = try? AMQPCodec.readShortString(&payload) }
            if flags & 0x2000 != 0 { try? AMQPCodec.skipTable(&payload) }
            let persistent = flags & 0x1000 != 0 && payload.readInteger(as: UInt8.self) == 2
            if flags & 0x0800 != 0 { _ = payload.readInteger(as: UInt8.self) }
            if flags & 0x0400 != 0 { _ = try? AMQPCodec.readShortString(&payload) }
            if flags & 0x0200 != 0 { _ = try? AMQPCodec.readShortString(&payload) }
            if flags & 0x0100 != 0 { _ = try? AMQPCodec.readShortString(&payload) }
            let messageID = flags & 0x0080 != 0 ? try? AMQPCodec.readShortString(&payload) : nil
            state.withLockedValue { state in
                if state.returning, let tag = messageID.flatMap(UInt64.init) { state.returnedTags.insert(tag) }
                state.returning = false
            }
            let complete = state.withLockedValue { state -> Bool in
                guard var message = state.assembling[frame.channel] else { return false }
                message.size = size
                message.contentType = contentType
                message.persistent = persistent
                state.assembling[frame.channel] = message
                return size == 0
            }
            if complete { deliver(frame.channel) }
        case .body:
            var payload = frame.payload
            let complete = state.withLockedValue { state -> Bool in
                guard var message = state.assembling[frame.channel] else { return false }
                message.body.writeBuffer(&payload)
                state.assembling[frame.channel] = message
                return UInt64(message.body.readableBytes) >= message.size
            }
            if complete { deliver(frame.channel) }
        }
    }

    func deliver(_ number: UInt16) {
        let (message, consumer) = state.withLockedValue { state in
            (state.assembling.removeValue(forKey: number), state.consumers[number])
        }
        guard let message else { return }
        // A returned (unroutable) message's content is dropped: the confirm that follows reports it.
        guard let consumer else { return }
        consumer.continuation.yield(AMQPDelivery(deliveryTag: message.deliveryTag, queue: consumer.queue, routingKey: message.routingKey,
                                                 contentType: message.contentType, persistent: message.persistent, body: message.body))
    }

    func handle(_ method: AMQPMethod, channel number: UInt16) {
        switch method {
        case .basicAck(let tag, let multiple), .basicNack(let tag, let multiple):
            let negative: Bool = { if case .basicNack = method { return true } else { return false } }()
            let done = state.withLockedValue { state -> [(CheckedContinuation<Void, any Error>, Bool)] in
                let tags = multiple ? state.confirms.keys.filter { $0 <= tag } : [tag]
                return tags.compactMap { tag in
                    state.confirms.removeValue(forKey: tag).map { ($0, state.returnedTags.remove(tag) != nil) }
                }
            }
            for (continuation, returned) in done {
                if negative { continuation.resume(throwing: AMQPError("message refusé par le courtier (nack)")) }
                else if returned { continuation.resume(throwing: AMQPError(code: 312, "message non routable (aucune file ne correspond)")) }
                else { continuation.resume() }
            }
        case .basicReturn:
            state.withLockedValue { $0.returning = true; $0.assembling[number] = (0, "", 0, nil, false, ByteBuffer()) }
        case .basicDeliver(_, let deliveryTag, _, let routingKey):
            state.withLockedValue { $0.assembling[number] = (deliveryTag, routingKey, 0, nil, false, ByteBuffer()) }
        case .basicCancel:
            let consumer = state.withLockedValue { $0.consumers.removeValue(forKey: number) }
            consumer?.continuation.finish(throwing: AMQPError("consommation annulée par le courtier (file supprimée ?)"))
        case .connectionClose(let code, let text):
            write([(.method, 0, AMQPCodec.method(10, 51) { _ in })])
            fail(AMQPError(code: Int(code), "connexion fermée par le courtier : \(text)"))
            channel.close(promise: nil)
        case .channelClose(let code, let text):
            write([(.method, number, AMQPCodec.method(20, 41) { _ in })])
            let error = AMQPError(code: Int(code), text)
            let (waiting, consumer) = state.withLockedValue { state in
                (state.waiting.removeValue(forKey: number) ?? [], state.consumers.removeValue(forKey: number))
            }
            for continuation in waiting { continuation.resume(throwing: error) }
            consumer?.continuation.finish(throwing: error)
            if number == 1 { fail(AMQPError(code: Int(code), "canal de publication fermé : \(text)")); channel.close(promise: nil) }
        case .connectionBlocked:
            state.withLockedValue { $0.blocked = true }
        case .connectionUnblocked:
            state.withLockedValue { $0.blocked = false }
        default:
            let continuation = state.withLockedValue { state -> CheckedContinuation<AMQPMethod, any Error>? in
                guard var list = state.waiting[number], !list.isEmpty else { return nil }
                let first = list.removeFirst()
                state.waiting[number] = list
                return first
            }
            continuation?.resume(returning: method)
        }
    }

    /// Fails everything waiting, once.
    func fail(_ error: AMQPError) {
        let (waiting, confirms, consumers) = state.withLockedValue { state in
            if state.closed == nil { state.closed = error }
            defer { state.waiting = [:]; state.confirms = [:]; state.consumers = [:] }
            return (state.waiting.values.flatMap { $0 }, Array(state.confirms.values), Array(state.consumers.values))
        }
        for continuation in waiting { continuation.resume(throwing: error) }
        for continuation in confirms { continuation.resume(throwing: error) }
        for consumer in consumers { consumer.continuation.finish(throwing: error) }
    }

    public var isOpen: Bool { state.withLockedValue { $0.closed == nil } && channel.isActive }

    // MARK: operations

    /// Publishes `body` to `exchange` with `routingKey` and waits for the broker's confirmation. `mandatory`: a
    /// message no queue receives is an error (code 312).
    public func publish(_ body: ByteBuffer, exchange: String, routingKey: String, contentType: String, persistent: Bool,
                        mandatory: Bool = true) async throws {
        let frameMax = state.withLockedValue { Int($0.frameMax) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            publishLock.withLock {
                let (failure, tag) = state.withLockedValue { state -> (AMQPError?, UInt64) in
                    if let closed = state.closed { return (closed, 0) }
                    if state.blocked { return (AMQPError("courtier bloqué (alarme mémoire ou disque) : publication différée"), 0) }
                    let tag = state.nextDeliveryTag
                    state.confirms[tag] = continuation
                    state.nextDeliveryTag += 1
                    return (nil, tag)
                }
                if let failure { return continuation.resume(throwing: failure) }
                // No confirm within the deadline: an error (the outbox sends it again later).
                channel.eventLoop.scheduleTask(in: confirmTimeout) {
                    let late = self.state.withLockedValue { $0.confirms.removeValue(forKey: tag) }
                    late?.resume(throwing: AMQPError("pas de confirmation du courtier en \(self.confirmTimeout.nanoseconds / 1_000_000_000) s"))
                }
                var frames: [(AMQPFrame.Kind, UInt16, ByteBuffer)] = [(.method, 1, AMQPCodec.method(60, 40) { b in
                    b.writeInteger(UInt16(0))
                    AMQPCodec.shortString(exchange, &b)
                    AMQPCodec.shortString(routingKey, &b)
                    b.writeInteger(UInt8(mandatory ? 1 : 0))
                })]
                var header = channel.allocator.buffer(capacity: 64)
                header.writeInteger(UInt16(60))
                header.writeInteger(UInt16(0))
                header.writeInteger(UInt64(body.readableBytes))
                // content-type, delivery-mode, priority, message-id (the delivery tag, to recognise a returned message)
                header.writeInteger(UInt16(0x8000 | 0x1000 | 0x0800 | 0x0080))
                AMQPCodec.shortString(contentType, &header)
                header.writeInteger(UInt8(persistent ? 2 : 1))
                header.writeInteger(UInt8(0))
                AMQPCodec.shortString(String(tag), &header)
                frames.append((.header, 1, header))
                var remaining = body
                let chunk = max(1, frameMax - 8)
                while remaining.readableBytes > 0 {
                    frames.append((.body, 1, remaining.readSlice(length: min(chunk, remaining.readableBytes))!))
                }
                write(frames)
            }
        }
    }

    /// Checks that `queue` exists without creating it (clients have no configure permission on the Hub);
    /// returns its message count. A missing queue is an error 404.
    public func declarePassive(queue: String) async throws -> UInt32 {
        let number = try await openChannel()
        // A missing queue makes the broker close the channel itself (404); otherwise it is closed here.
        let answer = try await call(number, AMQPCodec.method(50, 10) { b in
            b.writeInteger(UInt16(0))
            AMQPCodec.shortString(queue, &b)
            b.writeInteger(UInt8(1))   // passive
            AMQPCodec.table([], &b)
        })
        guard case .queueDeclareOK(let count) = answer else { throw AMQPError("réponse inattendue à la déclaration de \(queue)") }
        _ = try? await call(number, AMQPCodec.method(20, 40) { b in
            b.writeInteger(UInt16(200)); AMQPCodec.shortString("", &b); b.writeInteger(UInt16(0)); b.writeInteger(UInt16(0))
        })
        return count
    }

    func openChannel() async throws -> UInt16 {
        let number = state.withLockedValue { state -> UInt16 in
            defer { state.nextChannel = state.nextChannel >= 2000 ? 2 : state.nextChannel + 1 }
            return state.nextChannel
        }
        guard case .channelOpenOK = try await call(number, AMQPCodec.method(20, 10) { AMQPCodec.shortString("", &$0) }) else {
            throw AMQPError("ouverture de canal refusée")
        }
        return number
    }

    /// Consumes `queue` with manual acknowledgement (at most `prefetch` unacknowledged messages).
    public func consume(queue: String, prefetch: UInt16 = 10) async throws -> (channel: UInt16, deliveries: AsyncThrowingStream<AMQPDelivery, any Error>) {
        let number = try await openChannel()
        _ = try await call(number, AMQPCodec.method(60, 10) { b in
            b.writeInteger(UInt32(0)); b.writeInteger(prefetch); b.writeInteger(UInt8(0))
        })
        let (stream, continuation) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        state.withLockedValue { $0.consumers[number] = (queue, continuation) }
        let answer = try await call(number, AMQPCodec.method(60, 20) { b in
            b.writeInteger(UInt16(0))
            AMQPCodec.shortString(queue, &b)
            AMQPCodec.shortString("", &b)
            b.writeInteger(UInt8(0))   // no-local, no-ack, exclusive, no-wait all false
            AMQPCodec.table([], &b)
        })
        guard case .basicConsumeOK = answer else { throw AMQPError("consommation de \(queue) refusée") }
        return (number, stream)
    }

    public func ack(_ delivery: AMQPDelivery, channel number: UInt16) {
        write([(.method, number, AMQPCodec.method(60, 80) { b in b.writeInteger(delivery.deliveryTag); b.writeInteger(UInt8(0)) })])
    }

    /// Rejects without requeue: the broker dead-letters it.
    public func reject(_ delivery: AMQPDelivery, channel number: UInt16) {
        write([(.method, number, AMQPCodec.method(60, 120) { b in b.writeInteger(delivery.deliveryTag); b.writeInteger(UInt8(0)) })])
    }

    /// Gives the message back to its queue (the broker delivers it again).
    public func requeue(_ delivery: AMQPDelivery, channel number: UInt16) {
        write([(.method, number, AMQPCodec.method(60, 120) { b in b.writeInteger(delivery.deliveryTag); b.writeInteger(UInt8(0x02)) })])
    }

    /// Closes cleanly (connection.close, then the socket).
    public func close() async {
        if isOpen {
            _ = try? await call(0, AMQPCodec.method(10, 50) { b in
                b.writeInteger(UInt16(200)); AMQPCodec.shortString("fin", &b); b.writeInteger(UInt16(0)); b.writeInteger(UInt16(0))
            })
        }
        fail(AMQPError("connexion fermée"))
        try? await channel.close()
    }
}
