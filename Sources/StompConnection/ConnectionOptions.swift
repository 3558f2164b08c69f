import NIOCore
import StompProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS settings for `stomp+ssl://` URLs.
public struct TLSOptions: Sendable, Equatable {
    /// PEM file of trusted CA certificates; nil: the system trust store.
    public var caFile: String?
    /// PEM client certificate (chain) and its private key, for brokers that ask for one.
    public var certificateFile: String?
    public var keyFile: String?
    /// Disables certificate AND host-name verification. Anyone on the path can read and alter the traffic.
    public var insecure: Bool
    /// Name for SNI and for host-name verification; nil: the URL's host.
    public var serverName: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                insecure: Bool = false, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.insecure = insecure
        self.serverName = serverName
    }

    /// What to tell the user, loudly, when `insecure` is set.
    public static let insecureWarning =
        "WARNING: --insecure: the broker's TLS certificate and host name are NOT verified; "
        + "the connection is encrypted but anyone on the path can impersonate the broker and read or alter the traffic."
}

/// How to retry after a connection is lost (never after DISCONNECT or a refused login).
public struct ReconnectPolicy: Sendable, Equatable {
    /// Attempts after a loss; 0 disables reconnecting; nil: unlimited.
    public var maxAttempts: Int?
    /// Delay before the first attempt, then multiplied by `multiplier` up to `maxDelay`.
    public var initialDelay: TimeAmount
    public var maxDelay: TimeAmount
    public var multiplier: Double

    public init(maxAttempts: Int? = 10, initialDelay: TimeAmount = .milliseconds(100),
                maxDelay: TimeAmount = .seconds(5), multiplier: Double = 2.0) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
    }

    /// Never reconnect.
    public static let none = ReconnectPolicy(maxAttempts: 0)
    /// 10 attempts, 0.1 s doubling to 5 s (about 20 s in all).
    public static let `default` = ReconnectPolicy()

    public var enabled: Bool { maxAttempts != 0 }

    /// Delay before attempt `attempt` (1-based).
    public func delay(forAttempt attempt: Int) -> TimeAmount {
        var d = Double(initialDelay.nanoseconds)
        if attempt > 1 { d *= pow(max(multiplier, 1.0), Double(attempt - 1)) }
        let capped = min(d, Double(maxDelay.nanoseconds))
        return .nanoseconds(Int64(capped))
    }
}

public enum TraceDirection: String, Sendable, Equatable {
    case inbound = "<<<"
    case outbound = ">>>"
}

public struct ConnectionOptions: Sendable {
    /// Brokers in failover order; the first that accepts wins.
    public var urls: [StompURL]
    /// Credentials: these win over the URL's userinfo, which wins over `STOMP_LOGIN`/`STOMP_PASSCODE`.
    public var login: String?
    public var passcode: String?
    /// CONNECT `host` header: this, else the URL's vhost, else "/" (RabbitMQ treats it as the vhost).
    public var vhost: String?
    public var versions: [StompVersion]
    /// Heart-beat offer "cx,cy" in ms. Default 10000,10000.
    public var heartBeat: HeartBeat
    /// The silence rule's grace factor and minimum slack, given to the session (which owns the rule:
    /// `SessionConfiguration.heartBeatGrace`): silent after grace × r + max(slack, r / 2) without a byte,
    /// one more r before the first byte after CONNECTED. Defaults 2.0 and 1 s.
    public var heartBeatGrace: Double
    public var heartBeatMinimumSlack: TimeAmount
    /// We send a heart-beat after this fraction of the negotiated interval without writing (default 0.5):
    /// ActiveMQ allows no grace at all and closes a connection whose heart-beats come exactly on time.
    public var heartBeatSendRatio: Double
    public var tls: TLSOptions
    /// `ws://` and `wss://`: extra handshake headers, Origin, text or binary messages, message size bound.
    public var webSocket = WebSocketOptions()
    /// TCP connect + TLS handshake + CONNECTED, per URL.
    public var connectTimeout: TimeAmount
    /// How long a request with a receipt waits for its RECEIPT (`StompConnectionError.timeout`). Default 10 s.
    public var receiptTimeout: TimeAmount
    /// How long the broker may send nothing in the middle of a frame before the connection is given up
    /// (`StompConnectionError.stalledMidFrame`). Between frames, silence is judged by heart-beats.
    /// Default 5 s: shorter than the receipt timeout, so a RECEIPT stuck behind a stalled frame is
    /// reported as the stall it is.
    public var frameStallTimeout: TimeAmount
    /// How long bytes may wait to be written without the broker taking any of them (a broker that accepted
    /// the connection and stopped reading: stuck, or blocking this producer by flow control) before the
    /// connection is given up (`StompConnectionError.writeStalled`); every request waiting for its write fails
    /// with that cause. Default 10 s, the receipt timeout: a plain SEND waits no longer than a receipted one.
    /// nil: no limit (writes wait for the broker for ever: flow control that legitimately holds a producer).
    public var writeStallTimeout: TimeAmount?
    /// How long DISCONNECT waits for its RECEIPT before closing anyway.
    public var disconnectTimeout: TimeAmount
    /// An ERROR after CONNECTED does not end the connection (brokers often keep it open); a close by the
    /// broker within this time after one is reported as `.brokerError` (and not reconnected). Default 1 s.
    public var errorCloseGrace: TimeAmount = .seconds(1)
    /// What differs about the broker; nil: derived from CONNECTED's `server` header (`BrokerQuirks(server:)`).
    public var quirks: BrokerQuirks?
    public var reconnect: ReconnectPolicy
    public var limits: StompLimits
    public var contentLength: ContentLengthPolicy
    /// Emit `.trace` events with the wire bytes of every frame and heart-beat, both ways.
    public var trace: Bool
    /// Extra headers for CONNECT (e.g. client-id for ActiveMQ durable subscriptions).
    public var connectHeaders: StompHeaders
    /// Send STOMP instead of CONNECT (1.1+ brokers).
    public var useStompCommand: Bool
    /// Outbound buffer water marks: writes wait above `high` until the buffer drains below `low`.
    public var writeBufferLowWaterMark: Int
    public var writeBufferHighWaterMark: Int
    /// Read the environment for `STOMP_LOGIN`/`STOMP_PASSCODE` when no credentials are given.
    public var useEnvironmentCredentials: Bool

