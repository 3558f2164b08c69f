// `send` without a receipt, without a round trip per command: the shell thread collects the SENDs and hands
// them to the client in batches (`StompClient.send(batch:)`: one event-loop task, one write, one flush); the
// shell settles (hands over, waits for the writes, reports the first failure) before anything else runs.

import NIOConcurrencyHelpers
import NIOCore
import StompProto
import StompConnection

/// SENDs the shell thread collected or handed to the client and not written yet, and the first failure among
/// them, with the failed send command's column.
///
/// Ordering and error reporting stay as if each `send` waited for its write: the client writes the batches in
/// order; the SENDs after a failed one are not written (the rest of its batch by the client, later batches
/// through `send(batch:unless:)`); and the shell settles, throwing the failure with the failed send's column,
/// before any other command, before any blocking wait and at the end of each line (`Shell.run(line:)`), so a
/// failure ends the same line it did before and nothing else runs after it. Only the iterations of a `repeat`
/// run between a send and its settling.
final class SendsInFlight: @unchecked Sendable {
    /// What failed, for the shell thread to throw.
    struct Failure {
        var error: Error
        var column: Int
    }

    /// At most this many SENDs in flight; the shell thread waits for half of them to be written beyond it
    /// (the memory a fast `repeat` against a slow socket may hold).
    static let maxInFlight = 256

    /// Collected SENDs are handed over when this many wait.
    static let batch = 64

    /// At most this many body bytes in flight as well (large bodies: 256 of 1 MiB would be 256 MiB held for a
    /// slow broker); beyond it the shell thread waits for half of them to be written. Collected SENDs are
    /// handed over once their bodies reach `batchBytes`.
    static let maxBytesInFlight = 8 << 20
    static let batchBytes = 1 << 20

    private struct State {
        var inFlight = 0
        var bytes = 0
        var failure: Failure?
        /// The shell thread waits (pumping the wake-up pipe) for `inFlight` and `bytes` to drop to these.
        var waitingFor: (count: Int, bytes: Int)?
    }

    private let state = NIOLockedValueBox(State())
    private let wake: WakeUp

    init(wake: WakeUp) { self.wake = wake }

    /// Shell thread only: the SENDs collected for `client`, and their commands' columns.
    private var requests: [SendRequest] = []
    private var columns: [Int] = []
    private var collectedBytes = 0
    private var client: StompClient?

    /// Whether a SEND is collected or in flight or a failure is not reported yet (shell thread).
    var unsettled: Bool { !requests.isEmpty || state.withLockedValue { $0.inFlight > 0 || $0.failure != nil } }

    /// Whether a SEND failed and is not reported yet.
    var hasFailure: Bool { state.withLockedValue { $0.failure != nil } }

    /// Whether the shell must wait before handing over another SEND.
    var full: Bool { state.withLockedValue { $0.inFlight >= Self.maxInFlight || $0.bytes >= Self.maxBytesInFlight } }

    /// Collects a SEND for `client` (handed over at `batch` or `handOver`); it joins the transaction open when the
    /// event loop gets to it (the newest one, as `currentTransaction`). `column`: the send command's, for the error.
    func submit(_ client: StompClient, destination: String, headers: StompHeaders, body: [UInt8], column: Int) {
        if let c = self.client, c !== client { handOver() }
        self.client = client
        requests.append(SendRequest(destination: destination, headers: headers, body: body))
        columns.append(column)
        collectedBytes += body.count
        if requests.count >= Self.batch || collectedBytes >= Self.batchBytes { handOver() }
    }

    /// Shell thread: hands the collected SENDs to their client as one batch.
    func handOver() {
        guard let client, !requests.isEmpty else { return }
        let batch = requests, columns = self.columns, bytes = collectedBytes
        requests = []
        self.columns = []
        collectedBytes = 0
        self.client = nil
        state.withLockedValue { $0.inFlight += batch.count; $0.bytes += bytes }
        // An earlier batch failed: this one is dropped, as the script stops there.
        client.send(batch: batch, transaction: .newestOpen, unless: { [self] in hasFailure })
            .whenComplete { [self] result in
                var failure: Failure?
                if case .failure(let e) = result {
                    if let b = e as? BatchSendError {
                        failure = Failure(error: b.error, column: columns[min(b.index, columns.count - 1)])
                    } else {
                        failure = Failure(error: e, column: columns[0])
                    }
                }
                completed(batch.count, bytes, failure)
            }
    }

    private func completed(_ count: Int, _ bytes: Int, _ failure: Failure?) {
        let signal = state.withLockedValue { s -> Bool in
            s.inFlight -= count
            s.bytes -= bytes
            if let failure, s.failure == nil { s.failure = failure }
            guard let w = s.waitingFor, s.inFlight <= w.count, s.bytes <= w.bytes else { return false }
            s.waitingFor = nil
            return true
        }
        if signal { wake.signal() }
    }

    /// Shell thread: hands over what is collected and waits until at most `limit` SENDs and `byteLimit` body
    /// bytes are in flight. `pump` waits for the wake-up pipe and prints what arrived meanwhile; `check` may end
    /// the wait (Ctrl-C, a failed output).
    func wait(downTo limit: Int, bytes byteLimit: Int = 0, check: () throws -> Void, pump: () -> Void) throws {
        handOver()
        while true {
            let done = state.withLockedValue { s -> Bool in
                if s.inFlight <= limit, s.bytes <= byteLimit { s.waitingFor = nil; return true }
                s.waitingFor = (limit, byteLimit)
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
