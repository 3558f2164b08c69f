/// The session's life cycle:
/// disconnected → connecting → connected → disconnecting → closed; any state → failed
/// (ERROR frame or lost connection). `resetForReconnect` returns to disconnected.
public enum SessionState: Sendable, Equatable {
    case disconnected, connecting, connected, disconnecting, closed, failed
}
