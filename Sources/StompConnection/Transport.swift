import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS
import NIOWebSocket
import StompProto
import WebSocketFrames

/// How a link's bytes move under STOMP: plain TCP, TLS, or WebSocket (over TCP or TLS).
public enum TransportKind: String, Sendable, Equatable {
    case tcp = "TCP", tls = "TLS", webSocket = "WebSocket", secureWebSocket = "WebSocket over TLS"

    init(_ url: StompURL) {
        switch (url.webSocket, url.tls) {
        case (false, false): self = .tcp
        case (false, true): self = .tls
        case (true, false): self = .webSocket
        case (true, true): self = .secureWebSocket
        }
    }

    var usesTLS: Bool { self == .tls || self == .secureWebSocket }
    var usesWebSocket: Bool { self == .webSocket || self == .secureWebSocket }
}

extension StompURL {
    /// The transport this URL asks for.
    public var transport: TransportKind { TransportKind(self) }
}

/// Fired inbound through the pipeline when the byte stream under STOMP is open: TCP connected, TLS handshake
/// done and the host name checked, WebSocket upgraded with an accepted subprotocol. CONNECT goes out then.
public struct StompTransportReadyEvent: Sendable, Equatable {
    public var transport: TransportKind
    /// The WebSocket subprotocol the server chose (`v12.stomp`), for WebSocket transports.
    public var subprotocol: String?
}

/// The transport seam. One per link: it configures the channel pipeline below the STOMP handlers (which it is
/// given, together with the client's watcher at the end of the pipeline), takes the link through its stages
/// (TCP, TLS handshake and host-name check, WebSocket handshake) and fires `StompTransportReadyEvent` when
/// STOMP may start. The STOMP side (decoder with its trace and stall check, encoder, client) is the same for
/// every transport; a WebSocket link puts `WebSocketStompFraming` between it and the WebSocket codec.
/// Everything runs on the channel's event loop.
final class LinkTransport {
    enum Stage { case connecting, tlsHandshake, webSocketHandshake, open }

    let url: StompURL
    let kind: TransportKind
    private(set) var stage: Stage = .connecting
    /// Transport-level trace lines (handshake, WebSocket opcodes and sizes); nil: off.
    var trace: ((TraceDirection, String) -> Void)?
    let webSocketOptions: WebSocketOptions
    let offeredSubprotocols: [String]
    let maxMessageSize: Int
    /// The subprotocol the server chose (WebSocket transports, after the handshake).
    private(set) var subprotocol: String?
    /// The first bytes the server sent (at most 200), to name what answered when it was not what we expected.
    private(set) var firstBytes: [UInt8] = []

    private let sslHandler: NIOSSLClientHandler?
    /// DNS name the certificate must carry (nil: no TLS, --insecure, or an IP literal).
    private let expectedName: String?
    private var stompHandlers: [ChannelHandler] = []
    private var makeWatcher: () -> ChannelHandler = { fatalError("configure first") }
    private weak var handshake: WebSocketHandshakeHandler?

    /// Throws `StompConnectionError.tlsFailure` when the TLS server name is unusable.
    init(url: StompURL, options: ConnectionOptions, sslContext: NIOSSLContext?) throws {
        self.url = url
        self.kind = url.transport
        self.webSocketOptions = options.webSocket
        self.offeredSubprotocols = WebSocketOptions.subprotocols(for: options.versions)
        self.maxMessageSize = options.webSocket.messageSizeLimit(for: options.limits)
        if kind.usesTLS {
            guard let sslContext else { throw StompConnectionError.configuration("TLS is not configured") }
            let name = options.tls.sniName(for: url.host)
            do {
                sslHandler = try NIOSSLClientHandler(context: sslContext, serverHostname: name)
            } catch {
                throw StompConnectionError.tlsFailure(host: url.host, port: url.port,
                                                      reason: StompConnectionError.tlsReason(error) ?? "\(error)")
            }
            if !options.tls.insecure, let name, !TLSOptions.isIPAddress(name) { expectedName = name } else { expectedName = nil }
        } else {
            sslHandler = nil
            expectedName = nil
        }
    }

