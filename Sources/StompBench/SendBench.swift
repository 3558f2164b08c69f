// `bench send`: N messages, each a real message (its own sequence number and send timestamp, encoded per
// message by StompProto's encoder), written in batches of one write and one flush each, pausing while the
// socket's buffer is full. Receipts: none but on the last message (so the broker confirms it took all N, and
// exactly N arrive), one each waited for, or at most W outstanding with each round trip recorded.
import Foundation
import NIOCore
import StompProto
import StompConnection
import RPCCommands

public struct SendBenchResult: BenchOutcome {
    public var messages: Int
    public var size: Int
    public var receipts: Int
    /// From the first write to the last write.
    public var writtenNanoseconds: UInt64
    /// From the first write until the broker confirmed the last message (its RECEIPT): what the broker took,
    /// comparable across clients.
    public var elapsedNanoseconds: UInt64
    public var latency: LatencyRecorder?
    public var interrupted: Bool
    public var connections: Int = 1
    public var messagesPerSecond: Double { elapsedNanoseconds > 0 ? Double(messages) / (Double(elapsedNanoseconds) / 1e9) : 0 }
    public var megabytesPerSecond: Double { messagesPerSecond * Double(size) / 1e6 }

    /// Connections in parallel: messages add up; times are the longest.
    public static func merged(_ parts: [SendBenchResult]) -> SendBenchResult {
        guard var out = parts.first else { preconditionFailure("no results") }
        for p in parts.dropFirst() {
            out.messages += p.messages
            out.receipts += p.receipts
            out.writtenNanoseconds = max(out.writtenNanoseconds, p.writtenNanoseconds)
            out.elapsedNanoseconds = max(out.elapsedNanoseconds, p.elapsedNanoseconds)
            if let l = p.latency { out.latency?.merge(l) }
            out.interrupted = out.interrupted || p.interrupted
        }
        out.connections = parts.count
        return out
    }
}

public final class SendBench: BenchEngine, @unchecked Sendable {
    /// Messages per turn of the event loop before it lets other work in (Ctrl-C, reads).
    public static let chunk = 10_000

    let client: StompClient
    let destination: String
    let headers: StompHeaders
    let body: [UInt8]
    let count: Int
    let mode: BenchReceipts
    let prebuilt: Bool
    let stream: String
    let router: BenchEventRouter
    let promise: EventLoopPromise<SendBenchResult>
    var loop: EventLoop { client.eventLoop }
    /// "b" + a random token (base 36) + "-": with the message's number (up to 6 digits) at most 15 bytes, a
    /// small string (no allocation) in the frame, the session's receipt table and the RECEIPT's way back.
    let receiptPrefix = "b" + String(UInt32.random(in: 0...UInt32.max), radix: 36) + "-"
    lazy var receiptPrefixLength = receiptPrefix.utf8.count
    /// `receiptPrefix`'s bytes, copied (not walked) into each receipt id.
    lazy var receiptPrefixBytes = Array(receiptPrefix.utf8)

    // event-loop state
    var sentAt: [Int: UInt64] = [:]
    /// `--receipts each`: the one message in flight and when it was sent (no dictionary).
    var inFlight: (seq: Int, at: UInt64)?
    var refillScheduled = false
    var lastProgressNs: UInt64 = 0
    var watchdog: RepeatedTask?
    var startNs: UInt64 = 0
    var writtenNs: UInt64 = 0
    var issued = 0          // messages handed to the connection
    var completed = 0       // messages written (none) or confirmed (receipts)
    var outstanding = 0
    var receipts = 0
    var recorder = LatencyRecorder()
    var stopped = false
    var finished = false
    /// The bench waits for the connection to become writable (the broker applies back-pressure).
    var waitingWritable = false
    /// The last message (with its receipt) has gone out.
    var confirming = false
    var prebuiltBatch: [UInt8] = []
    var prebuiltFrames: [StompFrame] = []
    /// The lines every message shares (see `BenchMessage.template`).
    lazy var template = BenchMessage.template(destination: destination, base: headers, stream: stream)

