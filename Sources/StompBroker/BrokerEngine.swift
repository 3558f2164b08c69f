import StompProto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sandbox broker's state and rules, free of I/O: it takes decoded frames per connection and answers
/// with `BrokerAction`s (frames to write, connections to close). Everything lives in memory.
///
/// Not thread-safe: call it from one thread (the server uses one event loop).
public final class BrokerEngine {
    public let configuration: BrokerConfiguration
    /// Wall-clock time in milliseconds since 1970 (MESSAGE `timestamp`, `expires`); injected so tests fix it.
    private let clock: () -> Int64
    private var connections: [ConnectionID: BrokerConnection] = [:]
    private var queues: [String: MessageQueue] = [:]
    private var topics: [String: Topic] = [:]
    private var lastConnection: UInt64 = 0
    private var lastMessage: UInt64 = 0
    /// Approximate bytes of the messages held (see `StoredMessage.size`).
    public private(set) var heldBytes = 0

    public init(configuration: BrokerConfiguration = BrokerConfiguration(), clock: @escaping () -> Int64 = BrokerEngine.wallClock) {
        self.configuration = configuration
        self.clock = clock
    }

    /// Milliseconds since 1970 from the system clock.
    public static func wallClock() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    private func retain(_ m: StoredMessage, times: Int = 1) { heldBytes += m.size * times }
    private func release(_ m: StoredMessage) { heldBytes -= m.size }

    // MARK: introspection (tests, logs)

    /// Connections open (CONNECT received or not).
    public var connectionCount: Int { connections.count }
    /// Messages waiting on `/queue/NAME` (not counting delivered, unacknowledged ones); nil if it does not exist.
    public func queueDepth(_ name: String) -> Int? { queues[name]?.messages.count }
    /// Names of the queues that exist (hold messages or have subscribers).
    public var queueNames: [String] { queues.keys.sorted() }
    /// Unacknowledged deliveries of a connection.
    public func pendingCount(_ id: ConnectionID) -> Int { connections[id]?.pending.count ?? 0 }

    // MARK: connection lifecycle

    /// A new connection (socket accepted). It must send CONNECT (or STOMP) first.
    public func open() -> ConnectionID {
        lastConnection += 1
        let id = ConnectionID(lastConnection)
        connections[id] = BrokerConnection(id: id, credit: configuration.deliveryWindow)
        return id
    }

    /// The connection is gone (socket closed): its subscriptions end, unacknowledged queue messages go back
    /// to their queues (marked redelivered), open transactions are discarded, its temporary queues vanish.
    public func closed(_ id: ConnectionID, into actions: inout [BrokerAction]) {
        guard let conn = connections.removeValue(forKey: id) else { return }
        conn.state = .closing
        conn.writable = false
        for sub in conn.subscriptions.values.sorted(by: { $0.id < $1.id }) { end(sub, into: &actions) }
        conn.subscriptions.removeAll()
        for steps in conn.transactions.values { discard(steps) }
        conn.transactions.removeAll()
        for q in conn.tempQueues.values {
            while let m = q.messages.popFirst() { release(m) }
        }
        conn.tempQueues.removeAll()
    }

    /// The connection's socket can (or cannot) take more bytes now. Nothing is handed to an unwritable
    /// connection: queues skip its subscriptions, so a slow consumer leaves messages to others or on the
    /// queue instead of filling memory. Writable again, it gets a fresh delivery window.
    public func setWritable(_ writable: Bool, for id: ConnectionID, into actions: inout [BrokerAction]) {
        guard let conn = connections[id], conn.writable != writable else { return }
        conn.writable = writable
        if writable { refill(conn, into: &actions) }
    }

    /// The connection's socket has taken everything written so far: it gets a fresh delivery window
    /// (`BrokerConfiguration.deliveryWindow` bytes) and its subscriptions are served again.
    public func drained(_ id: ConnectionID, into actions: inout [BrokerAction]) {
        guard let conn = connections[id], conn.writable, conn.credit < configuration.deliveryWindow else { return }
        refill(conn, into: &actions)
    }

    private func refill(_ conn: BrokerConnection, into actions: inout [BrokerAction]) {
        conn.credit = configuration.deliveryWindow
        guard conn.state == .connected else { return }
        for sub in conn.subscriptions.values.sorted(by: { $0.id < $1.id }) {
            guard conn.canTakeMessages else { return }
            serve(sub, into: &actions)
        }
    }

