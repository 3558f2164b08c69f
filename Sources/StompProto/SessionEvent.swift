/// What an inbound frame or heart-beat means to the session.
public enum SessionEvent: Sendable, Equatable {
    case connected(ConnectedInfo)
    /// `subscription`: nil if unknown; `pendingAck`: non-nil when the message awaits ACK/NACK.
    case message(StompFrame, subscription: SubscriptionInfo?, pendingAck: PendingAck?)
    /// `for`: nil when we were not awaiting that receipt id.
    case receipt(id: String, for: ReceiptPurpose?)
    /// The session moved to `.failed`.
    case error(ServerError)
    case heartbeat
}
