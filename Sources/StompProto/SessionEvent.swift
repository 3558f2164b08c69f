/// What an inbound frame or heart-beat means to the session. New cases may be added: switch over it with a
/// `default` when you only need some.
public enum SessionEvent: Sendable, Equatable {
    case connected(ConnectedInfo)
    /// `subscription`: nil if unknown; `pendingAck`: non-nil when the message awaits ACK/NACK.
    case message(StompFrame, subscription: SubscriptionInfo?, pendingAck: PendingAck?)
    /// `for`: nil when we were not awaiting that receipt id.
    case receipt(id: String, for: ReceiptPurpose?)
    /// A RECEIPT for a request given up on: its deadline passed and `tick` reported `.receiptTimedOut`.
    /// Not an error (the broker did answer, late) and not an unknown receipt: its caller was already told.
    case lateReceipt(id: String, for: ReceiptPurpose)
    /// An ERROR frame. In answer to CONNECT the session moved to `.failed`; after CONNECTED its state is
    /// unchanged (many brokers keep the connection open: the transport's end decides). A `receipt-id`
    /// in it is no longer awaited.
    case error(ServerError)
    case heartbeat
}
