import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import StompProto
import WebSocketFrames

/// The sandbox broker's WebSocket endpoint: `ws://HOST:PORT/PATH`, STOMP over WebSocket as RabbitMQ Web-STOMP
/// and Spring serve it. HTTP/1.1 upgrade with NIOWebSocket's server upgrader; subprotocols `v12.stomp`,
/// `v11.stomp`, `v10.stomp` (the client's first choice among them; none offered: none selected). Each WebSocket
/// connection is a broker connection like a TCP one (same engine, limits, heart-beats); each STOMP frame the
/// broker sends is one message (text when UTF-8 without a NUL in the body, else binary).
public struct SandboxWebSocketListener: Sendable {
    public let host: String
    public let port: Int
    public let path: String

    /// `ws://HOST:PORT/PATH`
    public var url: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "ws://\(h):\(port)\(path)"
    }
}

extension SandboxBroker {
    /// The subprotocols the sandbox speaks, in its order of preference.
    static let webSocketSubprotocols = ["v12.stomp", "v11.stomp", "v10.stomp"]

    /// Also serves STOMP over WebSocket on `host:port` (0: any free port) at `path` (default `/ws`).
    /// `stop()` closes it with the rest. Fails with a `SandboxListenError` (e.g. the port is in use).
    public func listenWebSocket(host: String? = nil, port: Int, path: String = "/ws") -> EventLoopFuture<SandboxWebSocketListener> {
        let host = host ?? self.host
        let path = path.hasPrefix("/") ? path : "/" + path
        let core = self.core
        let maxFrame = min(core.limits.maxBodySize &+ (1 << 20), Int(UInt32.max))
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: maxFrame, automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                guard Self.requestPath(head.uri) == path else { return channel.eventLoop.makeSucceededFuture(nil) }
                var headers = HTTPHeaders()
                if let chosen = Self.chooseSubprotocol(head.headers) { headers.add(name: "Sec-WebSocket-Protocol", value: chosen) }
                return channel.eventLoop.makeSucceededFuture(headers)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let framing = SandboxWebSocketFraming()
                    let sync = channel.pipeline.syncOperations
                    // The upgrader appended the WebSocket codec after the refusal handler: take that out of the way.
                    _ = sync.removeHandler(try sync.handler(type: SandboxWebSocketRefusal.self))
                    try sync.addHandler(WebSocketEndpoint.messageAggregator(maxMessageSize: maxFrame))
                    try sync.addHandler(framing)
                    try sync.addHandler(BrokerConnectionHandler(core: core))
                    framing.start()
                }
            })
        return ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try sync.addHandler(SandboxWebSocketRefusal(path: path))
                }
            }
            .bind(host: host, port: port)
            .flatMapErrorThrowing { throw SandboxListenError(host: host, port: port, cause: $0) }
            .map { channel in
                self.addListener(channel)
                return SandboxWebSocketListener(host: host, port: channel.localAddress?.port ?? port, path: path)
            }
    }

    static func requestPath(_ uri: String) -> String {
        String(uri.prefix { $0 != "?" && $0 != "#" })
    }

    /// The client's first offered STOMP subprotocol that the sandbox speaks.
    static func chooseSubprotocol(_ headers: HTTPHeaders) -> String? {
        let offered = headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: " \t").lowercased() }
        return offered.first { webSocketSubprotocols.contains($0) }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// Answers the HTTP requests that are not a WebSocket upgrade to the endpoint: 404 for another path, 426 for
/// the right path without an upgrade. Then closes.
final class SandboxWebSocketRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let path: String

    init(path: String) {
        self.path = path
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let wrongPath = SandboxBroker.requestPath(head.uri) != path
        let status: HTTPResponseStatus = wrongPath ? .notFound : .upgradeRequired
        let text = wrongPath ? "no WebSocket endpoint here: this sandbox serves STOMP over WebSocket at \(path)\n"
                             : "this is a STOMP over WebSocket endpoint: send a WebSocket upgrade (subprotocol v12.stomp)\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

/// Between NIOWebSocket's codec and a `BrokerConnectionHandler`: message payloads in as bytes (a text message
/// must be UTF-8), each broker write out as one unmasked message; pings answered; the close handshake both ways.
/// What each frame means and which frames go out is `WebSocketEndpoint`'s (server role); this handler does it.
final class SandboxWebSocketFraming: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private var context: ChannelHandlerContext?
    private var endpoint = WebSocketEndpoint(role: .server)
    private var lastWrite: EventLoopFuture<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// The broker handler registers its connection at `channelActive`, which the upgraded channel had long
    /// before it was added: replay it.
    func start() {
        context?.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch endpoint.receive(unwrapInboundIn(data)) {
        case .message(let payload, let isText):
            if isText, !payload.withUnsafeReadableBytes({ StompText.isUTF8($0) }) {
                sendClose(context, WebSocketClose(.dataInconsistentWithMessage), promise: nil)
                return
            }
            context.fireChannelRead(wrapInboundOut(payload))
        case .ping(_, let pong):
            if let pong { context.writeAndFlush(wrapOutboundOut(pong), promise: nil) }
        case .close(let close):
            // The client's code echoed (1000 when it gave none).
            sendClose(context, WebSocketClose(code: close.code ?? UInt16(webSocketErrorCode: .normalClosure)), promise: nil)
        case .repeatedClose:
            context.close(promise: nil)
        case .pong:
            break
        case .unknownOpcode:
            sendClose(context, WebSocketClose(.protocolError), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // The codec's own errors are answered by the upgrader's automatic error handling; the aggregator's here.
        if let error = error as? NIOWebSocketFrameAggregator.Error {
            sendClose(context, WebSocketClose(WebSocketFault(error).closeCode), promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        guard buffer.readableBytes > 0 else {
            // The broker's "everything before is written" marker (it closes after it): no message.
            if let lastWrite { lastWrite.cascade(to: promise) } else { promise?.succeed(()) }
            return
        }
        let text = buffer.withUnsafeReadableBytes { StompText.isTextFrame($0) }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(endpoint.message(buffer, isText: text)), promise: written)
        written.futureResult.cascade(to: promise)
        lastWrite = written.futureResult
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard endpoint.closeStartsHandshake(mode: mode, isActive: context.channel.isActive) else {
            context.close(mode: mode, promise: promise)
            return
        }
        sendClose(context, WebSocketClose(.normalClosure), promise: promise)
    }

    /// Our close frame, then the socket (only the socket when ours went out before).
    private func sendClose(_ context: ChannelHandlerContext, _ close: WebSocketClose, promise: EventLoopPromise<Void>?) {
        guard let frame = endpoint.startClose(close, allocator: context.channel.allocator) else {
            context.close(promise: promise)
            return
        }
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in context.close(promise: promise) }
    }
}
