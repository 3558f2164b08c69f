// `bench latency`: one probe at a time, each a SEND timed to its RECEIPT or to its own arrival back.
import NIOCore
import StompProto
import StompConnection
import RPCCommands

public struct LatencyBenchResult: Sendable {
    public var samples: Int
    public var elapsedNanoseconds: UInt64
    public var recorder: LatencyRecorder
    public var history: [LatencySummary]
}

/// `bench latency`: one probe at a time. `.receipt`: a SEND with a receipt, timed to its RECEIPT. `.selfEcho`:
/// subscribed to the destination, a SEND timed until the same message comes back.
public final class LatencyBench: BenchEngine, @unchecked Sendable {
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
    public func progress() -> EventLoopFuture<BenchProgress> {
        loop.submit { BenchProgress(done: self.samples, elapsedNanoseconds: benchNow() &- self.startNs) }
    }

    /// Progress with the current interval's (or, without --history, all) figures, and the history intervals
    /// completed since the last call.
    public func liveProgress() -> EventLoopFuture<(BenchProgress, LatencySummary, [LatencySummary])> {
        loop.submit {
            self.rollHistory()
            let p = BenchProgress(done: self.samples, elapsedNanoseconds: benchNow() &- self.startNs)
            let live = (self.historyNs == nil ? self.total : self.live).summary()
            let fresh = self.newIntervals
            self.newIntervals.removeAll()
            return (p, live, fresh)
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
