import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import StompProto

/// A STOMP connection over TCP, TLS or WebSocket (the link's `LinkTransport`), driving a `StompSession`, with heart-beats, receipts,
/// failover/reconnect and back-pressure.
///
/// Threading: every public method is thread-safe. All session state lives on `eventLoop`; a call made on
/// the event loop runs inline, one from another thread costs a single `execute`. `events` and interceptors
/// are called on the event loop, in wire order; they must not block.
///
/// While reconnecting, calls fail with `.notConnected` (nothing is queued).
public final class StompClient: StompFrameDecoderSink, @unchecked Sendable {
    public let eventLoop: EventLoop
    public let options: ConnectionOptions
    private let events: @Sendable (ClientEvent) -> Void
    private let sslContext: NIOSSLContext?

    // Thread-safe mirror of what other threads may read.
    private struct Shared {
        var state: ClientState = .connecting
        var url: StompURL
        var connectedInfo: ConnectedInfo?
        var writable = true
    }
    private let shared: NIOLockedValueBox<Shared>
    private let interceptorLock = NIOLock()
    private var interceptors = ObserverList<(StompFrame) -> Bool>(.interceptor)   // guarded by interceptorLock

    // MARK: Event-loop state

    /// Connect, failover, reconnect, lost for good: the decisions; this class executes its actions.
    private var lifecycle: ConnectionLifecycle
    private var session: StompSession
    private var link: Link?
    /// Whether links emit `.trace` events; starts as `options.trace`, changed by `setTrace`.
    private var tracing: Bool
    /// Who waits for which receipt: a continuation registry keyed by the receipt ids the session awaits. The
    /// session owns the receipts (purpose, deadline, timeout, late RECEIPT); this only completes promises
    /// from its events and actions.
    private var receiptPromises: [String: EventLoopPromise<Void>] = [:]
    private var receiptCounter = 0
    private var subscriptionCounter = 0
    /// The one timer, at the session's next deadline (heart-beat, silence, receipt timeout), and its instant.
    private var heartbeatTask: Scheduled<Void>?
    private var tickAt: StompInstant?
    /// Reading from the socket is stopped (`setReadingPaused`): the consumer is behind.
    private var readingPaused = false
    private var reconnectTask: Scheduled<Void>?
    private var writableWaiters: [EventLoopPromise<Void>] = []
    private var counters = ClientCounters()
    private var baseCounters = ClientCounters()   // totals of earlier links
    private var disconnectTimedOut = false
    /// Why the last DISCONNECT ended unconfirmed (see `ClientSnapshot.disconnectUnconfirmed`).
    private var disconnectUnconfirmed: String?
    private let closePromise: EventLoopPromise<StompConnectionError?>

    /// Channels written to without flushing; flushed once by the task scheduled with the first (almost always
    /// the one link: kept apart from the rare others, so no array is made per tick).
    private var unflushedChannel: Channel?
    private var moreUnflushedChannels: [Channel] = []
    /// Encodes `sendFrames` batches (its version follows the session's).
    private lazy var batchEncoder = FrameEncoder(version: session.version, contentLength: options.contentLength)
    /// The largest outbound buffer kept between writes (one a batch of large bodies grew is let go of).
    private static let batchBytesKept = 1 << 20
    /// The outbound buffer of the last client-encoded write, reused by the next (see `takeOutboundBuffer`).
    private var keptOutbound: ByteBuffer?

    private init(options: ConnectionOptions, eventLoop: EventLoop, sslContext: NIOSSLContext?,
                 events: @escaping @Sendable (ClientEvent) -> Void) {
        self.options = options
        self.tracing = options.trace
        self.eventLoop = eventLoop
        self.sslContext = sslContext
        self.events = events
        self.shared = NIOLockedValueBox(Shared(url: options.urls.first ?? .default))
        self.session = StompSession(configuration: SessionConfiguration())
        self.lifecycle = ConnectionLifecycle(urlCount: options.urls.count, policy: options.reconnect)
        self.closePromise = eventLoop.makePromise(of: StompConnectionError?.self)
    }

    // MARK: - Connecting

    /// Connects to the first URL that accepts (in order). The future fails with a `StompConnectionError`
    /// naming the cause (unreachable, refused, TLS, authentication, timeout...).
    public static func connect(_ options: ConnectionOptions, on group: EventLoopGroup,
                               events: @escaping @Sendable (ClientEvent) -> Void = { _ in }) -> EventLoopFuture<StompClient> {
        let loop = group.next()
        guard !options.urls.isEmpty else {
            return loop.makeFailedFuture(StompConnectionError.configuration("no broker URL given"))
        }
        var ssl: NIOSSLContext?
        if options.urls.contains(where: { $0.tls }) {   // stomp+ssl:// and wss://
            do {
                ssl = try NIOSSLContext(configuration: options.tls.makeTLSConfiguration())
            } catch let e as StompConnectionError {
                return loop.makeFailedFuture(e)
            } catch {
                return loop.makeFailedFuture(StompConnectionError.configuration("TLS setup failed: \(error)"))
            }
        }
        let client = StompClient(options: options, eventLoop: loop, sslContext: ssl, events: events)
        return loop.flatSubmit { client.initialConnect() }
    }

    /// The first connect: the lifecycle's failover order (each URL once), then its verdict.
    private func initialConnect() -> EventLoopFuture<StompClient> {
        let promise = eventLoop.makePromise(of: StompClient.self)
        execute(lifecycle.start(), initial: promise)
        return promise.futureResult
    }

    /// Runs one lifecycle action. `initial`: the first connect's promise, while it is pending.
    private func execute(_ action: ConnectionLifecycle.Action, initial: EventLoopPromise<StompClient>? = nil) {
        switch action {
        case .open(let index):
            let url = options.urls[index]
            shared.withLockedValue { $0.url = url }
            connectLink(url).whenComplete { result in
                switch result {
                case .success:
                    self.execute(self.lifecycle.attemptSucceeded(), initial: initial)
                case .failure(let error):
                    let e = error as? StompConnectionError ?? .io("\(error)")
                    self.execute(self.lifecycle.attemptFailed(e), initial: initial)
                }
            }
        case .connected(_, let reconnected):
            publishState()
            if reconnected, let link {
                counters.reconnects += 1
                let (subscriptions, lost) = pendingResubscribe ?? ([], LostState())
                pendingResubscribe = nil
                let restored = resubscribe(subscriptions, on: link)
                emit(.reconnected(session.connectedInfo!, resubscribed: restored, lost: lost))
            }
            initial?.succeed(self)
        case .reportLost(let reason):
            publishState()
            emit(.connectionLost(reason.description))
        case .reconnect(let attempt, let index, let delay):
            publishState()
            let url = options.urls[index]
            emit(.reconnecting(attempt: attempt, url: url, delay: delay))
            reconnectTask = eventLoop.scheduleTask(in: delay) { [self] in
                self.reconnectTask = nil
                guard case .reconnecting(attempt, index) = self.lifecycle.state else { return }
                self.execute(.open(index: index))
            }
        case .giveUp(let error):
            link?.close()
            // A first connect that fails reports through its future only (no `.closed` event).
            finishClose(error, report: initial == nil)
            if let initial { initial.fail(error ?? lifecycle.lastError ?? StompConnectionError.notConnected) }
        }
    }

    /// What a reconnect restores: the subscriptions and what the loss took (from `resetForReconnect`).
    private var pendingResubscribe: (resubscribe: [SubscriptionInfo], lost: LostState)?

    private func sessionConfiguration(for url: StompURL, host: String) -> SessionConfiguration {
        let creds = options.credentials(for: url)
        return SessionConfiguration(versions: options.versions, host: host,
                                    login: creds.login, passcode: creds.passcode, heartBeat: options.heartBeat,
                                    heartBeatGrace: options.heartBeatGrace,
                                    extraConnectHeaders: options.connectHeaders,
                                    useStompCommand: options.useStompCommand,
                                    heartBeatMinimumSlack: Int(options.heartBeatMinimumSlack.nanoseconds / 1_000_000),
                                    heartBeatSendRatio: options.heartBeatSendRatio)
    }