    /// Hands `sub` what waits for it: its queue's messages (round robin with the queue's other
    /// subscribers) or its topic backlog.
    private func serve(_ sub: Subscription, into actions: inout [BrokerAction]) {
        switch sub.target {
        case .queue(let q): dispatch(q, into: &actions)
        case .topic: drainBacklog(sub, into: &actions)
        }
    }

    /// A violation found before a frame was complete (bad bytes, a limit exceeded): ERROR, then close.
    public func reject(_ id: ConnectionID, _ error: BrokerProtocolError, into actions: inout [BrokerAction]) {
        guard let conn = connections[id], conn.state != .closing else { return }
        fail(conn, error, receipt: nil, close: true, into: &actions)
    }

    // MARK: frames

    /// One frame from a client. A refused frame gets an ERROR; the connection stays open (as with ActiveMQ)
    /// unless the frame was a refused CONNECT or was malformed (an empty header name).
    public func receive(_ frame: StompFrame, from id: ConnectionID, into actions: inout [BrokerAction]) {
        guard let conn = connections[id], conn.state != .closing else { return }
        // CONNECT has no receipt; a CONNECT on a connected session is an error that names it (as ActiveMQ)
        let isConnect = frame.command == .connect || frame.command == .stomp
        let receipt = isConnect && conn.state == .awaitingConnect ? nil : frame.headers["receipt"]
        do {
            if frame.headers.contains("") {
                throw BrokerProtocolError("malformed frame", detail: "\(frame.command.rawValue): a header line with an empty name",
                                          closesConnection: true)
            }
            try handle(frame, conn, into: &actions)
            if let receipt, conn.state != .closing || frame.command == .disconnect {
                actions.append(.frame(StompFrame(.receipt, headers: ["receipt-id": receipt]), to: id))
            }
            if frame.command == .disconnect {
                closeQuietly(conn, into: &actions)
            }
        } catch let error as BrokerProtocolError {
            fail(conn, error, receipt: receipt, close: error.closesConnection, into: &actions)
        } catch {
            fail(conn, BrokerProtocolError("internal error", detail: "\(error)"), receipt: receipt, close: true, into: &actions)
        }
    }

    private func handle(_ frame: StompFrame, _ conn: BrokerConnection, into actions: inout [BrokerAction]) throws {
        if conn.state == .awaitingConnect {
            guard frame.command == .connect || frame.command == .stomp else {
                throw BrokerProtocolError("not connected", detail: "the first frame must be CONNECT or STOMP, got \(frame.command.rawValue)")
            }
            return try connect(frame, conn, into: &actions)
        }
        switch frame.command {
        case .connect, .stomp:
            throw BrokerProtocolError("already connected", detail: "\(frame.command.rawValue) on a connected session")
        case .send: try send(frame, conn, into: &actions)
        case .subscribe: try subscribe(frame, conn, into: &actions)
        case .unsubscribe: try unsubscribe(frame, conn, into: &actions)
        case .ack: try acknowledge(frame, conn, nack: false, into: &actions)
        case .nack:
            if conn.version == .v1_0 { throw BrokerProtocolError("NACK is not part of STOMP 1.0") }
            try acknowledge(frame, conn, nack: true, into: &actions)
        case .begin:
            let tx = try required("transaction", frame)
            if conn.transactions[tx] != nil { throw BrokerProtocolError("transaction already begun", detail: "BEGIN \(tx): it is open") }
            conn.transactions[tx] = []
        case .commit:
            let tx = try required("transaction", frame)
            guard let steps = conn.transactions.removeValue(forKey: tx) else { throw unknownTransaction(tx, frame) }
            for step in steps { apply(step, conn, into: &actions) }
        case .abort:
            let tx = try required("transaction", frame)
            guard let steps = conn.transactions.removeValue(forKey: tx) else { throw unknownTransaction(tx, frame) }
            discard(steps)
        case .disconnect:
            break
        case .connected, .message, .receipt, .error:
            throw BrokerProtocolError("unexpected frame", detail: "\(frame.command.rawValue) is sent by brokers, not clients")
        }
    }

