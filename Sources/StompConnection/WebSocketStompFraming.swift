import NIOCore
import NIOWebSocket
import StompProto
import WebSocketFrames

/// Between NIOWebSocket's codec (with `NIOWebSocketFrameAggregator` joining fragments, bounded) and the STOMP
/// decoder/encoder of a WebSocket link.
///
/// Out: each STOMP frame (or heart-beat EOL) is one WebSocket message, masked: text when it is UTF-8 with no
/// NUL before the frame's own, binary otherwise (or always, with `forceBinary`). A buffer holding several
/// frames (a batch of raw frames) is cut at the frame ends. In: the payload of every text or binary message
/// goes to the STOMP decoder as bytes (it is chunking-invariant: several frames in one message, or one frame
/// over several, are both fine; a text message that is not UTF-8 is taken as bytes too). Pings are answered with pongs;
/// a close from the server is answered and reported with its code and reason (and whether a STOMP frame was
/// cut short); closing the channel sends our close first. What each frame means and which frames go out is
/// `WebSocketEndpoint`'s (client role: every frame masked); this handler does it, traces it and reports.
final class WebSocketStompFraming: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private let transport: LinkTransport
    private var endpoint = WebSocketEndpoint(role: .client)
    private var failed = false
    /// Our close went out and waits for the server's (RFC 6455: the server closes the TCP connection first).
    private var awaitingCloseReply: (promise: EventLoopPromise<Void>?, timeout: Scheduled<Void>)?
    /// How long a close we started waits for the server's answer before the socket is closed anyway.
    static let closeReplyTimeout: TimeAmount = .seconds(1)
    /// Message payloads of this read, handed to the STOMP decoder together at `channelReadComplete` (one decoder
    /// pass per read rather than per message, as on TCP; the decoder does not care where messages end). While
    /// tracing, each goes at once so that the notes and the STOMP bytes interleave.
    private var inbound: ByteBuffer?
    /// Finds frame ends in multi-frame buffers.
    private var boundaries = FrameDecoder(version: .v1_0)

    init(transport: LinkTransport) {
        self.transport = transport
    }

    private var host: String { transport.url.host }
    private var port: Int { transport.url.port }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch endpoint.receive(unwrapInboundIn(data)) {
        case .message(let payload, let text):
            transport.note(.inbound, "ws \(text ? "text" : "binary") message, \(payload.readableBytes) bytes")
            // RFC 6455 wants a text message that is not UTF-8 refused; RabbitMQ Web-STOMP (web_stomp.ws_frame = text,
            // its default) sends binary bodies that way. The bytes go to STOMP as they are, which keeps them exact.
            guard transport.trace != nil else {
                if inbound == nil { inbound = payload } else { var p = payload; inbound!.writeBuffer(&p) }
                return
            }
            if text, !payload.withUnsafeReadableBytes({ StompText.isUTF8($0) }) {
                transport.note(.inbound, "(that text message is not UTF-8: taken as bytes)")
            }
            context.fireChannelRead(wrapInboundOut(payload))
        case .ping(let payload, let pong):
            transport.note(.inbound, "ws ping, \(payload.readableBytes) bytes")
            guard let pong else { return }
            transport.note(.outbound, "ws pong, \(payload.readableBytes) bytes")
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong(let payload):
            transport.note(.inbound, "ws pong, \(payload.readableBytes) bytes")
        case .close(let close):
            deliverInbound(context)
            peerClosed(context, close)
        case .repeatedClose:
            deliverInbound(context)
        case .unknownOpcode(let opcode):
            protocolFailure(context, code: .protocolError, reason: "the server sent a WebSocket frame with the unknown opcode \(opcode)")
        }
    }

    private func deliverInbound(_ context: ChannelHandlerContext) {
        guard let buffer = inbound else { return }
        inbound = nil
        context.fireChannelRead(wrapInboundOut(buffer))
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
        // The reason first: answering the close may close the channel at once.
        if !failed && !endpoint.closeSent {
            failed = true
            var text = "the server closed the WebSocket (\(shown))"
            if let decoder = try? context.pipeline.syncOperations.handler(type: StompFrameDecoderHandler.self),
               !decoder.decoder.isAtFrameBoundary {
                text += " in the middle of a STOMP frame (\(decoder.decoder.bufferedByteCount) bytes of it received)"
            }
            context.fireErrorCaught(StompConnectionError.webSocket(host: host, port: port, reason: text))
        }
        // The server's code echoed (none when it gave none).
        if let frame = endpoint.startClose(WebSocketClose(code: close.code), allocator: context.channel.allocator) {
            transport.note(.outbound, "ws close\(close.code.map { ", code \($0)" } ?? "")")
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in context.close(promise: nil) }
        }
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
        // The decoder's errors too: the upgrader adds no automatic error handler, this one reports first, then
        // closes with the code.
        guard let fault = WebSocketFault(error: error) else {
            context.fireErrorCaught(error)
            return
        }
        let reason: String
        switch fault {
        case .messageTooLarge: reason = "the server sent a WebSocket message larger than \(transport.maxMessageSize) bytes"
        case .frameTooLarge: reason = "the server sent a WebSocket frame larger than \(transport.maxMessageSize) bytes"
        case .badFragmentation(let e): reason = "the server broke WebSocket fragmentation (\(e))"
        case .malformedFrame(let e): reason = "the server sent a malformed WebSocket frame (\(e))"
        }
        protocolFailure(context, code: fault.closeCode, reason: reason)
    }

    /// Closes with `code` (our close goes first) and reports `reason`.
    private func protocolFailure(_ context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String) {
        guard !failed else { return }
        failed = true
        context.fireErrorCaught(StompConnectionError.webSocket(host: host, port: port, reason: reason))
        sendClose(context, code: code, then: nil)
    }

    // MARK: outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        let ends = frameEnds(buffer)
        var start = 0
        for (i, end) in ends.enumerated() {
            let slice = buffer.getSlice(at: buffer.readerIndex + start, length: end - start)!
            start = end
            writeMessage(context, slice, promise: i == ends.count - 1 ? promise : nil)
        }
    }

    private func writeMessage(_ context: ChannelHandlerContext, _ payload: ByteBuffer, promise: EventLoopPromise<Void>?) {
        let text = !transport.webSocketOptions.forceBinary && payload.withUnsafeReadableBytes { StompText.isTextFrame($0) }
        transport.note(.outbound, "ws \(text ? "text" : "binary") message, \(payload.readableBytes) bytes")
        context.write(wrapOutboundOut(endpoint.message(payload, isText: text)), promise: promise)
    }

    /// Offsets (from the reader index) where the buffer's STOMP frames end; one element (the whole buffer)
    /// when it holds one frame, or bytes that do not decode (sent as they are).
    private func frameEnds(_ buffer: ByteBuffer) -> [Int] {
        let count = buffer.readableBytes
        let view = buffer.readableBytesView
        // Fast path: the first NUL ends the buffer (or only EOLs follow it): one frame.
        guard let nul = view.firstIndex(of: 0) else { return [count] }
        let afterNul = view.index(after: nul)
        if view[afterNul...].allSatisfy({ $0 == 0x0A || $0 == 0x0D }) { return [count] }
        boundaries = FrameDecoder(version: .v1_0)
        buffer.withUnsafeReadableBytes { boundaries.append($0) }
        var ends: [Int] = []
        while let event = try? boundaries.next() {
            _ = event
            ends.append(boundaries.streamOffset)
        }
        if ends.last != count { ends.append(count) }
        return ends.filter { $0 > 0 }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard endpoint.closeStartsHandshake(mode: mode, isActive: context.channel.isActive) else {
            context.close(mode: mode, promise: promise)
            return
        }
        sendClose(context, code: .normalClosure, then: promise, awaitReply: true)
    }

    /// Our close frame, then the socket: after the server's close (at most `closeReplyTimeout`) when `awaitReply`,
    /// else at once (a protocol failure: nothing more is read).
    private func sendClose(_ context: ChannelHandlerContext, code: WebSocketErrorCode, then promise: EventLoopPromise<Void>?,
                           awaitReply: Bool = false) {
        guard let frame = endpoint.startClose(WebSocketClose(code), allocator: context.channel.allocator) else {
            context.close(promise: promise)
            return
        }
        transport.note(.outbound, "ws close, code \(UInt16(webSocketErrorCode: code))")
        guard awaitReply else {
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in context.close(promise: promise) }
            return
        }
        let timeout = context.eventLoop.scheduleTask(in: Self.closeReplyTimeout) { [weak self] in
            guard let self, let waiting = self.awaitingCloseReply else { return }
            self.awaitingCloseReply = nil
            self.transport.note(.inbound, "(no close from the server within \(Self.closeReplyTimeout.nanoseconds / 1_000_000) ms)")
            context.close(promise: waiting.promise)
        }
        awaitingCloseReply = (promise, timeout)
        context.writeAndFlush(wrapOutboundOut(frame)).whenFailure { _ in
            guard let waiting = self.awaitingCloseReply else { return }
            self.awaitingCloseReply = nil
            waiting.timeout.cancel()
            context.close(promise: waiting.promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliverInbound(context)
        if let waiting = awaitingCloseReply {
            awaitingCloseReply = nil
            waiting.timeout.cancel()
            waiting.promise?.succeed(())
        }
        context.fireChannelInactive()
    }
}
