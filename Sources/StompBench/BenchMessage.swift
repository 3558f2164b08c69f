// What makes a bench message a real message: its own sequence number and send timestamp, as headers, encoded
// per message like any `send` (the `--prebuilt` mode writes one encoded frame over and over instead: the raw
// ceiling of the broker and the socket, labelled as such).
import Foundation
import StompProto

public enum BenchMessage {
    /// Which sender the message comes from: `RUN-CONNECTION` (sequence numbers count per stream).
    public static let streamHeader = "stompsh-bench-stream"
    /// The message's number in its stream, from 1.
    public static let sequenceHeader = "stompsh-bench-seq"
    /// When it was sent: nanoseconds since the Unix epoch (wall clock, so a consumer on another process of the
    /// same host, or on a host with a synchronised clock, can compute the end-to-end latency).
    public static let sentHeader = "stompsh-bench-sent"

    /// A printable body of `size` bytes.
    public static func body(size: Int) -> [UInt8] {
        let pattern = Array("stompsh bench payload 0123456789 abcdefghijklmnopqrstuvwxyz ".utf8)
        return (0..<max(0, size)).map { pattern[$0 % pattern.count] }
    }

    /// Wall-clock nanoseconds since the Unix epoch.
    @inline(__always) public static func wallNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// The value of a sequence or timestamp header: decimal digits only (at most 19), else nil. What `Int(_:)`
    /// accepts besides (a sign) no bench writes; this reads the bytes without the generic integer parser.
    /// `skipping`: bytes of `s` to pass over first (a prefix already checked).
    @inline(__always) public static func decimal(_ s: String, skipping: Int = 0) -> UInt64? {
        let parsed = s.utf8.withContiguousStorageIfAvailable { all -> UInt64? in
            guard skipping <= all.count else { return nil }
            return decimal(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[skipping...])))
        }
        return parsed ?? String(s.utf8.dropFirst(skipping)).flatMap { UInt64($0) }
    }

    /// `decimal(_:)` of a header value's bytes (see `StompHeaders.withValueBytes`): no String made.
    @inline(__always) public static func decimal(bytes p: UnsafeRawBufferPointer) -> UInt64? {
        guard !p.isEmpty, p.count <= 19 else { return nil }
        var n: UInt64 = 0
        for b in p {
            guard b &- 0x30 < 10 else { return nil }
            n = n &* 10 &+ UInt64(b &- 0x30)
        }
        return n
    }

    /// `v` in decimal, written straight into the string (`String(v)` goes through the generic `description`).
    @inline(__always) public static func decimalString(_ v: UInt64) -> String {
        var digits = 1
        var rest = v
        while rest >= 10 { rest /= 10; digits += 1 }
        return String(unsafeUninitializedCapacity: digits) { p in
            var x = v
            var i = digits
            repeat {
                i -= 1
                p[i] = 0x30 &+ UInt8(truncatingIfNeeded: x % 10)
                x /= 10
            } while x > 0
            return digits
        }
    }

    /// A random token naming one bench run.
    public static func runToken() -> String { String(UInt32.random(in: 0...UInt32.max), radix: 36) }

    /// The headers of message `sequence` of `stream`: destination, the user's headers, then the bench's three.
    public static func headers(destination: String, base: StompHeaders, stream: String, sequence: Int,
                               sentAt: UInt64, receipt: String? = nil) -> StompHeaders {
        headers(template: template(destination: destination, base: base, stream: stream), sequence: sequence,
                sentAt: sentAt, receipt: receipt)
    }

    /// The lines every message of a stream shares (destination, the user's headers, the stream), made once.
    public static func template(destination: String, base: StompHeaders, stream: String) -> StompHeaders {
        var h = StompHeaders(minimumCapacity: base.count + 5)
        h.append("destination", destination)
        for (n, v) in base { h.append(n, v) }
        h.append(streamHeader, stream)
        return h
    }

    /// Message `sequence`'s headers: the stream's `template` (its bytes copied at the first append) plus the
    /// sequence number, the send timestamp and the receipt.
    @inline(__always)
    public static func headers(template: StompHeaders, sequence: Int, sentAt: UInt64, receipt: String? = nil) -> StompHeaders {
        var h = template
        appendPerMessage(to: &h, sequence: sequence, sentAt: sentAt, receipt: receipt)
        return h
    }

    /// The lines `headers(template:...)` adds to the template: sequence number, send timestamp, receipt.
    @inline(__always)
    public static func appendPerMessage(to h: inout StompHeaders, sequence: Int, sentAt: UInt64, receipt: String?) {
        h.append(sequenceHeader, decimal: UInt64(clamping: sequence))
        h.append(sentHeader, decimal: sentAt)
        if let receipt { h.append("receipt", receipt) }
    }
}
