import Dispatch
import Foundation

/// SIGINT and SIGTERM taken over by a handler: while it is installed neither ends the process; each arrival runs
/// the handler on a global queue. `cancel()` stops the handler; the signals stay ignored after it.
struct TerminationSignals {
    private let sources: [DispatchSourceSignal]

    fileprivate init(_ sources: [DispatchSourceSignal]) {
        self.sources = sources
    }

    /// Stops running the handler.
    func cancel() {
        sources.forEach { $0.cancel() }
    }
}

/// Runs `handler` each time SIGINT (Ctrl-C) or SIGTERM arrives, instead of letting either end the process, until
/// the result's `cancel()`. Used by the long-running subcommands (`broker`, `probe`) to stop cleanly.
func onTerminationSignals(_ handler: @escaping @Sendable () -> Void) -> TerminationSignals {
    TerminationSignals([SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    })
}
