import StompProto

/// One SUBSCRIBE of one connection.
final class Subscription {
    enum Target { case queue(MessageQueue), topic(Topic) }

    let id: String
    unowned let connection: BrokerConnection
    let target: Target
    let ack: AckMode
    let prefetch: Int
    /// Ack ids of unacknowledged deliveries in delivery order; settled ones are skipped (and compacted away).
    var unackedOrder = FIFO<String>()
    var unackedCount = 0

    init(id: String, connection: BrokerConnection, target: Target, ack: AckMode, prefetch: Int) {
        self.id = id
        self.connection = connection
        self.target = target
        self.ack = ack
        self.prefetch = prefetch
    }

    var destination: String {
        switch target {
        case .queue(let q): return q.destination
        case .topic(let t): return t.destination
        }
    }

    /// Can take a message from a queue now: its connection is writable and it holds fewer than `prefetch`
    /// unacknowledged messages.
    var isReady: Bool { connection.writable && (ack == .auto || unackedCount < prefetch) }
}