    /// What the link waits for now, for a timeout message.
    var waitingFor: String {
        switch stage {
        case .connecting: return "the TCP connection to \(url.hostAndPort)"
        case .tlsHandshake: return "the TLS handshake with \(url.hostAndPort)"
        case .webSocketHandshake:
            return "the WebSocket handshake with \(url.hostAndPort) (GET \(url.path); "
                + (firstBytes.isEmpty ? "no HTTP answer at all: a raw STOMP port? use stomp://\(url.hostAndPort))" : "answer incomplete)")
        case .open: return "CONNECTED from \(url.hostAndPort)"
        }
    }

    /// Sets up a fresh channel (from the bootstrap's initializer). `stomp`: the STOMP handlers, in order;
    /// `watcher`: makes the client's last handler (errors, closes, the ready event). A WebSocket link installs
    /// them after the upgrade (and a first watcher meanwhile).
    func configure(_ channel: Channel, stomp: [ChannelHandler], watcher: @escaping () -> ChannelHandler) throws {
        let sync = channel.pipeline.syncOperations
        stompHandlers = stomp
        makeWatcher = watcher
        if let sslHandler { try sync.addHandler(sslHandler) }
        try sync.addHandler(TransportStageHandler(transport: self))
        if kind.usesWebSocket {
            let handshake = WebSocketHandshakeHandler(transport: self)
            self.handshake = handshake
            try handshake.install(on: channel, watcher: watcher())
        } else {
            try sync.addHandlers(stomp)
            try sync.addHandler(watcher())
            stompHandlers = []
            makeWatcher = { fatalError("installed") }
        }
    }

    // MARK: stages (called by TransportStageHandler)

    func tcpConnected(_ context: ChannelHandlerContext) {
        if kind.usesTLS {
            stage = .tlsHandshake
        } else {
            streamOpened(context)
        }
    }

    func tlsHandshakeCompleted(_ context: ChannelHandlerContext) {
        guard stage == .tlsHandshake else { return }
        if let name = expectedName, let cert = sslHandler?.peerCertificate, HostnameCheck.matches(cert, dnsName: name) == false {
            let names = HostnameCheck.dnsNames(cert)
            fail(context, .tlsFailure(host: url.host, port: url.port,
                                      reason: "the broker's certificate does not match the host name '\(name)'"
                                          + (names.isEmpty ? "" : " (it is for \(names.joined(separator: ", ")))")))
            return
        }
        streamOpened(context)
    }

    /// TCP (and TLS) are up: raw STOMP starts; WebSocket starts its handshake (only now, so that extra headers
    /// such as a bearer token never go to a server whose certificate we have not checked).
    private func streamOpened(_ context: ChannelHandlerContext) {
        if kind.usesWebSocket {
            stage = .webSocketHandshake
            handshake?.start()
        } else {
            stage = .open
            context.fireUserInboundEventTriggered(StompTransportReadyEvent(transport: kind, subprotocol: nil))
        }
    }

    /// The first bytes from the server: remembered for error messages; on a raw STOMP link an HTTP answer is
    /// named for what it is (a web server, or a WebSocket endpoint given a stomp:// URL).
    func sniff(_ buffer: ByteBuffer, _ context: ChannelHandlerContext) -> Bool {
        guard firstBytes.count < 200 else { return true }
        firstBytes += buffer.readableBytesView.prefix(200 - firstBytes.count)
        if !kind.usesWebSocket, stage == .open, firstBytes.count >= 5, firstBytes.starts(with: Array("HTTP/".utf8)) {
            fail(context, .webSocket(host: url.host, port: url.port, reason:
                "the server answered in HTTP ('\(firstLine)'): a web or WebSocket endpoint, not a raw STOMP port"
                    + " (for STOMP over WebSocket use ws://\(url.hostAndPort)/PATH)"))
            return false
        }
        return true
    }

