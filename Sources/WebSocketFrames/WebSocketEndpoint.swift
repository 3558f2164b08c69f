import NIOCore
import NIOWebSocket

/// One end of a WebSocket connection at the message level, above the frame reader (the client's
/// `WebSocketFrameParser`; the sandbox's NIOWebSocket decoder and `messageAggregator`): what each whole frame
/// that arrives means (the client gives it control frames only), the frames to send, and the close handshake
/// (RFC 6455 5.5 and 7). Pure: it takes frames and returns what they mean and what to write; the channel handler
/// of each side (the client link, the sandbox's endpoint) writes, closes and reports.
public struct WebSocketEndpoint: Sendable {
    /// What an incoming frame means.
    public enum Inbound: Sendable {
        /// A data message (fragments already joined), unmasked; `isText` for the text opcode.
        case message(ByteBuffer, isText: Bool)
        /// A ping; `pong` is the answer to write, nil once our close is out (nothing follows a close).
        case ping(ByteBuffer, pong: WebSocketFrame?)
        /// A pong (unsolicited ones included): nothing to do.
        case pong(ByteBuffer)
        /// The peer's close. Answer it with `startClose` (which gives nil when our close went first), then close
        /// the socket.
        case close(WebSocketClose)
        /// A second close from the peer: nothing more to do.
        case repeatedClose
        /// An opcode RFC 6455 does not define (reserved 3-7, B-F): a protocol error (close 1002).
        case unknownOpcode(WebSocketOpcode)
    }

    public let role: WebSocketRole
    /// Our close frame is out (written or being written).
    public private(set) var closeSent = false
    /// The peer's close frame arrived.
    public private(set) var closeReceived = false
    /// The keys `writeMessage` masks with (a client's).
    var maskKeys = WebSocketMaskKeys()

    public init(role: WebSocketRole) {
        self.role = role
    }

    /// What `frame`, a whole frame from the aggregator, means.
    public mutating func receive(_ frame: WebSocketFrame) -> Inbound {
        switch frame.opcode {
        case .text, .binary:
            return .message(frame.unmaskedData, isText: frame.opcode == .text)
        case .ping:
            let payload = frame.unmaskedData
            return .ping(payload, pong: closeSent ? nil : self.frame(.pong, payload))
        case .pong:
            return .pong(frame.unmaskedData)
        case .connectionClose:
            guard !closeReceived else { return .repeatedClose }
            closeReceived = true
            return .close(WebSocketClose(payload: frame.unmaskedData))
        default:
            return .unknownOpcode(frame.opcode)
        }
    }

    /// A data message holding `payload` in one frame: text or binary as the caller decides (RFC 6455 wants text
    /// to be UTF-8).
    public func message(_ payload: ByteBuffer, isText: Bool) -> WebSocketFrame {
        frame(isText ? .text : .binary, payload)
    }

    /// Our close frame with `close`'s code and reason, once: nil when ours is already out (then only the socket
    /// is left to close).
    public mutating func startClose(_ close: WebSocketClose, allocator: ByteBufferAllocator) -> WebSocketFrame? {
        guard !closeSent else { return nil }
        closeSent = true
        return frame(.connectionClose, close.payload(allocator: allocator))
    }

    /// Whether a channel close (`mode`, the channel `isActive`) should begin with our close frame: a full close
    /// of a live connection whose close handshake we have not started. Otherwise the socket closes as asked.
    public func closeStartsHandshake(mode: CloseMode, isActive: Bool) -> Bool {
        mode == .all && !closeSent && isActive
    }

    private func frame(_ opcode: WebSocketOpcode, _ data: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: opcode, maskKey: role.nextMaskKey(), data: data)
    }
}
