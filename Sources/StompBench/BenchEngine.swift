// The one shape every benchmark has: it is started on a connection's event loop (a static `start`), reports
// progress when polled, stops early when asked (Ctrl-C: no new work, what is in flight completes), and ends with
// a result. `SendBench`, `ConsumeBench`, `LatencyBench` and `RPCBench` are engines; `BenchGroup` runs one engine
// per connection and merges their results.
import Foundation
import NIOCore

/// A running benchmark. All of its state lives on one event loop; these methods may be called from any thread.
public protocol BenchEngine: AnyObject, Sendable {
    associatedtype Outcome: Sendable
    /// Completes when the bench ended (all done, stopped, or failed).
    var result: EventLoopFuture<Outcome> { get }
    /// Stop starting new work; the result comes when what is in flight is done.
    func stop()
    /// Figures so far, taken on the engine's event loop.
    func progress() -> EventLoopFuture<BenchProgress>
}

/// A result that several connections' results add up to (`--connections N`).
public protocol BenchOutcome: Sendable {
    static func merged(_ parts: [Self]) -> Self
}

/// Figures a running bench shows on its progress line.
public struct BenchProgress: Sendable {
    public var done: Int
    public var elapsedNanoseconds: UInt64
    public var errors: Int = 0
    public var timeouts: Int = 0
    public init(done: Int, elapsedNanoseconds: UInt64, errors: Int = 0, timeouts: Int = 0) {
        self.done = done; self.elapsedNanoseconds = elapsedNanoseconds; self.errors = errors; self.timeouts = timeouts
    }
    public var perSecond: Double { elapsedNanoseconds > 0 ? Double(done) / (Double(elapsedNanoseconds) / 1e9) : 0 }

    /// Several connections' progress as one: counts add up, the elapsed time is the longest.
    public static func merged(_ parts: [BenchProgress]) -> BenchProgress {
        parts.reduce(BenchProgress(done: 0, elapsedNanoseconds: 0)) { a, p in
            BenchProgress(done: a.done + p.done, elapsedNanoseconds: max(a.elapsedNanoseconds, p.elapsedNanoseconds),
                          errors: a.errors + p.errors, timeouts: a.timeouts + p.timeouts)
        }
    }
}

/// The monotonic clock of the benches (NIO's), in nanoseconds.
@inline(__always) public func benchNow() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

/// Splits `total` into `parts` shares as even as possible (the first ones get the remainder).
public func benchShares(_ total: Int, _ parts: Int) -> [Int] {
    let n = max(1, parts)
    return (0..<n).map { total / n + ($0 < total % n ? 1 : 0) }
}

/// Peak and current resident memory of this process (Linux /proc; nil elsewhere).
public struct BenchMemory: Sendable, Equatable {
    public var rssKiB: Int
    public var peakKiB: Int

    public static func current() -> BenchMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        var rss: Int?, hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = Self.kib(line) } else if line.hasPrefix("VmHWM:") { hwm = Self.kib(line) }
        }
        guard let rss, let hwm else { return nil }
        return BenchMemory(rssKiB: rss, peakKiB: hwm)
    }

    static func kib(_ line: Substring) -> Int? {
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }
}
