/// A delivered message awaiting ACK or NACK.
struct PendingDelivery {
    var message: StoredMessage
    var subscription: Subscription
}
