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
    /// Topic messages published while this subscriber could not take them (slow socket, prefetch full),
    /// in order; counted in the broker's memory.
    var backlog = FIFO<StoredMessage>()

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

    /// Can take a message now: its connection can take more bytes and it holds fewer than `prefetch`
    /// unacknowledged messages.
    var isReady: Bool { connection.canTakeMessages && (ack == .auto || unackedCount < prefetch) }
}
