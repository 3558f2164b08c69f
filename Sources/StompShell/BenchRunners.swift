// The engines behind `bench send|consume|latency`. Each runs entirely on the client's event loop (no thread hop
// per message), keeps O(1) state however many messages it handles (frames are made one at a time, never all up
// front), and reports through a future. The shell side (BenchShellCommands) only polls progress and prints.
import Foundation
import NIOCore
import StompProto
import StompConnection
import RPCCommands

// MARK: - options

/// `--receipts none|each|window:W`.
public enum BenchReceipts: Equatable, Sendable, CustomStringConvertible {
    case none
    case each            // one receipt per message, waited for before the next (sequential)
    case window(Int)     // one receipt per message, at most W outstanding

    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "each": self = .each
        default:
            guard text.hasPrefix("window:"), let w = Int(text.dropFirst(7)), w >= 1 else { return nil }
            self = .window(w)
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .each: return "each"
        case .window(let w): return "window:\(w)"
        }
    }
}

/// Figures a running bench shows on its progress line (read from the shell thread via the event loop).
public struct BenchProgress: Sendable {
    public var done: Int
    public var elapsedNanoseconds: UInt64
    public var live: LatencySummary?
    public var perSecond: Double { elapsedNanoseconds > 0 ? Double(done) / (Double(elapsedNanoseconds) / 1e9) : 0 }
}

/// Peak and current resident memory of this process (Linux /proc; nil elsewhere).
public struct BenchMemory: Sendable, Equatable {
    public var rssKiB: Int
    public var peakKiB: Int

    public static func current() -> BenchMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        var rss: Int?, hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = Self.kib(line) } else if line.hasPrefix("VmHWM:") { hwm = Self.kib(line) }
        }
        guard let rss, let hwm else { return nil }
        return BenchMemory(rssKiB: rss, peakKiB: hwm)
    }

    static func kib(_ line: Substring) -> Int? {
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }
}

@inline(__always) func benchNow() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

/// Events of a bench's own connection, handed to the running engine (on the event loop).
public final class BenchEventRouter: @unchecked Sendable {
    var onFrame: ((StompFrame) -> Void)?
    var onClosed: ((StompConnectionError?) -> Void)?
    public init() {}
    public func handle(_ event: ClientEvent) {
        switch event {
        case .frame(let f): onFrame?(f)
        case .closed(let e): onClosed?(e)
        default: break
        }
    }
}

// MARK: - send

public struct SendBenchResult: Sendable {
    public var messages: Int
    public var size: Int
    public var receipts: Int
    /// From the first write to the last write.
    public var writtenNanoseconds: UInt64
    /// From the first write until the broker confirmed the last message (its RECEIPT; with `--receipts none` one
    /// extra SEND with a receipt after the N messages): what the broker took, comparable across clients.
    public var elapsedNanoseconds: UInt64
    public var latency: LatencyRecorder?
    public var interrupted: Bool
    public var messagesPerSecond: Double { elapsedNanoseconds > 0 ? Double(messages) / (Double(elapsedNanoseconds) / 1e9) : 0 }
    public var megabytesPerSecond: Double { messagesPerSecond * Double(size) / 1e6 }
}

/// `bench send`: N copies of one SEND. No receipts: the connection's bulk `publish` (back-pressure, batched
/// flushes) in chunks, so Ctrl-C stops within a chunk. Receipts: sequentially or with at most W outstanding, each
/// RECEIPT's round trip recorded. The SEND frames with receipts are built here and written with `sendFrames`, all
/// those a batch of RECEIPTs makes room for in one write (one flush): `send(receipt:)` flushes every frame and
/// schedules a timeout per receipt, which halves the rate (see bench/RESULTS.md); their RECEIPTs come back as
/// events of the bench's own connection (`router`).
public final class SendBench: @unchecked Sendable {
    public static let chunk = 10_000

