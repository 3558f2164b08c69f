#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOWebSocket
import StompProto
import WebSocketFrames

/// The WebSocket layer of a client link, between the socket's bytes (after TLS) and the STOMP decoder/encoder.
///
/// Out: each STOMP frame (or heart-beat EOL) is one WebSocket message, masked: text when it is UTF-8 with no
/// NUL before the frame's own, binary otherwise (or always, with `forceBinary`). A buffer holding several
/// frames (a batch of raw frames) is cut at the frame ends (`StompFrameBoundaries`). The frames' bytes
/// (`WebSocketEndpoint.writeMessage`: header, key and payload masked 8 bytes at a time) are appended to one
/// buffer until the flush (or 16 KiB) and written through `wire`, the context of the handler nearer the socket
/// (the HTTP upgrade handler sits between them until it leaves). The writes' promises complete when that
/// buffer is written. In: the bytes of each read go through `WebSocketFrameParser` (RFC 6455's checks; no
/// NIOWebSocket decoder or aggregator on a client link), and the payloads of every text or binary message go
/// to the STOMP decoder as bytes, as they arrive (it is chunking-invariant: several frames in one message, or
/// one frame over several, are both fine; a text message that is not UTF-8 is taken as bytes too). Pings are
/// answered with pongs; a close from the server is answered (its code echoed) and reported with its code and
/// reason (and whether a STOMP frame was cut short); closing the channel sends our close first. What each
/// control frame means and which frames go out is `WebSocketEndpoint`'s (client role: every frame masked);
/// this handler does it, traces it and reports.
final class WebSocketStompFraming: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let transport: LinkTransport
    private var endpoint = WebSocketEndpoint(role: .client)
    private var parser: WebSocketFrameParser
    /// The server's close arrived (or we failed the connection): later bytes are not read.
    private var inputDone = false
    /// While tracing: the message under way, delivered whole at its end (so that its note comes first).
    private var tracedMessage: ByteBuffer?
    private var failed = false
    /// Our close went out and waits for the server's (RFC 6455: the server closes the TCP connection first).
    private var awaitingCloseReply: (promise: EventLoopPromise<Void>?, timeout: Scheduled<Void>)?
    /// How long a close we started waits for the server's answer before the socket is closed anyway.
    static let closeReplyTimeout: TimeAmount = .seconds(1)
    /// Message payloads of this read (readable bytes), handed to the STOMP decoder together at
    /// `channelReadComplete` (one decoder pass per read rather than per message, as on TCP; the decoder does not
    /// care where messages end, and copies what it is given). The pieces are copied in with one write access
    /// per read; the storage is reused from read to read. While tracing, each message goes at its end so that
    /// the notes and the STOMP bytes interleave.
    private var inbound: ByteBuffer
    /// `inbound`'s storage is given up after a read larger than this (a large message once: not kept for ever).
    static let inboundKeep = 1 << 20
    /// Where the frames' bytes are written: the context of the handler nearer the socket (`TransportStageHandler`),
    /// so that they do not pass the HTTP upgrade handler while it is still there. nil once removed.
    private var wire: ChannelHandlerContext?
    /// Framed, masked bytes not yet written to `wire` (readable bytes), and the promises of the writes in them.
    private var pending: ByteBuffer
    private var pendingPromises: [EventLoopPromise<Void>] = []
    /// Pending bytes go to `wire` (unflushed) from this size on, so that the channel's writability sees them.
    static let pendingLimit = 16 * 1024

    /// `wire`: the context of the handler nearer the socket (see `wire`).
    init(transport: LinkTransport, wire: ChannelHandlerContext) {
        self.transport = transport
        self.wire = wire
        self.parser = WebSocketFrameParser(maxMessageSize: transport.maxMessageSize)
        self.pending = wire.channel.allocator.buffer(capacity: 0)
        self.inbound = wire.channel.allocator.buffer(capacity: 0)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failPending(ChannelError.ioOnClosedChannel)
        wire = nil
    }

    private var host: String { transport.url.host }
    private var port: Int { transport.url.port }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !inputDone else { return }
        var bytes = unwrapInboundIn(data)
        guard transport.trace == nil else { return readTraced(context, &bytes) }
        // The data pieces are parts of this read, so they fit in its size: copied into `inbound` in one write
        // access. A control frame or a fault ends the access; it is handled, and the loop goes on after it.
        while bytes.readableBytes > 0 && !inputDone {
            var consumed = 0
            var stop: (opcode: WebSocketOpcode, payload: ByteBuffer)?
            var fault: Error?
            bytes.withUnsafeReadableBytes { source in
                inbound.writeWithUnsafeMutableBytes(minimumWritableBytes: source.count) { destination in
                    var written = 0
                    do {
                        (consumed, stop) = try parser.read(source) { piece in
                            (destination.baseAddress! + written).copyMemory(from: piece.baseAddress!, byteCount: piece.count)
                            written += piece.count
                        }
                    } catch {
                        fault = error
                    }
                    return written
                }
            }
            if let fault {
                fail(context, fault)
                return
            }
            bytes.moveReaderIndex(forwardBy: consumed)
            guard let (opcode, payload) = stop else { return }
            control(context, WebSocketFrame(fin: true, opcode: opcode, data: payload))
        }
    }

    /// While tracing: the same, each message noted and delivered whole at its end.
    private func readTraced(_ context: ChannelHandlerContext, _ bytes: inout ByteBuffer) {
        do {
            while !inputDone, let event = try parser.next(&bytes) {
                switch event {
                case .data(let piece, let text, let end):
                    traced(context, piece, text: text, end: end)
                case .control(let opcode, let payload):
                    control(context, WebSocketFrame(fin: true, opcode: opcode, data: payload))
                }
            }
        } catch {
            fail(context, error)
        }
    }

    /// A frame the parser refused: what came before it goes first, then our close with its code.
    private func fail(_ context: ChannelHandlerContext, _ error: Error) {
        deliverInbound(context)
        inputDone = true
        protocolFailure(context, code: (error as? WebSocketFault)?.closeCode ?? .protocolError, reason: reason(error))
    }

    /// While tracing: `piece` of a message, the whole message noted and delivered at its `end`.
    private func traced(_ context: ChannelHandlerContext, _ piece: ByteBuffer, text: Bool, end: Int?) {
        if tracedMessage == nil { tracedMessage = piece } else { var p = piece; tracedMessage!.writeBuffer(&p) }
        guard let size = end, let payload = tracedMessage else { return }
        tracedMessage = nil
        transport.note(.inbound, "ws \(text ? "text" : "binary") message, \(size) bytes")
        // RFC 6455 wants a text message that is not UTF-8 refused; RabbitMQ Web-STOMP (web_stomp.ws_frame = text,
        // its default) sends binary bodies that way. The bytes go to STOMP as they are, which keeps them exact.
        if text, !payload.withUnsafeReadableBytes({ StompText.isUTF8($0) }) {
            transport.note(.inbound, "(that text message is not UTF-8: taken as bytes)")
        }
        if size > 0 { context.fireChannelRead(wrapInboundOut(payload)) }
    }

    /// A ping, pong or close from the server.
    private func control(_ context: ChannelHandlerContext, _ frame: WebSocketFrame) {
        switch endpoint.receive(frame) {
        case .ping(let payload, let pong):
            transport.note(.inbound, "ws ping, \(payload.readableBytes) bytes")
            guard let pong else { return }
            transport.note(.outbound, "ws pong, \(payload.readableBytes) bytes")
            writeAndFlush(context, pong)
        case .pong(let payload):
            transport.note(.inbound, "ws pong, \(payload.readableBytes) bytes")
        case .close(let close):
            // Nothing follows a close (RFC 6455 5.5.1): what came before it goes first.
            inputDone = true
            deliverInbound(context)
            peerClosed(context, close)
        case .repeatedClose:
            inputDone = true
            deliverInbound(context)
        case .message, .unknownOpcode:
            break   // the parser gives data as `.data` and refuses unknown opcodes
        }
    }

    /// The report of a parser fault.
    private func reason(_ error: Error) -> String {
        guard let fault = error as? WebSocketFault else { return "the WebSocket frames could not be read (\(error))" }
        switch fault {
        case .messageTooLarge: return "the server sent a WebSocket message larger than \(transport.maxMessageSize) bytes"
        case .frameTooLarge: return "the server sent a WebSocket frame larger than \(transport.maxMessageSize) bytes"
        case .badFragmentation(let e): return "the server broke WebSocket fragmentation (\(e))"
        case .malformedFrame(let e): return "the server sent a malformed WebSocket frame (\(e))"
        case .invalidUTF8(let e): return "the server sent invalid WebSocket data (\(e))"
        }
    }

    private func deliverInbound(_ context: ChannelHandlerContext) {
        guard inbound.readableBytes > 0 else { return }
        context.fireChannelRead(wrapInboundOut(inbound))
        if inbound.capacity > Self.inboundKeep {
            inbound = context.channel.allocator.buffer(capacity: 0)
        } else {
            inbound.clear()   // the decoder copied the bytes: the storage is ours again
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverInbound(context)
        context.fireChannelReadComplete()
    }

    /// The server's close: answer it (unless we started the close), then report it with its code and reason.
    private func peerClosed(_ context: ChannelHandlerContext, _ close: WebSocketClose) {
        let shown = Self.describeClose(code: close.code, reason: close.reason)
        transport.note(.inbound, "ws close, \(shown)")
        if let waiting = awaitingCloseReply {
            // The answer to our close: done.
            awaitingCloseReply = nil
            waiting.timeout.cancel()
            context.close(promise: waiting.promise)
            return
        }
        // A close the server started: after our DISCONNECT, that is its answer (RabbitMQ's Web-STOMP sends no RECEIPT).
        context.fireUserInboundEventTriggered(WebSocketServerClosedEvent(code: close.code))
        // The server's code echoed (none when it gave none), written before the report: the client closes the
        // channel when it hears of the error, and a close from our side would go out first with 1000. The socket
        // closes once the echo is written, after the report.
        var echoed: EventLoopFuture<Void>?
        if let frame = endpoint.startClose(WebSocketClose(code: close.code), allocator: context.channel.allocator) {
            transport.note(.outbound, "ws close\(close.code.map { ", code \($0)" } ?? "")")
            echoed = writeAndFlush(context, frame)
        }
        if !failed && echoed != nil {
            failed = true
            var text = "the server closed the WebSocket (\(shown))"
            if let decoder = try? context.pipeline.syncOperations.handler(type: StompFrameDecoderHandler.self),
               !decoder.decoder.isAtFrameBoundary {
                text += " in the middle of a STOMP frame (\(decoder.decoder.bufferedByteCount) bytes of it received)"
            }
            context.fireErrorCaught(StompConnectionError.webSocket(host: host, port: port, reason: text))
        }
        echoed?.whenComplete { _ in context.close(promise: nil) }
    }

    static func describeClose(code: UInt16?, reason: String) -> String {
        guard let code else { return "no code" }
        var s = "code \(code)"
        if let n = WebSocketClose.name(of: code) { s += " \(n)" }
        if !reason.isEmpty { s += ": '\(StompConnectionError.oneLine(reason))'" }
        return s
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        deliverInbound(context)
        if failed, !(error is StompConnectionError) { return }
        context.fireErrorCaught(error)
    }

    /// Closes with `code` (our close goes first) and reports `reason`.
    private func protocolFailure(_ context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String) {
        guard !failed else { return }
        failed = true
        // Our close with the code first (the client closes the channel when it hears of the error: a close
        // started then would carry 1000), the report, then the socket once the close frame is written.
        var written: EventLoopFuture<Void>?
        if let frame = endpoint.startClose(WebSocketClose(code), allocator: context.channel.allocator) {
            transport.note(.outbound, "ws close, code \(UInt16(webSocketErrorCode: code))")
            written = writeAndFlush(context, frame)
        }
        context.fireErrorCaught(StompConnectionError.webSocket(host: host, port: port, reason: reason))
        guard let written else { return context.close(promise: nil) }
        written.whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        buffer.withUnsafeReadableBytes { bytes in
            // The common case: one frame, its first NUL its own (only EOLs after it).
            if let nul = Self.singleFrameNUL(bytes) { return appendFrame(bytes, nul: nul) }
            var start = 0
            for end in StompFrameBoundaries.ends(bytes) {
                appendMessage(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = end
            }
        }
        if let promise { pendingPromises.append(promise) }
        if pending.readableBytes >= Self.pendingLimit { writePending() }
    }

    func flush(context: ChannelHandlerContext) {
        writePending()
        context.flush()
    }

    /// Where the one frame of `bytes` has its NUL: the first NUL, followed by EOLs only; nil for anything else
    /// (no NUL, a NUL in a body, several frames).
    static func singleFrameNUL(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, let p = memchr(base, 0, bytes.count) else { return nil }
        let nul = base.distance(to: UnsafeRawPointer(p))
        var i = nul + 1
        while i < bytes.count, bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        return i == bytes.count ? nul : nil
    }

    /// One STOMP frame whose first NUL (`nul`) is its own, as one message appended to `pending`: text when the
    /// bytes before the NUL are UTF-8 (`StompText.isTextFrame`'s rule; there is no NUL before it), which an
    /// all-ASCII frame is, seen while masking.
    private func appendFrame(_ payload: UnsafeRawBufferPointer, nul: Int) {
        startPending()
        let binary = transport.webSocketOptions.forceBinary
        let text = endpoint.writeMessage(payload, isText: { ascii in
            !binary && (ascii || StompText.isUTF8(UnsafeRawBufferPointer(rebasing: payload[..<nul])))
        }, into: &pending)
        transport.note(.outbound, "ws \(text ? "text" : "binary") message, \(payload.count) bytes")
    }

    /// One STOMP frame (or heart-beat) as one message, appended to `pending`.
    private func appendMessage(_ payload: UnsafeRawBufferPointer) {
        let text = !transport.webSocketOptions.forceBinary && StompText.isTextFrame(payload)
        transport.note(.outbound, "ws \(text ? "text" : "binary") message, \(payload.count) bytes")
        startPending()
        endpoint.writeMessage(payload, isText: text, into: &pending)
    }

    /// `pending` ready for more: emptied (its storage reused once the socket let go of it) when all was written.
    private func startPending() {
        guard pending.readableBytes == 0 else { return }
        if pending.capacity > 1 << 20, let wire {
            pending = wire.channel.allocator.buffer(capacity: 0)   // a large batch once: not kept for ever
        } else {
            pending.clear()
        }
    }

    /// Writes the pending bytes to `wire` (not flushed), with their writes' promises.
    private func writePending() {
        guard pending.readableBytes > 0 || !pendingPromises.isEmpty else { return }
        guard let wire else { return failPending(ChannelError.ioOnClosedChannel) }
        let bytes = pending
        pending.moveReaderIndex(forwardBy: bytes.readableBytes)   // not cleared: the socket holds the storage now
        let promise: EventLoopPromise<Void>?
        switch pendingPromises.count {
        case 0: promise = nil
        case 1: promise = pendingPromises.removeLast()   // cheaper than removeAll(keepingCapacity:)
        default:
            let all = pendingPromises
            let p = wire.eventLoop.makePromise(of: Void.self)
            p.futureResult.whenComplete { result in for q in all { q.completeWith(result) } }
            promise = p
            pendingPromises.removeAll(keepingCapacity: true)
        }
        wire.write(NIOAny(bytes), promise: promise)
    }

    /// Drops what was not written (the channel is gone), failing the writes' promises.
    private func failPending(_ error: Error) {
        let promises = pendingPromises
        pendingPromises = []
        pending.moveReaderIndex(forwardBy: pending.readableBytes)
        for p in promises { p.fail(error) }
    }

    /// `frame` (a pong, our close) after what is pending, flushed.
    @discardableResult
    private func writeAndFlush(_ context: ChannelHandlerContext, _ frame: WebSocketFrame) -> EventLoopFuture<Void> {
        let promise = context.eventLoop.makePromise(of: Void.self)
        startPending()
        WebSocketEndpoint.write(frame, into: &pending)
        pendingPromises.append(promise)
        flush(context: context)
        return promise.futureResult
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard endpoint.closeStartsHandshake(mode: mode, isActive: context.channel.isActive) else {
            writePending()   // unflushed, as before: the channel fails such writes when it closes
            context.close(mode: mode, promise: promise)
            return
        }
        sendClose(context, then: promise)
    }

    /// Our close frame (1000), then the socket after the server's close (at most `closeReplyTimeout`).
    private func sendClose(_ context: ChannelHandlerContext, then promise: EventLoopPromise<Void>?) {
        guard let frame = endpoint.startClose(WebSocketClose(.normalClosure), allocator: context.channel.allocator) else {
            context.close(promise: promise)
            return
        }
        transport.note(.outbound, "ws close, code 1000")
        let timeout = context.eventLoop.scheduleTask(in: Self.closeReplyTimeout) { [weak self] in
            guard let self, let waiting = self.awaitingCloseReply else { return }
            self.awaitingCloseReply = nil
            self.transport.note(.inbound, "(no close from the server within \(Self.closeReplyTimeout.nanoseconds / 1_000_000) ms)")
            context.close(promise: waiting.promise)
        }
        awaitingCloseReply = (promise, timeout)
        writeAndFlush(context, frame).whenFailure { _ in
            guard let waiting = self.awaitingCloseReply else { return }
            self.awaitingCloseReply = nil
            waiting.timeout.cancel()
            context.close(promise: waiting.promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliverInbound(context)
        failPending(ChannelError.ioOnClosedChannel)
        if let waiting = awaitingCloseReply {
            awaitingCloseReply = nil
            waiting.timeout.cancel()
            waiting.promise?.succeed(())
        }
        context.fireChannelInactive()
    }
}

/// The server's WebSocket close frame arrived (a close it started, not its answer to ours), with its code.
struct WebSocketServerClosedEvent: Sendable {
    var code: UInt16?
}
