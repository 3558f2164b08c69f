// The calling side: one reply destination per session, replies matched by correlation-id on the event loop.
import NIOCore
import NIOConcurrencyHelpers
import StompProto
import StompConnection

public enum RPCCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No reply within the timeout (a reply arriving later is counted as late and dropped).
    case timeout(method: String, seconds: Double)
    /// The reply was not a JSON-RPC 2.0 response.
    case badReply(String)
    /// The request could not be sent.
    case sendFailed(String)
    /// The connection the call was made on was lost (closed by the broker, a network or write failure, an ERROR
    /// that ended it, a silent peer) before its reply came: the reply, if any, went with it. `reason` names the
    /// cause. Whether the request was served is unknown.
    case connectionLost(method: String, reason: String)
    case closed

    public var description: String {
        switch self {
        case .timeout(let m, let s): return "rpc \(m): timed out after \(StatsFormat.fixed(s, s == s.rounded() ? 0 : 3)) s (no reply)"
        case .badReply(let s): return "rpc: bad reply: \(s)"
        case .sendFailed(let s): return "rpc: send failed: \(s)"
        case .connectionLost(let m, let r): return "rpc \(m): connection lost before the reply: \(r)"
        case .closed: return "rpc: client closed"
        }
    }

    /// The call failed with its connection (lost, not connected, closed) or could not be sent: calls made next
    /// on the same client would fail alike until it reconnects.
    public var isConnectionFailure: Bool {
        switch self {
        case .sendFailed, .connectionLost, .closed: return true
        case .timeout, .badReply: return false
        }
    }
}

/// A reply to one call and its round-trip time (from just before SEND to the reply's arrival on the event loop).
public struct RPCCallResult: Sendable, Equatable {
    public var outcome: RPCOutcome
    public var roundTripNanoseconds: UInt64
    /// The call's correlation id, made when asked (`idPrefix` + the counter).
    public var correlationID: String { idPrefix + String(idNumber) }
    let idPrefix: String
    let idNumber: UInt64
    public var milliseconds: Double { Double(roundTripNanoseconds) / 1e6 }
}

/// A pre-encoded request body: everything but the id, so repeated calls only append the id.
public struct RPCRequestTemplate: Sendable {
    public let method: String
    let prefix: [UInt8]     // {"jsonrpc":"2.0","method":"M","params":P,"id":

    public init(method: String, params: JSONValue) {
        self.method = method
        var out: [UInt8] = []
        out.append(contentsOf: #"{"jsonrpc":"2.0","method":"#.utf8)
        JSONWriter.writeString(method, into: &out)
        out.append(contentsOf: #","params":"#.utf8)
        JSONWriter.write(params, into: &out)
        out.append(contentsOf: #","id":"#.utf8)
        prefix = out
    }

    /// The wire body for correlation id `id` (ids need no JSON escaping: letters, digits, '-').
    func body(id: String) -> [UInt8] {
        var b = prefix
        b.reserveCapacity(prefix.count + id.utf8.count + 3)
        b.append(UInt8(ascii: "\""))
        b.append(contentsOf: id.utf8)
        b.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "}")])
        return b
    }
}

public final class RPCClient: @unchecked Sendable {
    public let client: StompClient
    /// Where replies come: the session's reply destination.
    public let replyTo: String
    /// The subscription id of the reply destination (on RabbitMQ temp queues: the destination).
    public let replySubscriptionID: String
    public var eventLoop: EventLoop { client.eventLoop }

    // Event-loop state
    private(set) var ids: CorrelationIDGenerator
    /// Calls waiting for a reply, by the counter of their correlation id (an integer key hashes for a fraction of
    /// what the id string costs).
    private var pending: [UInt64: Pending] = [:]
    private var token: InterceptorToken?
    private var linkLostToken: InterceptorToken?
    private var writer: RPCWriter!
    private var isClosed = false
    private let counters = NIOLockedValueBox(Counters())

    /// One timer for all calls' timeouts, at the earliest deadline (a scheduled task per call cost more than
    /// the rest of the call's bookkeeping).
    private var sweep: Scheduled<Void>?
    private var sweepAt: UInt64?

    struct Pending {
        var start: UInt64
        /// Uptime nanoseconds when the call times out.
        var deadline: UInt64
        var seconds: Double
        var method: String
        var completion: (Result<RPCCallResult, RPCCallError>) -> Void
    }
    public struct Counters: Sendable, Equatable {
        public var sent = 0
        public var replies = 0
        public var timeouts = 0
        /// Replies whose call had timed out (or was unknown): dropped.
        public var late = 0
    }
    public var counterSnapshot: Counters { counters.withLockedValue { $0 } }
    public var lateReplies: Int { counters.withLockedValue { $0.late } }

