/// What a lost connection took with it: transactions the broker rolls back and messages
/// it will redeliver.
public struct LostState: Sendable, Equatable {
    public var transactions: [String]
    public var unacknowledged: [PendingAck]

    public init(transactions: [String] = [], unacknowledged: [PendingAck] = []) {
        self.transactions = transactions
        self.unacknowledged = unacknowledged
    }

    public var isEmpty: Bool { transactions.isEmpty && unacknowledged.isEmpty }
}
