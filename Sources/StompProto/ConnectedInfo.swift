/// What the CONNECTED frame told us.
public struct ConnectedInfo: Sendable, Equatable {
    public var version: StompVersion
    public var server: String?
    public var session: String?
    public var heartBeat: NegotiatedHeartBeat
    /// All CONNECTED headers.
    public var headers: StompHeaders

    public init(version: StompVersion, server: String?, session: String?, heartBeat: NegotiatedHeartBeat, headers: StompHeaders) {
        self.version = version
        self.server = server
        self.session = session
        self.heartBeat = heartBeat
        self.headers = headers
    }
}
