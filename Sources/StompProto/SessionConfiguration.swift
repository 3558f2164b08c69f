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
    /// Silence rule, with r the negotiated receive interval: the peer is silent after
    /// `heartBeatGrace` × r + max(`heartBeatMinimumSlack`, r / 2) without a byte; until its first byte
    /// after CONNECTED, one more r (ActiveMQ's first heart-beat comes only at 2 × r). Default grace 2.0.
    public var heartBeatGrace: Double
    /// Milliseconds of slack added to grace × r (at least r / 2). Default 0.
    public var heartBeatMinimumSlack: Int
    /// We send a heart-beat after this fraction of the negotiated send interval without writing
    /// (clamped to 0.1...1; default 1.0, the specification's interval).
    public var heartBeatSendRatio: Double
    /// Added to CONNECT; a name given here replaces the session's own header of that name.
    public var extraConnectHeaders: StompHeaders
    /// Send STOMP instead of CONNECT (1.1+ servers).
    public var useStompCommand: Bool

    public init(versions: [StompVersion] = StompVersion.allCases, host: String? = nil,
                login: String? = nil, passcode: String? = nil, heartBeat: HeartBeat = .none,
                heartBeatGrace: Double = 2.0, extraConnectHeaders: StompHeaders = [:],
                useStompCommand: Bool = false, heartBeatMinimumSlack: Int = 0, heartBeatSendRatio: Double = 1.0) {
        self.versions = versions
        self.host = host
        self.login = login
        self.passcode = passcode
        self.heartBeat = heartBeat
        self.heartBeatGrace = heartBeatGrace
        self.heartBeatMinimumSlack = heartBeatMinimumSlack
        self.heartBeatSendRatio = heartBeatSendRatio
        self.extraConnectHeaders = extraConnectHeaders
        self.useStompCommand = useStompCommand
    }
}