    /// Whether this broker subscribes a temp-queue reply destination by itself (RabbitMQ) instead of
    /// requiring a SUBSCRIBE (ActiveMQ, others).
    public static func brokerAutoSubscribesTempQueues(server: String?) -> Bool {
        server?.hasPrefix("RabbitMQ") ?? false
    }

    private init(client: StompClient, replyTo: String, subscriptionID: String) {
        self.client = client
        self.replyTo = replyTo
        self.replySubscriptionID = subscriptionID
        self.ids = CorrelationIDGenerator()
    }

    /// Sets up the reply destination once for the session: `/temp-queue/stompsh-<random>` unless `replyTo` is given.
    /// It is subscribed (receipt awaited); for temp queues on RabbitMQ, which subscribes the caller itself,
    /// StompClient sends no SUBSCRIBE and tracks the subscription under the destination's name.
    public static func start(on client: StompClient, replyTo: String? = nil) -> EventLoopFuture<RPCClient> {
        let token = CorrelationIDGenerator.randomToken(10)
        let dest = replyTo ?? "/temp-queue/stompsh-\(token)"
        let loop = client.eventLoop
        var h = StompHeaders()
        if client.connectedInfo.server?.hasPrefix("ActiveMQ") ?? false { h["activemq.dispatchAsync"] = "false" }
        return client.subscribe(destination: dest, id: "stompsh-rpc-replies-\(token)", ack: .auto, headers: h, receipt: true)
            .hop(to: loop)
            .map { info in
                let rpc = RPCClient(client: client, replyTo: dest, subscriptionID: info.id)
                rpc.writer = RPCWriter(client: client)
                rpc.writer.onNotConnected = { [weak rpc] in rpc?.notConnected() }
                rpc.token = client.addInterceptor { [weak rpc] frame in rpc?.intercept(frame) ?? false }
                // a link lost (whichever way, reconnect or not): its calls in flight fail now, naming the cause,
                // instead of timing out (their replies went with the link)
                rpc.linkLostToken = client.addLinkLostObserver { [weak rpc] reason in rpc?.linkLost(reason) }
                // the connection ended for good (also the user's own close): calls fail now, the client is closed
                client.closeFuture.whenComplete { [weak rpc] _ in loop.execute { rpc?.failAll(.closed) } }
                return rpc
            }
    }

