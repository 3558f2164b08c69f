/// An active subscription as the session knows it.
public struct SubscriptionInfo: Sendable, Equatable {
    public var id: String
    public var destination: String
    public var ack: AckMode
    /// Extra SUBSCRIBE headers (selector, prefetch, ...), kept so a reconnect can resubscribe alike.
    public var headers: StompHeaders

    public init(id: String, destination: String, ack: AckMode, headers: StompHeaders = [:]) {
        self.id = id
        self.destination = destination
        self.ack = ack
        self.headers = headers
    }
}
