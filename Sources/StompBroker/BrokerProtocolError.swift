import StompProto

/// A client's frame the broker refuses: answered with an ERROR frame (header `message`, the details in
/// the body, `receipt-id` when the frame asked for a receipt). As with ActiveMQ, the connection stays open
/// unless `closesConnection` (a malformed frame, a refused CONNECT).
public struct BrokerProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One line, for the ERROR frame's `message` header.
    public var message: String
    /// More detail for the ERROR frame's body (may be empty).
    public var detail: String
    /// Extra headers of the ERROR frame (e.g. `version` when no offered version is supported).
    public var headers: StompHeaders
    /// The broker closes the connection after the ERROR.
    public var closesConnection: Bool

    public init(_ message: String, detail: String = "", headers: StompHeaders = [:], closesConnection: Bool = false) {
        self.message = message
        self.detail = detail
        self.headers = headers
        self.closesConnection = closesConnection
    }

    public var description: String { detail.isEmpty ? message : "\(message): \(detail)" }

    /// The ERROR frame for this error, answering a frame that asked for `receipt` (if any).
    public func frame(receipt: String?) -> StompFrame {
        var h = StompHeaders()
        h.append("message", message)
        if let receipt { h.append("receipt-id", receipt) }
        for (name, value) in headers.pairs { h.append(name, value) }
        let body = detail.isEmpty ? [] : Array((detail + "\n").utf8)
        if !body.isEmpty {
            h.append("content-type", "text/plain")
            h.append("content-length", String(body.count))
        }
        return StompFrame(.error, headers: h, body: body)
    }
}
