import StompProto

/// A message as the broker keeps it: its id, the SEND's user headers (first of each name; without
/// destination, transaction, receipt, content-length, expires, priority, timestamp; reply-to rewritten) and body.
struct StoredMessage {
    var id: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// Milliseconds since 1970 after which the message is dropped instead of delivered; 0: never (the `expires` header).
    var expires: Int64 = 0
    /// The `priority` header as sent (JMS 0-9), "4" when the SEND gave none (as ActiveMQ).
    var priority = "4"
    /// When the broker took the SEND, milliseconds since 1970 (the `timestamp` header).
    var timestamp: Int64 = 0
    /// Delivered before and put back (subscriber left, connection lost): MESSAGE says `redelivered:true`.
    var redelivered = false

    /// Approximate bytes this message holds in memory (body, headers, bookkeeping): what `maxMemory` counts.
    /// Set once by `measure()` when the broker takes the SEND.
    private(set) var size = 0

    mutating func measure() {
        var n = StoredMessage.overhead + body.count + id.utf8.count
        for (name, value) in headers { n += StoredMessage.headerOverhead + name.utf8.count + value.utf8.count }
        size = n
    }

    /// Per-message allocations (id, header array, body array, queue slot) and per-header ones, as measured.
    static let overhead = 320
    static let headerOverhead = 64

    func isExpired(at now: Int64) -> Bool { expires > 0 && expires <= now }
}
