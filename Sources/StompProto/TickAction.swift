/// What `StompSession.tick(now:)` asks the caller to do. New cases may be added: switch over it with a
/// `default` when you only need some.
public enum TickAction: Sendable, Equatable {
    /// The deadline set with `StompSession.setReceiptDeadline` passed without the RECEIPT: the receipt is no
    /// longer awaited (tell whoever waits for it); if it still comes, `receive` reports `.lateReceipt`.
    case receiptTimedOut(id: String, for: ReceiptPurpose)
    /// Our send interval passed without writing anything: write `FrameEncoder.heartbeat`.
    case sendHeartbeat
    /// Nothing heard for longer than the silence limit (`StompSession.silenceLimit(receiveInterval:)`).
    case peerSilent(lastHeardNanosecondsAgo: UInt64)
}
