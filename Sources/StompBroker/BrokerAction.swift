import StompProto

/// What the engine asks the I/O layer to do, in order.
public enum BrokerAction: Sendable, Equatable {
    /// Write `frame` to the connection (encoded with the connection's negotiated version).
    case frame(StompFrame, to: ConnectionID)
    /// CONNECTED has been sent: encode and decode with `version` from now on, and keep the heart-beats
    /// (`heartBeat` is the broker's view: `sendInterval` is how often the broker sends).
    case established(ConnectionID, version: StompVersion, heartBeat: NegotiatedHeartBeat, login: String?)
    /// Close the connection once the frames before this are written. `reason` is nil after DISCONNECT,
    /// else what went wrong (the ERROR frame's message).
    case close(ConnectionID, reason: String?)
}
