import StompProto

/// What differs between brokers, as one value: derived from CONNECTED's `server` header
/// (`init(server:)`), or given by `ConnectionOptions.quirks`. The client reads it; nothing else in the
/// connection layer matches broker names or keywords.
public struct BrokerQuirks: Sendable, Equatable {
    /// `/temp-queue/` destinations are valid only in `reply-to`: the broker subscribes the requester by
    /// itself (the reply's `subscription` header is the destination) and answers a SUBSCRIBE with an
    /// ERROR (RabbitMQ). Then `subscribe` sends nothing for them.
    public var subscribesTempQueuesItself: Bool
    /// Words (lowercase) that, in an ERROR's message or body, say the broker is going away rather than
    /// refusing a request: a close after such an ERROR is reconnected (RabbitMQ: `connection_forced`).
    public var shutdownWords: [String]
    /// How the broker reads CONNECT's `host` header when the user named no virtual host. true: as a virtual
    /// host (RabbitMQ): send "/" and take a refusal as final; false: literally, as the specification says: send
    /// the URL's host name first; nil (not known before CONNECTED): "/" first, then the other form once.
    public var hostIsVirtualHost: Bool?

    public init(subscribesTempQueuesItself: Bool = false,
                shutdownWords: [String] = ["shutdown", "shutting down", "connection_forced"],
                hostIsVirtualHost: Bool? = nil) {
        self.subscribesTempQueuesItself = subscribesTempQueuesItself
        self.shutdownWords = shutdownWords
        self.hostIsVirtualHost = hostIsVirtualHost
    }

    /// The quirks of the broker whose CONNECTED said `server` (e.g. "RabbitMQ/3.10.8"); unknown or nil:
    /// none beyond the specification.
    public init(server: String?) {
        self.init(subscribesTempQueuesItself: server?.hasPrefix("RabbitMQ/") ?? false)
    }

    /// Whether this ERROR announces the broker going away (see `shutdownWords`).
    public func announcesShutdown(_ error: ServerError) -> Bool {
        let text = (error.message + " " + error.bodyText).lowercased()
        return shutdownWords.contains { text.contains($0) }
    }
}
