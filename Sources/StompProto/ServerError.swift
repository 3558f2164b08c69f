/// An ERROR frame from the broker: its `message` header, all headers, and body.
public struct ServerError: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var headers: StompHeaders
    public var body: [UInt8]

    public init(message: String, headers: StompHeaders, body: [UInt8]) {
        self.message = message
        self.headers = headers
        self.body = body
    }

    public init(frame: StompFrame) {
        self.init(message: frame.headers["message"] ?? "", headers: frame.headers, body: frame.body)
    }

    /// The body as text (lossy), trimmed of trailing newlines.
    public var bodyText: String {
        var s = String(decoding: body, as: UTF8.self)
        while s.last == "\n" || s.last == "\r\n" || s.last == "\r" { s.removeLast() }
        return s
    }

    public var description: String {
        bodyText.isEmpty ? "broker error: \(message)" : "broker error: \(message): \(bodyText)"
    }
}
