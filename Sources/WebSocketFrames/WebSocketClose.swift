import NIOCore
import NIOWebSocket

/// The payload of a close frame (RFC 6455 5.5.1): an optional status code, then an optional UTF-8 reason.
public struct WebSocketClose: Equatable, Sendable {
    /// The status code; nil when the payload is empty (RFC 6455 7.1.5: "no status code present").
    public var code: UInt16?
    public var reason: String

    public init(code: UInt16?, reason: String = "") {
        self.code = code
        self.reason = reason
    }

    /// Reads a received close frame's payload. A reason that is not UTF-8 is read with replacement characters.
    public init(payload: ByteBuffer) {
        var data = payload
        code = data.readInteger(as: UInt16.self)
        reason = String(decoding: data.readableBytesView, as: UTF8.self)
    }

    /// The payload to send: the code (when there is one), then the reason.
    public func payload(allocator: ByteBufferAllocator) -> ByteBuffer {
        var data = allocator.buffer(capacity: 2 + reason.utf8.count)
        if let code {
            data.writeInteger(code)
            data.writeString(reason)
        }
        return data
    }

    /// RFC 6455 7.4.1's name for `code`, e.g. "server error" for 1011; nil for codes it does not name.
    public static func name(of code: UInt16) -> String? {
        switch code {
        case 1000: return "normal closure"
        case 1001: return "going away"
        case 1002: return "protocol error"
        case 1003: return "unsupported data"
        case 1007: return "invalid data"
        case 1008: return "policy violation"
        case 1009: return "message too big"
        case 1010: return "missing extension"
        case 1011: return "server error"
        default: return nil
        }
    }
}

extension WebSocketClose {
    /// A close with `code`'s number and no reason.
    public init(_ code: WebSocketErrorCode) {
        self.init(code: UInt16(webSocketErrorCode: code))
    }
}
