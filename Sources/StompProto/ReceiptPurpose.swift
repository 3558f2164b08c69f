/// Why we asked for a receipt: the frame that carried the `receipt` header.
public enum ReceiptPurpose: Sendable, Equatable {
    case disconnect
    case send(destination: String)
    case subscribe(id: String)
    case unsubscribe(id: String)
    case ack(messageID: String)
    case nack(messageID: String)
    case begin(transaction: String)
    case commit(transaction: String)
    case abort(transaction: String)
    /// A raw frame typed by the user.
    case raw(StompCommand)
}
