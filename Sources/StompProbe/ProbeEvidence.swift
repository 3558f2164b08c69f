// The frames a check exchanged, trimmed, for `--verbose`.

import Foundation
import StompProto

/// A check's evidence log (thread-safe: a check may use connections on helper threads).
public final class ProbeEvidence: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private let start = ProbeClock.now()
    /// At most this many lines are kept; later ones are counted.
    let maxLines = 60
    private var dropped = 0

    public init() {}

    func note(_ connection: String, _ direction: String, _ text: String) {
        let t = String(format: "%6.3f", ProbeClock.seconds(since: start))
        lock.lock(); defer { lock.unlock() }
        if lines.count < maxLines { lines.append("\(t) \(connection) \(direction) \(text)") } else { dropped += 1 }
    }

    /// A free-form remark (what the check concluded from the frames).
    public func remark(_ text: String) { note("", "#", text) }

    public var all: [String] {
        lock.lock(); defer { lock.unlock() }
        return dropped == 0 ? lines : lines + ["(\(dropped) more lines)"]
    }

    /// `COMMAND name:value ... (N-byte body "...")`, header values and body trimmed.
    static func summary(of frame: StompFrame) -> String {
        var s = frame.command.rawValue
        for (n, v) in frame.headers.pairs { s += " \(trim(n, 40)):\(n == "passcode" ? "****" : trim(v, 60))" }
        if !frame.body.isEmpty {
            let text = frame.body.prefix(40).map { b -> String in
                (0x20..<0x7F).contains(b) ? String(UnicodeScalar(b)) : (b == 0x0A ? "\\n" : String(format: "\\x%02x", b))
            }.joined()
            s += " (\(frame.body.count)-byte body \"\(text)\(frame.body.count > 40 ? "…" : "")\")"
        }
        return s
    }

    static func trim(_ s: String, _ n: Int) -> String {
        let escaped = s.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        return escaped.count <= n ? escaped : String(escaped.prefix(n)) + "…"
    }
}
