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

    /// A random token naming one bench run.
    public static func runToken() -> String { String(UInt32.random(in: 0...UInt32.max), radix: 36) }

    /// The headers of message `sequence` of `stream`: destination, the user's headers, then the bench's three.
    @inline(__always)
    public static func headers(destination: String, base: StompHeaders, stream: String, sequence: Int,
                               sentAt: UInt64, receipt: String? = nil) -> StompHeaders {
        var h = StompHeaders()
        h.append("destination", destination)
        for (n, v) in base.pairs { h.append(n, v) }
        h.append(streamHeader, stream)
        h.append(sequenceHeader, String(sequence))
        h.append(sentHeader, String(sentAt))
        if let receipt { h.append("receipt", receipt) }
        return h
    }
}
