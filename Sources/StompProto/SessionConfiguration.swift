/// What the session puts in CONNECT and how it judges heart-beats.
public struct SessionConfiguration: Sendable, Equatable {
    /// Versions offered in `accept-version` (default all three).
    public var versions: [StompVersion]
    /// CONNECT `host` header (virtual host); nil omits it (RabbitMQ wants "/" or none).
    public var host: String?
    public var login: String?
    public var passcode: String?
    /// What we offer (canSend) and want (wantsReceive), in ms.
    public var heartBeat: HeartBeat
    /// The peer is silent after `heartBeatGrace` × receive interval without a byte (default 2.0).
    public var heartBeatGrace: Double
    /// Added to CONNECT; a name given here replaces the session's own header of that name.
    public var extraConnectHeaders: StompHeaders
    /// Send STOMP instead of CONNECT (1.1+ servers).
    public var useStompCommand: Bool

    public init(versions: [StompVersion] = StompVersion.allCases, host: String? = nil,
                login: String? = nil, passcode: String? = nil, heartBeat: HeartBeat = .none,
                heartBeatGrace: Double = 2.0, extraConnectHeaders: StompHeaders = [:],
                useStompCommand: Bool = false) {
        self.versions = versions
        self.host = host
        self.login = login
        self.passcode = passcode
        self.heartBeat = heartBeat
        self.heartBeatGrace = heartBeatGrace
        self.extraConnectHeaders = extraConnectHeaders
        self.useStompCommand = useStompCommand
    }
}
