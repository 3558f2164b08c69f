import NIOCore
import NIOPosix
import StompProto

/// Where the broker's log lines go (connections opened, CONNECTs, ERRORs, closes).
public typealias BrokerLog = @Sendable (String) -> Void

/// The in-memory sandbox broker on a TCP port: a `BrokerEngine` behind a SwiftNIO server on one event loop.
/// For trying stompsh out and for tests; not a real broker (nothing is persisted, any login is accepted).
public final class SandboxBroker: @unchecked Sendable {
    /// The port a sandbox prefers (the STOMP default).
    public static let defaultPort = 61613

    public let host: String
    public let port: Int
    public let eventLoop: EventLoop
    private let serverChannel: Channel
    let core: BrokerCore
    /// More listeners on the same engine (the WebSocket endpoint: SandboxWebSocket.swift); on the event loop.
    private var extraListeners: [Channel] = []
    /// The event loop group started by `startDetached`, shut down by `stop()`.
    private var ownGroup: MultiThreadedEventLoopGroup?

    private init(host: String, port: Int, serverChannel: Channel, core: BrokerCore) {
        self.host = host
        self.port = port
        self.serverChannel = serverChannel
        self.core = core
        self.eventLoop = serverChannel.eventLoop
    }

    /// `stomp://HOST:PORT` of this broker.
    public var url: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "stomp://\(h):\(port)"
    }

    /// Starts listening on `host:port` (port 0: any free port). Fails with a `SandboxListenError` (e.g. the
    /// port is in use).
    public static func start(host: String = "127.0.0.1", port: Int, configuration: BrokerConfiguration = BrokerConfiguration(),
                             limits: StompLimits = .default, on group: EventLoopGroup, log: BrokerLog? = nil) -> EventLoopFuture<SandboxBroker> {
        let loop = group.next()
        let core = BrokerCore(engine: BrokerEngine(configuration: configuration), limits: limits, log: log, eventLoop: loop)
        return listenTCP(host: host, port: port, core: core)
            .flatMapErrorThrowing { throw SandboxListenError(host: host, port: port, cause: $0) }
            .map { channel in
                SandboxBroker(host: host, port: channel.localAddress?.port ?? port, serverChannel: channel, core: core)
            }
    }

    /// The STOMP-over-TCP listener: each accepted socket gets a `BrokerConnectionHandler` on the core's loop.
    /// Writes are bounded as ActiveMQ's (64 KiB socket send buffer): past 64 KiB unsent the channel turns
    /// unwritable and the engine hands it nothing more, so a client that stops reading holds little in flight.
    private static func listenTCP(host: String, port: Int, core: BrokerCore) -> EventLoopFuture<Channel> {
        ServerBootstrap(group: core.eventLoop, childGroup: core.eventLoop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.so_sndbuf), value: 64 * 1024)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture(withResultOf: {
                    try channel.pipeline.syncOperations.addHandler(BrokerConnectionHandler(core: core))
                })
            }
            .bind(host: host, port: port)
    }

    /// Starts on `preferredPort` if it is free, else on a port the system picks.
    public static func startPreferring(host: String = "127.0.0.1", preferredPort: Int = defaultPort,
                                       configuration: BrokerConfiguration = BrokerConfiguration(),
                                       limits: StompLimits = .default, on group: EventLoopGroup,
                                       log: BrokerLog? = nil) -> EventLoopFuture<SandboxBroker> {
        start(host: host, port: preferredPort, configuration: configuration, limits: limits, on: group, log: log)
            .flatMapError { _ in
                start(host: host, port: 0, configuration: configuration, limits: limits, on: group, log: log)
            }
    }

    /// Starts on a thread of its own (a one-thread event loop group that `stop()` shuts down): for tests and
    /// programs that want a broker in the process and have no event loop group at hand. Port 0: any free port.
    public static func startDetached(host: String = "127.0.0.1", port: Int = 0,
                                     configuration: BrokerConfiguration = BrokerConfiguration(),
                                     limits: StompLimits = .default, log: BrokerLog? = nil) throws -> SandboxBroker {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let broker = try start(host: host, port: port, configuration: configuration, limits: limits, on: group, log: log).wait()
            broker.ownGroup = group
            return broker
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    func addListener(_ channel: Channel) {
        eventLoop.execute { self.extraListeners.append(channel) }
    }

    /// Stops listening and closes every connection (their messages are lost).
    public func stop() -> EventLoopFuture<Void> {
        let listeners = eventLoop.submit { self.extraListeners }.flatMap { [eventLoop] extra in
            EventLoopFuture.andAllComplete(extra.map { $0.close() }, on: eventLoop)
        }
        let stopped = listeners.flatMap { self.serverChannel.close().recover { _ in } }.flatMap { [core] in
            let closes = core.openHandlers.map { $0.closeNow() }
            return EventLoopFuture.andAllComplete(closes, on: core.eventLoop)
        }
        guard let group = ownGroup else { return stopped }
        ownGroup = nil
        // the caller may wait on the returned future: complete it from outside the group being shut down
        let done = NIOSingletons.posixEventLoopGroup.next().makePromise(of: Void.self)
        stopped.whenComplete { _ in
            group.shutdownGracefully { _ in done.succeed(()) }
        }
        return done.futureResult
    }

    /// Completes when the listening socket is closed.
    public var closeFuture: EventLoopFuture<Void> { serverChannel.closeFuture }
}
