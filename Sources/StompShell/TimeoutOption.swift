// The connection timeouts an operator chooses in seconds: `--write-timeout` and `--receipt-timeout`, on the
// command line and on `connect`. One rule for both places.

import NIOCore
import StompConnection

/// A timeout given in seconds (`--write-timeout S`, `--receipt-timeout S`) and how it is checked.
public enum TimeoutOption: String, CaseIterable, Sendable {
    /// How long the broker may take none of our bytes (`ConnectionOptions.writeStallTimeout`); 0: no limit.
    case write = "--write-timeout"
    /// How long a request waits for its RECEIPT (`ConnectionOptions.receiptTimeout`); more than 0.
    case receipt = "--receipt-timeout"

    /// The longest accepted, in seconds: any duration's bound (a year; a typo like 1e20 is refused).
    public static let maximumSeconds: Double = ValueKind.maximumSeconds
    /// The shortest accepted besides 0, in seconds (the clocks work in milliseconds at best).
    public static let minimumSeconds: Double = 0.001

    /// 0 means "no limit" (only for the write stall check).
    public var zeroMeansNoLimit: Bool { self == .write }

    /// The default, in seconds (as `ConnectionOptions` has it).
    public var defaultSeconds: Double { 10 }

    /// What the option takes, for the usage error and the help text.
    public var expected: String {
        let range = "0.001 to \(Int(Self.maximumSeconds)) (a year)"
        return zeroMeansNoLimit ? "seconds, 0 (no limit) or \(range)" : "seconds, \(range)"
    }

    /// `text` as a timeout: nil for 0 where that means no limit. A number that is negative, not finite, out of
    /// range or not a number is a usage error whose message names the option.
    public func amount(_ text: String) throws -> TimeAmount? {
        guard let s = Double(text), s.isFinite, s >= 0, s <= Self.maximumSeconds,
              s >= Self.minimumSeconds || (s == 0 && zeroMeansNoLimit) else {
            throw ShellError("\(rawValue): expected \(expected), got '\(text)'", column: nil, exitStatus: 2)
        }
        if s == 0 { return nil }
        return .nanoseconds(Int64((s * 1e9).rounded()))
    }

    /// Sets this timeout in `options` from `text` (nil: leaves the default).
    public func apply(_ text: String?, to options: inout ConnectionOptions) throws {
        guard let text else { return }
        let t = try amount(text)
        switch self {
        case .write: options.writeStallTimeout = t
        case .receipt: options.receiptTimeout = t ?? options.receiptTimeout   // never nil: 0 is refused
        }
    }
}