    let client: StompClient
    let destination: String
    let headers: StompHeaders
    let body: [UInt8]
    let count: Int
    let mode: BenchReceipts
    let router: BenchEventRouter
    let promise: EventLoopPromise<SendBenchResult>
    var loop: EventLoop { client.eventLoop }
    let receiptPrefix = "bench-\(UInt32.random(in: 0...UInt32.max))-"
    var sentAt: [Int: UInt64] = [:]
    var refillScheduled = false
    var lastProgressNs: UInt64 = 0
    var watchdog: RepeatedTask?

    // event-loop state
    var startNs: UInt64 = 0
    var writtenNs: UInt64 = 0
    var issued = 0          // messages handed to the connection
    var completed = 0       // messages written (none) or confirmed (receipts)
    var outstanding = 0
    var receipts = 0
    var recorder = LatencyRecorder()
    var stopped = false
    var finished = false

    init(client: StompClient, destination: String, headers: StompHeaders, size: Int, count: Int, mode: BenchReceipts,
         router: BenchEventRouter) {
        self.client = client
        self.router = router
        self.destination = destination
        self.headers = headers
        self.body = Self.body(size: size)
        self.count = count
        self.mode = mode
        self.promise = client.eventLoop.makePromise()
    }

    /// A printable body of `size` bytes.
    static func body(size: Int) -> [UInt8] {
        let pattern = Array("stompsh bench payload 0123456789 abcdefghijklmnopqrstuvwxyz ".utf8)
        return (0..<max(0, size)).map { pattern[$0 % pattern.count] }
    }

    public static func start(client: StompClient, destination: String, headers: StompHeaders = [:], size: Int,
                             count: Int, receipts: BenchReceipts, router: BenchEventRouter) -> SendBench {
        let b = SendBench(client: client, destination: destination, headers: headers, size: size, count: count, mode: receipts,
                          router: router)
        b.loop.execute { b.begin() }
        return b
    }

    public var result: EventLoopFuture<SendBenchResult> { promise.futureResult }

    /// Ctrl-C: no new messages; the result comes when what is in flight is confirmed.
    public func stop() { loop.execute { self.stopped = true; self.maybeFinish() } }

    public func progress() -> EventLoopFuture<BenchProgress> {
        loop.submit { BenchProgress(done: self.completed, elapsedNanoseconds: benchNow() &- self.startNs, live: nil) }
    }

