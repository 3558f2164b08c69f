import NIOWebSocket

/// What went wrong below the message layer, from `WebSocketFrameParser` (the client's) or from the errors of
/// NIOWebSocket's frame decoder and of the message aggregator (`WebSocketEndpoint.messageAggregator`, the
/// sandbox's), with the close code that answers it.
public enum WebSocketFault: Error, Equatable, Sendable {
    /// A whole message (the fragments joined) over the limit.
    case messageTooLarge
    /// A single frame over the decoder's limit.
    case frameTooLarge
    /// Fragments out of order: a continuation without a start, a new message before the last one ended, too many.
    case badFragmentation(String)
    /// A frame the decoder refused (e.g. a fragmented or oversized control frame).
    case malformedFrame(String)
    /// Bytes that must be UTF-8 and are not (a close frame's reason, RFC 6455 7.1.6 and 8.1): close 1007.
    case invalidUTF8(String)

    /// The fault an aggregator error stands for.
    public init(_ error: NIOWebSocketFrameAggregator.Error) {
        self = error == .accumulatedFrameSizeIsTooLarge ? .messageTooLarge : .badFragmentation("\(error)")
    }

    /// The fault a frame decoder error stands for.
    public init(_ error: NIOWebSocketError) {
        if case .invalidFrameLength = error { self = .frameTooLarge } else { self = .malformedFrame("\(error)") }
    }

    /// The fault behind `error`, if it is one of the two kinds above.
    public init?(error: Error) {
        switch error {
        case let e as NIOWebSocketFrameAggregator.Error: self.init(e)
        case let e as NIOWebSocketError: self.init(e)
        default: return nil
        }
    }

    /// The status code of the close frame that answers it: 1009 for a size, 1007 for text that is not UTF-8,
    /// 1002 for the rest.
    public var closeCode: WebSocketErrorCode {
        switch self {
        case .messageTooLarge, .frameTooLarge: return .messageTooLarge
        case .invalidUTF8: return .dataInconsistentWithMessage
        case .badFragmentation, .malformedFrame: return .protocolError
        }
    }
}
