/// What a transaction does at COMMIT.
enum TransactionStep {
    case send(BrokerDestination, StoredMessage)
    case ack(ackID: String)
    case nack(ackID: String)
}