    /// A refused CONNECT closes the connection.
    private func connect(_ frame: StompFrame, _ conn: BrokerConnection, into actions: inout [BrokerAction]) throws {
        let supported = configuration.versions
        guard let version = VersionNegotiation.serverChoice(acceptVersionHeader: frame.headers["accept-version"], supported: supported) else {
            let list = supported.map(\.rawValue).joined(separator: ",")
            throw BrokerProtocolError("unsupported STOMP version",
                                      detail: "accept-version:\(frame.headers["accept-version"] ?? "") names none of \(list)",
                                      headers: ["version": list], closesConnection: true)
        }
        var client = HeartBeat.none
        if version != .v1_0, let text = frame.headers["heart-beat"] {
            guard let hb = HeartBeat(header: text) else {
                throw BrokerProtocolError("malformed heart-beat header", detail: "heart-beat:\(text): expected CX,CY in milliseconds",
                                          closesConnection: true)
            }
            client = hb
        }
        // The broker sends and receives as often as the client likes (as ActiveMQ; no lower bound).
        // STOMP 1.0 has no heart-beats: CONNECTED says heart-beat:0,0 (as ActiveMQ's does).
        let offer = HeartBeat(client.wantsReceive, client.canSend)
        let negotiated = version == .v1_0 ? NegotiatedHeartBeat.none : NegotiatedHeartBeat.negotiate(client: offer, server: client)
        conn.state = .connected
        conn.version = version
        var h = StompHeaders()
        h.append("version", version.rawValue)
        h.append("server", configuration.serverName)
        h.append("session", "\(configuration.messageIDPrefix)-session-\(conn.id)")
        h.append("heart-beat", version == .v1_0 ? HeartBeat.none.headerValue : offer.headerValue)
        actions.append(.frame(StompFrame(.connected, headers: h), to: conn.id))
        actions.append(.established(conn.id, version: version, heartBeat: negotiated, login: frame.headers["login"]))
    }

    // MARK: SEND

    /// Headers the broker sets itself (or that describe the SEND, not the message).
    private static let notCopied: Set<String> = ["destination", "transaction", "receipt", "content-length",
                                                 "message-id", "subscription", "ack", "redelivered",
                                                 "expires", "priority", "timestamp"]

    private func send(_ frame: StompFrame, _ conn: BrokerConnection, into actions: inout [BrokerAction]) throws {
        let destinationText = try required("destination", frame)
        let destination = try BrokerDestination.parse(destinationText, connection: conn.id)
        if case .tempQueue(let owner, _) = destination, owner != conn.id, connections[owner]?.state != .connected {
            throw BrokerProtocolError("destination does not exist",
                                      detail: "'\(destinationText)': the connection that owned this temporary queue has ended")
        }
        let tx = frame.headers["transaction"]
        if let tx, conn.transactions[tx] == nil { throw unknownTransaction(tx, frame) }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(frame.headers.count)
        // A repeated header: the first one counts (STOMP 1.2 §"Repeated Header Entries"; ActiveMQ keeps only it).
        // Frames have few headers: a linear look-back is cheaper than a set, up to a point.
        var seen: Set<String>? = frame.headers.count > 32 ? [] : nil
        for (name, value) in frame.headers where !Self.notCopied.contains(name) {
            if seen != nil {
                guard seen!.insert(name).inserted else { continue }
            } else if headers.contains(where: { $0.name == name }) {
                continue
            }
            headers.append((name, name == "reply-to" ? BrokerDestination.rewriteReplyTo(value, connection: conn.id) : value))
        }
        var message = StoredMessage(id: "\(configuration.messageIDPrefix)-\(lastMessage + 1)", headers: headers, body: frame.body)
        message.expires = frame.headers["expires"].flatMap { Int64($0) } ?? 0
        if let priority = frame.headers["priority"] { message.priority = priority }
        message.timestamp = clock()
        message.measure()
        let size = message.size
        if heldBytes + size > configuration.maxMemory {
            throw BrokerProtocolError("memory limit reached",
                                      detail: "the broker holds \(heldBytes) bytes of messages and may hold \(configuration.maxMemory) "
                                        + "(stompsh broker --max-memory): consume some and send again")
        }
        lastMessage += 1
        retain(message)
        if let tx {
            conn.transactions[tx]!.append(.send(destination, message))
        } else {
            publish(message, to: destination, into: &actions)
        }
    }

