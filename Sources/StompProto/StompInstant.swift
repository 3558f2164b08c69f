/// A point on a monotonic clock, in nanoseconds. Time enters the protocol only as these values,
/// so everything stays deterministic and testable.
public struct StompInstant: Sendable, Comparable, Hashable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Convenience for tests and callers counting in milliseconds.
    public init(milliseconds: UInt64) { self.nanoseconds = milliseconds &* 1_000_000 }

    public static func < (lhs: StompInstant, rhs: StompInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// `self` moved forward by `ns` nanoseconds (saturating).
    public func advanced(byNanoseconds ns: UInt64) -> StompInstant {
        let (v, o) = nanoseconds.addingReportingOverflow(ns)
        return StompInstant(nanoseconds: o ? .max : v)
    }

    /// Nanoseconds from `earlier` to `self`, 0 if `earlier` is later.
    public func nanoseconds(since earlier: StompInstant) -> UInt64 {
        nanoseconds >= earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0
    }
}
