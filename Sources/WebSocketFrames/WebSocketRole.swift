import NIOWebSocket

/// Which end of a WebSocket connection this is: RFC 6455 5.3 has a client mask every frame it sends (a fresh
/// random key each) and a server mask none.
public enum WebSocketRole: Sendable {
    case client
    case server

    /// The key for the next outgoing frame: random for a client, none for a server.
    public func nextMaskKey() -> WebSocketMaskingKey? {
        switch self {
        case .client: return .random()
        case .server: return nil
        }
    }
}