    /// Routes a message the engine holds (counted once in `heldBytes`) to its destination.
    private func publish(_ message: StoredMessage, to destination: BrokerDestination, into actions: inout [BrokerAction]) {
        switch destination {
        case .queue(let name):
            let q = queue(name)
            q.messages.append(message)
            dispatch(q, into: &actions)
        case .topic(let name):
            guard let t = topics[name], !t.subscribers.isEmpty else { return release(message) }
            retain(message, times: t.subscribers.count - 1)
            for sub in t.subscribers {
                if sub.backlog.isEmpty && sub.isReady {
                    deliver(message, to: sub, into: &actions)
                } else {
                    sub.backlog.append(message)
                }
            }
        case .tempQueue(let owner, let name):
            // The owner gone (between a transaction's SEND and its COMMIT), its temporary queues are gone.
            guard let conn = connections[owner], conn.state == .connected else { return release(message) }
            if let q = conn.tempQueues[name], !q.consumers.isEmpty {
                q.messages.append(message)
                dispatch(q, into: &actions)
            } else {
                deliverUnsubscribed(message, tempQueue: name, to: conn, into: &actions)
            }
        }
    }

    private func queue(_ name: String) -> MessageQueue {
        if let q = queues[name] { return q }
        let q = MessageQueue(destination: BrokerDestination.queuePrefix + name, name: name)
        queues[name] = q
        return q
    }

    /// Hands waiting messages to ready subscribers, round robin; expired ones are dropped.
    private func dispatch(_ q: MessageQueue, into actions: inout [BrokerAction]) {
        var now: Int64?
        while !q.messages.isEmpty, let sub = q.nextReadyConsumer() {
            let message = q.messages.popFirst()!
            if message.expires > 0 {
                if now == nil { now = clock() }
                if message.isExpired(at: now!) { release(message); continue }
            }
            deliver(message, to: sub, into: &actions)
        }
    }

    /// Hands a topic subscriber the messages it could not take when they were published.
    private func drainBacklog(_ sub: Subscription, into actions: inout [BrokerAction]) {
        let now = clock()
        while sub.isReady, let message = sub.backlog.popFirst() {
            if message.isExpired(at: now) { release(message); continue }
            deliver(message, to: sub, into: &actions)
        }
    }

    /// Writes a MESSAGE; the message leaves the engine (auto) or waits for its ACK.
    private func deliver(_ message: StoredMessage, to sub: Subscription, into actions: inout [BrokerAction]) {
        var h = StompHeaders()
        h.append("destination", sub.destination)
        h.append("message-id", message.id)
        h.append("subscription", sub.id)
        if sub.ack != .auto {
            let ackID = message.id + "/" + sub.id
            h.append("ack", ackID)
            sub.connection.pending[ackID] = PendingDelivery(message: message, subscription: sub)
            sub.unackedOrder.append(ackID)
            sub.unackedCount += 1
        } else {
            release(message)
        }
        appendCommonHeaders(message, to: &h)
        sub.connection.credit -= message.size
        actions.append(.frame(StompFrame(.message, headers: h, body: message.body), to: sub.connection.id))
    }

    /// The headers every MESSAGE carries after destination, message-id, subscription (and ack).
    private func appendCommonHeaders(_ message: StoredMessage, to h: inout StompHeaders) {
        if message.redelivered { h.append("redelivered", "true") }
        if !message.body.isEmpty { h.append("content-length", String(message.body.count)) }
        h.append("expires", String(message.expires))
        h.append("priority", message.priority)
        h.append("timestamp", String(message.timestamp))
        for (name, value) in message.headers { h.append(name, value) }
    }

    /// A message for a temporary queue its owner did not subscribe to: delivered anyway (as RabbitMQ does),
    /// with the destination as the subscription id, no ACK expected.
    private func deliverUnsubscribed(_ message: StoredMessage, tempQueue name: String, to conn: BrokerConnection,
                                     into actions: inout [BrokerAction]) {
        let destination = BrokerDestination.tempQueuePrefix + name
        var h = StompHeaders()
        h.append("destination", destination)
        h.append("message-id", message.id)
        h.append("subscription", destination)
        appendCommonHeaders(message, to: &h)
        release(message)
        conn.credit -= message.size
        actions.append(.frame(StompFrame(.message, headers: h, body: message.body), to: conn.id))
    }

    // MARK: SUBSCRIBE / UNSUBSCRIBE

