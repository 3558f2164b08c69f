import StompProto
import StompConnection

/// Events of a bench's own connection, handed to the engine running on it (on the event loop). Pass
/// `handle` as the connection's event handler.
public final class BenchEventRouter: @unchecked Sendable {
    var onFrame: ((StompFrame) -> Void)?
    var onClosed: ((StompConnectionError?) -> Void)?
    public init() {}
    public func handle(_ event: ClientEvent) {
        switch event {
        case .frame(let f): onFrame?(f)
        case .closed(let e): onClosed?(e)
        default: break
        }
    }
}
