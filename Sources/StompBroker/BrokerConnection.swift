import StompProto

/// One client connection's state.
final class BrokerConnection {
    enum State { case awaitingConnect, connected, closing }

    let id: ConnectionID
    var state = State.awaitingConnect
    var version = StompVersion.v1_0
    var writable = true
    var subscriptions: [String: Subscription] = [:]
    /// Unacknowledged deliveries by ack id ("MESSAGE-ID/SUBSCRIPTION-ID").
    var pending: [String: PendingDelivery] = [:]
    var transactions: [String: [TransactionStep]] = [:]
    /// Private queues named by `/temp-queue/NAME`.
    var tempQueues: [String: MessageQueue] = [:]

    init(id: ConnectionID) { self.id = id }
}
