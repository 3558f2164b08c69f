#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every frame command of STOMP 1.0–1.2, client and server side.
public enum StompCommand: String, Sendable, CaseIterable {
    // client
    case connect = "CONNECT", stomp = "STOMP", send = "SEND", subscribe = "SUBSCRIBE", unsubscribe = "UNSUBSCRIBE",
         ack = "ACK", nack = "NACK", begin = "BEGIN", commit = "COMMIT", abort = "ABORT", disconnect = "DISCONNECT"
    // server
    case connected = "CONNECTED", message = "MESSAGE", receipt = "RECEIPT", error = "ERROR"

    /// Sent by clients to servers.
    public var isClientCommand: Bool { !isServerCommand }

    /// Sent by servers to clients.
    public var isServerCommand: Bool {
        switch self {
        case .connected, .message, .receipt, .error: return true
        default: return false
        }
    }

    /// Only SEND, MESSAGE and ERROR may carry a body (spec: other frames MUST NOT).
    public var allowsBody: Bool {
        switch self {
        case .send, .message, .error: return true
        default: return false
        }
    }

    /// CONNECT, STOMP and CONNECTED headers are never escaped (spec, "Value Encoding").
    public var isConnectionHandshake: Bool {
        switch self {
        case .connect, .stomp, .connected: return true
        default: return false
        }
    }

    /// The command's wire bytes as a static string (the encoder copies them without a String).
    var wireName: StaticString {
        switch self {
        case .connect: return "CONNECT"
        case .stomp: return "STOMP"
        case .send: return "SEND"
        case .subscribe: return "SUBSCRIBE"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .ack: return "ACK"
        case .nack: return "NACK"
        case .begin: return "BEGIN"
        case .commit: return "COMMIT"
        case .abort: return "ABORT"
        case .disconnect: return "DISCONNECT"
        case .connected: return "CONNECTED"
        case .message: return "MESSAGE"
        case .receipt: return "RECEIPT"
        case .error: return "ERROR"
        }
    }

    /// Recognises a command from its wire bytes without building a String (decoder hot path).
    static func parse(_ p: UnsafeRawBufferPointer) -> StompCommand? {
        // Dispatch on length and first byte, then compare.
        @inline(__always) func eq(_ s: StaticString) -> Bool {
            guard s.utf8CodeUnitCount == p.count else { return false }
            return memcmp(s.utf8Start, p.baseAddress!, p.count) == 0
        }
        guard let first = p.first else { return nil }
        switch first {
        case UInt8(ascii: "A"): return eq("ACK") ? .ack : eq("ABORT") ? .abort : nil
        case UInt8(ascii: "B"): return eq("BEGIN") ? .begin : nil
        case UInt8(ascii: "C"):
            if eq("CONNECT") { return .connect }
            if eq("CONNECTED") { return .connected }
            return eq("COMMIT") ? .commit : nil
        case UInt8(ascii: "D"): return eq("DISCONNECT") ? .disconnect : nil
        case UInt8(ascii: "E"): return eq("ERROR") ? .error : nil
        case UInt8(ascii: "M"): return eq("MESSAGE") ? .message : nil
        case UInt8(ascii: "N"): return eq("NACK") ? .nack : nil
        case UInt8(ascii: "R"): return eq("RECEIPT") ? .receipt : nil
        case UInt8(ascii: "S"):
            if eq("SEND") { return .send }
            if eq("SUBSCRIBE") { return .subscribe }
            return eq("STOMP") ? .stomp : nil
        case UInt8(ascii: "U"): return eq("UNSUBSCRIBE") ? .unsubscribe : nil
        default: return nil
        }
    }
}
