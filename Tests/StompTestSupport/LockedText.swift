import Foundation

/// Output of a child process, collected from a readability handler; `wait(for:)` matches a regex.
public final class LockedText: @unchecked Sendable {
    private let cond = NSCondition()
    private var data = Data()

    public init() {}

    public func append(_ d: Data) {
        cond.lock()
        data.append(d)
        cond.broadcast()
        cond.unlock()
    }

    public var text: String {
        cond.lock()
        defer { cond.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first capture group of `pattern` (or the whole match) once it appears, within `timeout` seconds.
    public func wait(for pattern: String, timeout: Double = 10) -> String? {
        let regex = try! NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while true {
            let s = String(decoding: data, as: UTF8.self)
            if let m = regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) {
                let r = m.numberOfRanges > 1 ? m.range(at: 1) : m.range
                return Range(r, in: s).map { String(s[$0]) }
            }
            if !cond.wait(until: deadline) { return nil }
        }
    }
}
