// `bench consume`: subscribes, counts N messages in an interceptor on the event loop (they never reach the
// shell's inbox), checks each bench message's sequence number (lost, duplicated, out of order) and records its
// end-to-end latency from the send timestamp, ACKs each in client-individual mode, then unsubscribes.
import Foundation
import NIOCore
import NIOConcurrencyHelpers
import StompProto
import StompConnection
import RPCCommands

public struct ConsumeBenchResult: BenchOutcome {
    public var messages: Int
    public var bytes: Int
    /// From the SUBSCRIBE to the Nth message.
    public var elapsedNanoseconds: UInt64
    public var complete: Bool
    public var interrupted: Bool
    /// Sequence numbers: lost, duplicated, out of order (bench messages only).
    public var check: BenchStreamCheck
    /// Send timestamp to arrival, for messages that carry one.
    public var endToEnd: LatencyRecorder
    public var connections: Int = 1
    /// Messages that arrived after the N-th (or after Ctrl-C) until the UNSUBSCRIBE's RECEIPT, not counted. With ack
    /// auto the broker took them as delivered: consumed, gone from the queue (RabbitMQ's prefetch does not bound an
    /// auto-ack subscription; the sandbox sends what it has), and more may have been in flight: a lower bound. In
    /// client-individual mode they go back to the queue: 0 (counted, one given back and sent to another of the
    /// connections came round again: more than the queue held).
    public var beyond: Int = 0
    public var messagesPerSecond: Double { elapsedNanoseconds > 0 ? Double(messages) / (Double(elapsedNanoseconds) / 1e9) : 0 }
    public var megabytesPerSecond: Double { elapsedNanoseconds > 0 ? Double(bytes) / 1e6 / (Double(elapsedNanoseconds) / 1e9) : 0 }

    public static func merged(_ parts: [ConsumeBenchResult]) -> ConsumeBenchResult {
        guard var out = parts.first else { preconditionFailure("no results") }
        for p in parts.dropFirst() {
            out.messages += p.messages
            out.bytes += p.bytes
            out.elapsedNanoseconds = max(out.elapsedNanoseconds, p.elapsedNanoseconds)
            out.interrupted = out.interrupted || p.interrupted
            out.beyond += p.beyond
            out.endToEnd.merge(p.endToEnd)
        }
        out.check = BenchStreamCheck.merged(parts.map(\.check))
        out.complete = parts.contains { $0.complete }   // one quota: whoever ended after the Nth saw it taken
        out.connections = parts.count
        return out
    }
}

/// How many messages the consumers of one `bench consume` still want: shared by its connections, so however
/// the broker spreads the messages, the run ends after N in all.
public final class BenchQuota: @unchecked Sendable {
    private let remaining: NIOLockedValueBox<Int>
    private struct Member { weak var bench: ConsumeBench? }
    private let members = NIOLockedValueBox<[Member]>([])
    public init(_ count: Int) { remaining = NIOLockedValueBox(count) }

    /// Takes one message; false when N were taken already.
    @inline(__always) func take() -> (taken: Bool, last: Bool) {
        remaining.withLockedValue { r in
            guard r > 0 else { return (false, false) }
            r -= 1
            return (true, r == 0)
        }
    }
    var exhausted: Bool { remaining.withLockedValue { $0 <= 0 } }
    func join(_ b: ConsumeBench) { members.withLockedValue { $0.append(Member(bench: b)) } }
    /// All N taken: every consumer ends.
    func ended() { for m in members.withLockedValue({ $0 }) { m.bench?.quotaReached() } }
}

public final class ConsumeBench: BenchEngine, @unchecked Sendable {
    let client: StompClient
    let destination: String
    let count: Int
    let quota: BenchQuota
    let ack: AckMode
    let headers: StompHeaders
    let idleTimeout: TimeAmount
    let subscriptionID: String
    let promise: EventLoopPromise<ConsumeBenchResult>
    var loop: EventLoop { client.eventLoop }

    var token: InterceptorToken?
    var startNs: UInt64 = 0
    var endNs: UInt64 = 0
    var lastNs: UInt64 = 0
    var received = 0
    var beyond = 0
    var bytes = 0
    var stopped = false
    var ending = false
    var finished = false
    var watchdog: RepeatedTask?
    var acks: [StompFrame] = []
    lazy var version = client.connectedInfo.version
    var ackFlushScheduled = false
    var check = BenchStreamCheck()
    /// The stream name of the previous message.
    var lastStream: String?
    var endToEnd = LatencyRecorder()

    init(client: StompClient, destination: String, count: Int, quota: BenchQuota?, ack: AckMode, prefetch: Int?,
         headers: StompHeaders, idleTimeout: TimeAmount) {
        self.client = client
        self.destination = destination
        self.count = count
        self.quota = quota ?? BenchQuota(count)
        self.ack = ack
        var h = headers
        if let prefetch {
            h["activemq.prefetchSize"] = String(prefetch)
            h["prefetch-count"] = String(prefetch)
        }
        self.headers = h
        self.idleTimeout = idleTimeout
        // At most 15 bytes: a small string, so the per-message `subscription` check compares two words, not bytes.
        self.subscriptionID = "bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.promise = client.eventLoop.makePromise()
    }