    private func subscribe(_ frame: StompFrame, _ conn: BrokerConnection, into actions: inout [BrokerAction]) throws {
        let destinationText = try required("destination", frame)
        let destination = try BrokerDestination.parse(destinationText, connection: conn.id)
        let id: String
        if let given = frame.headers["id"] {
            id = given
        } else if conn.version == .v1_0 {
            id = destinationText
        } else {
            throw BrokerProtocolError("missing header 'id'", detail: "SUBSCRIBE needs an id in STOMP \(conn.version.rawValue)")
        }
        if conn.subscriptions[id] != nil {
            throw BrokerProtocolError("duplicate subscription id", detail: "subscription '\(id)' exists on this connection")
        }
        let ackText = frame.headers["ack"] ?? "auto"
        guard let ack = AckMode(rawValue: ackText) else {
            throw BrokerProtocolError("invalid ack mode", detail: "ack:\(ackText): expected auto, client or client-individual")
        }
        var prefetch = configuration.defaultPrefetch
        if let text = frame.headers["prefetch-count"] ?? frame.headers["activemq.prefetchSize"] {
            guard let n = Int(text), n >= 1 else {
                throw BrokerProtocolError("invalid prefetch", detail: "'\(text)': expected a whole number of at least 1")
            }
            prefetch = n
        }
        switch destination {
        case .queue(let name):
            let q = queue(name)
            let sub = Subscription(id: id, connection: conn, target: .queue(q), ack: ack, prefetch: prefetch)
            conn.subscriptions[id] = sub
            q.consumers.append(sub)
            dispatch(q, into: &actions)
        case .topic(let name):
            let t = topics[name] ?? Topic(destination: destinationText)
            topics[name] = t
            let sub = Subscription(id: id, connection: conn, target: .topic(t), ack: ack, prefetch: prefetch)
            conn.subscriptions[id] = sub
            t.subscribers.append(sub)
        case .tempQueue(let owner, let name):
            guard owner == conn.id else {
                throw BrokerProtocolError("not your temporary queue", detail: "'\(destinationText)' belongs to another connection; subscribe to /temp-queue/NAME")
            }
            let q = conn.tempQueues[name] ?? MessageQueue(destination: BrokerDestination.tempQueuePrefix + name, name: nil)
            conn.tempQueues[name] = q
            let sub = Subscription(id: id, connection: conn, target: .queue(q), ack: ack, prefetch: prefetch)
            conn.subscriptions[id] = sub
            q.consumers.append(sub)
            dispatch(q, into: &actions)
        }
    }

    private func unsubscribe(_ frame: StompFrame, _ conn: BrokerConnection, into actions: inout [BrokerAction]) throws {
        let id: String
        if let given = frame.headers["id"] {
            id = given
        } else if conn.version == .v1_0, let d = frame.headers["destination"] {
            id = d
        } else {
            throw BrokerProtocolError("missing header 'id'", detail: "UNSUBSCRIBE needs the subscription's id")
        }
        guard let sub = conn.subscriptions.removeValue(forKey: id) else {
            throw BrokerProtocolError("unknown subscription", detail: "UNSUBSCRIBE \(id): no such subscription on this connection")
        }
        end(sub, into: &actions)
    }

    /// Ends a subscription: queue messages it had not acknowledged go back to the front of the queue, in
    /// order, marked redelivered (topic ones are dropped); empty queues nobody uses are forgotten.
    private func end(_ sub: Subscription, into actions: inout [BrokerAction]) {
        let conn = sub.connection
        var unacked: [StoredMessage] = []
        while let ackID = sub.unackedOrder.popFirst() {
            if var p = conn.pending.removeValue(forKey: ackID) {
                p.message.redelivered = true
                unacked.append(p.message)
            }
        }
        sub.unackedCount = 0
        switch sub.target {
        case .queue(let q):
            q.remove(sub)
            q.messages.prepend(contentsOf: unacked)
            if q.name == nil {
                // a temporary queue left without subscribers: what it holds goes to its owner directly
                if q.consumers.isEmpty, conn.state == .connected {
                    let name = String(q.destination.dropFirst(BrokerDestination.tempQueuePrefix.count))
                    while let m = q.messages.popFirst() { deliverUnsubscribed(m, tempQueue: name, to: conn, into: &actions) }
                } else {
                    dispatch(q, into: &actions)
                }
            } else {
                dispatch(q, into: &actions)
                if q.isIdle, let name = q.name, queues[name] === q { queues.removeValue(forKey: name) }
            }
        case .topic(let t):
            for m in unacked { release(m) }
            while let m = sub.backlog.popFirst() { release(m) }
            t.remove(sub)
            if t.subscribers.isEmpty {
                let name = String(t.destination.dropFirst(BrokerDestination.topicPrefix.count))
                if topics[name] === t { topics.removeValue(forKey: name) }
            }
        }
    }

    // MARK: ACK / NACK