    /// Per-channel state.
    final class Link {
        let url: StompURL
        /// CONNECT's `host` header on this link.
        var host = "/"
        let decoder: StompFrameDecoderHandler
        let encoder: StompFrameEncoderHandler
        var channel: Channel?
        var firstError: Error?
        var peerClosed: StompPeerClosedEvent?
        /// The server closed the WebSocket with a normal close frame (1000, or no code).
        var serverClosedWebSocketNormally = false
        /// Why we closed it ourselves.
        var failure: StompConnectionError?
        /// We closed it ourselves without a failure (`close()`): whatever ends it then is not the broker's doing.
        var closedByUs = false
        var connectPromise: EventLoopPromise<ConnectedInfo>?
        var connectTimeout: Scheduled<Void>?
        var closed = false
        var login: String?
        /// How the bytes move (TCP, TLS, WebSocket): pipeline below the STOMP handlers, stages, trace notes.
        let transport: LinkTransport
        /// The last ERROR received after CONNECTED, and when: a close soon after it is the broker's answer.
        var lastError: (error: ServerError, at: NIODeadline)?

        init(url: StompURL, decoder: StompFrameDecoderHandler, encoder: StompFrameEncoderHandler, transport: LinkTransport) {
            self.url = url
            self.decoder = decoder
            self.encoder = encoder
            self.transport = transport
        }

        func close() {
            channel?.flush()   // frames written this tick still go out (see flushSoon)
            channel?.close(promise: nil)
        }
    }

    /// The `host` header that worked for each URL after a fallback (see `connectLink`).
    private var learnedHosts: [StompURL: String] = [:]

    /// `openLink` with the `host` fallback: when the broker refuses a default `host` header as an unknown
    /// virtual host, one more attempt with the other form ("/" ↔ the URL's host name); the form that worked
    /// is used first for that URL from then on (reconnects).
    private func connectLink(_ url: StompURL) -> EventLoopFuture<ConnectedInfo> {
        let first = learnedHosts[url] ?? options.hostHeader(for: url)
        return openLink(url, host: first).flatMapError { error in
            guard let refusal = error as? StompConnectionError, refusal.refusesHostHeader, !self.lifecycle.userClosing,
                  let other = self.options.alternateHostHeader(for: url, after: first) else {
                return self.eventLoop.makeFailedFuture(error)
            }
            return self.openLink(url, host: other).map { info in
                self.learnedHosts[url] = other
                return info
            }.flatMapErrorThrowing { second in
                guard let e = second as? StompConnectionError, e.refusesHostHeader else { throw second }
                throw StompConnectionError.hostRefused(message: e.refusalMessage, tried: [first, other])
            }
        }
    }

