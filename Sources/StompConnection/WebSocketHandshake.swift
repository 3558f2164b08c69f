import NIOCore
import NIOHTTP1
import NIOWebSocket
import StompProto

/// The client side of the WebSocket opening handshake, on SwiftNIO's HTTP/1 codec and NIOWebSocket's client
/// upgrader: writes `GET PATH` with `Sec-WebSocket-Protocol: v12.stomp, v11.stomp, v10.stomp` (the versions
/// offered), `Origin` and the extra headers; names every way it can fail in one line (a status other than
/// 101 with the path tried, a server that does not speak HTTP, a close during the handshake). On success the
/// upgrader (`WebSocketClientUpgrader`) hands over to `LinkTransport.webSocketUpgraded`, and this handler is gone.
final class WebSocketHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let transport: LinkTransport
    private var context: ChannelHandlerContext?
    private var failed = false
    private var started = false

    init(transport: LinkTransport) {
        self.transport = transport
    }

    /// Adds the HTTP codec, the upgrade handler, this handler and the first watcher; all but the upgrade
    /// handler leave the pipeline when the server switches protocols.
    func install(on channel: Channel, watcher: ChannelHandler) throws {
        let sync = channel.pipeline.syncOperations
        let requestEncoder = HTTPRequestEncoder()
        let responseDecoder = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
        let transport = self.transport
        let upgrader = WebSocketClientUpgrader { channel, response in transport.webSocketUpgraded(channel, response: response) }
        var removable: [RemovableChannelHandler] = [requestEncoder, responseDecoder, self]
        if let w = watcher as? RemovableChannelHandler { removable.append(w) }
        let upgradeHandler = NIOHTTPClientUpgradeHandler(upgraders: [upgrader], httpHandlers: removable,
                                                         upgradeCompletionHandler: { _ in })
        try sync.addHandlers([requestEncoder, responseDecoder, upgradeHandler, self, watcher])
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// The request line and headers, with the extra headers' values masked (they are secrets).
    static func describe(_ head: HTTPRequestHead, secret: Set<String>) -> String {
        var lines = ["\(head.method.rawValue) \(head.uri) HTTP/1.1"]
        for (name, value) in head.headers {
            lines.append("\(name): \(secret.contains(name.lowercased()) ? StompURL.passcodeMask : value)")
        }
        return lines.joined(separator: "\n")
    }

    /// Sends the upgrade request (TCP, and TLS with its host-name check, are up).
    func start() {
        guard let context, !started else { return }
        started = true
        let url = transport.url
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.path)
        let defaultPort = url.tls ? StompURL.defaultSecureWebSocketPort : StompURL.defaultWebSocketPort
        let host = url.host.contains(":") ? "[\(url.host)]" : url.host
        head.headers.add(name: "Host", value: url.port == defaultPort ? host : "\(host):\(url.port)")
        head.headers.add(name: "Sec-WebSocket-Protocol", value: transport.offeredSubprotocols.joined(separator: ", "))
        let options = transport.webSocketOptions
        if let origin = options.origin { head.headers.add(name: "Origin", value: origin) }
        for h in options.headers { head.headers.add(name: h.name, value: h.value) }
        if transport.trace != nil {
            var shown = head
            // What the upgrade handler adds; the key is random and says nothing.
            shown.headers.add(name: "Connection", value: "upgrade")
            shown.headers.add(name: "Upgrade", value: "websocket")
            shown.headers.add(name: "Sec-WebSocket-Version", value: "13")
            transport.note(.outbound, Self.describe(shown, secret: Set(options.headers.map { $0.name.lowercased() })))
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Only a response the upgrade handler refused reaches here: any status but 101.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let response) = unwrapInboundIn(data) else { return }
        let status = "HTTP/\(response.version.major).\(response.version.minor) \(response.status.code) \(response.status.reasonPhrase)"
        transport.note(.inbound, status)
        let path = transport.url.path
        var reason = "the server answered \(status) to GET \(path)"
        switch response.status.code {
        case 101:
            reason += " without a valid WebSocket upgrade"
        case 200..<300:
            reason += ": a web server, not a WebSocket endpoint (is the path right?)"
        case 401, 403:
            reason += " (credentials or origin refused: see --ws-header and --origin)"
        case 404:
            reason += " (wrong path? RabbitMQ Web-STOMP serves /ws; Spring, the path given to registerStompEndpoints)"
        case 300..<400:
            reason += response.headers["Location"].first.map { " (redirected to \($0); WebSocket clients do not follow redirects)" } ?? ""
        default:
            break
        }
        fail(context, reason)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !failed else { return }
        if let e = error as? NIOHTTPClientUpgradeError {
            switch e {
            case .upgraderDeniedUpgrade:
                fail(context, "the server's Sec-WebSocket-Accept does not answer our key (not a WebSocket server?)")
            case .responseProtocolNotFound:
                fail(context, "the server answered 101 without 'Upgrade: websocket'")
            default:
                fail(context, "HTTP upgrade failed (\(e))")
            }
        } else if error is HTTPParserError {
            fail(context, notHTTP)
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !failed && started {
            failed = true
            let what = transport.firstBytes.isEmpty ? "without answering" : "after '\(transport.firstLine)'"
            context.fireErrorCaught(StompConnectionError.webSocket(host: transport.url.host, port: transport.url.port, reason:
                "the server closed the connection during the WebSocket handshake \(what)"
                    + (transport.firstBytes.isEmpty || looksLikeSTOMP ? " (a raw STOMP port? use stomp://\(transport.url.hostAndPort))" : "")))
        }
        context.fireChannelInactive()
    }

    private var looksLikeSTOMP: Bool {
        ["ERROR", "CONNECTED"].contains(transport.firstLine.trimmingSpaces)
    }

    private var notHTTP: String {
        let url = transport.url
        if looksLikeSTOMP {
            return "the server answered with a STOMP \(transport.firstLine) frame, not HTTP: a raw STOMP port (use stomp://\(url.hostAndPort))"
        }
        return "the server does not speak HTTP (it sent '\(transport.firstLine)'; a raw STOMP port? use stomp://\(url.hostAndPort))"
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        guard !failed else { return }
        failed = true
        transport.fail(context, .webSocket(host: transport.url.host, port: transport.url.port, reason: reason))
    }
}

/// The client's upgrader: NIOWebSocket's for the request (`Sec-WebSocket-Key`, version) and the check of the
/// server's `Sec-WebSocket-Accept`, but an upgrade that adds none of NIOWebSocket's codec (frame decoder,
/// encoder): `upgraded` installs the link's own WebSocket layer (`WebSocketStompFraming`).
struct WebSocketClientUpgrader: NIOHTTPClientProtocolUpgrader {
    private let handshake = NIOWebSocketClientUpgrader { channel, _ in channel.eventLoop.makeSucceededVoidFuture() }
    private let upgraded: (Channel, HTTPResponseHead) -> EventLoopFuture<Void>

    init(upgraded: @escaping (Channel, HTTPResponseHead) -> EventLoopFuture<Void>) {
        self.upgraded = upgraded
    }

    var supportedProtocol: String { handshake.supportedProtocol }
    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        handshake.addCustom(upgradeRequestHeaders: &upgradeRequestHeaders)
    }

    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        handshake.shouldAllowUpgrade(upgradeResponse: upgradeResponse)
    }

    func upgrade(context: ChannelHandlerContext, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<Void> {
        upgraded(context.channel, upgradeResponse)
    }
}
