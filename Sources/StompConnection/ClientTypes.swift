import NIOCore
import StompProto

/// What the client reports to the layer above, in order, on the event loop.
public enum ClientEvent: Sendable {
    /// MESSAGE (unless an interceptor consumed it), ERROR, and the RECEIPTs the client did not ask for itself
    /// (those of raw frames and of `sendFrames`), as received. Heart-beats are counted, not reported.
    case frame(StompFrame)
    /// Wire bytes of one frame or heart-beat, only when `options.trace`.
    case trace(TraceDirection, [UInt8], at: StompInstant)
    /// What the transport did below STOMP, only when tracing: the WebSocket handshake (request line and
    /// headers, extra headers' values masked; status and chosen subprotocol) and each WebSocket message's
    /// opcode and size.
    case transportTrace(TraceDirection, String, at: StompInstant)
    /// The connection was lost; reconnect attempts follow (`.reconnecting`), or `.closed`.
    case connectionLost(String)
    case reconnecting(attempt: Int, url: StompURL, delay: TimeAmount)
    /// Connected again; subscriptions restored with the same ids. `lost`: transactions the broker rolled back
    /// and messages that were never acknowledged (the broker redelivers them).
    case reconnected(ConnectedInfo, resubscribed: [SubscriptionInfo], lost: LostState)
    /// The connection ended for good; nil after a clean DISCONNECT (or `close()`).
    case closed(StompConnectionError?)
}

/// What `addInterceptor`, `addReadEndObserver` and `addLinkLostObserver` give back, for removing that callback.
public struct InterceptorToken: Hashable, Sendable {
    /// Which of the client's lists the callback is in (`ObserverList`).
    enum Kind: Hashable, Sendable { case interceptor, readEnd, linkLost }
    let kind: Kind
    let id: Int
}

public enum ClientState: String, Sendable, Equatable {
    case connecting, connected, reconnecting, disconnecting, closed
}

public struct ClientCounters: Sendable, Equatable {
    public var framesSent = 0
    public var framesReceived = 0
    public var messagesReceived = 0
    /// Every RECEIPT, late ones included.
    public var receiptsReceived = 0
    /// RECEIPTs that came after their request's timeout (whose caller got `.timeout`): not forwarded as
    /// frames, counted here.
    public var lateReceipts = 0
    public var errorsReceived = 0
    public var heartbeatsSent = 0
    public var heartbeatsReceived = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var reconnects = 0
    public init() {}
}

public struct ClientSnapshot: Sendable {
    public var state: ClientState
    public var url: StompURL
    public var connectedInfo: ConnectedInfo?
    public var subscriptions: [SubscriptionInfo]
    public var pendingAcks: [PendingAck]
    public var transactions: [String]
    public var awaitedReceipts: [String]
    public var counters: ClientCounters
    public var isWritable: Bool
    /// The last DISCONNECT closed without its RECEIPT (after `disconnectTimeout`).
    public var disconnectTimedOut: Bool
    /// Why the last DISCONNECT ended unconfirmed: the broker closed or reset the connection before its RECEIPT
    /// (over WebSocket: without a normal close of its own), so what was sent before it without a receipt may not
    /// have arrived. nil: confirmed, timed out (`disconnectTimedOut`), or no DISCONNECT was sent.
    public var disconnectUnconfirmed: String?
}

extension StompInstant {
    /// The monotonic clock NIO uses.
    public static func now() -> StompInstant {
        StompInstant(nanoseconds: NIODeadline.now().uptimeNanoseconds)
    }
}
