/// What `StompSession.tick(now:)` asks the caller to do.
public enum TickAction: Sendable, Equatable {
    /// Our send interval passed without writing anything: write `FrameEncoder.heartbeat`.
    case sendHeartbeat
    /// Nothing heard for longer than the silence limit (`StompSession.silenceLimit(receiveInterval:)`).
    case peerSilent(lastHeardNanosecondsAgo: UInt64)
}
