import StompProto

/// A message as the broker keeps it: its id, the SEND's user headers (without destination, transaction,
/// receipt, content-length; reply-to rewritten) and body.
struct StoredMessage {
    var id: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// Delivered before and put back (subscriber left, connection lost): MESSAGE says `redelivered:true`.
    var redelivered = false
}
