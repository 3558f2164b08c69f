// `rpc bench`: up to C calls in flight, for N calls or a duration, optionally at a fixed rate; all on the event loop.
import NIOCore
import StompProto
import RPCCommands

public struct RPCBenchOptions: Sendable {
    public var destination: String
    public var method: String
    public var params: JSONValue
    /// Total calls; nil with a duration = unlimited until the duration ends.
    public var calls: Int?
    public var concurrency: Int
    public var duration: Double?
    /// Calls started per second (nil = as fast as replies allow).
    public var rate: Double?
    public var timeout: TimeAmount
    public var headers: StompHeaders

    public static let defaultCalls = 10_000

    public init(destination: String, method: String, params: JSONValue = .array([]), calls: Int? = nil, concurrency: Int = 1,
                duration: Double? = nil, rate: Double? = nil, timeout: TimeAmount = .seconds(10), headers: StompHeaders = [:]) {
        self.destination = destination; self.method = method; self.params = params
        self.calls = calls ?? (duration == nil ? Self.defaultCalls : nil)
        self.concurrency = max(1, concurrency); self.duration = duration; self.rate = rate; self.timeout = timeout
        self.headers = headers
    }
}

public struct RPCBenchResult: BenchOutcome {
    public var calls: Int          // completed (replied, errored or timed out)
    public var ok: Int
    public var errors: Int         // error replies (and bad replies, send failures)
    public var timeouts: Int
    public var late: Int
    public var elapsedNanoseconds: UInt64
    public var latency: LatencySummary
    public var recorder: LatencyRecorder
    /// The first failure (error reply, bad reply, send failure), for diagnostics.
    public var firstError: String?
    public var connections = 1
    public var callsPerSecond: Double { elapsedNanoseconds > 0 ? Double(calls) / (Double(elapsedNanoseconds) / 1e9) : 0 }

    /// Connections in parallel: counts add up, the elapsed time is the longest, latencies merge.
    public static func merged(_ parts: [RPCBenchResult]) -> RPCBenchResult {
        guard var out = parts.first else { preconditionFailure("no results") }
        if parts.count == 1 { return out }   // its summary is already made (a summary walks the histogram)
        for p in parts.dropFirst() {
            out.calls += p.calls; out.ok += p.ok; out.errors += p.errors; out.timeouts += p.timeouts; out.late += p.late
            out.elapsedNanoseconds = max(out.elapsedNanoseconds, p.elapsedNanoseconds)
            out.recorder.merge(p.recorder)
            out.firstError = out.firstError ?? p.firstError
        }
        out.latency = out.recorder.summary()
        out.connections = parts.count
        return out
    }

    public var report: BenchReport {
        BenchReport(name: "rpc", elapsedNanoseconds: elapsedNanoseconds,
                    counters: [("calls", Int64(calls)), ("ok", Int64(ok)), ("errors", Int64(errors)),
                               ("timeouts", Int64(timeouts)), ("late", Int64(late))],
                    rates: [("calls/s", callsPerSecond)], latency: latency)
    }
}

public final class RPCBench: BenchEngine, @unchecked Sendable {
    let rpc: RPCClient
    let options: RPCBenchOptions
    /// The request, encoded once per STOMP version but for its correlation id.
    let call: RPCPreparedCall
    let promise: EventLoopPromise<RPCBenchResult>
    var loop: EventLoop { rpc.eventLoop }

    // event-loop state
    var recorder = LatencyRecorder()
    var startNs: UInt64 = 0
    var endByNs: UInt64 = .max
    var started = 0
    var completed = 0
    var ok = 0
    var errors = 0
    var timeouts = 0
    var inFlight = 0
    var lateAtStart = 0
    var stopped = false
    var firstError: String?
    var ticker: RepeatedTask?

    init(rpc: RPCClient, options: RPCBenchOptions) {
        self.rpc = rpc
        self.options = options
        self.call = RPCPreparedCall(destination: options.destination,
                                    template: RPCRequestTemplate(method: options.method, params: options.params),
                                    headers: options.headers)
        self.promise = rpc.eventLoop.makePromise()
    }