    /// Starts consuming `count` messages (with `quota`: the group's N, shared with the other connections).
    public static func start(client: StompClient, destination: String, count: Int, quota: BenchQuota? = nil,
                             ack: AckMode, prefetch: Int? = nil, headers: StompHeaders = [:],
                             idleTimeout: TimeAmount = .seconds(10)) -> ConsumeBench {
        let b = ConsumeBench(client: client, destination: destination, count: count, quota: quota, ack: ack,
                             prefetch: prefetch, headers: headers, idleTimeout: idleTimeout)
        b.quota.join(b)
        b.loop.execute { b.begin() }
        return b
    }

    public var result: EventLoopFuture<ConsumeBenchResult> { promise.futureResult }
    public func stop() { loop.execute { self.stopped = true; self.end() } }
    func quotaReached() { loop.execute { self.end() } }

    public func progress() -> EventLoopFuture<BenchProgress> {
        loop.submit { BenchProgress(done: self.received, elapsedNanoseconds: benchNow() &- self.startNs) }
    }

    func begin() {
        let sub = subscriptionID
        token = client.addInterceptor { [self] frame in
            guard frame.headers.value(of: "subscription", is: sub) else { return false }
            onMessage(frame)
            return true
        }
        startNs = benchNow()
        lastNs = startNs
        client.subscribe(destination: destination, id: sub, ack: ack, headers: headers).whenFailure { e in
            self.cleanUp()
            self.finished = true
            self.promise.fail(e)
        }
        watchdog = loop.scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: .milliseconds(200)) { [self] _ in
            if !ending, benchNow() &- lastNs > UInt64(idleTimeout.nanoseconds) { end() }
        }
    }

    /// RabbitMQ keeps a cancelled subscription's unacknowledged messages until the connection closes (AMQP):
    /// NACK them so they go back to the queue now. ActiveMQ redelivers them on UNSUBSCRIBE (its NACK means DLQ).
    static let maxAgeNanoseconds: UInt64 = 86_400 * 1_000_000_000

    lazy var nackExtras: Bool = ack != .auto && client.connectedInfo.version != .v1_0
        && (client.connectedInfo.server ?? "").hasPrefix("RabbitMQ")

    func onMessage(_ frame: StompFrame) {
        let (taken, last) = ending ? (false, false) : quota.take()
        guard taken else {               // after N (or Ctrl-C): not counted, given back (ack auto: consumed)
            if ack == .auto { beyond += 1 }
            if nackExtras { _ = client.nack(messageID: frame.ackID(version: client.connectedInfo.version)) }
            if !ending { end() }
            return
        }
        received += 1
        bytes += frame.body.count
        lastNs = benchNow()
        // Three lookups by name (StompHeaders compares the names' bytes; only these values become Strings).
        let h = frame.headers
        let seq = h.withValueBytes(for: BenchMessage.sequenceHeader) { BenchMessage.decimal(bytes: $0) }?
            .flatMap { Int(exactly: $0) }
        let sent = h.withValueBytes(for: BenchMessage.sentHeader) { BenchMessage.decimal(bytes: $0) } ?? nil
        // consecutive messages mostly share their stream: its name compared as bytes, the String made on a change
        let stream: String?
        if let last = lastStream, h.value(of: BenchMessage.streamHeader, is: last) {
            stream = last
        } else {
            stream = h[BenchMessage.streamHeader]
            lastStream = stream
        }
        check.note(stream: stream, sequence: seq)
        if let sent {
            // a timestamp from the future (clocks apart) counts as 0; one more than a day old is not a bench's
            let now = BenchMessage.wallNanoseconds()
            let age = now > sent ? now - sent : 0
            if age <= Self.maxAgeNanoseconds { endToEnd.record(nanoseconds: age) }
        }
        if ack != .auto { queueAck(frame) }
        if last { end(); quota.ended() }
    }

    func queueAck(_ frame: StompFrame) {
        // the ids' bytes copied from the MESSAGE (no String made); an absent id is sent empty, as before
        let f = frame.headers
        var h = StompHeaders(minimumCapacity: 2)
        switch version {
        case .v1_2:
            if !h.append("id", copyingValueOf: "ack", from: f), !h.append("id", copyingValueOf: "message-id", from: f) {
                h.append("id", "")
            }
        case .v1_1, .v1_0:
            if !h.append("message-id", copyingValueOf: "message-id", from: f) { h.append("message-id", "") }
            if version == .v1_1 { h.append("subscription", subscriptionID) }
        }
        acks.append(StompFrame(.ack, headers: h))
        if !ackFlushScheduled {
            // after the rest of this read's messages: one write for all their ACKs
            ackFlushScheduled = true
            loop.execute { [self] in flushAcks() }
        }
    }

    func flushAcks() {
        ackFlushScheduled = false
        guard !acks.isEmpty else { return }
        let frames = acks
        acks.removeAll(keepingCapacity: true)
        _ = client.sendFrames(frames)
    }

    func end() {
        guard !ending else { return }
        ending = true
        endNs = received > 0 ? lastNs : benchNow()    // the last message, not the idle time after it
        watchdog?.cancel()
        flushAcks()
        client.unsubscribe(id: subscriptionID, receipt: true).whenComplete { _ in
            self.cleanUp()
            self.finished = true
            self.promise.succeed(ConsumeBenchResult(messages: self.received, bytes: self.bytes,
                                                    elapsedNanoseconds: self.endNs &- self.startNs,
                                                    complete: self.quota.exhausted, interrupted: self.stopped,
                                                    check: self.check, endToEnd: self.endToEnd, beyond: self.beyond))
        }
    }

    func cleanUp() {
        watchdog?.cancel()
        if let token { client.removeInterceptor(token) }
        token = nil
    }
}