    /// Transport (TCP, TLS, WebSocket) up, CONNECT with `host`, wait for CONNECTED. Runs on the event loop.
    private func openLink(_ url: StompURL, host: String) -> EventLoopFuture<ConnectedInfo> {
        eventLoop.assertInEventLoop()
        let promise = eventLoop.makePromise(of: ConnectedInfo.self)
        let started = NIODeadline.now()
        let decoder = StompFrameDecoderHandler(version: .v1_0, limits: options.limits,
                                               stallTimeout: options.frameStallTimeout)
        let encoder = StompFrameEncoderHandler(version: .v1_0, contentLength: options.contentLength,
                                               writeStallTimeout: options.writeStallTimeout)
        // One STOMP frame per WebSocket message: bulk batches are written frame by frame.
        encoder.writesOneFramePerBuffer = url.transport.usesWebSocket
        let transport: LinkTransport
        do {
            transport = try LinkTransport(url: url, options: options, sslContext: sslContext)
        } catch {
            promise.fail(mapError(error))
            return promise.futureResult
        }
        let link = Link(url: url, decoder: decoder, encoder: encoder, transport: transport)
        link.host = host
        link.connectPromise = promise
        if tracing { installTrace(on: link) }
        decoder.sink = self
        let marks = ChannelOptions.Types.WriteBufferWaterMark(low: options.writeBufferLowWaterMark,
                                                               high: max(options.writeBufferHighWaterMark, options.writeBufferLowWaterMark + 1))
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.writeBufferWaterMark, value: marks)
            .channelInitializer { channel in
                link.channel = channel
                return channel.eventLoop.makeCompletedFuture {
                    // The encoder is not a pipeline handler: the watcher attaches it to its own context.
                    try transport.configure(channel, stomp: [decoder]) { StompClientHandler(client: self, link: link) }
                }
            }
        // The whole attempt (TCP, TLS, CONNECTED) is bounded by connectTimeout.
        link.connectTimeout = eventLoop.scheduleTask(deadline: started + options.connectTimeout) { [weak self] in
            guard let self, let p = link.connectPromise else { return }
            let secs = Double(self.options.connectTimeout.nanoseconds) / 1e9
            let what = link.transport.waitingFor
            let err: StompConnectionError = link.channel == nil || link.transport.stage == .connecting
                ? .unreachable(host: url.host, port: url.port, reason: "no answer within \(StompConnectionError.secs(secs)) (connect timed out)")
                : .timeout(what: what, seconds: secs)
            link.failure = err
            link.connectPromise = nil
            link.close()
            p.fail(err)
        }
        bootstrap.connect(host: url.host, port: url.port).whenComplete { [self] result in
            switch result {
            case .failure(let error):
                link.connectTimeout?.cancel()
                if let p = link.connectPromise {
                    link.connectPromise = nil
                    p.fail(StompConnectionError.fromConnect(error, url: url, connectTimeout: self.options.connectTimeout))
                }
            case .success(let channel):
                link.channel = channel
                guard let _ = link.connectPromise, !link.closed else {
                    channel.close(promise: nil)
                    return
                }
                // CONNECT (with the passcode) goes out on StompTransportReadyEvent: after TLS and its name
                // check, after the WebSocket upgrade.
            }
        }
        return promise.futureResult
    }

    /// The transport is up (StompTransportReadyEvent): start the STOMP session on this link.
    private func sendConnect(_ link: Link) {
        guard let channel = link.channel, link.connectPromise != nil, !link.closed else { return }
        let url = link.url
        self.link = link
        shared.withLockedValue { $0.url = url; $0.writable = channel.isWritable }
        do {
            let now = StompInstant.now()
            // One session for the client's life: this link's host and credentials go in with its CONNECT.
            let frame = try session.connect(now: now, configuration: sessionConfiguration(for: url, host: link.host))
            link.login = session.configuration.login
            counters.framesSent += 1
            write(.frame(frame), on: link, promise: nil, flush: true)
        } catch {
            link.failure = mapError(error)
            channel.close(promise: nil)
        }
    }

    fileprivate func linkTransportReady(_ link: Link) {
        sendConnect(link)
    }

    // MARK: - Inbound (called by StompClientHandler on the event loop)

    /// A decoded event of `handler`: counts only when it is the current link's decoder.
    public func decoded(_ event: FrameDecoderEvent, by handler: StompFrameDecoderHandler) {
        guard let link, link.decoder === handler, !link.closed else { return }
        deliveringRead = true
        linkRead(link, event)
    }

    /// The end of a read whose frames were delivered: the read-end observers run (whichever link it was: a
    /// writer's queued frames go out, or fail, either way).
    public func readDone(by handler: StompFrameDecoderHandler) {
        readEnded()
    }

    private func linkRead(_ link: Link, _ event: FrameDecoderEvent) {
        let now = StompInstant.now()
        if case .frame(let f) = event, f.command == .receipt {
            // As hot for receipted sends: the session's bookkeeping, then the caller's promise; no SessionEvent.
            let r: (id: String, purpose: ReceiptPurpose?, late: Bool)
            do {
                r = try session.receiveReceipt(f, now: now)
            } catch {
                fail(link, mapError(error))
                return
            }
            counters.framesReceived += 1
            receiptArrived(link, id: r.id, purpose: r.purpose, late: r.late, frame: f)
            return
        }
        if case .frame(let f) = event, f.command == .message {
            // The hot path: the session's bookkeeping, then the frame to its interceptor or the events; no
            // SessionEvent (its subscription and pending-ack values) made and taken apart per message.
            do {
                try session.receiveMessage(f, now: now)
            } catch {
                fail(link, mapError(error))
                return
            }
            counters.framesReceived += 1
            counters.messagesReceived += 1
            if runInterceptors(f) { return }
            emit(.frame(f))
            return
        }
        let sessionEvent: SessionEvent
        do {
            sessionEvent = try session.receive(event, now: now)
        } catch {
            fail(link, mapError(error))
            return
        }
        var frame: StompFrame?
        switch event {
        case .frame(let f):
            counters.framesReceived += 1
            frame = f
        case .heartbeat:
            counters.heartbeatsReceived += 1
        }
        switch sessionEvent {
        case .connected(let info):
            if let mismatch = link.transport.check(negotiated: info.version) {
                fail(link, mismatch)
                return
            }
            link.decoder.version = info.version
            link.encoder.version = info.version
            link.connectTimeout?.cancel()
            link.connectTimeout = nil
            shared.withLockedValue { $0.connectedInfo = info }
            if readingPaused { applyReadingPaused(link) }
            scheduleTick()
            if let p = link.connectPromise {
                link.connectPromise = nil
                p.succeed(info)
            }

        case .message(let f, _, _):
            counters.messagesReceived += 1
            if runInterceptors(f) { return }
            emit(.frame(f))

        case .receipt(let id, let purpose):
            receiptArrived(link, id: id, purpose: purpose, late: false, frame: frame)

        case .lateReceipt(let id, let purpose):
            receiptArrived(link, id: id, purpose: purpose, late: true, frame: frame)

        case .error(let err):
            counters.errorsReceived += 1
            if link.connectPromise != nil {
                if let frame { emit(.frame(frame)) }
                fail(link, classifyConnectError(err, login: link.login))
                return
            }
            // The connection ends when the socket ends, not with the frame: many brokers keep it open.
            link.lastError = (err, .now())
            if let id = err.headers["receipt-id"], let p = receiptPromises.removeValue(forKey: id) {
                p.fail(StompConnectionError.rejected(err))
            } else if session.state == .closed, lifecycle.state == .disconnecting {
                link.close()   // it answered our DISCONNECT
            }
            if let frame { emit(.frame(frame)) }

        case .heartbeat:
            break   // the session notes it (peer-silence check) and `counters` counts it; no event per EOL
        }
    }

    /// A RECEIPT the session made sense of: completes its caller's promise, closes after our DISCONNECT's, or
    /// forwards it (not awaited). A late one (its caller already got the timeout) is counted, not forwarded
    /// (see ClientCounters.lateReceipts).
    private func receiptArrived(_ link: Link, id: String, purpose: ReceiptPurpose?, late: Bool, frame: StompFrame?) {
        counters.receiptsReceived += 1
        if late {
            counters.lateReceipts += 1
            if session.state == .closed, lifecycle.state == .disconnecting { link.close() }
        } else if purpose != nil, !receiptPromises.isEmpty, let p = receiptPromises.removeValue(forKey: id) {
            p.succeed(())   // the awaited future carries it; forwarding it too costs the consumer a wake-up
        } else if purpose == .disconnect, lifecycle.state == .disconnecting {
            link.close()    // our DISCONNECT's (a raw DISCONNECT's RECEIPT is forwarded)
        } else if let frame {
            emit(.frame(frame))
        }
    }

    fileprivate func linkError(_ link: Link, _ error: Error) {
        if link.firstError == nil { link.firstError = error }
        link.close()
    }

    fileprivate func linkPeerClosed(_ link: Link, _ event: StompPeerClosedEvent) {
        link.peerClosed = event
    }

    fileprivate func linkWritabilityChanged(_ link: Link) {
        guard link === self.link, let channel = link.channel else { return }
        let writable = channel.isWritable
        shared.withLockedValue { $0.writable = writable }
        if writable {
            let waiters = writableWaiters
            writableWaiters = []
            for w in waiters { w.succeed(()) }
        }
    }

    fileprivate func linkClosed(_ link: Link) {
        guard !link.closed else { return }
        link.closed = true
        link.connectTimeout?.cancel()
        link.connectTimeout = nil
        let reason = closeReason(link)
        if let p = link.connectPromise {
            link.connectPromise = nil
            if link === self.link { self.link = nil }
            p.fail(reason)
            return
        }
        guard link === self.link else { return }
        self.link = nil
        heartbeatTask?.cancel()
        heartbeatTask = nil
        tickAt = nil
        foldCounters(link)
        if lifecycle.state == .disconnecting {
            // Our DISCONNECT (sent: the session awaits its RECEIPT) is confirmed by that RECEIPT (the session is
            // then closed) or, over WebSocket, by the server's normal close (RabbitMQ's Web-STOMP answers so). A
            // connection the broker closed or reset first leaves what went before it without a receipt
            // unconfirmed (we closed it ourselves after the timeout: `disconnectTimedOut`; or at once: `close()`,
            // e.g. the shell's standard output failed while it waited).
            // A close that follows the broker's ERROR is that ERROR's (reported, or taken by expect-error).
            if case .brokerError = reason {
            } else if session.state == .disconnecting && !link.serverClosedWebSocketNormally && !disconnectTimedOut
                        && !link.closedByUs {
                disconnectUnconfirmed = reason.description
            }
        }
        let wasConnected = lifecycle.state.isConnected
        let actions = lifecycle.linkClosed(reason, quirks: quirks)
        if wasConnected {
            // The session keeps the subscriptions to restore; transactions and unacknowledged messages are lost.
            pendingResubscribe = session.resetForReconnect()
        } else if [.connecting, .connected, .disconnecting].contains(session.state) {
            // Closed before the lifecycle counted it connected: the session is reused for the next attempt.
            _ = session.connectionLost()
        }
        failPending(wasConnected ? reason : .notConnected)
        if wasConnected { for o in linkLostObservers.callbacks { o.call(reason) } }
        for action in actions { execute(action) }
    }

    private func closeReason(_ link: Link) -> StompConnectionError {
        if let f = link.failure { return f }
        if let e = link.lastError, NIODeadline.now() - e.at <= options.errorCloseGrace { return .brokerError(e.error) }
        if let e = link.firstError {
            if let s = e as? StompConnectionError { return s }
            if let tls = StompConnectionError.tlsReason(e) {
                // A TLS close without close_notify after a clean STOMP exchange is just the peer closing.
                if case NIOSSLError.uncleanShutdown = e, link.connectPromise == nil {
                    return .closedByPeer(midFrame: link.peerClosed?.midFrame ?? false)
                }
                return .tlsFailure(host: link.url.host, port: link.url.port, reason: tls)
            }
            if let io = e as? IOError, [ECONNRESET, EPIPE].contains(io.errnoCode) {
                return .closedByPeer(midFrame: link.peerClosed?.midFrame ?? false)
            }
            return .io("\(link.url.hostAndPort): \(e)")
        }
        return .closedByPeer(midFrame: link.peerClosed?.midFrame ?? false)
    }

    /// Closes `link` because of `error` (the reason reported when it is gone).
    private func fail(_ link: Link, _ error: StompConnectionError) {
        if link.failure == nil { link.failure = error }
        link.close()
    }

    private func classifyConnectError(_ err: ServerError, login: String?) -> StompConnectionError {
        let text = (err.message + " " + err.bodyText).lowercased()
        let authWords = ["access refused", "password", "passcode", "login", "credential", "authenticat",
                         "not authorized", "unauthorized", "access denied", "denied", "invalid user", "user name"]
        if authWords.contains(where: { text.contains($0) }) {
            var message = StompConnectionError.oneLine(err.message)
            let bodyLine = StompConnectionError.oneLine(err.bodyText)
            if !bodyLine.isEmpty && !message.lowercased().contains(bodyLine.lowercased()) {
                message += message.isEmpty ? bodyLine : ": " + bodyLine
            }
            return .authenticationFailed(message: message, login: login)
        }
        return .brokerError(err)
    }

    private func foldCounters(_ link: Link) {
        baseCounters.bytesSent += link.encoder.bytesSent
        baseCounters.bytesReceived += link.decoder.bytesReceived
        baseCounters.heartbeatsSent += link.encoder.heartbeatsSent
    }

    private func currentCounters() -> ClientCounters {
        var c = counters
        c.bytesSent = baseCounters.bytesSent + (link?.encoder.bytesSent ?? 0)
        c.bytesReceived = baseCounters.bytesReceived + (link?.decoder.bytesReceived ?? 0)
        c.heartbeatsSent = baseCounters.heartbeatsSent + (link?.encoder.heartbeatsSent ?? 0)
        c.framesSent = counters.framesSent
        return c
    }

    // MARK: - Reconnect

    private func resubscribe(_ subscriptions: [SubscriptionInfo], on link: Link) -> [SubscriptionInfo] {
        var restored: [SubscriptionInfo] = []
        for sub in subscriptions {
            do {
                let frame = try session.subscribe(destination: sub.destination, id: sub.id, ack: sub.ack,
                                                  headers: sub.headers, receipt: nil)
                if !brokerSubscribesTempQueues(sub.destination) {
                    write(.frame(frame), on: link, promise: nil, flush: false)
                    counters.framesSent += 1
                }
                restored.append(sub)
            } catch {
                // Cannot happen on a fresh session; skip.
            }
        }
        link.channel?.flush()
        noteSent(.now())
        return restored
    }

    /// The end, once: fails what waits, reports `.closed`, completes `closeFuture`.
    private func finishClose(_ error: StompConnectionError?, report: Bool = true) {
        guard !closedForGood else { return }
        closedForGood = true
        heartbeatTask?.cancel()
        heartbeatTask = nil
        tickAt = nil
        reconnectTask?.cancel()
        reconnectTask = nil
        failPending(error ?? .notConnected)
        publishState()
        link?.close()
        if report { emit(.closed(error)) }
        closePromise.succeed(error)
    }

    /// The link is gone: every receipt waiter fails (the session's table is cleared by its reset or replaced).
    private func failPending(_ error: StompConnectionError) {
        let waiting = receiptPromises
        receiptPromises = [:]
        for (_, p) in waiting { p.fail(error) }
        let waiters = writableWaiters
        writableWaiters = []
        for w in waiters { w.fail(error) }
    }

    private var closedForGood = false

    private func publishState() {
        let state = lifecycle.clientState
        shared.withLockedValue { $0.state = state }
    }

    private func emit(_ event: ClientEvent) {
        events(event)
    }

    private func runInterceptors(_ frame: StompFrame) -> Bool {
        let list = interceptorLock.withLock { interceptors.callbacks }
        for i in list where i.call(frame) { return true }
        return false
    }

    // MARK: - Heart-beats

    /// Any bytes written: resets the session's heart-beat timer.
    private func noteSent(_ now: StompInstant) {
        session.didSend(now: now)
    }

    /// One timer at the session's next deadline (our heart-beat, the peer's silence, a receipt's timeout): the
    /// rules and the instants are the session's; this only schedules and executes `tick`'s actions.
    private func scheduleTick() {
        heartbeatTask?.cancel()
        heartbeatTask = nil
        tickAt = nil
        guard link != nil else { return }
        let now = StompInstant.now()
        guard let deadline = session.nextDeadline(now: now) else { return }
        let at = max(deadline.nanoseconds, now.nanoseconds &+ 1_000_000)
        tickAt = StompInstant(nanoseconds: at)
        heartbeatTask = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(at)) { [weak self] in
            guard let self else { return }
            self.heartbeatTask = nil
            self.tickAt = nil
            self.tick()
        }
    }

    /// Gives the session receipt `id`'s deadline and makes sure the timer fires by then (O(1) while a timer
    /// at or before it is set: the usual case, all receipts having the same timeout).
    private func setReceiptDeadline(_ id: String, in timeout: TimeAmount, now: StompInstant) {
        let deadline = now.advanced(byNanoseconds: UInt64(max(timeout.nanoseconds, 0)))
        session.setReceiptDeadline(id, deadline)
        if let at = tickAt, at <= deadline { return }
        scheduleTick()
    }

    /// What a receipt's timeout error names: "RECEIPT r-1 for SEND to /queue/a".
    private func receiptDescription(_ id: String, _ purpose: ReceiptPurpose) -> String {
        let request: String
        switch purpose {
        case .send(let destination): request = "SEND to \(destination)"
        case .subscribe(let sub): request = "SUBSCRIBE to \(session.subscription(id: sub)?.destination ?? sub)"
        case .unsubscribe(let sub): request = "UNSUBSCRIBE \(sub)"
        case .ack: request = "ACK"
        case .nack: request = "NACK"
        case .begin(let tx): request = "BEGIN \(tx)"
        case .commit(let tx): request = "COMMIT \(tx)"
        case .abort(let tx): request = "ABORT \(tx)"
        case .disconnect: request = "DISCONNECT"
        case .raw(let command): request = command.rawValue
        }
        return "RECEIPT \(id) for \(request)"
    }

    private func tick() {
        guard let link, link.channel != nil else { return }
        let now = StompInstant.now()
        var sendHeartbeat = false
        for action in session.tick(now: now) {
            switch action {
            case .sendHeartbeat:
                sendHeartbeat = true
            case .peerSilent(let ago):
                if readingPaused { continue }   // its bytes may wait unread in the socket: no judgement
                let every = session.connectedInfo?.heartBeat.receiveInterval ?? 0
                fail(link, .peerSilent(silentForSeconds: Double(ago) / 1e9, expectedEveryMilliseconds: every))
                return
            case .receiptTimedOut(let id, let purpose):
                if purpose == .disconnect, lifecycle.state == .disconnecting {
                    disconnectTimedOut = true   // closed without its RECEIPT
                    link.close()
                    return
                }
                let seconds = Double(options.receiptTimeout.nanoseconds) / 1e9
                receiptPromises.removeValue(forKey: id)?
                    .fail(StompConnectionError.timeout(what: receiptDescription(id, purpose), seconds: seconds))
            }
        }
        if sendHeartbeat {
            write(.heartbeat, on: link, promise: nil, flush: true)
            noteSent(now)
        }
        scheduleTick()
    }

    // MARK: - Public state

    /// What the last CONNECTED said (the current connection's, after a reconnect).
    public var connectedInfo: ConnectedInfo {
        shared.withLockedValue { $0.connectedInfo }
            ?? ConnectedInfo(version: .v1_0, server: nil, session: nil, heartBeat: .none, headers: [:])
    }

    /// `connectedInfo.version` without copying the rest of it (its strings and headers): for per-request paths.
    public var connectedVersion: StompVersion {
        shared.withLockedValue { $0.connectedInfo?.version } ?? .v1_0
    }

    /// The broker currently (or last) connected to.
    public var url: StompURL { shared.withLockedValue { $0.url } }

    public var state: ClientState { shared.withLockedValue { $0.state } }

    /// False while the socket's outbound buffer is above the high water mark.
    public var isWritable: Bool { shared.withLockedValue { $0.writable } }

    /// Succeeds when the connection ended for good, with the reason (nil: clean DISCONNECT/close).
    public var closeFuture: EventLoopFuture<StompConnectionError?> { closePromise.futureResult }

    // MARK: - Interceptors

    /// Called on the event loop for every MESSAGE before `events`; return true to consume it (RPC replies).
    @discardableResult
    public func addInterceptor(_ f: @escaping (StompFrame) -> Bool) -> InterceptorToken {
        interceptorLock.withLock { interceptors.add(f) }
    }

    public func removeInterceptor(_ token: InterceptorToken) {
        interceptorLock.withLock { interceptors.remove(token) }
    }

    /// On the event loop: true while the frames of one read are being delivered (to interceptors and
    /// `events`); a writer that queues frames then can flush them at the read's end (`addReadEndObserver`)
    /// instead of scheduling a task.
    public private(set) var deliveringRead = false
    private var readEndObservers = ObserverList<() -> Void>(.readEnd)   // event loop

    /// `f` runs on the event loop after each read whose frames were delivered. Call on the event loop.
    public func addReadEndObserver(_ f: @escaping () -> Void) -> InterceptorToken {
        eventLoop.preconditionInEventLoop()
        return readEndObservers.add(f)
    }

    /// Call on the event loop.
    public func removeReadEndObserver(_ token: InterceptorToken) {
        readEndObservers.remove(token)
    }

    private var linkLostObservers = ObserverList<(StompConnectionError) -> Void>(.linkLost)   // event loop

    /// `f` runs on the event loop, with the reason, each time a connected link is lost (closed by the peer, a
    /// network or write failure, an ERROR that ended it, a silent peer, `dropConnection`), before any reconnect
    /// is tried; not for the user's own `disconnect`/`close` (those end at `closeFuture`). For state that lives
    /// on one link only (RPC calls in flight, whose replies the lost link took). Call on the event loop.
    public func addLinkLostObserver(_ f: @escaping (StompConnectionError) -> Void) -> InterceptorToken {
        eventLoop.preconditionInEventLoop()
        return linkLostObservers.add(f)
    }

    /// Call on the event loop.
    public func removeLinkLostObserver(_ token: InterceptorToken) {
        linkLostObservers.remove(token)
    }

    private func readEnded() {
        guard deliveringRead else { return }
        deliveringRead = false
        for o in readEndObservers.callbacks { o.call() }
    }

    // MARK: - Operations

    /// Runs `body` on the event loop: inline if already there, else with one `execute`.
    private func onLoop<T>(_ body: @escaping (EventLoopPromise<T>) -> Void) -> EventLoopFuture<T> {
        let p = eventLoop.makePromise(of: T.self)
        if eventLoop.inEventLoop {
            body(p)
        } else {
            eventLoop.execute { body(p) }
        }
        return p.futureResult
    }

    /// "r-N": written digit by digit into a small (inline) string, no formatting machinery per receipt.
    private func makeReceiptID() -> String {
        receiptCounter += 1
        var n = receiptCounter
        var count = 1
        var t = n / 10
        while t > 0 { count += 1; t /= 10 }
        return String(unsafeUninitializedCapacity: count + 2) { b in
            b[0] = UInt8(ascii: "r")
            b[1] = UInt8(ascii: "-")
            var i = count + 1
            repeat {
                b[i] = UInt8(truncatingIfNeeded: n % 10) &+ UInt8(ascii: "0")
                n /= 10
                i -= 1
            } while n > 0
            return count + 2
        }
    }

    private func mapError(_ error: Error) -> StompConnectionError {
        switch error {
        case let e as StompConnectionError: return e
        case let e as SessionError: return .session(e)
        case let e as FrameEncodingError: return .encoding(e)
        case let e as FrameDecodingError: return .protocolViolation(e)
        case is ChannelError:
            // A write failed as its link closes (NIO fails the pending writes before channelInactive): the
            // link's cause when it has one (a write stall, a decoding error), not an anonymous "not connected".
            if let link, link.failure != nil || link.firstError != nil { return closeReason(link) }
            return lifecycle.lastError ?? .notConnected
        default: return .io("\(error)")
        }
    }

    /// The common path: session intent → frame → write; waits for the RECEIPT when asked.
    /// `make` returns nil as frame when nothing must be written.
    private func perform<T>(receipt: Bool,
                            _ make: @escaping (_ receiptID: String?) throws -> (frame: StompFrame?, value: T)) -> EventLoopFuture<T> {
        onLoop { (p: EventLoopPromise<T>) in
            guard self.lifecycle.canSend, let link = self.link, let channel = link.channel else {
                p.fail(StompConnectionError.notConnected)
                return
            }
            let rid = receipt ? self.makeReceiptID() : nil
            let made: (frame: StompFrame?, value: T)
            do {
                made = try make(rid)
            } catch {
                p.fail(self.mapError(error))
                return
            }
            guard let frame = made.frame else {
                p.succeed(made.value)
                return
            }
            let value = made.value
            // Encoded here, not in the handler: an unencodable frame is known now (nothing written, its receipt
            // forgotten), so a request that waits for its RECEIPT needs no write promise.
            let out: StompOutbound
            do {
                out = try self.encodeFrame(frame, link: link, channel: channel)
            } catch {
                if let rid { self.session.forgetReceipt(rid) }
                p.fail(self.mapError(error))
                return
            }
            let now = StompInstant.now()
            if let rid {
                // A Void intent (send, unsubscribe, begin...) waits on its own promise: no second promise and
                // no callback to pass the RECEIPT on.
                let rp: EventLoopPromise<Void>
                if let vp = p as? EventLoopPromise<Void> {
                    rp = vp
                } else {
                    rp = self.eventLoop.makePromise(of: Void.self)
                    rp.futureResult.whenComplete { result in
                        switch result {
                        case .success: p.succeed(value)
                        case .failure(let e): p.fail(e)
                        }
                    }
                }
                self.receiptPromises[rid] = rp
                self.setReceiptDeadline(rid, in: self.options.receiptTimeout, now: now)
                // No write promise: a write that fails closes the channel (NIO), and the lost link fails every
                // receipt awaited (`failPending`), this one with the reason the link ended.
                self.write(out, to: channel, promise: nil, flush: false)
            } else {
                let writePromise = self.eventLoop.makePromise(of: Void.self)
                writePromise.futureResult.whenComplete { result in
                    switch result {
                    case .success: p.succeed(value)
                    case .failure(let e): p.fail(self.mapError(e))
                    }
                }
                self.write(out, to: channel, promise: writePromise, flush: false)
            }
            self.counters.framesSent += 1
            self.flushSoon(channel)
            self.noteSent(now)
        }
    }

    /// Flushes `channel` once, at the end of the current event-loop tick: frames written by several
    /// intents in one tick (ACKs while handling a read, windowed receipts) share one flush.
    private func flushSoon(_ channel: Channel) {
        if let first = unflushedChannel {
            if first === channel || moreUnflushedChannels.contains(where: { $0 === channel }) { return }
            moreUnflushedChannels.append(channel)
            return
        }
        unflushedChannel = channel
        eventLoop.execute(flushUnflushedTask)
    }

    /// The task `flushSoon` schedules, made once (no closure allocated per request).
    private lazy var flushUnflushedTask: @Sendable () -> Void = { [weak self] in self?.flushUnflushed() }

    private func flushUnflushed() {
        let first = unflushedChannel
        unflushedChannel = nil
        first?.flush()
        guard !moreUnflushedChannels.isEmpty else { return }
        let more = moreUnflushedChannels
        moreUnflushedChannels.removeAll()
        for c in more { c.flush() }
    }

    /// SEND. The future succeeds when written (flushed to the socket), or when the RECEIPT arrived.
    public func send(destination: String, headers: StompHeaders = [:], body: [UInt8], receipt: Bool = false,
                     transaction: String? = nil) -> EventLoopFuture<Void> {
        perform(receipt: receipt) { rid in
            (try self.session.send(destination: destination, headers: headers, body: body, receipt: rid,
                                   transaction: transaction), ())
        }
    }

    public func send(destination: String, headers: StompHeaders = [:], body: String, receipt: Bool = false,
                     transaction: String? = nil) -> EventLoopFuture<Void> {
        send(destination: destination, headers: headers, body: Array(body.utf8), receipt: receipt, transaction: transaction)
    }

    /// SEND joining the transaction `transaction` names when the event loop makes it (`.newestOpen`: the newest
    /// open one, without a round trip to ask which first).
    public func send(destination: String, headers: StompHeaders = [:], body: [UInt8], receipt: Bool = false,
                     in transaction: SendTransaction) -> EventLoopFuture<Void> {
        perform(receipt: receipt) { rid in
            (try self.session.send(destination: destination, headers: headers, body: body, receipt: rid,
                                   transaction: self.session.transactionID(transaction)), ())
        }
    }

    /// Several SENDs without receipts in one call: the session makes each frame (its state stays its own), the
    /// frames are encoded into one buffer and written with one write and one flush (over WebSocket still one
    /// message per frame; the trace sees each frame). The future succeeds once they are written; it fails with
    /// `BatchSendError` naming the first SEND that could not be made or encoded (the ones before it are written,
    /// the ones after it are not), or index 0 when the write failed.
    /// `unless`, when given, is asked on the event loop before anything is made: true drops the batch (nothing is
    /// written, the future succeeds), so a caller whose earlier batch failed writes nothing after it.
    public func send(batch: [SendRequest], transaction: SendTransaction = .none,
                     unless: (@Sendable () -> Bool)? = nil) -> EventLoopFuture<Void> {
        onLoop { p in
            if let unless, unless() { return p.succeed(()) }
            self.writeBatch(batch, transaction: transaction, promise: p)
        }
    }

    private func writeBatch(_ batch: [SendRequest], transaction: SendTransaction, promise p: EventLoopPromise<Void>) {
        guard !batch.isEmpty else { return p.succeed(()) }
        guard lifecycle.canSend, let link, let channel = link.channel else {
            return p.fail(BatchSendError(index: 0, error: .notConnected))
        }
        let tx = session.transactionID(transaction)
        batchEncoder.version = link.encoder.version
        var buffer = takeOutboundBuffer(channel: channel, minimumCapacity: 0)
        var ends: [Int] = []
        ends.reserveCapacity(batch.count)
        var failure: BatchSendError?
        for (i, r) in batch.enumerated() {
            do {
                let frame = try session.send(destination: r.destination, headers: r.headers, body: r.body,
                                             receipt: nil, transaction: tx)
                try encode(frame, room: batchEncoder.maximumEncodedCount(frame), into: &buffer)   // one that throws leaves nothing
                ends.append(buffer.readableBytes)
            } catch {
                failure = BatchSendError(index: i, error: mapError(error))
                break
            }
        }
        keepOutboundBuffer(buffer)
        guard !ends.isEmpty else { return p.fail(failure!) }
        counters.framesSent += ends.count
        if let failure {
            // Known now: reported at once (a caller's next batch, already queued, can see it in `unless`).
            write(.batch(buffer, frameEnds: ends), to: channel, promise: nil, flush: false)
            p.fail(failure)
        } else {
            let wp = eventLoop.makePromise(of: Void.self)
            write(.batch(buffer, frameEnds: ends), to: channel, promise: wp, flush: false)
            wp.futureResult.whenComplete { result in
                switch result {
                case .success: p.succeed(())
                case .failure(let e): p.fail(BatchSendError(index: 0, error: self.mapError(e)))
                }
            }
        }
        flushSoon(channel)
        noteSent(.now())
    }

    /// True when the broker creates `/temp-queue/` subscriptions by itself and refuses a SUBSCRIBE to them
    /// (RabbitMQ). Then `subscribe` registers the subscription locally, with id = the destination (what
    /// RabbitMQ puts in the reply's `subscription` header), and sends nothing.
    private func brokerSubscribesTempQueues(_ destination: String) -> Bool {
        destination.hasPrefix("/temp-queue/") && quirks.subscribesTempQueuesItself
    }

    /// The broker's quirks: `options.quirks`, else derived from the current (or last) CONNECTED.
    private var quirks: BrokerQuirks {
        options.quirks ?? BrokerQuirks(server: session.connectedInfo?.server)
    }

    /// Whether `subscribe(destination:)` for this destination is handled locally (RabbitMQ temp queues).
    public func subscribesImplicitly(_ destination: String) -> EventLoopFuture<Bool> {
        onLoop { p in p.succeed(self.brokerSubscribesTempQueues(destination)) }
    }

    /// SUBSCRIBE; `id` nil: "sub-N". Resolves to the subscription as tracked.
    ///
    /// `/temp-queue/NAME` works on both brokers: ActiveMQ needs the SUBSCRIBE; RabbitMQ refuses it and
    /// subscribes the requester itself, so on RabbitMQ nothing is sent and the id is the destination.
    public func subscribe(destination: String, id: String? = nil, ack: AckMode = .auto, headers: StompHeaders = [:],
                          receipt: Bool = false) -> EventLoopFuture<SubscriptionInfo> {
        perform(receipt: receipt) { rid in
            let implicit = self.brokerSubscribesTempQueues(destination)
            let subID: String
            if implicit {
                subID = destination
            } else if let id {
                subID = id
            } else {
                self.subscriptionCounter += 1
                subID = "sub-\(self.subscriptionCounter)"
            }
            let frame = try self.session.subscribe(destination: destination, id: subID, ack: ack, headers: headers,
                                                   receipt: implicit ? nil : rid)
            let info = self.session.subscription(id: subID)
                ?? SubscriptionInfo(id: subID, destination: destination, ack: ack, headers: headers)
            return (implicit ? nil : frame, info)
        }
    }

    public func unsubscribe(id: String, receipt: Bool = false) -> EventLoopFuture<Void> {
        perform(receipt: receipt) { rid in
            let implicit = self.session.subscription(id: id).map { self.brokerSubscribesTempQueues($0.destination) } ?? false
            let frame = try self.session.unsubscribe(id: id, receipt: implicit ? nil : rid)
            return (implicit ? nil : frame, ())
        }
    }

    private func findPending(_ messageID: String?) -> PendingAck? {
        session.pendingAck(for: messageID)
    }

    /// ACK of `messageID` (message-id or ack id) or, when nil, of the newest message awaiting one.
    public func ack(messageID: String?, transaction: String? = nil, receipt: Bool = false) -> EventLoopFuture<PendingAck> {
        perform(receipt: receipt) { rid in
            let target = self.findPending(messageID)
            let frame = try self.session.ack(messageID: messageID, transaction: transaction, receipt: rid)
            return (frame, target ?? PendingAck(subscription: "", messageID: messageID ?? "", ackID: messageID ?? ""))
        }
    }

    public func nack(messageID: String?, transaction: String? = nil, receipt: Bool = false) -> EventLoopFuture<PendingAck> {
        perform(receipt: receipt) { rid in
            let target = self.findPending(messageID)
            let frame = try self.session.nack(messageID: messageID, transaction: transaction, receipt: rid)
            return (frame, target ?? PendingAck(subscription: "", messageID: messageID ?? "", ackID: messageID ?? ""))
        }
    }

    public func begin(_ transaction: String, receipt: Bool = false) -> EventLoopFuture<Void> {
        perform(receipt: receipt) { rid in
            (try self.session.begin(transaction: transaction, receipt: rid), ())
        }
    }

    public func commit(_ transaction: String, receipt: Bool = false) -> EventLoopFuture<Void> {
        perform(receipt: receipt) { rid in
            (try self.session.commit(transaction: transaction, receipt: rid), ())
        }
    }

    public func abort(_ transaction: String, receipt: Bool = false) -> EventLoopFuture<Void> {
        perform(receipt: receipt) { rid in
            (try self.session.abort(transaction: transaction, receipt: rid), ())
        }
    }

    /// Writes `bytes` exactly (the caller includes the NUL). Frames found in them are shown to the session
    /// so it tracks what they imply (SUBSCRIBE, ACK, receipts...); nothing is refused.
    public func sendRaw(_ bytes: [UInt8]) -> EventLoopFuture<Void> {
        onLoop { p in
            var decoder = FrameDecoder(version: self.session.version, limits: self.options.limits)
            decoder.append(bytes)
            var frames: [StompFrame] = []
            while let event = try? decoder.next() {
                if case .frame(let f) = event { frames.append(f) }
            }
            self.writeEncoded(bytes, frames: frames, promise: p)
        }
    }

    /// Writes `frames` in one write and one flush, with one future for the lot: the hot path for callers that
    /// batch their own frames (benches). Like `sendRaw`, the session sees every frame (ACKs settle their
    /// messages, SUBSCRIBEs are tracked) and RECEIPTs asked for come back as events; unlike it, nothing is
    /// re-parsed. Nothing is written if a frame cannot be encoded.
    public func sendFrames(_ frames: [StompFrame]) -> EventLoopFuture<Void> {
        onLoop { p in
            guard self.lifecycle.canSendWhileDisconnecting, let link = self.link, let channel = link.channel else {
                return p.fail(StompConnectionError.notConnected)
            }
            let out: StompOutbound
            do {
                out = try self.encodeFrames(frames, link: link, channel: channel)
            } catch {
                p.fail(self.mapError(error))
                return
            }
            self.writeChecked(out, frames: frames, channel: channel, promise: p)
        }
    }

    /// `sendFrames` for a caller on the event loop that waits for no future (a bench that waits for its RECEIPTs):
    /// the same write and flush, the session sees the same frames, but no promise is made. Throws
    /// `StompConnectionError` (`.notConnected`, `.encoding`) when nothing was written; a write that fails later
    /// closes the link (NIO closes a channel whose write failed), which is reported as the connection's end
    /// (`.connectionLost`/`.closed` events, `closeFuture`), and fails every receipt awaited.
    public func writeFrames(_ frames: [StompFrame]) throws {
        try writeNow(count: frames.count, encode: { try encodeFrames(frames, link: $0, channel: $1) },
                     check: { $0.checkRaw(frames) })
    }

    /// `writeFrames` of one frame, without an array.
    public func writeFrame(_ frame: StompFrame) throws {
        // checkRaw of a raw frame never throws (it only updates the session's view)
        try writeNow(count: 1, encode: { try encodeFrame(frame, link: $0, channel: $1) },
                     check: { try? $0.checkRaw(frame) })
    }

    /// `writeFrame` of a SEND whose `receipt` header is `receipt` (the caller made it, e.g. a bench waiting for its
    /// RECEIPTs): the session awaits it without reading the header back into a String.
    public func writeFrame(_ frame: StompFrame, receipt: String) throws {
        precondition(frame.command == .send, "writeFrame(_:receipt:) is for SENDs")
        assert(frame.headers.value("receipt") == receipt, "writeFrame(_:receipt:): the frame's receipt header")
        try writeNow(count: 1, encode: { try encodeFrame(frame, link: $0, channel: $1) },
                     check: { $0.checkRawSend(receipt: receipt) })
    }

    /// `writeFrames`' one way: encode (nothing written when it throws), the session's check, write and flush.
    @inline(__always)
    private func writeNow(count: Int, encode: (Link, Channel) throws -> StompOutbound,
                          check: (inout StompSession) -> Void) throws {
        eventLoop.preconditionInEventLoop()
        guard lifecycle.canSendWhileDisconnecting, let link, let channel = link.channel else {
            throw StompConnectionError.notConnected
        }
        let out: StompOutbound
        do {
            out = try encode(link, channel)
        } catch {
            throw mapError(error)
        }
        check(&session)
        counters.framesSent += count
        write(out, to: channel, promise: nil, flush: true)
        noteSent(.now())
    }

    /// One frame encoded straight into the reused outbound `ByteBuffer` (no array between), as `.encoded` of
    /// one frame.
    private func encodeFrame(_ frame: StompFrame, link: Link, channel: Channel) throws -> StompOutbound {
        // The encoder handler's version is the negotiated one (set at CONNECTED), read without copying the
        // session's ConnectedInfo.
        batchEncoder.version = link.encoder.version
        let room = batchEncoder.maximumEncodedCount(frame)
        var buffer = takeOutboundBuffer(channel: channel, minimumCapacity: room)
        do {
            try encode(frame, room: room, into: &buffer)
        } catch {
            keepOutboundBuffer(buffer)
            throw error
        }
        keepOutboundBuffer(buffer)
        return .encoded(buffer, frames: 1)
    }

    /// `frames` encoded straight into the reused outbound `ByteBuffer` (`takeOutboundBuffer`): no array between,
    /// no copy in the handler, and the frame ends known (the trace and WebSocket cut there without decoding).
    /// Throws the first encoding error (nothing to write then).
    private func encodeFrames(_ frames: [StompFrame], link: Link, channel: Channel) throws -> StompOutbound {
        batchEncoder.version = link.encoder.version
        let one = frames.count == 1
        var ends: [Int] = []
        if !one { ends.reserveCapacity(frames.count) }
        var buffer = takeOutboundBuffer(channel: channel, minimumCapacity: 0)
        do {
            for f in frames {
                try encode(f, room: batchEncoder.maximumEncodedCount(f), into: &buffer)
                if !one { ends.append(buffer.readableBytes) }
            }
        } catch {
            keepOutboundBuffer(buffer)
            throw error
        }
        keepOutboundBuffer(buffer)
        // One frame (the common call) needs no list of ends: `.encoded` of one frame is written and traced alike.
        return one ? .encoded(buffer, frames: 1) : .batch(buffer, frameEnds: ends)
    }

    /// Appends `frame` encoded to `buffer` (nothing appended when it throws); `room`: its `maximumEncodedCount`.
    @inline(__always)
    private func encode(_ frame: StompFrame, room: Int, into buffer: inout ByteBuffer) throws {
        let encoder = batchEncoder
        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { try encoder.encode(frame, to: $0) }
    }

    /// The kept outbound `ByteBuffer`, cleared, with room for `minimumCapacity` bytes: once NIO has written the
    /// previous one and let go of it, its storage is this client's alone again and `clear` reuses it (no
    /// malloc/free per write); while a write is still pending (back-pressure) `clear` gives fresh storage (copy
    /// on write), so a queued write is never overwritten. Give it back with `keepOutboundBuffer`.
    @inline(__always)
    private func takeOutboundBuffer(channel: Channel, minimumCapacity: Int) -> ByteBuffer {
        // Taken out of `keptOutbound` (no second reference of ours): unique unless NIO still holds it.
        var buffer = keptOutbound.take() ?? channel.allocator.buffer(capacity: max(minimumCapacity, 1024))
        buffer.clear(minimumCapacity: minimumCapacity)
        return buffer
    }

    /// Keeps `buffer` for the next write, unless it grew past `batchBytesKept`.
    @inline(__always)
    private func keepOutboundBuffer(_ buffer: ByteBuffer) {
        if buffer.capacity <= Self.batchBytesKept { keptOutbound = buffer }
    }

    /// `sendFrames` for callers that encoded `frames` themselves into `bytes` (to learn of an unencodable
    /// frame when they make it): `bytes` are written as they are and the session sees `frames`.
    public func sendEncoded(_ bytes: [UInt8], frames: [StompFrame]) -> EventLoopFuture<Void> {
        onLoop { p in self.writeEncoded(bytes, frames: frames, promise: p) }
    }

    /// `sendEncoded` for a caller on the event loop that needs no future: one write and flush now, without a
    /// promise (the RPC writer's per-pass batches). Throws `.notConnected` when nothing was written (no
    /// connection: lost, reconnecting, closed); a write that fails later closes the link, which
    /// `addLinkLostObserver`'s observers hear of. `plainSends`: SENDs in `bytes` without a receipt header and
    /// without a `StompFrame` (the RPC caller's requests, replies): counted as frames sent; the session has
    /// nothing to track for them.
    public func sendEncodedNow(_ bytes: [UInt8], frames: [StompFrame], plainSends: Int = 0) throws {
        eventLoop.preconditionInEventLoop()
        guard lifecycle.canSendWhileDisconnecting, let channel = link?.channel else {
            throw StompConnectionError.notConnected
        }
        counters.framesSent += plainSends + frames.count
        session.checkRaw(frames)
        write(.raw(bytes), to: channel, promise: nil, flush: true)
        noteSent(.now())
    }

    private func writeEncoded(_ bytes: [UInt8], frames: [StompFrame], promise p: EventLoopPromise<Void>) {
        guard lifecycle.canSendWhileDisconnecting, let channel = link?.channel else {
            p.fail(StompConnectionError.notConnected)
            return
        }
        writeChecked(.raw(bytes), frames: frames, channel: channel, promise: p)
    }

    /// Writes `out` on `channel`, the current link's (callers take it from `link` in the same event-loop task).
    private func write(_ out: StompOutbound, to channel: Channel, promise: EventLoopPromise<Void>?, flush: Bool) {
        guard let link, link.channel === channel else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        write(out, on: link, promise: promise, flush: flush)
    }

    /// Every STOMP write goes here: `link`'s encoder (not in the pipeline, see `StompFrameEncoderHandler.attach`)
    /// encodes `out` and writes its bytes through the context of the link's last handler (`StompClientHandler`),
    /// so they pass the same handlers as a write from the pipeline's tail, without the generic, boxed trip
    /// there, and outbound events (a `read` after every read) pass no STOMP handler. A link whose handlers are
    /// gone (closed) fails the promise as a closed channel does. On the event loop.
    private func write(_ out: StompOutbound, on link: Link, promise: EventLoopPromise<Void>?, flush: Bool) {
        let written = flush ? link.encoder.writeAndFlush(out, promise: promise) : link.encoder.write(out, promise: promise)
        if !written { promise?.fail(ChannelError.ioOnClosedChannel) }
    }

    /// Shows `frames` to the session and writes `out` (their bytes) with one write and flush.
    private func writeChecked(_ out: StompOutbound, frames: [StompFrame], channel: Channel, promise p: EventLoopPromise<Void>) {
        session.checkRaw(frames)
        counters.framesSent += frames.count
        let wp = eventLoop.makePromise(of: Void.self)
        write(out, to: channel, promise: wp, flush: true)
        noteSent(.now())
        wp.futureResult.whenComplete { result in
            switch result {
            case .success: p.succeed(())
            case .failure(let e): p.fail(self.mapError(e))
            }
        }
    }

    /// DISCONNECT with a receipt; waits for it at most `options.disconnectTimeout`, then closes anyway.
    /// Never reconnects afterwards. Succeeds once the socket is closed.
    public func disconnect() -> EventLoopFuture<Void> {
        onLoop { (p: EventLoopPromise<Void>) in
            self.closePromise.futureResult.whenComplete { _ in p.succeed(()) }
            let wasConnected = self.lifecycle.state.isConnected
            self.disconnectTimedOut = false
            self.disconnectUnconfirmed = nil
            if let action = self.lifecycle.userLeaves() { self.execute(action) }
            guard wasConnected else { return }
            do {
                guard let link = self.link, link.channel != nil else {
                    self.finishClose(nil)
                    return
                }
                self.receiptCounter += 1
                let rid = "disconnect-\(self.receiptCounter)"
                let frame: StompFrame
                do {
                    frame = try self.session.disconnect(receipt: rid)
                } catch {
                    link.close()
                    return
                }
                self.publishState()
                // The session awaits it; on its timeout `tick` closes the link (`disconnectTimedOut`).
                self.setReceiptDeadline(rid, in: self.options.disconnectTimeout, now: .now())
                self.counters.framesSent += 1
                let wp = self.eventLoop.makePromise(of: Void.self)
                self.write(.frame(frame), on: link, promise: wp, flush: true)
                wp.futureResult.whenFailure { _ in link.close() }
            }
        }
    }

    /// Succeeds at once if the socket takes writes, else when its outbound buffer drained below the low
    /// water mark. For callers that pipeline many `send`s without waiting for each.
    public func waitUntilWritable() -> EventLoopFuture<Void> {
        onLoop { p in
            guard self.lifecycle.canSendWhileDisconnecting, let channel = self.link?.channel else {
                p.fail(StompConnectionError.notConnected)
                return
            }
            if channel.isWritable { p.succeed(()) } else { self.writableWaiters.append(p) }
        }
    }

    /// Closes the socket at once, without DISCONNECT; never reconnects.
    public func close() -> EventLoopFuture<Void> {
        onLoop { (p: EventLoopPromise<Void>) in
            self.closePromise.futureResult.whenComplete { _ in p.succeed(()) }
            if let action = self.lifecycle.userLeaves() {
                self.execute(action)
            } else if let link = self.link {
                self.publishState()
                link.closedByUs = true
                link.close()
            } else {
                self.finishClose(nil)
            }
        }
    }

    /// For tests and the shell's `reconnect`: drops the socket as a network failure would;
    /// the reconnect policy then applies.
    public func dropConnection() -> EventLoopFuture<Void> {
        onLoop { (p: EventLoopPromise<Void>) in
            if let link = self.link {
                self.fail(link, .io("connection dropped on request"))
            }
            p.succeed(())
        }
    }

    /// Stops (true) or resumes reading from the socket: back-pressure from a consumer that is behind (a slow
    /// terminal, file or script). While paused, the broker's frames wait in the kernel's buffers and then in
    /// the broker (TCP flow control) instead of in this process, and its silence is not judged.
    /// Thread-safe; kept across reconnects (applied once CONNECTED is read).
    public func setReadingPaused(_ paused: Bool) {
        let apply = { [self] in
            guard readingPaused != paused else { return }
            readingPaused = paused
            if let link, link.connectPromise == nil { applyReadingPaused(link) }
        }
        if eventLoop.inEventLoop { apply() } else { eventLoop.execute(apply) }
    }

    private func applyReadingPaused(_ link: Link) {
        guard let channel = link.channel, let options = channel.syncOptions else { return }
        link.decoder.readingPaused = readingPaused
        link.encoder.readingPaused = readingPaused
        try? options.setOption(ChannelOptions.autoRead, value: !readingPaused)
        if !readingPaused {
            session.readingResumed(now: .now())
            channel.read()
            scheduleTick()
        }
    }

    /// Turns the wire trace (`.trace` events) on or off for this and later links. Off costs
    /// nothing per frame, so a shell can offer `set trace on` without slowing every connection.
    public func setTrace(_ on: Bool) {
        let apply = {
            self.tracing = on
            guard let link = self.link else { return }
            if on { self.installTrace(on: link) } else {
                link.decoder.trace = nil
                link.encoder.trace = nil
                link.transport.trace = nil
            }
        }
        if eventLoop.inEventLoop { apply() } else { eventLoop.execute(apply) }
    }

    private func installTrace(on link: Link) {
        link.decoder.trace = { [weak self] bytes in self?.emit(.trace(.inbound, bytes, at: .now())) }
        link.encoder.trace = { [weak self] bytes in self?.emit(.trace(.outbound, bytes, at: .now())) }
        link.transport.trace = { [weak self] direction, note in self?.emit(.transportTrace(direction, note, at: .now())) }
    }

    /// Reads the session (the one owner of subscriptions, pending acks, transactions and receipts) on the
    /// event loop: for callers that must not keep a copy of its state. Waiting on the future from another
    /// thread is fine; never wait on it on the event loop.
    public func query<T: Sendable>(_ read: @escaping @Sendable (StompSession) -> T) -> EventLoopFuture<T> {
        onLoop { p in p.succeed(read(self.session)) }
    }

    public func snapshot() -> EventLoopFuture<ClientSnapshot> {
        onLoop { p in
            let connected = self.lifecycle.canSendWhileDisconnecting
            p.succeed(ClientSnapshot(
                state: self.shared.withLockedValue { $0.state },
                url: self.url,
                connectedInfo: self.session.connectedInfo,
                subscriptions: connected ? self.session.subscriptions : [],
                pendingAcks: connected ? self.session.pendingAcks : [],
                transactions: connected ? self.session.openTransactions : [],
                awaitedReceipts: connected ? self.session.awaitedReceipts : [],
                counters: self.currentCounters(),
                isWritable: self.link?.channel?.isWritable ?? false,
                disconnectTimedOut: self.disconnectTimedOut,
                disconnectUnconfirmed: self.disconnectUnconfirmed))
        }
    }
}

/// Last handler in the pipeline: hands errors, closes, the transport's ready event and writability to the client
/// (frames and heart-beats reach it from the decoder handler's `deliver`).
final class StompClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never

    private let client: StompClient
    private let link: StompClient.Link

    init(client: StompClient, link: StompClient.Link) {
        self.client = client
        self.link = link
    }

    /// The link's encoder writes through this context: the last handler's, so its bytes pass every outbound
    /// handler below (TLS, WebSocket framing), and outbound events pass no STOMP handler.
    func handlerAdded(context: ChannelHandlerContext) {
        link.encoder.attach(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        link.encoder.detach(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? StompPeerClosedEvent {
            client.linkPeerClosed(link, e)
        } else if let e = event as? WebSocketServerClosedEvent {
            link.serverClosedWebSocketNormally = e.code == nil || e.code == 1000
        } else if event is StompTransportReadyEvent {
            client.linkTransportReady(link)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.linkError(link, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.linkClosed(link)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        client.linkWritabilityChanged(link)
        context.fireChannelWritabilityChanged()
    }

    /// The last handler: the decoder handled the read's end (`readDone`), nothing after this one wants it
    /// (the pipeline's tail does nothing with it).
    func channelReadComplete(context: ChannelHandlerContext) {}
}
