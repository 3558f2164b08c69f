// The types of `StompClient.send(batch:)`: several SENDs handed to the client in one call, written with one
// write and one flush, with one future for the lot.

import StompProto

/// One SEND of a batch (no receipt: a batch waits for its write, not for the broker).
public struct SendRequest: Sendable {
    public var destination: String
    public var headers: StompHeaders
    public var body: [UInt8]

    public init(destination: String, headers: StompHeaders = [:], body: [UInt8]) {
        self.destination = destination
        self.headers = headers
        self.body = body
    }
}

/// Which transaction a SEND (or the SENDs of a batch) joins.
public enum SendTransaction: Sendable, Equatable {
    /// None.
    case none
    /// This one.
    case named(String)
    /// The newest transaction open when the event loop makes the SEND (what a shell's `send` joins), read there:
    /// no round trip to learn it first.
    case newestOpen
}

extension StompSession {
    /// The transaction id `choice` names now.
    func transactionID(_ choice: SendTransaction) -> String? {
        switch choice {
        case .none: return nil
        case .named(let t): return t
        case .newestOpen: return openTransactions.last
        }
    }
}

/// `send(batch:)` failed at the SEND at `index`: the ones before it were written, it and the ones after it
/// were not (a failed write fails the batch at index 0: none of it is known to be written).
public struct BatchSendError: Error, Sendable {
    public var index: Int
    public var error: StompConnectionError

    public init(index: Int, error: StompConnectionError) {
        self.index = index
        self.error = error
    }
}
