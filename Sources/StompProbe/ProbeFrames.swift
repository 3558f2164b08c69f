// Small frame builders and queue helpers the checks share.

import StompProto

enum ProbeFrames {
    /// ACK or NACK of `message` as the connection's version wants it (1.2: `id` = the MESSAGE's `ack`; 1.0/1.1:
    /// `message-id` and `subscription`).
    static func ack(_ command: StompCommand, _ message: StompFrame, version: StompVersion, transaction: String? = nil) -> StompFrame {
        var h = StompHeaders()
        if version == .v1_2 {
            h.append("id", message.headers["ack"] ?? message.headers["message-id"] ?? "")
        } else {
            h.append("message-id", message.headers["message-id"] ?? "")
            if let s = message.headers["subscription"] { h.append("subscription", s) }
        }
        if let transaction { h.append("transaction", transaction) }
        return StompFrame(command, headers: h)
    }

    static func bodies(_ frames: [StompFrame]) -> [String] { frames.map { $0.bodyString ?? "?" } }
}

extension ProbeContext {
    /// Sends `bodies` to `destination` (each with a receipt, waited for).
    func fill(_ c: ProbeConnection, _ destination: String, _ bodies: [String], headers: [(String, String)] = []) throws {
        for b in bodies { try send(c, destination, body: b, headers: headers) }
    }

    /// What a new connection subscribing to `queue` gets within the timeout and a quiet period (at most `max`).
    func leftovers(_ queue: String, max: Int = 10) throws -> [StompFrame] {
        let c = try open()
        let sid = try subscribe(c, queue)
        // Messages already on a queue come at once; an empty queue should not cost the whole timeout.
        var got = c.messages(sid, count: 1, seconds: Swift.max(quiet * 2, Swift.min(timeout, 1.0))).messages
        if !got.isEmpty { got += c.messages(sid, count: max - 1, seconds: quiet).messages }
        c.close()
        return got
    }

    /// Nothing more than what `seconds` of waiting shows: the MESSAGEs of `subscription` that arrive.
    func nothingArrives(_ c: ProbeConnection, _ subscription: String?, seconds: Double? = nil) -> [StompFrame] {
        c.messages(subscription, count: 100, seconds: seconds ?? quiet).messages
    }
}
