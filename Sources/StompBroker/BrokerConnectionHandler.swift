import NIOCore
import StompProto

/// One client socket of the sandbox broker: bytes → `FrameDecoder` → engine; engine's frames →
/// `FrameEncoder` → bytes. Keeps the server side of the heart-beats.
final class BrokerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: BrokerCore
    private var context: ChannelHandlerContext?
    private var id: ConnectionID?
    /// The engine's id of this connection (nil before the channel is active).
    var connectionID: ConnectionID? { id }
    private var decoder: FrameDecoder
    private var encoder = FrameEncoder(version: .v1_0, contentLength: .whenNeeded)
    private var scratch: [UInt8] = []
    private var closing = false
    private var peer = "?"
    private var lastRead = NIODeadline.now()
    private var lastWrite = NIODeadline.now()
    private var sendBeatTask: Scheduled<Void>?
    private var readCheckTask: Scheduled<Void>?
    private var connectTimeoutTask: Scheduled<Void>?
    private var closeReason: String?
    private var framesIn = 0
    private var framesOut = 0
    /// Set by the core while this connection waits for its flush.
    var isDirty = false

    init(core: BrokerCore) {
        self.core = core
        self.decoder = FrameDecoder(version: .v1_0, limits: core.limits)
        scratch.reserveCapacity(4096)
    }

    private func log(_ text: String) {
        guard let log = core.log, let id else { return }
        log("connection \(id): \(text)")
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        peer = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
        id = core.open(self)
        log("opened from \(peer)")
        let timeout = core.engine.configuration.connectTimeout
        connectTimeoutTask = context.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout))) { [weak self] in
            guard let self, let context = self.context, !self.closing else { return }
            self.closeReason = "no CONNECT within \(timeout) ms"
            self.closing = true
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let id, !closing else { return }
        let buffer = unwrapInboundIn(data)
        lastRead = .now()
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        while !closing {
            let event: FrameDecoderEvent?
            do {
                event = try decoder.next()
            } catch let e as FrameDecodingError {
                let error: BrokerProtocolError
                if let limit = e.exceededLimit?.name {
                    error = BrokerProtocolError("limit exceeded (\(limit))", detail: e.description)
                } else {
                    error = BrokerProtocolError("malformed frame", detail: e.description)
                }
                core.reject(id, error)
                return
            } catch {
                core.reject(id, BrokerProtocolError("malformed frame", detail: "\(error)"))
                return
            }
            guard let event else { return }
            if case .frame(let frame) = event {
                framesIn += 1
                core.receive(frame, from: id)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let id { core.setWritable(context.channel.isWritable, for: id) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for task in [sendBeatTask, readCheckTask, connectTimeoutTask] { task?.cancel() }
        sendBeatTask = nil
        readCheckTask = nil
        connectTimeoutTask = nil
        if let id {
            log("closed" + (closeReason.map { " (\($0))" } ?? "") + ", frames in \(framesIn) out \(framesOut)")
            core.closed(id)
        }
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil { closeReason = "\(error)" }
        context.close(promise: nil)
    }

    // MARK: called by the core

    func write(_ frame: StompFrame) {
        guard let context, !closing else { return }
        scratch.removeAll(keepingCapacity: true)
        do {
            try encoder.encode(frame, into: &scratch)
        } catch {
            log("\(frame.command.rawValue) not sent: \(error)")
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: scratch.count)
        buffer.writeBytes(scratch)
        framesOut += 1
        if frame.command == .error { log("ERROR \(frame.headers["message"] ?? "")") }
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    /// Flushes; true if the socket can take more (the engine may hand this connection another window).
    func flush() -> Bool {
        guard let context else { return false }
        lastWrite = .now()
        context.flush()
        return !closing && context.channel.isWritable
    }

    func establish(version: StompVersion, heartBeat: NegotiatedHeartBeat, login: String?) {
        decoder.version = version
        encoder.version = version
        let hb = "heart-beat " + (heartBeat.sendInterval.map { "send \($0) ms" } ?? "send none")
            + ", " + (heartBeat.receiveInterval.map { "expect \($0) ms" } ?? "expect none")
        log("CONNECT as \(login ?? "(no login)"), STOMP \(version.rawValue), \(hb)")
        connectTimeoutTask?.cancel()
        connectTimeoutTask = nil
        startHeartbeats(heartBeat)
    }

    func closeAfterWrites(reason: String?) {
        guard let context, !closing else { return }
        closing = true
        if let reason { closeReason = reason } else { closeReason = "DISCONNECT" }
        // Writes complete in order: once this empty one is written, so is everything before it.
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            context.close(promise: nil)
        }
    }

    // MARK: heart-beats

    /// Sends an EOL whenever nothing went out for the negotiated interval (as ActiveMQ does: not earlier, so
    /// beats come at the interval), and closes the connection when a client that promised heart-beats
    /// is silent for twice its interval and at least a second longer.
    private func startHeartbeats(_ hb: NegotiatedHeartBeat) {
        if let send = hb.sendInterval, send > 0 {
            scheduleBeat(interval: .milliseconds(Int64(send)), at: lastWrite + .milliseconds(Int64(send)))
        }
        if let receive = hb.receiveInterval, receive > 0 {
            let silence = TimeAmount.milliseconds(Int64(max(2 * receive, receive + 1000)))
            scheduleReadCheck(silence: silence, at: lastRead + silence)
        }
    }

    private func scheduleBeat(interval: TimeAmount, at deadline: NIODeadline) {
        guard let context, !closing else { return }
        sendBeatTask = context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self, let context = self.context, !self.closing else { return }
            let due = self.lastWrite + interval
            let now = NIODeadline.now()
            if now >= due {
                var buffer = context.channel.allocator.buffer(capacity: 1)
                buffer.writeBytes(FrameEncoder.heartbeat)
                self.lastWrite = now
                context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
                self.scheduleBeat(interval: interval, at: now + interval)
            } else {
                self.scheduleBeat(interval: interval, at: due)
            }
        }
    }

    private func scheduleReadCheck(silence: TimeAmount, at deadline: NIODeadline) {
        guard let context, !closing else { return }
        readCheckTask = context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self, let context = self.context, !self.closing else { return }
            let now = NIODeadline.now()
            if now - self.lastRead >= silence {
                self.closeReason = "no heart-beat from the client for \((now - self.lastRead).nanoseconds / 1_000_000) ms"
                self.closing = true
                context.close(promise: nil)
            } else {
                self.scheduleReadCheck(silence: silence, at: self.lastRead + silence)
            }
        }
    }
}

extension BrokerConnectionHandler {
    /// Closes the socket at once (broker stopping).
    func closeNow() -> EventLoopFuture<Void> {
        guard let context else { return core.eventLoop.makeSucceededVoidFuture() }
        closeReason = closeReason ?? "broker stopping"
        closing = true
        let p = context.eventLoop.makePromise(of: Void.self)
        context.close(promise: p)
        return p.futureResult.recover { _ in }
    }
}