    /// Runs the benchmark to its end.
    public static func run(_ rpc: RPCClient, options: RPCBenchOptions) -> EventLoopFuture<RPCBenchResult> {
        start(rpc, options: options).result
    }

    /// Starts the benchmark; `result` completes when it ends (or after `stop()`).
    public static func start(_ rpc: RPCClient, options: RPCBenchOptions) -> RPCBench {
        let b = RPCBench(rpc: rpc, options: options)
        rpc.eventLoop.execute { b.begin() }
        return b
    }

    public func progress() -> EventLoopFuture<BenchProgress> {
        loop.submit {
            BenchProgress(done: self.completed, elapsedNanoseconds: self.startNs == 0 ? 0 : benchNow() &- self.startNs,
                          errors: self.errors, timeouts: self.timeouts)
        }
    }

    public var result: EventLoopFuture<RPCBenchResult> { promise.futureResult }

    /// Stops starting calls (Ctrl-C); the result comes when the calls in flight end.
    public func stop() { loop.execute { self.stopped = true; self.maybeFinish() } }

    func begin() {
        lateAtStart = rpc.lateReplies
        startNs = NIODeadline.now().uptimeNanoseconds
        if let d = options.duration { endByNs = startNs &+ UInt64(d * 1e9) }
        if options.duration != nil {
            loop.scheduleTask(in: .nanoseconds(Int64(options.duration! * 1e9))) { [self] in stopped = true; maybeFinish() }
        }
        if let rate = options.rate, rate > 0 {
            let interval = max(1_000_000, Int64(1e9 / rate))
            ticker = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .nanoseconds(interval)) { [self] _ in fill() }
        } else {
            fill()
        }
    }

    /// Starts calls while allowed: in-flight below C, calls left, before the deadline, and on schedule for a rate.
    func fill() {
        while !stopped, inFlight < options.concurrency {
            if let n = options.calls, started >= n { break }
            if let rate = options.rate, rate > 0 {
                let due = Int(Double(NIODeadline.now().uptimeNanoseconds &- startNs) / 1e9 * rate) + 1
                if started >= due { break }
            }
            if endByNs != .max, NIODeadline.now().uptimeNanoseconds >= endByNs { stopped = true; break }
            started += 1
            inFlight += 1
            rpc.issue(call, timeout: options.timeout) { [self] r in
                inFlight -= 1
                completed += 1
                switch r {
                case .success(let res):
                    recorder.record(nanoseconds: res.roundTripNanoseconds)
                    switch res.outcome {
                    case .result: ok += 1
                    case .error(let e):
                        errors += 1
                        if firstError == nil { firstError = e.description }
                    }
                case .failure(.timeout):
                    timeouts += 1
                case .failure(let e):
                    errors += 1
                    if firstError == nil { firstError = e.description }
                    // its connection is gone (or the request cannot be sent): no more calls, the bench ends
                    // with this error once the calls in flight end (they fail alike), not by spinning through
                    // the rest or waiting for their timeouts
                    if e.isConnectionFailure { stopped = true }
                }
                if options.rate == nil { fill() }
                maybeFinish()
            }
        }
        maybeFinish()
    }

    func maybeFinish() {
        let allStarted = stopped || (options.calls.map { started >= $0 } ?? false)
        guard allStarted, inFlight == 0, !promiseDone else { return }
        promiseDone = true
        ticker?.cancel()
        let elapsed = NIODeadline.now().uptimeNanoseconds &- startNs
        promise.succeed(RPCBenchResult(calls: completed, ok: ok, errors: errors, timeouts: timeouts,
                                       late: rpc.lateReplies - lateAtStart, elapsedNanoseconds: elapsed,
                                       latency: recorder.summary(), recorder: recorder, firstError: firstError))
    }
    var promiseDone = false
}