    public init(urls: [StompURL] = [.default],
                login: String? = nil, passcode: String? = nil, vhost: String? = nil,
                versions: [StompVersion] = [.v1_0, .v1_1, .v1_2],
                heartBeat: HeartBeat = HeartBeat(10_000, 10_000),
                heartBeatGrace: Double = 2.0,
                heartBeatMinimumSlack: TimeAmount = .seconds(1),
                heartBeatSendRatio: Double = 0.5,
                tls: TLSOptions = TLSOptions(),
                connectTimeout: TimeAmount = .seconds(10),
                receiptTimeout: TimeAmount = .seconds(10),
                frameStallTimeout: TimeAmount = .seconds(5),
                writeStallTimeout: TimeAmount? = .seconds(10),
                disconnectTimeout: TimeAmount = .seconds(2),
                reconnect: ReconnectPolicy = .default,
                limits: StompLimits = .default,
                contentLength: ContentLengthPolicy = .whenNeeded,
                trace: Bool = false,
                connectHeaders: StompHeaders = [:],
                useStompCommand: Bool = false,
                writeBufferLowWaterMark: Int = 256 * 1024,
                writeBufferHighWaterMark: Int = 1024 * 1024,
                useEnvironmentCredentials: Bool = true) {
        self.urls = urls
        self.login = login
        self.passcode = passcode
        self.vhost = vhost
        self.versions = versions
        self.heartBeat = heartBeat
        self.heartBeatGrace = heartBeatGrace
        self.heartBeatMinimumSlack = heartBeatMinimumSlack
        self.heartBeatSendRatio = heartBeatSendRatio
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.receiptTimeout = receiptTimeout
        self.frameStallTimeout = frameStallTimeout
        self.writeStallTimeout = writeStallTimeout
        self.disconnectTimeout = disconnectTimeout
        self.reconnect = reconnect
        self.limits = limits
        self.contentLength = contentLength
        self.trace = trace
        self.connectHeaders = connectHeaders
        self.useStompCommand = useStompCommand
        self.writeBufferLowWaterMark = writeBufferLowWaterMark
        self.writeBufferHighWaterMark = writeBufferHighWaterMark
        self.useEnvironmentCredentials = useEnvironmentCredentials
    }

    /// Options for one URL string (`stomp://`, `stomp+ssl://`, `failover:(...)`).
    public init(url: String) throws {
        self.init(urls: try StompURL.parseList(url))
    }

    /// The CONNECT credentials for `url`: options, then URL userinfo, then the environment.
    /// Each of login and passcode falls back separately, so `--login L` with `STOMP_PASSCODE` set
    /// sends both.
    public func credentials(for url: StompURL) -> (login: String?, passcode: String?) {
        let environmentLogin = useEnvironmentCredentials ? ConnectionOptions.env("STOMP_LOGIN") : nil
        let environmentPasscode = useEnvironmentCredentials ? ConnectionOptions.env("STOMP_PASSCODE") : nil
        return (login ?? url.login ?? environmentLogin, passcode ?? url.passcode ?? environmentPasscode)
    }

    /// The CONNECT `host` header for `url`: options.vhost, then the URL's vhost, then "/".
    ///
    /// "/" rather than the host name: RabbitMQ treats `host` as the vhost and refuses
    /// `host:localhost` ("Virtual host 'localhost' access denied"), while "/" is its default vhost;
    /// ActiveMQ ignores the value.
    /// `quirks.hostIsVirtualHost == false` (a probe profile): the URL's host name instead of "/".
    public func hostHeader(for url: StompURL) -> String {
        vhost ?? url.vhost ?? (quirks?.hostIsVirtualHost == false ? url.host : "/")
    }

    /// The other form of a default `host` header, to try once when the broker refuses the first as an
    /// unknown host: "/" ↔ the URL's host name. Nil when the user named the virtual host (`vhost` or the
    /// URL's), which is never second-guessed, or when `quirks` say `host` is a virtual host.
    public func alternateHostHeader(for url: StompURL, after tried: String) -> String? {
        guard vhost == nil, url.vhost == nil, quirks?.hostIsVirtualHost != true else { return nil }
        return tried == "/" ? url.host : "/"
    }

    static func env(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}