    init(client: StompClient, destination: String, headers: StompHeaders, size: Int, count: Int, mode: BenchReceipts,
         prebuilt: Bool, stream: String, router: BenchEventRouter) {
        self.client = client
        self.router = router
        self.destination = destination
        self.headers = headers
        self.body = BenchMessage.body(size: size)
        self.count = count
        self.mode = mode
        self.prebuilt = prebuilt
        self.stream = stream
        self.promise = client.eventLoop.makePromise()
    }

    /// Starts sending `count` messages on `client` (whose events go to `router`). `stream` names this sender in
    /// the messages' headers; `prebuilt`: one frame encoded once and written `count` times (no per-message
    /// headers; receipts `.none` only).
    public static func start(client: StompClient, destination: String, headers: StompHeaders = [:], size: Int,
                             count: Int, receipts: BenchReceipts, prebuilt: Bool = false,
                             stream: String = BenchMessage.runToken() + "-1", router: BenchEventRouter) -> SendBench {
        let b = SendBench(client: client, destination: destination, headers: headers, size: size, count: count,
                          mode: receipts, prebuilt: prebuilt, stream: stream, router: router)
        b.loop.execute { b.begin() }
        return b
    }

    public var result: EventLoopFuture<SendBenchResult> { promise.futureResult }

    /// After Ctrl-C, how long what is in flight may take to be confirmed: a broker that stopped reading
    /// (back-pressure, exactly when an operator presses Ctrl-C) never confirms it, and the figures must come.
    public static let stopGrace: TimeAmount = .seconds(2)

    /// Ctrl-C: no new messages; the result comes when what is in flight is confirmed, or after `stopGrace`
    /// with what was confirmed or handed to the connection by then.
    public func stop() {
        loop.execute { [self] in
            guard !stopped else { return }
            stopped = true
            // waiting for the socket to take more: the last message (with its receipt) goes now
            if waitingWritable { confirm() }
            maybeFinish()
            loop.scheduleTask(in: Self.stopGrace) { self.finish() }
        }
    }

    public func progress() -> EventLoopFuture<BenchProgress> {
        loop.submit { BenchProgress(done: self.completed, elapsedNanoseconds: benchNow() &- self.startNs) }
    }