    /// Removes the interceptor and unsubscribes, the broker's RECEIPT awaited (so a subscription made next to the
    /// same reply destination, on any connection, is the only one); pending calls fail with `.closed`.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [self] in
            guard !isClosed else { return eventLoop.makeSucceededVoidFuture() }
            isClosed = true
            if let t = token { client.removeInterceptor(t) }
            if let t = linkLostToken { client.removeLinkLostObserver(t); linkLostToken = nil }
            writer.close()
            let p = pending
            pending.removeAll()
            cancelSweep()
            for (_, c) in p { c.completion(.failure(.closed)) }
            return client.unsubscribe(id: replySubscriptionID, receipt: true).recover { _ in }
        }
    }

    /// One call. Thread-safe; the future completes on the event loop.
    public func call(destination: String, method: String, params: JSONValue, headers: StompHeaders = [:],
                     timeout: TimeAmount) -> EventLoopFuture<RPCCallResult> {
        let promise = eventLoop.makePromise(of: RPCCallResult.self)
        let prepared = RPCPreparedCall(destination: destination, template: RPCRequestTemplate(method: method, params: params),
                                       headers: headers)
        let work = { [self] in
            issue(prepared, timeout: timeout) { r in
                switch r {
                case .success(let v): promise.succeed(v)
                case .failure(let e): promise.fail(e)
                }
            }
        }
        if eventLoop.inEventLoop { work() } else { eventLoop.execute(work) }
        return promise.futureResult
    }

    /// The hot path, on the event loop only: sends one request and calls `completion` (on the event loop) with
    /// the reply, a timeout, or a send failure.
    public func issue(destination: String, template: RPCRequestTemplate, headers extra: StompHeaders = [:],
                      timeout: TimeAmount, completion: @escaping (Result<RPCCallResult, RPCCallError>) -> Void) {
        issue(RPCPreparedCall(destination: destination, template: template, headers: extra), timeout: timeout,
              completion: completion)
    }

    /// `issue` of a prepared call (made once, issued many times: its request bytes are made once per version).
    public func issue(_ call: RPCPreparedCall, timeout: TimeAmount,
                      completion: @escaping (Result<RPCCallResult, RPCCallError>) -> Void) {
        eventLoop.preconditionInEventLoop()
        guard !isClosed else { completion(.failure(.closed)); return }
        let key = ids.nextNumber()
        let seconds = Double(timeout.nanoseconds) / 1e9
        let start = NIODeadline.now().uptimeNanoseconds
        let deadline = start &+ UInt64(max(0, timeout.nanoseconds))
        pending[key] = Pending(start: start, deadline: deadline, seconds: seconds, method: call.template.method,
                               completion: completion)
        armSweep(deadline)
        counters.withLockedValue { $0.sent += 1 }
        if let bytes = call.encoded(by: writer.passEncoder, ids: ids, replyTo: replyTo) {
            writer.appendPlainSend { bytes.write(ids: ids, number: key, into: &$0) }
            return
        }
        do {
            try writer.append(call.frame(id: ids.id(key), replyTo: replyTo))
        } catch {
            if let p = pending.removeValue(forKey: key) {
                p.completion(.failure(.sendFailed("\(error)")))
            }
        }
    }

    /// The writer found no connection for this pass's requests (lost, reconnecting): every call waiting now
    /// fails (those issued before the link was lost failed then, in `linkLost`; the rest are in the dropped
    /// batch), not at its timeout.
    private func notConnected() {
        failPending { _ in .sendFailed("\(StompConnectionError.notConnected) (the connection was lost)") }
    }

    /// The link was lost: every call in flight fails now with the cause; the client stays usable (a reconnect
    /// resubscribes its reply destination).
    private func linkLost(_ reason: StompConnectionError) {
        let r = "\(reason)"
        failPending { .connectionLost(method: $0.method, reason: r) }
    }

    private func failAll(_ error: RPCCallError) {
        isClosed = true
        writer.close()
        if let t = linkLostToken { client.removeLinkLostObserver(t); linkLostToken = nil }
        failPending { _ in error }
    }

    /// Fails every call waiting, in the order they were issued (a completion may issue new calls: those wait).
    private func failPending(_ error: (Pending) -> RPCCallError) {
        guard !pending.isEmpty else { return }
        let p = pending.sorted { $0.key < $1.key }
        pending.removeAll()
        cancelSweep()
        for (_, c) in p { c.completion(.failure(error(c))) }
    }

    /// Makes sure the sweep runs at `deadline` or earlier.
    private func armSweep(_ deadline: UInt64) {
        if let at = sweepAt, at <= deadline { return }
        sweep?.cancel()
        sweepAt = deadline
        sweep = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(deadline)) { [weak self] in self?.sweepTimeouts() }
    }

    private func cancelSweep() {
        sweep?.cancel()
        sweep = nil
        sweepAt = nil
    }

    /// Fails the calls whose deadline passed (earliest first); re-arms for the earliest one left.
    private func sweepTimeouts() {
        sweep = nil
        sweepAt = nil
        let now = NIODeadline.now().uptimeNanoseconds
        var expired: [(id: UInt64, call: Pending)] = []
        var next: UInt64?
        for (id, p) in pending {
            if p.deadline <= now {
                expired.append((id, p))
            } else if next.map({ p.deadline < $0 }) ?? true {
                next = p.deadline
            }
        }
        for e in expired.sorted(by: { $0.call.deadline < $1.call.deadline }) {
            guard pending.removeValue(forKey: e.id) != nil else { continue }
            counters.withLockedValue { $0.timeouts += 1 }
            e.call.completion(.failure(.timeout(method: e.call.method, seconds: e.call.seconds)))
        }
        if let next { armSweep(next) }
    }

    /// Calls waiting for a reply.
    public var inFlight: Int {
        eventLoop.preconditionInEventLoop()
        return pending.count
    }

    /// On the event loop, for every MESSAGE: consume replies to our calls (ours by the correlation-id prefix;
    /// requests carry reply-to, replies do not).
    private func intercept(_ frame: StompFrame) -> Bool {
        guard let (owned, number) = frame.headers.withValueBytes(for: RPCHeader.correlationID, { ids.classify(bytes: $0) }),
              owned, !frame.headers.contains(static: "reply-to") else { return false }
        let now = NIODeadline.now().uptimeNanoseconds
        guard let key = number, let p = pending.removeValue(forKey: key) else {
            counters.withLockedValue { $0.late += 1 }
            return true
        }
        counters.withLockedValue { $0.replies += 1 }
        do {
            let outcome = try RPCResponse.decodeOutcome(frame.body)
            p.completion(.success(RPCCallResult(outcome: outcome, roundTripNanoseconds: now &- p.start,
                                                idPrefix: ids.prefix, idNumber: key)))
        } catch {
            p.completion(.failure(.badReply("\(error)")))
        }
        return true
    }
}
