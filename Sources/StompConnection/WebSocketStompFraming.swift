import NIOCore
import NIOWebSocket
import StompProto

/// Between NIOWebSocket's codec (with `NIOWebSocketFrameAggregator` joining fragments, bounded) and the STOMP
/// decoder/encoder of a WebSocket link.
///
/// Out: each STOMP frame (or heart-beat EOL) is one WebSocket message, masked: text when it is UTF-8 with no
/// NUL before the frame's own, binary otherwise (or always, with `forceBinary`). A buffer holding several
/// frames (a batch of raw frames) is cut at the frame ends. In: the payload of every text or binary message
/// goes to the STOMP decoder as bytes (it is chunking-invariant: several frames in one message, or one frame
/// over several, are both fine; a text message that is not UTF-8 is taken as bytes too). Pings are answered with pongs;
/// a close from the server is answered and reported with its code and reason (and whether a STOMP frame was
/// cut short); closing the channel sends our close first.
final class WebSocketStompFraming: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private let transport: LinkTransport
    private var closeSent = false
    private var closeReceived = false
    private var failed = false
    /// Finds frame ends in multi-frame buffers.
    private var boundaries = FrameDecoder(version: .v1_0)

    init(transport: LinkTransport) {
        self.transport = transport
    }

    private var host: String { transport.url.host }
    private var port: Int { transport.url.port }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let payload = frame.unmaskedData
            let text = frame.opcode == .text
            transport.note(.inbound, "ws \(text ? "text" : "binary") message, \(payload.readableBytes) bytes")
            // RFC 6455 wants a text message that is not UTF-8 refused; RabbitMQ Web-STOMP (web_stomp.ws_frame = text,
            // its default) sends binary bodies that way. The bytes go to STOMP as they are, which keeps them exact.
            if text, transport.trace != nil, !payload.withUnsafeReadableBytes({ StompText.isUTF8($0) }) {
                transport.note(.inbound, "(that text message is not UTF-8: taken as bytes)")
            }
            context.fireChannelRead(wrapInboundOut(payload))
        case .ping:
            let payload = frame.unmaskedData
            transport.note(.inbound, "ws ping, \(payload.readableBytes) bytes")
            guard !closeSent else { return }
            transport.note(.outbound, "ws pong, \(payload.readableBytes) bytes")
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: payload)), promise: nil)
        case .pong:
            transport.note(.inbound, "ws pong, \(frame.length) bytes")
        case .connectionClose:
            peerClosed(context, frame.unmaskedData)
        default:
            protocolFailure(context, code: .protocolError, reason: "the server sent a WebSocket frame with the unknown opcode \(frame.opcode)")
        }
    }

    /// The server's close: answer it (unless we started the close), then report it with its code and reason.
    private func peerClosed(_ context: ChannelHandlerContext, _ payload: ByteBuffer) {
        guard !closeReceived else { return }
        closeReceived = true
        var data = payload
        let code = data.readInteger(as: UInt16.self)
        let reason = data.readString(length: data.readableBytes) ?? ""
        let shown = Self.describeClose(code: code, reason: reason)
        transport.note(.inbound, "ws close, \(shown)")
        // The reason first: answering the close may close the channel at once.
        if !failed {
            failed = true
            var text = "the server closed the WebSocket (\(shown))"
            if let decoder = try? context.pipeline.syncOperations.handler(type: StompFrameDecoderHandler.self),
               !decoder.decoder.isAtFrameBoundary {
                text += " in the middle of a STOMP frame (\(decoder.decoder.bufferedByteCount) bytes of it received)"
            }
            context.fireErrorCaught(StompConnectionError.webSocket(host: host, port: port, reason: text))
        }
        if !closeSent {
            closeSent = true
            var echo = context.channel.allocator.buffer(capacity: 2)
            if let code { echo.writeInteger(code) }
            transport.note(.outbound, "ws close\(code.map { ", code \($0)" } ?? "")")
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: echo)
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in context.close(promise: nil) }
        }
    }

    static func describeClose(code: UInt16?, reason: String) -> String {
        guard let code else { return "no code" }
        let names: [UInt16: String] = [1000: "normal closure", 1001: "going away", 1002: "protocol error",
                                       1003: "unsupported data", 1007: "invalid data", 1008: "policy violation",
                                       1009: "message too big", 1010: "missing extension", 1011: "server error"]
        var s = "code \(code)"
        if let n = names[code] { s += " \(n)" }
        if !reason.isEmpty { s += ": '\(StompConnectionError.oneLine(reason))'" }
        return s
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if failed, !(error is StompConnectionError) { return }
        switch error {
        case let e as NIOWebSocketFrameAggregator.Error:
            switch e {
            case .accumulatedFrameSizeIsTooLarge:
                protocolFailure(context, code: .messageTooLarge,
                                reason: "the server sent a WebSocket message larger than \(transport.maxMessageSize) bytes")
            default:
                protocolFailure(context, code: .protocolError, reason: "the server broke WebSocket fragmentation (\(e))")
            }
        case let e as NIOWebSocketError:
            // From WebSocketFrameDecoder (the upgrader adds no automatic error handler: this one reports first,
            // then closes with the code).
            if case .invalidFrameLength = e {
                protocolFailure(context, code: .messageTooLarge,
                                reason: "the server sent a WebSocket frame larger than \(transport.maxMessageSize) bytes")
            } else {
                protocolFailure(context, code: .protocolError, reason: "the server sent a malformed WebSocket frame (\(e))")
            }
        default:
            context.fireErrorCaught(error)
        }
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
        let frame = WebSocketFrame(fin: true, opcode: text ? .text : .binary, maskKey: .random(), data: payload)
        context.write(wrapOutboundOut(frame), promise: promise)
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
        guard mode == .all, !closeSent, context.channel.isActive else {
            context.close(mode: mode, promise: promise)
            return
        }
        sendClose(context, code: .normalClosure, then: promise)
    }

    /// Our close frame, then the socket (without waiting for the server's answer: STOMP is done by then).
    private func sendClose(_ context: ChannelHandlerContext, code: WebSocketErrorCode, then promise: EventLoopPromise<Void>?) {
        guard !closeSent else {
            context.close(promise: promise)
            return
        }
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        transport.note(.outbound, "ws close, code \(UInt16(webSocketErrorCode: code))")
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in context.close(promise: promise) }
    }
}
