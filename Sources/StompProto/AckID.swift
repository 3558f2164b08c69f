// What an ACK or NACK of a received MESSAGE names, by STOMP version.

extension StompFrame {
    /// The id an ACK/NACK of this MESSAGE names in `version`: STOMP 1.2 its `ack` header (else its message-id),
    /// 1.0 and 1.1 its message-id (an `ack` header a broker sends there too is not what those versions
    /// acknowledge by, nor what `StompSession` keys the pending message by).
    public func ackID(version: StompVersion) -> String? {
        version == .v1_2 ? headers.value("ack") ?? headers.value("message-id") : headers.value("message-id")
    }
}
