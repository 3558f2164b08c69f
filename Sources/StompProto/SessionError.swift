/// A rejected intent (fault `.local`: nothing is sent) or a frame the peer should not have sent
/// in this state (fault `.peer`).
public enum SessionError: Error, Sendable, Equatable, CustomStringConvertible {
    case notConnected(intent: String)
    case alreadyConnected
    case unknownSubscription(String)
    case duplicateSubscription(String)
    case unknownTransaction(String)
    case duplicateTransaction(String)
    /// ACK/NACK of a message from an `auto` subscription.
    case ackNotExpected(subscription: String, mode: AckMode)
    /// ACK/NACK of a message that is not awaiting one.
    case unknownMessage(String)
    /// ACK/NACK without a message id while nothing awaits one.
    case nothingToAcknowledge
    /// E.g. NACK or client-individual in 1.0.
    case unsupportedInVersion(intent: String, version: StompVersion)
    /// A receipt id already awaited.
    case duplicateReceipt(String)
    /// Peer: a frame that makes no sense now (CONNECTED twice, a client command, MESSAGE before CONNECTED).
    case unexpectedFrame(StompCommand, state: SessionState)
    /// Peer: CONNECTED names a version we did not offer.
    case versionNotOffered(String?)

    public var fault: StompFault {
        switch self {
        case .unexpectedFrame, .versionNotOffered: return .peer
        default: return .local
        }
    }

    public var description: String {
        switch self {
        case .notConnected(let intent): return "cannot \(intent): not connected"
        case .alreadyConnected: return "already connected"
        case .unknownSubscription(let id): return "no subscription with id \(id.debugDescription)"
        case .duplicateSubscription(let id): return "a subscription with id \(id.debugDescription) already exists"
        case .unknownTransaction(let tx): return "no open transaction \(tx.debugDescription)"
        case .duplicateTransaction(let tx): return "transaction \(tx.debugDescription) is already open"
        case let .ackNotExpected(sub, mode):
            return "subscription \(sub.debugDescription) uses ack mode \(mode.rawValue): its messages need no ACK/NACK"
        case .unknownMessage(let id): return "message \(id.debugDescription) is not awaiting ACK/NACK"
        case .nothingToAcknowledge: return "no message is awaiting ACK/NACK"
        case let .unsupportedInVersion(intent, version): return "\(intent) is not supported in STOMP \(version.rawValue)"
        case .duplicateReceipt(let id): return "receipt \(id.debugDescription) is already awaited"
        case let .unexpectedFrame(cmd, state): return "peer sent \(cmd.rawValue) while the session is \(state)"
        case .versionNotOffered(let v): return "peer chose version \(v ?? "1.0"), which we did not offer"
        }
    }
}
