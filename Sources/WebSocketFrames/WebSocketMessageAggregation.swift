import NIOWebSocket

extension WebSocketEndpoint {
    /// The handler that joins fragments into whole messages, bounded by `maxMessageSize` (the fragments' total)
    /// and placed right after NIOWebSocket's frame decoder. Fragments of any size are accepted; control frames
    /// between fragments pass through at once. Errors: `NIOWebSocketFrameAggregator.Error` (see `WebSocketFault`).
    public static func messageAggregator(maxMessageSize: Int) -> NIOWebSocketFrameAggregator {
        NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: maxFragmentCount,
                                    maxAccumulatedFrameSize: maxMessageSize)
    }

    /// The most fragments one message may come in.
    public static let maxFragmentCount = 1 << 20
}