    func begin() {
        startNs = benchNow()
        router.onClosed = { [self] e in fail(e ?? StompConnectionError.notConnected) }
        // a broker ERROR ends the bench at once (RabbitMQ's "Unknown destination" keeps the connection open: the
        // last message's receipt would never come)
        router.onFrame = { [self] f in
            switch f.command {
            case .receipt: _ = f.headers.withValueBytes(for: "receipt-id") { receipt(bytes: $0) }
            case .error: fail(StompConnectionError.brokerError(ServerError(frame: f)))
            default: break
            }
        }
        switch mode {
        case .none:
            if prebuilt { preparePrebuilt() }
            publish()
        case .each, .window:
            lastProgressNs = startNs
            let timeout = client.options.receiptTimeout
            watchdog = loop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .milliseconds(500)) { [self] _ in
                if outstanding > 0, benchNow() &- lastProgressNs > UInt64(timeout.nanoseconds) {
                    fail(StompConnectionError.timeout(what: "RECEIPT (\(outstanding) outstanding)",
                                                      seconds: Double(timeout.nanoseconds) / 1e9))
                }
            }
            fill()
        }
    }

    func fail(_ error: Error) {
        guard !finished else { return }
        finished = true
        cleanUp()
        promise.fail(error)
    }

    func cleanUp() {
        watchdog?.cancel()
        router.onFrame = nil
        router.onClosed = nil
    }

    /// Messages per write: up to 1,000 (like the bare-socket writer) and 256 KiB. 64 (8 KiB with 100 B bodies)
    /// gave 69-96k msg/s here against 84-118k with 2,048 (ActiveMQ, 100k x 100 B).
    var batchSize: Int {
        let frame = body.count + destination.utf8.count + headers.pairs.reduce(96) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 }
        return max(1, min(1000, 256 * 1024 / frame))
    }

    /// Message `seq` as a frame: per-message headers, or (prebuilt) the same frame every time.
    /// `reuse`: the frame is written (and let go of) before the next is made, so its headers may be `scratch`.
    @inline(__always) func frame(_ seq: Int, receipt: String? = nil, reuse: Bool = false) -> StompFrame {
        if prebuilt {
            if receipt == nil, let f = prebuiltFrames.first { return f }   // the one frame, already made
            var h = headers
            h["destination"] = destination
            if let receipt { h["receipt"] = receipt }
            return StompFrame(.send, headers: h, body: body)
        }
        guard reuse else {   // frames kept in a batch: each its own copy of the template
            return StompFrame(.send, headers: BenchMessage.headers(template: template, sequence: seq,
                                                                   sentAt: BenchMessage.wallNanoseconds(), receipt: receipt),
                              body: body)
        }
        // The template's lines then this message's, in `scratch`: once the previous frame is written and gone its
        // storage is ours alone again and is reused (no copy of the template, no allocation, per message).
        if scratch.isEmpty { scratch = template; templateLines = template.count }
        scratch.removeLines(from: templateLines)
        BenchMessage.appendPerMessage(to: &scratch, sequence: seq, sentAt: BenchMessage.wallNanoseconds(), receipt: receipt)
        return StompFrame(.send, headers: scratch, body: body)
    }

    /// `frame`'s headers, kept between messages (see there).
    var scratch = StompHeaders()
    /// The template's line count (read without copying the template per message).
    var templateLines = 0

    /// `--prebuilt`: one frame encoded once, `batchSize` copies back to back.
    func preparePrebuilt() {
        var encoder = FrameEncoder(version: client.connectedInfo.version, contentLength: client.options.contentLength)
        encoder.version = client.connectedInfo.version
        let f = frame(0)
        guard let one = try? encoder.encode(f) else { return }
        prebuiltBatch.reserveCapacity(one.count * batchSize)
        for _ in 0..<batchSize { prebuiltBatch.append(contentsOf: one) }
        prebuiltFrames = Array(repeating: f, count: batchSize)
    }

    // no receipts: batches while the socket takes them, then the last message with a receipt
    func publish() {
        guard !finished else { return }
        let batch = batchSize
        var thisTurn = 0
        while !stopped, issued < count - 1, client.isWritable, thisTurn < Self.chunk {
            let k = min(batch, count - 1 - issued)
            let write: EventLoopFuture<Void>
            if prebuilt, k == batch, !prebuiltBatch.isEmpty {
                write = client.sendEncoded(prebuiltBatch, frames: prebuiltFrames)
            } else {
                var frames: [StompFrame] = []
                frames.reserveCapacity(k)
                for i in 1...k { frames.append(frame(issued + i)) }
                write = client.sendFrames(frames)
            }
            issued += k
            completed += k
            thisTurn += k
            write.whenFailure { e in self.fail(e) }
        }
        if stopped || issued >= count - 1 {
            confirm()
        } else if thisTurn >= Self.chunk, client.isWritable {
            loop.execute { self.publish() }               // let Ctrl-C and reads in
        } else {
            waitingWritable = true
            client.waitUntilWritable().whenComplete { r in
                self.waitingWritable = false
                switch r {
                case .success: self.loop.execute { self.publish() }
                case .failure(let e): self.fail(e)
                }
            }
        }
    }

    /// The last message (or, after Ctrl-C, the next one) asks for a RECEIPT: when it comes, the broker has all.
    func confirm() {
        guard !confirming, !finished else { return }
        confirming = true
        writtenNs = benchNow()
        issued += 1
        let last = frame(issued)
        let t0 = benchNow()
        var h = last.headers
        h["destination"] = nil
        client.send(destination: destination, headers: h, body: body, receipt: true).whenComplete { r in
            switch r {
            case .success:
                self.completed += 1
                self.receipts += 1
                self.recorder.record(nanoseconds: benchNow() &- t0)
                self.finish()
            case .failure(let e): self.fail(e)
            }
        }
    }

    // receipts: keep 1 (each) or W (window) outstanding
    func fill() {
        let limit: Int
        switch mode {
        case .window(let w): limit = w
        default: limit = 1
        }
        let k = min(limit - outstanding, count - issued)
        guard !stopped, !finished, k > 0 else { maybeFinish(); return }
        let now = benchNow()
        // No future: the RECEIPTs are what this waits for. A frame not written fails the bench here; a write
        // that fails later closes the connection (`router.onClosed`).
        do {
            if k == 1 {   // sequential receipts: one frame, no array
                issued += 1
                if case .each = mode { inFlight = (issued, now) } else { sentAt[issued] = now }
                outstanding += 1
                let rid = receiptID(issued)
                try client.writeFrame(frame(issued, receipt: rid, reuse: true), receipt: rid)
                return
            }
            var frames: [StompFrame] = []
            frames.reserveCapacity(k)
            for _ in 0..<k {
                issued += 1
                frames.append(frame(issued, receipt: receiptID(issued)))
                sentAt[issued] = now
            }
            outstanding += k
            try client.writeFrames(frames)
        } catch {
            fail(error)
        }
    }

    /// `receiptPrefix` then `seq` in decimal, written straight into one string (no concatenation).
    func receiptID(_ seq: Int) -> String {
        let v = UInt64(clamping: seq)
        var digits = 1
        var rest = v
        while rest >= 10 { rest /= 10; digits += 1 }
        let k = receiptPrefixLength
        return String(unsafeUninitializedCapacity: k + digits) { p in
            receiptPrefixBytes.withUnsafeBufferPointer { p.baseAddress!.update(from: $0.baseAddress!, count: k) }
            var x = v
            var i = k + digits
            repeat {
                i -= 1
                p[i] = 0x30 &+ UInt8(truncatingIfNeeded: x % 10)
                x /= 10
            } while x > 0
            return k + digits
        }
    }

    /// A RECEIPT's id, read from the header's bytes (no String made): `receiptPrefix` then the message's number.
    func receipt(bytes id: UnsafeRawBufferPointer) {
        let k = receiptPrefixLength
        guard !finished, id.count > k,
              receiptPrefixBytes.withUnsafeBytes({ memcmp(id.baseAddress!, $0.baseAddress!, k) == 0 }),
              let n = BenchMessage.decimal(bytes: UnsafeRawBufferPointer(rebasing: id[k...])),
              let seq = Int(exactly: n) else { return }
        if let f = inFlight, f.seq == seq {
            inFlight = nil
            received(sentAt: f.at)
        } else if let t0 = sentAt.removeValue(forKey: seq) {
            received(sentAt: t0)
        }
    }

    /// The RECEIPT of the message sent at `t0`.
    func received(sentAt t0: UInt64) {
        let now = benchNow()
        lastProgressNs = now
        recorder.record(nanoseconds: now &- t0)
        outstanding -= 1
        completed += 1
        receipts += 1
        if case .each = mode {
            fill()
        } else if !refillScheduled {
            // after the rest of this read's RECEIPTs: one write for all the room they make
            refillScheduled = true
            loop.execute { [self] in
                refillScheduled = false
                fill()
            }
        }
    }

    func maybeFinish() {
        guard !finished, outstanding == 0, stopped || issued >= count else { return }
        if case .none = mode { return }   // the batch loop ends with confirm()
        writtenNs = benchNow()
        finish()
    }

    func finish() {
        guard !finished else { return }
        finished = true
        cleanUp()
        let end = benchNow()
        promise.succeed(SendBenchResult(messages: completed, size: body.count, receipts: receipts,
                                        writtenNanoseconds: (writtenNs == 0 ? end : writtenNs) &- startNs,
                                        elapsedNanoseconds: end &- startNs,
                                        latency: mode == .none ? nil : recorder, interrupted: stopped && completed < count))
    }
}
