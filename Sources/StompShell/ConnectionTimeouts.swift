// The timeouts a connection runs with, in seconds: what `status` shows, and what the shell's own waits for the
// client's answers are derived from (so `--receipt-timeout` governs those waits, never a number of the shell's).

import NIOCore
import StompConnection
import RPCCommands

/// A connection's timeouts (its `ConnectionOptions`) in seconds. What each governs:
/// - `receipt` (`--receipt-timeout`): every wait for a RECEIPT: requests with `--receipt`, the subscriptions and
///   unsubscriptions stompsh makes for rpc, browse/drain/dump/move/copy and `subscribe --count`, and DISCONNECT;
/// - `write` (`--write-timeout`): how long the broker may take none of our bytes; nil: no limit;
/// - `connect` (fixed): TCP, TLS and the wait for CONNECTED, per broker address tried.
struct ConnectionTimeouts: Equatable {
    var receipt: Double
    var disconnect: Double
    var write: Double?
    var connect: Double

    init(_ o: ConnectionOptions) {
        receipt = Self.seconds(o.receiptTimeout)
        disconnect = Self.seconds(o.disconnectTimeout)
        write = o.writeStallTimeout.map(Self.seconds)
        connect = Self.seconds(o.connectTimeout)
    }

    /// How much longer than the client's own timeout the shell waits for a future that timeout ends: the client's
    /// error (which names what it waited for) comes first; the shell's limit only ends a wait nothing else would.
    static let margin: Double = 5

    /// How long a DISCONNECT may hold a run that Ctrl-C ended (the user asked to stop), and a connection of a
    /// command's own (bench, rpc: what it sent was counted by the command), before the socket is closed.
    static let interruptedGrace: Double = 2
    static let ownConnectionGrace: Double = 5

    /// The shell's limit for a future the client ends with a RECEIPT or its timeout.
    var receiptWait: Double { receipt + Self.margin }
    /// The shell's limit for the client's `disconnect()` (the RECEIPT's wait, then the close).
    var disconnectWait: Double { disconnect + Self.margin }

    /// `10 s`, `0.5 s`, or `none` (no limit).
    static func text(_ seconds: Double?) -> String {
        seconds.map { "\(Shell.seconds($0)) s" } ?? "none"
    }

    /// Seconds as a JSON number (an integer when whole), null for no limit.
    static func json(_ seconds: Double?) -> JSONValue {
        guard let s = seconds else { return .null }
        return s == s.rounded() ? .integer(Int64(s)) : .number(s)
    }

    static func seconds(_ t: TimeAmount) -> Double { Double(t.nanoseconds) / 1e9 }
}
