import StompProto

/// One client connection's state.
final class BrokerConnection {
    enum State { case awaitingConnect, connected, closing }

    let id: ConnectionID
    var state = State.awaitingConnect
    var version = StompVersion.v1_0
    /// The socket takes more bytes (the I/O layer's writability).
    var writable = true
    /// Bytes of MESSAGE frames the connection may still be handed before its socket has taken the last ones
    /// (refilled to the delivery window by `BrokerEngine.drained`).
    var credit: Int
    var subscriptions: [String: Subscription] = [:]
    /// Unacknowledged deliveries by ack id ("MESSAGE-ID/SUBSCRIPTION-ID").
    var pending: [String: PendingDelivery] = [:]
    var transactions: [String: [TransactionStep]] = [:]
    /// Private queues named by `/temp-queue/NAME`.
    var tempQueues: [String: MessageQueue] = [:]

    init(id: ConnectionID, credit: Int) {
        self.id = id
        self.credit = credit
    }

    /// Messages may be handed to this connection now.
    var canTakeMessages: Bool { state == .connected && writable && credit > 0 }
}