    func begin() {
        startNs = benchNow()
        switch mode {
        case .none: publishChunk()
        case .each, .window:
            router.onFrame = { [self] f in
                switch f.command {
                case .receipt: if let id = f.headers["receipt-id"] { receipt(id) }
                case .error: fail(StompConnectionError.brokerError(ServerError(frame: f)))
                default: break
                }
            }
            router.onClosed = { [self] e in fail(e ?? StompConnectionError.notConnected) }
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

    /// Frames per write: up to 1,000 (like the bare-socket writer) and 256 KiB. The connection's default, 64, writes
    /// 8 KiB at a time with 100 B bodies: 69-96k msg/s here against 84-118k with 2,048 (ActiveMQ, 100k x 100 B).
    var flushEvery: Int {
        let frame = body.count + destination.utf8.count + headers.pairs.reduce(32) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 }
        return max(1, min(1000, 256 * 1024 / frame))
    }

    // no receipts: bulk publish, chunk by chunk, then one SEND with a receipt
    func publishChunk() {
        guard !finished else { return }
        let n = min(Self.chunk, count - issued)
        if stopped || n <= 0 {
            confirm()
            return
        }
        issued += n
        client.publish(destination: destination, headers: headers, body: body, count: n, flushEvery: flushEvery).whenComplete { r in
            switch r {
            case .success(let p):
                self.completed += p.messages
                self.publishChunk()
            case .failure(let e): self.fail(e)
            }
        }
    }

    func confirm() {
        writtenNs = benchNow()
        guard completed > 0 else { maybeFinish(); return }
        let t0 = benchNow()
        client.send(destination: destination, headers: headers, body: body, receipt: true).whenComplete { r in
            switch r {
            case .success:
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
        var frames: [StompFrame] = []
        frames.reserveCapacity(k)
        let now = benchNow()
        for _ in 0..<k {
            issued += 1
            var h = headers
            h["destination"] = destination
            h["receipt"] = receiptPrefix + String(issued)
            frames.append(StompFrame(.send, headers: h, body: body))
            sentAt[issued] = now
        }
        outstanding += k
        client.sendFrames(frames).whenFailure { e in self.fail(e) }
    }

    func receipt(_ id: String) {
        guard !finished, id.hasPrefix(receiptPrefix), let seq = Int(id.dropFirst(receiptPrefix.count)),
              let t0 = sentAt.removeValue(forKey: seq) else { return }
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
        if case .none = mode { return }   // the chunk loop ends with confirm()
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

// MARK: - consume

public struct ConsumeBenchResult: Sendable {
    public var messages: Int
    public var bytes: Int
    /// From the SUBSCRIBE to the Nth message.
    public var elapsedNanoseconds: UInt64
    public var complete: Bool
    public var interrupted: Bool
    public var messagesPerSecond: Double { elapsedNanoseconds > 0 ? Double(messages) / (Double(elapsedNanoseconds) / 1e9) : 0 }
    public var megabytesPerSecond: Double { elapsedNanoseconds > 0 ? Double(bytes) / 1e6 / (Double(elapsedNanoseconds) / 1e9) : 0 }
}

/// `bench consume`: subscribes, counts N messages in an interceptor on the event loop (they never reach the
/// shell's inbox), ACKs each in client-individual mode, then unsubscribes. Stops early after `idleTimeout`
/// without a message. The ACKs of one read's messages are written together with `sendFrames` (one
/// flush): `ack(messageID:)` flushes every ACK, which costs more than half the rate (see bench/RESULTS.md).
public final class ConsumeBench: @unchecked Sendable {
    let client: StompClient
    let destination: String
    let count: Int
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
    var bytes = 0
    var stopped = false
    var ending = false
    var finished = false
    var watchdog: RepeatedTask?
    var acks: [StompFrame] = []
    lazy var version = client.connectedInfo.version
    var ackFlushScheduled = false

    init(client: StompClient, destination: String, count: Int, ack: AckMode, prefetch: Int?, headers: StompHeaders,
         idleTimeout: TimeAmount) {
        self.client = client
        self.destination = destination
        self.count = count
        self.ack = ack
        var h = headers
        if let prefetch {
            h["activemq.prefetchSize"] = String(prefetch)
            h["prefetch-count"] = String(prefetch)
        }
        self.headers = h
        self.idleTimeout = idleTimeout
        self.subscriptionID = "bench-\(UInt32.random(in: 0...UInt32.max))"
        self.promise = client.eventLoop.makePromise()
    }

    public static func start(client: StompClient, destination: String, count: Int, ack: AckMode, prefetch: Int? = nil,
                             headers: StompHeaders = [:], idleTimeout: TimeAmount = .seconds(10)) -> ConsumeBench {
        let b = ConsumeBench(client: client, destination: destination, count: count, ack: ack, prefetch: prefetch,
                             headers: headers, idleTimeout: idleTimeout)
        b.loop.execute { b.begin() }
        return b
    }

    public var result: EventLoopFuture<ConsumeBenchResult> { promise.futureResult }
    public func stop() { loop.execute { self.stopped = true; self.end() } }

    public func progress() -> EventLoopFuture<BenchProgress> {
        loop.submit { BenchProgress(done: self.received, elapsedNanoseconds: benchNow() &- self.startNs, live: nil) }
    }

    func begin() {
        let sub = subscriptionID
        token = client.addInterceptor { [self] frame in
            guard frame.headers["subscription"] == sub else { return false }
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
    lazy var nackExtras: Bool = ack != .auto && client.connectedInfo.version != .v1_0
        && (client.connectedInfo.server ?? "").hasPrefix("RabbitMQ")

    func onMessage(_ frame: StompFrame) {
        guard !ending else {               // after N (or Ctrl-C): not counted, given back
            if nackExtras { _ = client.nack(messageID: frame.headers["ack"] ?? frame.headers["message-id"]) }
            return
        }
        received += 1
        bytes += frame.body.count
        lastNs = benchNow()
        if ack != .auto { queueAck(frame) }
        if received >= count { end() }
    }

    func queueAck(_ frame: StompFrame) {
        let messageID = frame.headers["message-id"] ?? ""
        var h = StompHeaders()
        switch version {
        case .v1_2: h.append("id", frame.headers["ack"] ?? messageID)
        case .v1_1: h.append("message-id", messageID); h.append("subscription", subscriptionID)
        case .v1_0: h.append("message-id", messageID)
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
                                                    complete: self.received >= self.count, interrupted: self.stopped))
        }
    }

    func cleanUp() {
        watchdog?.cancel()
        if let token { client.removeInterceptor(token) }
        token = nil
    }
}

// MARK: - latency

public struct LatencyBenchResult: Sendable {
    public var samples: Int
    public var elapsedNanoseconds: UInt64
    public var recorder: LatencyRecorder
    public var history: [LatencySummary]
}

/// `bench latency`: one probe at a time. `.receipt`: a SEND with a receipt, timed to its RECEIPT. `.selfEcho`:
/// subscribed to the destination, a SEND timed until the same message comes back.
public final class LatencyBench: @unchecked Sendable {
    public enum Mode: Sendable, Equatable { case receipt, selfEcho }

    let client: StompClient
    let destination: String
    let mode: Mode
    let count: Int?
    let intervalNs: UInt64
    let historyNs: UInt64?
    let promise: EventLoopPromise<LatencyBenchResult>
    let subscriptionID = "bench-latency-\(UInt32.random(in: 0...UInt32.max))"
    let body: [UInt8] = Array("stompsh latency probe".utf8)
    var loop: EventLoop { client.eventLoop }

    var startNs: UInt64 = 0
    var total = LatencyRecorder()
    var live = LatencyRecorder()
    var liveStartNs: UInt64 = 0
    var history: [LatencySummary] = []
    var samples = 0
    var seq = 0
    var probeStartNs: UInt64 = 0
    var waitingFor: String?
    var token: InterceptorToken?
    var probeTimeout: Scheduled<Void>?
    var stopped = false
    var finished = false
    /// Completed history intervals not yet taken by the shell (printed as they come).
    var newIntervals: [LatencySummary] = []

    init(client: StompClient, destination: String, mode: Mode, count: Int?, interval: Double, history: Double?) {
        self.client = client
        self.destination = destination
        self.mode = mode
        self.count = count
        self.intervalNs = UInt64(max(0, interval) * 1e9)
        self.historyNs = history.map { UInt64(max(0.001, $0) * 1e9) }
        self.promise = client.eventLoop.makePromise()
    }

    public static func start(client: StompClient, destination: String, mode: Mode, count: Int?, interval: Double = 0,
                             history: Double? = nil) -> LatencyBench {
        let b = LatencyBench(client: client, destination: destination, mode: mode, count: count, interval: interval,
                             history: history)
        b.loop.execute { b.begin() }
        return b
    }

    public var result: EventLoopFuture<LatencyBenchResult> { promise.futureResult }
    public func stop() { loop.execute { self.stopped = true; if self.waitingFor == nil { self.finish() } } }

    /// Progress: samples so far and the current interval's (or, without --history, all) figures; plus the history
    /// intervals completed since the last call.
    public func progress() -> EventLoopFuture<(BenchProgress, [LatencySummary])> {
        loop.submit {
            self.rollHistory()
            let p = BenchProgress(done: self.samples, elapsedNanoseconds: benchNow() &- self.startNs,
                                  live: (self.historyNs == nil ? self.total : self.live).summary())
            let fresh = self.newIntervals
            self.newIntervals.removeAll()
            return (p, fresh)
        }
    }

    /// History intervals not yet taken by `progress()` (call after the result, from the shell thread).
    public func takeNewIntervals() -> [LatencySummary] {
        (try? loop.submit { () -> [LatencySummary] in
            let fresh = self.newIntervals
            self.newIntervals.removeAll()
            return fresh
        }.wait()) ?? []
    }

    func begin() {
        startNs = benchNow()
        liveStartNs = startNs
        if mode == .selfEcho {
            let sub = subscriptionID
            token = client.addInterceptor { [self] frame in
                guard frame.headers["subscription"] == sub else { return false }
                if let w = waitingFor, frame.headers["stompsh-probe"] == w { probeArrived() }
                return true
            }
            client.subscribe(destination: destination, id: sub, ack: .auto, receipt: true).whenComplete { r in
                switch r {
                case .success: self.probe()
                case .failure(let e): self.fail(e)
                }
            }
        } else {
            probe()
        }
    }

    func fail(_ e: Error) {
        guard !finished else { return }
        finished = true
        probeTimeout?.cancel()
        if let token { client.removeInterceptor(token) }
        promise.fail(e)
    }

    func probe() {
        guard !finished else { return }
        if stopped || (count.map { samples >= $0 } ?? false) { finish(); return }
        seq += 1
        let id = "\(subscriptionID)-\(seq)"
        waitingFor = id
        probeStartNs = benchNow()
        switch mode {
        case .receipt:
            client.send(destination: destination, headers: ["stompsh-probe": id], body: body, receipt: true).whenComplete { r in
                switch r {
                case .success: self.probeArrived()
                case .failure(let e): self.fail(e)
                }
            }
        case .selfEcho:
            client.send(destination: destination, headers: ["stompsh-probe": id], body: body).whenFailure { e in self.fail(e) }
            let timeout = client.options.receiptTimeout
            probeTimeout = loop.scheduleTask(in: timeout) { [self] in
                fail(StompConnectionError.timeout(what: "probe message back from \(destination)",
                                                  seconds: Double(timeout.nanoseconds) / 1e9))
            }
        }
    }

    func probeArrived() {
        guard waitingFor != nil, !finished else { return }
        let rtt = benchNow() &- probeStartNs
        probeTimeout?.cancel()
        waitingFor = nil
        total.record(nanoseconds: rtt)
        live.record(nanoseconds: rtt)
        samples += 1
        rollHistory()
        if intervalNs > 0, !stopped {
            loop.scheduleTask(in: .nanoseconds(Int64(intervalNs))) { [self] in probe() }
        } else {
            probe()
        }
    }

    func rollHistory() {
        guard let h = historyNs else { return }
        let now = benchNow()
        if now &- liveStartNs >= h {
            let s = live.summary()
            history.append(s)
            newIntervals.append(s)
            live.reset()
            liveStartNs = now
        }
    }

    func finish() {
        guard !finished else { return }
        finished = true
        probeTimeout?.cancel()
        let end = benchNow()
        let done = { [self] in
            if let token { client.removeInterceptor(token) }
            if historyNs != nil, live.count > 0 {
                let s = live.summary()
                history.append(s)
                newIntervals.append(s)
            }
            promise.succeed(LatencyBenchResult(samples: samples, elapsedNanoseconds: end &- startNs, recorder: total,
                                               history: history))
        }
        if mode == .selfEcho {
            client.unsubscribe(id: subscriptionID, receipt: true).whenComplete { _ in done() }
        } else {
            done()
        }
    }
}
