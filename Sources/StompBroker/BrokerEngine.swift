import StompProto

/// The sandbox broker's state and rules, free of I/O: it takes decoded frames per connection and answers
/// with `BrokerAction`s (frames to write, connections to close). Everything lives in memory.
///
/// Not thread-safe: call it from one thread (the server uses one event loop).
public final class BrokerEngine {
    public let configuration: BrokerConfiguration
    private var connections: [ConnectionID: BrokerConnection] = [:]
    private var queues: [String: MessageQueue] = [:]
    private var topics: [String: Topic] = [:]
    private var lastConnection: UInt64 = 0
    private var lastMessage: UInt64 = 0

    public init(configuration: BrokerConfiguration = BrokerConfiguration()) {
        self.configuration = configuration
    }

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
        connections[id] = BrokerConnection(id: id)
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
        conn.transactions.removeAll()
        conn.tempQueues.removeAll()
    }

    /// The connection's socket can (or cannot) take more bytes now. Queues skip an unwritable connection's
    /// subscriptions, so a slow consumer leaves messages to others instead of filling memory.
    public func setWritable(_ writable: Bool, for id: ConnectionID, into actions: inout [BrokerAction]) {
        guard let conn = connections[id], conn.writable != writable else { return }
        conn.writable = writable
        guard writable else { return }
        for sub in conn.subscriptions.values {
            if case .queue(let q) = sub.target { dispatch(q, into: &actions) }
        }
    }

    /// A violation found before a frame was complete (bad bytes, a limit exceeded): ERROR, then close.
    public func reject(_ id: ConnectionID, _ error: BrokerProtocolError, into actions: inout [BrokerAction]) {
        guard let conn = connections[id], conn.state != .closing else { return }
        fail(conn, error, receipt: nil, into: &actions)
    }

    // MARK: frames

    /// One frame from a client.
    public func receive(_ frame: StompFrame, from id: ConnectionID, into actions: inout [BrokerAction]) {
        guard let conn = connections[id], conn.state != .closing else { return }
        let receipt = frame.command == .connect || frame.command == .stomp ? nil : frame.headers["receipt"]
        do {
            try handle(frame, conn, into: &actions)
            if let receipt, conn.state != .closing || frame.command == .disconnect {
                actions.append(.frame(StompFrame(.receipt, headers: ["receipt-id": receipt]), to: id))
            }
            if frame.command == .disconnect {
                closeQuietly(conn, into: &actions)
            }
        } catch let error as BrokerProtocolError {
            fail(conn, error, receipt: receipt, into: &actions)
        } catch {
            fail(conn, BrokerProtocolError("internal error", detail: "\(error)"), receipt: receipt, into: &actions)
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
            guard conn.transactions.removeValue(forKey: tx) != nil else { throw unknownTransaction(tx, frame) }
        case .disconnect:
            break
        case .connected, .message, .receipt, .error:
            throw BrokerProtocolError("unexpected frame", detail: "\(frame.command.rawValue) is sent by brokers, not clients")
        }
    }

    private func connect(_ frame: StompFrame, _ conn: BrokerConnection, into actions: inout [BrokerAction]) throws {
        let supported = configuration.versions
        guard let version = VersionNegotiation.serverChoice(acceptVersionHeader: frame.headers["accept-version"], supported: supported) else {
            let list = supported.map(\.rawValue).joined(separator: ",")
            throw BrokerProtocolError("unsupported STOMP version",
                                      detail: "accept-version:\(frame.headers["accept-version"] ?? "") names none of \(list)",
                                      headers: ["version": list])
        }
        var client = HeartBeat.none
        if version != .v1_0, let text = frame.headers["heart-beat"] {
            guard let hb = HeartBeat(header: text) else {
                throw BrokerProtocolError("malformed heart-beat header", detail: "heart-beat:\(text): expected CX,CY in milliseconds")
            }
            client = hb
        }
        // The broker can send and receive as often as the client likes, within the minimum.
        let minimum = configuration.minimumHeartBeat
        let offer = HeartBeat(client.wantsReceive == 0 ? 0 : max(client.wantsReceive, minimum),
                              client.canSend == 0 ? 0 : max(client.canSend, minimum))
        let negotiated = version == .v1_0 ? NegotiatedHeartBeat.none : NegotiatedHeartBeat.negotiate(client: offer, server: client)
        conn.state = .connected
        conn.version = version
        var h = StompHeaders()
        h.append("version", version.rawValue)
        h.append("server", configuration.serverName)
        h.append("session", "\(configuration.messageIDPrefix)-session-\(conn.id)")
        if version != .v1_0 { h.append("heart-beat", offer.headerValue) }
        actions.append(.frame(StompFrame(.connected, headers: h), to: conn.id))
        actions.append(.established(conn.id, version: version, heartBeat: negotiated, login: frame.headers["login"]))
    }

    // MARK: SEND

    private static let notCopied: Set<String> = ["destination", "transaction", "receipt", "content-length",
                                                 "message-id", "subscription", "ack", "redelivered"]

    private func send(_ frame: StompFrame, _ conn: BrokerConnection, into actions: inout [BrokerAction]) throws {
        let destination = try BrokerDestination.parse(try required("destination", frame), connection: conn.id)
        lastMessage += 1
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(frame.headers.count)
        for (name, value) in frame.headers.pairs where !Self.notCopied.contains(name) {
            headers.append((name, name == "reply-to" ? BrokerDestination.rewriteReplyTo(value, connection: conn.id) : value))
        }
        let message = StoredMessage(id: "\(configuration.messageIDPrefix)-\(lastMessage)", headers: headers, body: frame.body)
        if let tx = frame.headers["transaction"] {
            guard conn.transactions[tx] != nil else { throw unknownTransaction(tx, frame) }
            conn.transactions[tx]!.append(.send(destination, message))
        } else {
            publish(message, to: destination, into: &actions)
        }
    }

    private func publish(_ message: StoredMessage, to destination: BrokerDestination, into actions: inout [BrokerAction]) {
        switch destination {
        case .queue(let name):
            let q = queue(name)
            q.messages.append(message)
            dispatch(q, into: &actions)
        case .topic(let name):
            guard let t = topics[name] else { return }
            for sub in t.subscribers { deliver(message, to: sub, into: &actions) }
        case .tempQueue(let owner, let name):
            // The owner gone, its temporary queues are gone: the message is dropped.
            guard let conn = connections[owner], conn.state == .connected else { return }
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

    /// Hands waiting messages to ready subscribers, round robin.
    private func dispatch(_ q: MessageQueue, into actions: inout [BrokerAction]) {
        while !q.messages.isEmpty, let sub = q.nextReadyConsumer() {
            deliver(q.messages.popFirst()!, to: sub, into: &actions)
        }
    }

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
        }
        if message.redelivered { h.append("redelivered", "true") }
        if !message.body.isEmpty { h.append("content-length", String(message.body.count)) }
        for (name, value) in message.headers { h.append(name, value) }
        actions.append(.frame(StompFrame(.message, headers: h, body: message.body), to: sub.connection.id))
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
        if message.redelivered { h.append("redelivered", "true") }
        if !message.body.isEmpty { h.append("content-length", String(message.body.count)) }
        for (name, value) in message.headers { h.append(name, value) }
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
                if conn.pending.removeValue(forKey: id) != nil { sub.unackedCount -= 1 }
                if id == ackID { break }
            }
        } else {
            conn.pending.removeValue(forKey: ackID)
            sub.unackedCount -= 1
            // drop settled ids from the front; compact when stale ones pile up behind an old one
            while let first = sub.unackedOrder.first, conn.pending[first] == nil { _ = sub.unackedOrder.popFirst() }
            if sub.unackedOrder.count > 2 * sub.unackedCount + 64 {
                sub.unackedOrder.retain { conn.pending[$0] != nil }
            }
        }
        if case .queue(let q) = sub.target, conn.subscriptions[sub.id] === sub { dispatch(q, into: &actions) }
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

    private func fail(_ conn: BrokerConnection, _ error: BrokerProtocolError, receipt: String?, into actions: inout [BrokerAction]) {
        actions.append(.frame(error.frame(receipt: receipt), to: conn.id))
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
