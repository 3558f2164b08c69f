/// A received MESSAGE that awaits ACK/NACK (client and client-individual subscriptions).
public struct PendingAck: Sendable, Equatable {
    public var subscription: String
    public var messageID: String
    /// What goes in the ACK: 1.2 the MESSAGE's `ack` header (as `id`); 1.1/1.0 its `message-id`.
    public var ackID: String

    public init(subscription: String, messageID: String, ackID: String) {
        self.subscription = subscription
        self.messageID = messageID
        self.ackID = ackID
    }
}
