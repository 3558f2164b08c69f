import NIOConcurrencyHelpers
import NIOCore

extension Shell {
    /// The one blocking-wait loop of the shell thread: until `future` completes, pumps events (printing frames)
    /// in slices of at most `slice` seconds. Before each slice `check` may end the wait by throwing (output gone,
    /// a broker ERROR, a lost connection); then Ctrl-C ends it ("interrupted"), then the deadline
    /// (`timedOut`'s message). Once the future has completed, `completed` turns its result into the value.
    func blockingWait<T>(for future: EventLoopFuture<T>, timeout: Double?, slice: Double,
                         timedOut: @autoclosure () -> String,
                         check: () throws -> Void,
                         completed: (Result<T, Error>) throws -> T) throws -> T {
        try settleSends()     // a SEND handed over before this wait reports its failure first
        let box = NIOLockedValueBox<Result<T, Error>?>(nil)
        let wake = self.wake
        future.whenComplete { r in box.withLockedValue { $0 = r }; wake.signal() }
        let deadline = timeout.map { ShellClock.deadline(in: $0) }
        while true {
            if let r = box.withLockedValue({ $0 }) { return try completed(r) }
            try check()
            if Interrupt.requested { Interrupt.clear(); throw ShellError("interrupted") }
            var wait = slice
            if let deadline {
                let left = ShellClock.secondsLeft(until: deadline)
                if left <= 0 { throw ShellError(timedOut()) }
                wait = min(wait, left)
            }
            pump(maxWait: wait)
        }
    }
}
