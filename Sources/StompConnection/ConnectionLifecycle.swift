import NIOCore
import StompProto

/// The connection's life cycle as a pure state machine (after SwiftNIO's own state machines): events in
/// (an attempt connected or failed, the link closed, the user's intents), actions out (open URL i, report,
/// reconnect after D, give up). It decides failover order, backoff, when to reconnect and when the connection
/// is lost for good; `StompClient` executes the actions. No I/O, no clock: delays are returned, not waited.
struct ConnectionLifecycle: Sendable {
    enum State: Sendable, Equatable {
        /// The first connect, trying URL `index` (failover order: each URL once, in order).
        case connecting(index: Int)
        /// Connected to URL `index`.
        case connected(index: Int)
        /// Lost; attempt `attempt` (1-based) goes to URL `index`.
        case reconnecting(attempt: Int, index: Int)
        /// DISCONNECT sent or the socket closing on the user's request.
        case disconnecting
        /// For good.
        case closed
    }

    enum Action: Sendable, Equatable {
        /// Connect to `urls[index]` now.
        case open(index: Int)
        /// Connected: succeed the first connect, or (after a loss) resubscribe and report `.reconnected`.
        case connected(index: Int, reconnected: Bool)
        /// Report `.connectionLost(reason)`: reconnect attempts follow.
        case reportLost(StompConnectionError)
        /// Report `.reconnecting` and connect to `urls[index]` after `delay`.
        case reconnect(attempt: Int, index: Int, delay: TimeAmount)
        /// The connection ended for good (nil: the user's DISCONNECT or close).
        case giveUp(StompConnectionError?)
    }

    private(set) var state: State = .connecting(index: 0)
    let urlCount: Int
    let policy: ReconnectPolicy
    /// The user asked to leave: nothing reconnects any more.
    private(set) var userClosing = false
    /// The last failure (the cause given when the attempts run out).
    private(set) var lastError: StompConnectionError?
    /// The URL connected to last (reconnects start there).
    private var lastIndex = 0

    init(urlCount: Int, policy: ReconnectPolicy) {
        self.urlCount = max(urlCount, 1)
        self.policy = policy
    }

    /// What callers may send on: connected, or closing after our DISCONNECT.
    var canSend: Bool { state.isConnected }
    var canSendWhileDisconnecting: Bool { state.isConnected || state == .disconnecting }

    var clientState: ClientState {
        switch state {
        case .connecting: return .connecting
        case .connected: return .connected
        case .reconnecting: return .reconnecting
        case .disconnecting: return .disconnecting
        case .closed: return .closed
        }
    }

    // MARK: events

    mutating func start() -> Action {
        state = .connecting(index: 0)
        return .open(index: 0)
    }

    /// The attempt in progress got CONNECTED.
    mutating func attemptSucceeded() -> Action {
        switch state {
        case .connecting(let index):
            lastIndex = index
            state = .connected(index: index)
            return .connected(index: index, reconnected: false)
        case .reconnecting(_, let index):
            lastIndex = index
            state = .connected(index: index)
            return .connected(index: index, reconnected: true)
        case .connected, .disconnecting, .closed:
            // The user left meanwhile (or a stray result): the new link must go.
            return .giveUp(userClosing ? nil : lastError ?? .notConnected)
        }
    }

    /// The attempt in progress failed with `error`.
    mutating func attemptFailed(_ error: StompConnectionError) -> Action {
        lastError = error
        switch state {
        case .connecting(let index):
            // Failover: the next URL, unless the broker refused us (the next would too) or the user left.
            if index + 1 < urlCount, !userClosing, error.isWorthRetrying {
                state = .connecting(index: index + 1)
                return .open(index: index + 1)
            }
            return close(error)
        case .reconnecting(let attempt, _):
            guard !userClosing, error.isWorthRetrying else { return close(error) }
            return nextAttempt(attempt + 1)
        case .connected, .disconnecting, .closed:
            return .giveUp(nil)
        }
    }

    /// The established link closed because of `reason` (`quirks`: what the broker's ERROR words mean).
    mutating func linkClosed(_ reason: StompConnectionError, quirks: BrokerQuirks) -> [Action] {
        switch state {
        case .disconnecting:
            return [close(nil)]
        case .connected:
            lastError = reason
            guard shouldReconnect(after: reason, quirks: quirks) else { return [close(reason)] }
            return [.reportLost(reason), nextAttempt(1)]
        case .connecting, .reconnecting, .closed:
            return []
        }
    }

    /// DISCONNECT (graceful) or close (at once): while connected, the link closes and then `linkClosed`
    /// gives up cleanly; while connecting or reconnecting, at once.
    mutating func userLeaves() -> Action? {
        userClosing = true
        switch state {
        case .connected:
            state = .disconnecting
            return nil
        case .connecting, .reconnecting:
            return close(nil)
        case .disconnecting, .closed:
            return nil
        }
    }

    // MARK: rules

    /// Reconnecting after a loss: never after the user left, a refused login or virtual host, our own
    /// refusals, or an ERROR the broker closed on (it would refuse again), unless that ERROR announced a
    /// shutdown.
    func shouldReconnect(after reason: StompConnectionError, quirks: BrokerQuirks) -> Bool {
        guard policy.enabled, !userClosing else { return false }
        switch reason {
        case .authenticationFailed, .hostRefused, .session, .encoding, .configuration:
            return false
        case .brokerError(let err):
            return quirks.announcesShutdown(err)
        default:
            return true
        }
    }

    /// Attempt `attempt` (1-based), from the URL connected last, round robin; given up past the policy's maximum.
    private mutating func nextAttempt(_ attempt: Int) -> Action {
        if let max = policy.maxAttempts, attempt > max { return close(lastError) }
        let index = (lastIndex + attempt - 1) % urlCount
        state = .reconnecting(attempt: attempt, index: index)
        return .reconnect(attempt: attempt, index: index, delay: policy.delay(forAttempt: attempt))
    }

    private mutating func close(_ error: StompConnectionError?) -> Action {
        state = .closed
        return .giveUp(error)
    }
}

extension ConnectionLifecycle.State {
    var isConnected: Bool {
        if case .connected = self { return true }
        return false
    }
}