    /// The first line the server sent, printable, at most 80 characters.
    var firstLine: String {
        let line = firstBytes.prefix { $0 != 0x0A && $0 != 0x0D && $0 != 0 }
        let text = String(decoding: line.prefix(80), as: UTF8.self)
        return String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }

    // MARK: WebSocket (called by WebSocketHandshakeHandler)

    /// The server switched protocols (its accept value checked): check the subprotocol, then put the WebSocket
    /// layer (`WebSocketStompFraming`: our frame parser in, our frame bytes out; no NIOWebSocket codec), the
    /// STOMP handlers and the watcher at the end of the pipeline.
    func webSocketUpgraded(_ channel: Channel, response: HTTPResponseHead) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            // Its frames' bytes go out from the handler nearer the socket (see WebSocketStompFraming).
            let wire = try sync.context(handlerType: TransportStageHandler.self)
            try sync.addHandler(WebSocketStompFraming(transport: self, wire: wire))
            try sync.addHandlers(stompHandlers)
            try sync.addHandler(makeWatcher())
            // Installed: the pipeline holds them now (and the watcher holds the client: no cycle through here).
            stompHandlers = []
            makeWatcher = { fatalError("installed") }
            let chosen = response.headers["Sec-WebSocket-Protocol"].first?.trimmingSpaces
            note(.inbound, "HTTP/\(response.version.major).\(response.version.minor) \(response.status.code) \(response.status.reasonPhrase)"
                + " (subprotocol \(chosen ?? "none"))")
            guard let chosen, !chosen.isEmpty else {
                throw StompConnectionError.webSocket(host: url.host, port: url.port, reason:
                    "the server selected no STOMP subprotocol (offered \(offeredSubprotocols.joined(separator: ", ")))")
            }
            guard offeredSubprotocols.contains(chosen.lowercased()) else {
                throw StompConnectionError.webSocket(host: url.host, port: url.port, reason:
                    "the server selected subprotocol '\(chosen)', which we did not offer (\(offeredSubprotocols.joined(separator: ", ")))")
            }
            subprotocol = chosen.lowercased()
            stage = .open
            channel.pipeline.fireUserInboundEventTriggered(StompTransportReadyEvent(transport: kind, subprotocol: subprotocol))
        }.flatMapErrorThrowing { error in
            channel.pipeline.fireErrorCaught(error)
            channel.close(promise: nil)
            throw error
        }
    }

    /// After CONNECTED: the STOMP version must be the one the WebSocket subprotocol named.
    func check(negotiated version: StompVersion) -> StompConnectionError? {
        guard let subprotocol, let named = WebSocketOptions.version(ofSubprotocol: subprotocol), named != version else { return nil }
        return .webSocket(host: url.host, port: url.port, reason:
            "the server chose subprotocol \(subprotocol) but CONNECTED says STOMP \(version.rawValue)")
    }

    /// A trace line; the text is built only when tracing (the framing calls this for every message).
    @inline(__always)
    func note(_ direction: TraceDirection, _ text: @autoclosure () -> String) {
        if let trace { trace(direction, text()) }
    }

    func fail(_ context: ChannelHandlerContext, _ error: StompConnectionError) {
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}

/// Right after TLS (or first, without it): tells the transport when TCP is up, when the TLS handshake is done,
/// and shows it the first bytes. Passes everything on.
final class TransportStageHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let transport: LinkTransport
    private var sniffing = true

    init(transport: LinkTransport) {
        self.transport = transport
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        transport.tcpConnected(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case .handshakeCompleted? = event as? TLSUserEvent { transport.tlsHandshakeCompleted(context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if sniffing {
            let buffer = unwrapInboundIn(data)
            guard transport.sniff(buffer, context) else { return }
            sniffing = transport.firstBytes.count < 200 && transport.stage != .open || transport.firstBytes.isEmpty
            if !sniffing, transport.stage == .open, !transport.kind.usesWebSocket {
                // A raw STOMP link needs nothing more of this handler (TCP and TLS are up, the first bytes kept):
                // out of the way of every later read and read-complete. (WebSocket framing writes from its context.)
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
    }
}
