/// A rejected intent (fault `.local`: nothing is sent) or a frame the peer should not have sent
/// in this state (fault `.peer`). A struct over a private enum so that new kinds can be added without
/// breaking callers: compare with `==` against the static values and constructors.
public struct SessionError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable {
        case notConnected(intent: String)
        case alreadyConnected
        case unknownSubscription(String)
        case duplicateSubscription(String)
        case unknownTransaction(String)
        case duplicateTransaction(String)
        case ackNotExpected(subscription: String, mode: AckMode)
        case unknownMessage(String)
        case nothingToAcknowledge
        case unsupportedInVersion(intent: String, version: StompVersion)
        case duplicateReceipt(String)
        case unexpectedFrame(StompCommand, state: SessionState)
        case versionNotOffered(String?)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The intent needs a connected session.
    public static func notConnected(intent: String) -> SessionError { .init(.notConnected(intent: intent)) }
    /// CONNECT while connecting or connected.
    public static let alreadyConnected = SessionError(.alreadyConnected)
    public static func unknownSubscription(_ id: String) -> SessionError { .init(.unknownSubscription(id)) }
    public static func duplicateSubscription(_ id: String) -> SessionError { .init(.duplicateSubscription(id)) }
    public static func unknownTransaction(_ tx: String) -> SessionError { .init(.unknownTransaction(tx)) }
    public static func duplicateTransaction(_ tx: String) -> SessionError { .init(.duplicateTransaction(tx)) }
    /// ACK/NACK of a message from an `auto` subscription.
    public static func ackNotExpected(subscription: String, mode: AckMode) -> SessionError {
        .init(.ackNotExpected(subscription: subscription, mode: mode))
    }
    /// ACK/NACK of a message that is not awaiting one.
    public static func unknownMessage(_ id: String) -> SessionError { .init(.unknownMessage(id)) }
    /// ACK/NACK without a message id while nothing awaits one.
    public static let nothingToAcknowledge = SessionError(.nothingToAcknowledge)
    /// E.g. NACK or client-individual in 1.0.
    public static func unsupportedInVersion(intent: String, version: StompVersion) -> SessionError {
        .init(.unsupportedInVersion(intent: intent, version: version))
    }
    /// A receipt id already awaited.
    public static func duplicateReceipt(_ id: String) -> SessionError { .init(.duplicateReceipt(id)) }
    /// Peer: a frame that makes no sense now (CONNECTED twice, a client command, MESSAGE before CONNECTED).
    public static func unexpectedFrame(_ command: StompCommand, state: SessionState) -> SessionError {
        .init(.unexpectedFrame(command, state: state))
    }
    /// Peer: CONNECTED names a version we did not offer.
    public static func versionNotOffered(_ version: String?) -> SessionError { .init(.versionNotOffered(version)) }

    /// `.peer` for a frame the peer should not have sent, `.local` for a rejected intent.
    public var fault: StompFault {
        switch kind {
        case .unexpectedFrame, .versionNotOffered: return .peer
        default: return .local
        }
    }

    public var description: String {
        switch kind {
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
