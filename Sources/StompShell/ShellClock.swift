// The shell's one clock for deadlines and durations: monotonic (NIO's), never the wall clock, so a clock
// change cannot stretch or cut a `wait`. (Wall-clock time is only shown: trace timestamps.)

import NIOCore

enum ShellClock {
    static func now() -> NIODeadline { .now() }

    /// `seconds` from now.
    static func deadline(in seconds: Double) -> NIODeadline {
        .now() + .nanoseconds(Int64(max(0, min(seconds, 1e9)) * 1e9))
    }

    /// Seconds left until `deadline` (negative once it passed).
    static func secondsLeft(until deadline: NIODeadline) -> Double {
        Double(deadline.uptimeNanoseconds) / 1e9 - Double(NIODeadline.now().uptimeNanoseconds) / 1e9
    }

    /// Milliseconds since `start`.
    static func milliseconds(since start: NIODeadline) -> Double {
        Double((NIODeadline.now() - start).nanoseconds) / 1e6
    }
}
