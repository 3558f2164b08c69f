/// One STOMP frame: command, ordered headers (unescaped), body bytes.
public struct StompFrame: Sendable, Equatable {
    public var command: StompCommand
    public var headers: StompHeaders
    public var body: [UInt8]

    public init(_ command: StompCommand, headers: StompHeaders = [:], body: [UInt8] = []) {
        self.command = command
        self.headers = headers
        self.body = body
    }

    /// A frame whose body is `body` encoded as UTF-8.
    public init(_ command: StompCommand, headers: StompHeaders = [:], body: String) {
        self.init(command, headers: headers, body: Array(body.utf8))
    }

    /// The body as text, or nil if it is not valid UTF-8.
    public var bodyString: String? {
        body.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
    }
}

extension StompFrame: CustomStringConvertible {
    public var description: String {
        "\(command.rawValue) \(headers) body=\(body.count)B"
    }
}
