// `send` without a receipt, without a round trip per command: the shell thread queues the SEND, hands the queue
// to the client in batches and goes on; the shell settles (hands over, waits for the writes, reports the first
// failure) before anything else runs.

import NIOConcurrencyHelpers
import NIOCore
import StompProto
import StompConnection

/// SENDs the shell thread handed to the client and whose write has not completed yet, and the first failure
/// among them.
///
/// Ordering and error reporting stay as if each `send` waited for its write: the event loop runs the SENDs in
/// the order they were handed over; once one failed, the ones after it are not written at all (they are
/// dropped on the event loop); and the shell settles, throwing the failure with the failed send's column,
/// before any other command, before any blocking wait and at the end of each line (`Shell.run(line:)`), so
/// a failure ends the same line it did before and nothing else runs after it. Only the iterations of a
/// `repeat` run between a send and its settling.
final class PipelinedSends: @unchecked Sendable {
    /// What failed, for the shell thread to throw.
    struct Failure {
        var error: Error
        var column: Int
    }

    /// At most this many SENDs in flight; the shell thread waits for half of them to be written beyond it
    /// (the memory a fast `repeat` against a slow socket may hold).
    static let maxInFlight = 256

    private struct State {
        var inFlight = 0
        var failure: Failure?
        /// The shell thread waits (pumping the wake-up pipe) for `inFlight` to drop to this.
        var waitingFor: Int?
    }

    private let state = NIOLockedValueBox(State())
    private let wake: WakeUp

    init(wake: WakeUp) { self.wake = wake }

    /// Whether a SEND is queued or in flight or a failure is not reported yet (shell thread).
    var unsettled: Bool { !queue.isEmpty || state.withLockedValue { $0.inFlight > 0 || $0.failure != nil } }

    /// Whether a SEND failed and is not reported yet.
    var hasFailure: Bool { state.withLockedValue { $0.failure != nil } }

    /// A SEND queued on the shell thread, not yet handed to the client.
    private struct Request {
        var destination: String
        var headers: StompHeaders
        var body: [UInt8]
        var column: Int
    }

    /// Shell thread only: SENDs queued for `client`, handed over together (one event-loop task, one flush).
    private var queue: [Request] = []
    private var queueClient: StompClient?

    /// Queued SENDs are handed over when this many wait.
    static let batch = 64

    /// Queues a SEND for `client` (handed over at `batch` or `handOver`); it joins the transaction open when the
    /// event loop gets to it (the newest one, as `currentTransaction`). `column` is the send command's column,
    /// for the error.
    func submit(_ client: StompClient, destination: String, headers: StompHeaders, body: [UInt8], column: Int) {
        if let c = queueClient, c !== client { handOver() }
        queueClient = client
        queue.append(Request(destination: destination, headers: headers, body: body, column: column))
        if queue.count >= Self.batch { handOver() }
    }

    /// Shell thread: hands the queued SENDs to their client, in order, in one event-loop task.
    func handOver() {
        guard let client = queueClient, !queue.isEmpty else { return }
        let requests = queue
        queue = []
        queueClient = nil
        state.withLockedValue { $0.inFlight += requests.count }
        client.query { $0.openTransactions.last }.whenSuccess { [self] transaction in
            for r in requests {
                // An earlier SEND failed: the ones after it are dropped, as the script stops there.
                if hasFailure { completed(.success(()), column: r.column); continue }
                client.send(destination: r.destination, headers: r.headers, body: r.body, transaction: transaction)
                    .whenComplete { [self] result in completed(result, column: r.column) }
            }
        }
    }

    private func completed(_ result: Result<Void, Error>, column: Int) {
        let signal = state.withLockedValue { s -> Bool in
            s.inFlight -= 1
            if case .failure(let e) = result, s.failure == nil { s.failure = Failure(error: e, column: column) }
            guard let w = s.waitingFor, s.inFlight <= w else { return false }
            s.waitingFor = nil
            return true
        }
        if signal { wake.signal() }
    }

    /// Whether the shell must wait before handing over another SEND.
    var full: Bool { state.withLockedValue { $0.inFlight >= Self.maxInFlight } }

    /// Shell thread: until at most `limit` SENDs are in flight. `pump` waits for the wake-up pipe
    /// and prints what arrived meanwhile; `check` may end the wait (Ctrl-C, a failed output).
    func wait(downTo limit: Int, check: () throws -> Void, pump: () -> Void) throws {
        handOver()
        while true {
            let done = state.withLockedValue { s -> Bool in
                if s.inFlight <= limit { s.waitingFor = nil; return true }
                s.waitingFor = limit
                return false
            }
            if done { return }
            try check()
            pump()
        }
    }

    /// Shell thread, nothing in flight: the failure not reported yet, cleared.
    func takeFailure() -> Failure? {
        state.withLockedValue { s in
            defer { s.failure = nil }
            return s.failure
        }
    }
}