    private func acknowledge(_ frame: StompFrame, _ conn: BrokerConnection, nack: Bool, into actions: inout [BrokerAction]) throws {
        let ackID = try findAckID(frame, conn)
        if let tx = frame.headers["transaction"] {
            guard conn.transactions[tx] != nil else { throw unknownTransaction(tx, frame) }
            conn.transactions[tx]!.append(nack ? .nack(ackID: ackID) : .ack(ackID: ackID))
        } else {
            settle(ackID, conn, into: &actions)
        }
    }

    /// The ack id a frame names: `id` (1.2), `message-id` + `subscription` (1.1), `message-id` (1.0).
    private func findAckID(_ frame: StompFrame, _ conn: BrokerConnection) throws -> String {
        let command = frame.command.rawValue
        if let id = frame.headers["id"] {
            guard conn.pending[id] != nil else {
                throw BrokerProtocolError("unknown ack id", detail: "\(command) id:\(id): no message awaits an ACK under this id")
            }
            return id
        }
        guard let messageID = frame.headers["message-id"] else {
            throw BrokerProtocolError("missing header 'id'", detail: "\(command) needs id (1.2) or message-id (1.0, 1.1)")
        }
        if let subID = frame.headers["subscription"] {
            let ackID = messageID + "/" + subID
            if conn.pending[ackID] != nil { return ackID }
        } else {
            for sub in conn.subscriptions.values where conn.pending[messageID + "/" + sub.id] != nil {
                return messageID + "/" + sub.id
            }
        }
        throw BrokerProtocolError("unknown message-id", detail: "\(command) message-id:\(messageID): no such message awaits an ACK")
    }

    /// ACK (or NACK: the message is discarded): in `client` mode every earlier message of the subscription too.
    private func settle(_ ackID: String, _ conn: BrokerConnection, into actions: inout [BrokerAction]) {
        guard let p = conn.pending[ackID] else { return }   // settled meanwhile (a transaction's step)
        let sub = p.subscription
        if sub.ack == .client {
            while let id = sub.unackedOrder.popFirst() {
                if let settled = conn.pending.removeValue(forKey: id) {
                    sub.unackedCount -= 1
                    release(settled.message)
                }
                if id == ackID { break }
            }
        } else {
            conn.pending.removeValue(forKey: ackID)
            sub.unackedCount -= 1
            release(p.message)
            // drop settled ids from the front; compact when stale ones pile up behind an old one
            while let first = sub.unackedOrder.first, conn.pending[first] == nil { _ = sub.unackedOrder.popFirst() }
            if sub.unackedOrder.count > 2 * sub.unackedCount + 64 {
                sub.unackedOrder.retain { conn.pending[$0] != nil }
            }
        }
        if conn.subscriptions[sub.id] === sub { serve(sub, into: &actions) }
    }

    /// Lets go of what a discarded transaction would have sent.
    private func discard(_ steps: [TransactionStep]) {
        for case .send(_, let message) in steps { release(message) }
    }

    private func apply(_ step: TransactionStep, _ conn: BrokerConnection, into actions: inout [BrokerAction]) {
        switch step {
        case .send(let destination, let message): publish(message, to: destination, into: &actions)
        case .ack(let ackID), .nack(let ackID): settle(ackID, conn, into: &actions)
        }
    }

    // MARK: errors

    private func required(_ name: String, _ frame: StompFrame) throws -> String {
        guard let value = frame.headers[name] else {
            throw BrokerProtocolError("missing header '\(name)'", detail: "\(frame.command.rawValue) needs a \(name) header")
        }
        return value
    }

    private func unknownTransaction(_ tx: String, _ frame: StompFrame) -> BrokerProtocolError {
        BrokerProtocolError("unknown transaction", detail: "\(frame.command.rawValue): transaction '\(tx)' was not begun (or has ended)")
    }

    private func fail(_ conn: BrokerConnection, _ error: BrokerProtocolError, receipt: String?, close: Bool,
                      into actions: inout [BrokerAction]) {
        actions.append(.frame(error.frame(receipt: receipt), to: conn.id))
        guard close else { return }
        conn.state = .closing
        conn.writable = false
        actions.append(.close(conn.id, reason: error.message))
    }

    private func closeQuietly(_ conn: BrokerConnection, into actions: inout [BrokerAction]) {
        conn.state = .closing
        conn.writable = false
        actions.append(.close(conn.id, reason: nil))
    }
}
