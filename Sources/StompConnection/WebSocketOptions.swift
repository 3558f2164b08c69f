import StompProto

/// One extra header of the WebSocket opening handshake (`--ws-header 'NAME: VALUE'`). Its value is treated as a
/// secret (a bearer token, a session cookie): traces and errors show `****`.
public struct WebSocketHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME: VALUE` (the blank after the colon is optional). Throws `StompConnectionError.configuration`
    /// naming the problem; the message never holds the value.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw StompConnectionError.configuration("--ws-header: expected 'NAME: VALUE', got no ':'")
        }
        let name = String(text[..<colon]).trimmingSpaces
        let value = String(text[text.index(after: colon)...]).trimmingSpaces
        guard !name.isEmpty, name.utf8.allSatisfy(WebSocketHeader.isTokenByte) else {
            throw StompConnectionError.configuration("--ws-header: '\(name)' is not a valid HTTP header name")
        }
        guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            throw StompConnectionError.configuration("--ws-header \(name): the value holds a control character")
        }
        let reserved = ["host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
                        "sec-websocket-protocol", "sec-websocket-extensions", "content-length", "transfer-encoding"]
        guard !reserved.contains(name.lowercased()) else {
            throw StompConnectionError.configuration("--ws-header: \(name) is set by the WebSocket handshake itself")
        }
        self.init(name: name, value: value)
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}

/// Settings for `ws://` and `wss://` URLs. TLS for `wss://` comes from `ConnectionOptions.tls`, as for
/// `stomp+ssl://`.
public struct WebSocketOptions: Sendable, Equatable {
    /// Extra handshake headers (`Authorization: Bearer ...`, `Cookie: ...`), sent in this order.
    public var headers: [WebSocketHeader]
    /// The `Origin` header (servers that check it, like Spring's `setAllowedOrigins`); nil: none sent.
    public var origin: String?
    /// Send every STOMP frame as a binary message (default: text when the frame is UTF-8 without a NUL
    /// before its end, binary otherwise).
    public var forceBinary: Bool
    /// Largest message accepted from the server once its fragments are joined; nil: the frame limits'
    /// body size plus 1 MiB for the command and headers (one STOMP frame per message is the rule).
    public var maxMessageSize: Int?

    public init(headers: [WebSocketHeader] = [], origin: String? = nil, forceBinary: Bool = false, maxMessageSize: Int? = nil) {
        self.headers = headers
        self.origin = origin
        self.forceBinary = forceBinary
        self.maxMessageSize = maxMessageSize
    }

    /// The message size bound for `limits` (see `maxMessageSize`).
    public func messageSizeLimit(for limits: StompLimits) -> Int {
        if let maxMessageSize { return maxMessageSize }
        let (sum, overflow) = limits.maxBodySize.addingReportingOverflow(1 << 20)
        return overflow ? Int(UInt32.max) : min(sum, Int(UInt32.max))
    }

    /// The subprotocols offered for `versions`, highest first: `v12.stomp`, `v11.stomp`, `v10.stomp`.
    public static func subprotocols(for versions: [StompVersion]) -> [String] {
        versions.sorted(by: >).map { subprotocol(for: $0) }
    }

    public static func subprotocol(for version: StompVersion) -> String {
        "v" + version.rawValue.filter { $0 != "." } + ".stomp"
    }

    /// The STOMP version a subprotocol names (`v12.stomp` → 1.2), nil if it names none.
    public static func version(ofSubprotocol name: String) -> StompVersion? {
        StompVersion.allCases.first { subprotocol(for: $0) == name.lowercased() }
    }
}
