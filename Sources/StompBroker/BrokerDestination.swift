/// Where a SEND goes or a SUBSCRIBE listens, parsed from a `destination` header.
///
/// - `/queue/NAME`: each message to one subscriber (round robin), held while nobody subscribes.
/// - `/topic/NAME`: each message to every current subscriber; none, and it is gone.
/// - `/temp-queue/NAME`: the connection's own private queue NAME. In a SEND's `reply-to` it is rewritten to
///   `/remote-temp-queue/CONN/NAME`, which any connection can send to; the owner receives those messages with
///   `destination:/temp-queue/NAME`, through its subscription to it or, without one, with
///   `subscription:/temp-queue/NAME` (as RabbitMQ does).
enum BrokerDestination: Equatable {
    case queue(String)
    case topic(String)
    case tempQueue(owner: ConnectionID, name: String)

    static let queuePrefix = "/queue/"
    static let topicPrefix = "/topic/"
    static let tempQueuePrefix = "/temp-queue/"
    static let remoteTempQueuePrefix = "/remote-temp-queue/"

    /// Parses `text` as seen by connection `connection`.
    static func parse(_ text: String, connection: ConnectionID) throws -> BrokerDestination {
        func name(after prefix: String) throws -> String? {
            guard text.hasPrefix(prefix) else { return nil }
            let name = String(text.dropFirst(prefix.count))
            if name.isEmpty { throw BrokerProtocolError("empty destination name", detail: "destination '\(text)' has no name after \(prefix)") }
            return name
        }
        if let n = try name(after: queuePrefix) { return .queue(n) }
        if let n = try name(after: topicPrefix) { return .topic(n) }
        if let n = try name(after: tempQueuePrefix) { return .tempQueue(owner: connection, name: n) }
        if let rest = try name(after: remoteTempQueuePrefix) {
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, let owner = UInt64(parts[0]), !parts[1].isEmpty {
                return .tempQueue(owner: ConnectionID(owner), name: String(parts[1]))
            }
            throw BrokerProtocolError("malformed temporary queue", detail: "expected /remote-temp-queue/CONNECTION/NAME, got '\(text)'")
        }
        throw BrokerProtocolError("unknown destination",
                                  detail: "'\(text)': the sandbox broker knows /queue/NAME, /topic/NAME and /temp-queue/NAME")
    }

    /// What a `reply-to` of `/temp-queue/NAME` from `connection` becomes, so that others can reach it.
    static func rewriteReplyTo(_ value: String, connection: ConnectionID) -> String {
        guard value.hasPrefix(tempQueuePrefix), value.count > tempQueuePrefix.count else { return value }
        return remoteTempQueuePrefix + "\(connection)/" + value.dropFirst(tempQueuePrefix.count)
    }
}
