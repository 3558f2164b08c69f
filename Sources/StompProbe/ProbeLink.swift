// The byte pipe a probe drives: written whole, read with an explicit deadline. Sockets in production, fakes in tests.

import Foundation

/// What one read of a link gave.
public enum LinkRead: Sendable, Equatable {
    /// Bytes, and when they arrived (monotonic nanoseconds, `ProbeClock.now()`).
    case bytes([UInt8], at: UInt64)
    /// The peer closed the connection (or it failed); `reason` says how.
    case closed(reason: String)
    /// Nothing before the deadline.
    case timeout
}

/// One connection to the broker as raw bytes.
public protocol ProbeLink: AnyObject {
    /// Queues `bytes` for the peer; never blocks for long. A closed link drops them (the next read says closed).
    func write(_ bytes: [UInt8])
    /// The next chunk of bytes, or closed, or timeout at `deadline` (monotonic nanoseconds).
    func read(deadline: UInt64) -> LinkRead
    /// Closes the connection (idempotent).
    func close()
}

/// Opens links to one broker.
public protocol ProbeTransport: Sendable {
    /// A new connection; throws `ProbeConnectError` when the broker cannot be reached within `timeout` seconds.
    func open(timeout: Double) throws -> ProbeLink
}

/// The broker could not be reached (the row's verdict is "could not tell"; for the first connection, exit status 3).
public struct ProbeConnectError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The probe's monotonic clock.
public enum ProbeClock {
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    public static func after(seconds: Double) -> UInt64 { now() + UInt64(max(0, seconds) * 1e9) }
    public static func seconds(since start: UInt64) -> Double { Double(now() &- start) / 1e9 }
}
