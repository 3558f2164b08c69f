// `--connections N`: one engine per connection, each on its connection's event loop (the group spreads
// connections over its threads), seen as one bench: stop stops all, progress and results are merged.
import NIOCore

public final class BenchGroup<Engine: BenchEngine>: BenchEngine, @unchecked Sendable where Engine.Outcome: BenchOutcome {
    public let engines: [Engine]
    public let result: EventLoopFuture<Engine.Outcome>
    let loop: EventLoop

    /// `engines` must not be empty.
    public init(_ engines: [Engine], on loop: EventLoop) {
        precondition(!engines.isEmpty, "BenchGroup needs an engine")
        self.engines = engines
        self.loop = loop
        // every engine ends (a failure of one stops the others); the first failure is the group's
        let all = EventLoopFuture.whenAllComplete(engines.map(\.result), on: loop)
        for e in engines { e.result.whenFailure { _ in for other in engines { other.stop() } } }
        result = all.flatMapThrowing { results in
            try Engine.Outcome.merged(results.map { try $0.get() })
        }
    }

    public func stop() { for e in engines { e.stop() } }

    public func progress() -> EventLoopFuture<BenchProgress> {
        EventLoopFuture.whenAllSucceed(engines.map { $0.progress() }, on: loop).map { BenchProgress.merged($0) }
    }
}
