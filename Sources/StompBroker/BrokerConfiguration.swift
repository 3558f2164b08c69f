import StompProto

/// How the sandbox broker behaves; the defaults suit a local try-out or a CI job.
public struct BrokerConfiguration: Sendable, Equatable {
    /// The CONNECTED `server` header, e.g. "stompsh-sandbox/1.0.0".
    public var serverName: String
    /// Versions the broker accepts (all three by default).
    public var versions: [StompVersion]
    /// Unacknowledged messages a client/client-individual subscription may hold when its SUBSCRIBE gives no
    /// `prefetch-count` (or `activemq.prefetchSize`) header; further messages wait on the queue.
    public var defaultPrefetch: Int
    /// Prefix of every message-id (a new one per broker start keeps ids unique across runs).
    public var messageIDPrefix: String
    /// Bytes of MESSAGE frames a connection is handed beyond what its socket has taken (the I/O layer
    /// reports that with `BrokerEngine.drained`); the rest waits on the queue.
    public var deliveryWindow: Int
    /// Approximate bytes of messages the broker may hold (queued, unacknowledged, in open transactions,
    /// waiting for a slow topic subscriber); a SEND past it is refused with an ERROR (flow control).
    public var maxMemory: Int
    /// Milliseconds a new connection has to send CONNECT (or STOMP) before it is closed (ActiveMQ: 30 s).
    public var connectTimeout: Int

    /// `maxMemory` by default: 512 MiB.
    public static let defaultMaxMemory = 512 << 20

    public init(serverName: String = "stompsh-sandbox", versions: [StompVersion] = StompVersion.allCases,
                defaultPrefetch: Int = 1000, messageIDPrefix: String = "sandbox", deliveryWindow: Int = 64 << 10,
                maxMemory: Int = defaultMaxMemory, connectTimeout: Int = 30_000) {
        self.serverName = serverName
        self.versions = versions
        self.defaultPrefetch = defaultPrefetch
        self.messageIDPrefix = messageIDPrefix
        self.deliveryWindow = deliveryWindow
        self.maxMemory = maxMemory
        self.connectTimeout = connectTimeout
    }
}
