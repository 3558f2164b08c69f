import StompProto

/// How the sandbox broker behaves; the defaults suit a local try-out or a CI job.
public struct BrokerConfiguration: Sendable, Equatable {
    /// The CONNECTED `server` header, e.g. "stompsh-sandbox/1.0.0".
    public var serverName: String
    /// Versions the broker accepts (all three by default).
    public var versions: [StompVersion]
    /// Heart-beats faster than this (ms) are slowed down to it, in both directions.
    public var minimumHeartBeat: Int
    /// Unacknowledged messages a client/client-individual subscription may hold when its SUBSCRIBE gives no
    /// `prefetch-count` (or `activemq.prefetchSize`) header; further messages wait on the queue.
    public var defaultPrefetch: Int
    /// Prefix of every message-id (a new one per broker start keeps ids unique across runs).
    public var messageIDPrefix: String

    public init(serverName: String = "stompsh-sandbox", versions: [StompVersion] = StompVersion.allCases,
                minimumHeartBeat: Int = 100, defaultPrefetch: Int = 1000, messageIDPrefix: String = "sandbox") {
        self.serverName = serverName
        self.versions = versions
        self.minimumHeartBeat = minimumHeartBeat
        self.defaultPrefetch = defaultPrefetch
        self.messageIDPrefix = messageIDPrefix
    }
}
