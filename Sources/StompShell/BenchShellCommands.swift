// `bench send|consume|latency`: thin shell commands over the engines of StompBench: they parse the command,
// open the bench's own connection(s), poll progress, and print the result. Figures print like `rpc bench`
// (RPCCommands' BenchReport / LatencySummary); `--json` (or `--json` on the command line of stompsh) prints one
// JSON object per bench.
import Foundation
import NIOCore
import StompProto
import StompConnection
import RPCCommands
import StompBench

public enum BenchShellCommands {
    /// The subcommands and the options each takes (declared once, in the command table).
    static let subcommandSpecs = [
        SubcommandSpec("send", summary: "publish N messages and measure the send rate",
                       arguments: [ArgumentSpec("DEST", .destination, help: "destination")],
                       options: ["--count", "--size", "--receipts", "--prebuilt", "--connections", "--header", "--json"],
                       help: """
                       Publishes N messages of BYTES bytes, each with its own sequence number and send timestamp (headers
                       stompsh-bench-stream, -seq, -sent), and prints messages/s and MB/s, counted until the broker
                       confirmed the last one (a RECEIPT on it). With receipts: their round-trip percentiles. --prebuilt:
                       one frame written N times, the raw ceiling. Memory stays flat for any N.
                       """),
        SubcommandSpec("consume", summary: "consume N messages and measure the consume rate and end-to-end latency",
                       arguments: [ArgumentSpec("DEST", .destination, help: "destination")],
                       options: ["--count", "--ack", "--prefetch", "--timeout", "--connections", "--header", "--json"],
                       help: """
                       Subscribes and counts N messages (the destination must hold them), then unsubscribes; prints
                       messages/s, MB/s, lost, duplicated and out-of-order sequence numbers and the end-to-end latency
                       (send timestamp to arrival). Stops after --timeout seconds without a message.
                       """),
        SubcommandSpec("latency", summary: "round trips one at a time: min/avg/p50/p99",
                       arguments: [ArgumentSpec("DEST", .destination, optional: true, help: "destination")],
                       options: ["--count", "--history", "--interval", "--mode", "--json"],
                       help: """
                       Round trips one at a time, with live min/avg/p50/p99 on a terminal (Ctrl-C stops), like
                       redis-cli --latency. Without DEST: SEND with a receipt to \(defaultLatencyDestination); with DEST: the
                       message sent to DEST comes back to this session's subscription.
                       """),
    ]
    static let subcommands = subcommandSpecs.map(\.name)
    static let defaultCount = 100_000
    static let defaultSize = 100
    static let defaultLatencyCountInScripts = 1_000
    static let defaultLatencyDestination = "/topic/stompsh.bench.latency"

    public static let all: [CommandSpec] = [
        CommandSpec(
            name: "bench",
            arguments: [ArgumentSpec("SUBCOMMAND", .choice(subcommands), help: "send, consume or latency"),
                        ArgumentSpec("DEST", .destination, optional: true, help: "destination")],
            options: [
                OptionSpec("--count", short: "-n", value: .count, valueName: "N",
                           help: "messages (send, consume: default 100000) or samples (latency: default unlimited "
                               + "interactively, 1000 in scripts)"),
                OptionSpec("--size", value: .bodySize, valueName: "BYTES", help: "send: body size (default 100)"),
                OptionSpec("--receipts", value: .string, valueName: "none|each|window:W",
                           help: "send: a receipt on the last message only (default), one each waited for, or W outstanding"),
                .flag("--prebuilt", help: "send: one frame encoded once and written N times (no sequence numbers or "
                          + "timestamps): the raw ceiling of broker and socket"),
                OptionSpec("--connections", value: .count, valueName: "N",
                           help: "send, consume: N connections in parallel, spread over the event-loop threads (default 1)"),
                OptionSpec("--ack", value: .choice(["auto", "client-individual"]), help: "consume: ack mode (default auto)"),
                OptionSpec("--prefetch", value: .count, valueName: "N",
                           help: "consume: broker prefetch (activemq.prefetchSize, prefetch-count)"),
                OptionSpec("--history", value: .duration, valueName: "SECONDS",
                           help: "latency: print a line of figures every SECONDS and start a new interval"),
                OptionSpec("--interval", value: .duration, valueName: "SECONDS",
                           help: "latency: pause between probes (default 0)"),
                OptionSpec("--mode", value: .choice(["receipt", "self"]),
                           help: "latency: SEND+RECEIPT round trip (default without DEST) or send to self and receive "
                               + "(default with DEST)"),
                OptionSpec("--timeout", value: .duration, valueName: "SECONDS",
                           help: "consume: stop after this long without a message (default 10)"),
                OptionSpec.header,
                .flag("--json", help: "print the figures as one JSON object"),
            ],
            subcommands: subcommandSpecs,
            summary: "measure the broker and the client: send rate, consume rate, round-trip latency",
            help: """
            Ctrl-C stops a bench and prints what it measured (in a script, the script then ends with status 130). A
            progress line shows on a terminal. A bench runs on connections of its own to the session's broker (same
            options, but no trace, heart-beats or reconnect): --connections N opens N.
            """,
            needsConnection: true,
            run: { shell, cmd in try run(shell, cmd) }),
    ]

    // MARK: dispatch

    static func run(_ shell: Shell, _ cmd: ParsedCommand) throws {
        let sub = cmd.arguments[0]
        let session = try shell.requireClient()
        try CommandInterrupt.catching(shell) {
            switch sub {
            case "send": try send(shell, cmd, session)
            case "consume": try consume(shell, cmd, session)
            default: try latency(shell, cmd, session)
            }
        }
    }

    static func destination(_ cmd: ParsedCommand, _ sub: String) throws -> String {
        guard let d = cmd.argument(1), !d.isEmpty else {
            throw ShellError.usage("missing argument DEST for 'bench \(sub)'", column: cmd.endColumn)
        }
        return d
    }

    static func integer(_ cmd: ParsedCommand, _ long: String, min: Int) throws -> Int? {
        guard let v = cmd.option(long) else { return nil }
        guard let n = Int(v), n >= min else {
            throw ShellError.usage("\(long): expected an integer >= \(min), got '\(v)'", column: cmd.column(ofOption: long))
        }
        return n
    }

    /// `-H NAME:VALUE`: the parser `send` uses (one rule, errors at the option's column).
    static func headers(_ cmd: ParsedCommand) throws -> StompHeaders { try CoreCommands.headers(cmd) }

    static func jsonMode(_ shell: Shell, _ cmd: ParsedCommand) -> Bool {
        cmd.flag("--json") || shell.settings.format == .json
    }

    // MARK: send

    static func send(_ shell: Shell, _ cmd: ParsedCommand, _ session: StompClient) throws {
        let dest = try destination(cmd, "send")
        let n = try integer(cmd, "--count", min: 1) ?? defaultCount
        let size = try integer(cmd, "--size", min: 0) ?? defaultSize
        let connections = try integer(cmd, "--connections", min: 1) ?? 1
        let prebuilt = cmd.flag("--prebuilt")
        var mode = BenchReceipts.none
        if let r = cmd.option("--receipts") {
            guard let m = BenchReceipts(r) else {
                throw ShellError.usage("--receipts: expected none, each or window:W (W >= 1), got '\(r)'",
                                 column: cmd.column(ofOption: "--receipts"))
            }
            mode = m
        }
        if prebuilt && mode != .none {
            throw ShellError.usage("--prebuilt writes one frame over and over: it goes with --receipts none only",
                             column: cmd.column(ofOption: "--prebuilt"))
        }
        if connections > n {
            throw ShellError.usage("--connections: \(connections) connections for \(n) messages", column: cmd.column(ofOption: "--connections"))
        }
        let h = try headers(cmd)
        let routers = (0..<connections).map { _ in BenchEventRouter() }
        let clients = try OwnConnection.open(shell, like: session, count: connections) { k in { e in routers[k].handle(e) } }
        defer { OwnConnection.close(shell, clients) }
        let run = BenchMessage.runToken()
        let shares = benchShares(n, connections)
        let group = BenchGroup(clients.indices.map { k in
            SendBench.start(client: clients[k], destination: dest, headers: h, size: size, count: shares[k],
                            receipts: mode, prebuilt: prebuilt, stream: "\(run)-\(k + 1)", router: routers[k])
        }, on: clients[0].eventLoop)
        let (r, interrupted) = try drive(shell, cmd, group) { p in Tick(live: "\(p.done) msgs  \(StatsFormat.fixed(p.perSecond, 0)) msgs/s") }
        var counters: [(String, Int64)] = [("messages", Int64(r.messages)), ("size", Int64(r.size))]
        if mode != .none { counters.append(("receipts", Int64(r.receipts))) }
        let report = BenchReport(name: "send", elapsedNanoseconds: r.elapsedNanoseconds, counters: counters,
                                 rates: [("msgs/s", r.messagesPerSecond), ("MB/s", r.megabytesPerSecond)],
                                 latency: r.latency?.summary())
        var extra: [(String, JSONValue)] = [("destination", .string(dest)), ("receipts_mode", .string(mode.description)),
                                            ("connections", .integer(Int64(connections))),
                                            ("written_s", .number(StatsFormat.round3(Double(r.writtenNanoseconds) / 1e9)))]
        if prebuilt { extra.append(("prebuilt", .bool(true))) }
        if r.interrupted { extra.append(("interrupted", .bool(true))) }
        let title = "bench send \(dest): \(r.messages) x \(size) B, receipts \(mode)"
            + (connections > 1 ? ", \(connections) connections" : "")
            + (prebuilt ? ", prebuilt (one frame written over and over: the raw ceiling)" : "")
            + (r.interrupted ? " (interrupted)" : "")
        emit(shell, cmd, report: report, title: title, extra: extra)
        shell.variables.user["bench.msgs_per_s"] = StatsFormat.fixed(r.messagesPerSecond, 1)
        try CommandInterrupt.endScriptIfInterrupted(shell, interrupted)
    }

    // MARK: consume

    static func consume(_ shell: Shell, _ cmd: ParsedCommand, _ session: StompClient) throws {
        let dest = try destination(cmd, "consume")
        let n = try integer(cmd, "--count", min: 1) ?? defaultCount
        let ack: AckMode = cmd.option("--ack") == "client-individual" ? .clientIndividual : .auto
        let prefetch = try integer(cmd, "--prefetch", min: 1)
        let connections = try integer(cmd, "--connections", min: 1) ?? 1
        let idle = try cmd.seconds("--timeout", default: 10)
        let h = try headers(cmd)
        let clients = try OwnConnection.open(shell, like: session, count: connections) { _ in { _ in } }
        defer { OwnConnection.close(shell, clients) }
        let quota = BenchQuota(n)
        let group = BenchGroup(clients.map { c in
            ConsumeBench.start(client: c, destination: dest, count: n, quota: quota, ack: ack, prefetch: prefetch,
                               headers: h, idleTimeout: .nanoseconds(Int64(idle * 1e9)))
        }, on: clients[0].eventLoop)
        let (r, interrupted) = try drive(shell, cmd, group) { p in Tick(live: "\(p.done) msgs  \(StatsFormat.fixed(p.perSecond, 0)) msgs/s") }
        let e2e = r.endToEnd.count > 0 ? r.endToEnd.summary() : nil
        let report = BenchReport(name: "consume", elapsedNanoseconds: r.elapsedNanoseconds,
                                 counters: [("messages", Int64(r.messages)), ("bytes", Int64(r.bytes)),
                                            ("lost", Int64(r.check.lost)), ("duplicates", Int64(r.check.duplicates)),
                                            ("out_of_order", Int64(r.check.outOfOrder))],
                                 rates: [("msgs/s", r.messagesPerSecond), ("MB/s", r.megabytesPerSecond)], latency: e2e)
        var extra: [(String, JSONValue)] = [("destination", .string(dest)), ("ack", .string(ack.rawValue)),
                                            ("connections", .integer(Int64(connections))),
                                            ("unsequenced", .integer(Int64(r.check.unsequenced))),
                                            ("streams", .integer(Int64(r.check.streamCount))),
                                            ("complete", .bool(r.complete))]
        if r.interrupted { extra.append(("interrupted", .bool(true))) }
        extra.append(("beyond", .integer(Int64(r.beyond))))
        let title = "bench consume \(dest): \(r.messages) of \(n), ack \(ack.rawValue)"
            + (connections > 1 ? ", \(connections) connections" : "")
            + (r.interrupted ? " (interrupted)" : r.complete ? "" : " (stopped: \(Shell.seconds(idle)) s without a message)")
            + (e2e == nil ? "" : "; latency: send timestamp to arrival")
        emit(shell, cmd, report: report, title: title, extra: extra)
        if ack == .auto && r.beyond > 0 {
            // what a user asking for N does not expect: more than N taken off the queue
            shell.output.warning("bench consume: \(r.beyond) more \(DrainCommands.plural(r.beyond)) (at least) arrived "
                                 + "after the \(r.interrupted ? "interruption" : "last one counted") and \(r.beyond == 1 ? "was" : "were")"
                                 + " consumed uncounted (ack auto: the broker sends ahead and takes what it sent as delivered); "
                                 + "--ack client-individual takes exactly \(n)")
        }
        shell.variables.user["bench.msgs_per_s"] = StatsFormat.fixed(r.messagesPerSecond, 1)
        try CommandInterrupt.endScriptIfInterrupted(shell, interrupted)
        if !r.complete && !r.interrupted {
            throw ShellError("bench consume: only \(r.messages) of \(n) messages arrived "
                             + "(\(Shell.seconds(idle)) s without a message)")
        }
    }

    // MARK: latency

    static func latency(_ shell: Shell, _ cmd: ParsedCommand, _ session: StompClient) throws {
        let given = cmd.argument(1)
        let dest = given ?? defaultLatencyDestination
        let mode: LatencyBench.Mode
        switch cmd.option("--mode") {
        case "receipt": mode = .receipt
        case "self": mode = .selfEcho
        default: mode = given == nil ? .receipt : .selfEcho
        }
        let count = try integer(cmd, "--count", min: 1) ?? (shell.interactive ? nil : defaultLatencyCountInScripts)
        let history = try cmd.option("--history").map { _ in try cmd.seconds("--history", default: 1) }
        if let h = history, h <= 0 {
            throw ShellError.usage("--history: expected a number of seconds > 0", column: cmd.column(ofOption: "--history"))
        }
        let interval = try cmd.seconds("--interval", default: 0)
        let json = jsonMode(shell, cmd)
        let client = try OwnConnection.open(shell, like: session)
        defer { OwnConnection.close(shell, [client]) }
        let b = LatencyBench.start(client: client, destination: dest, mode: mode, count: count, interval: interval,
                                   history: history)
        let (r, interrupted) = try drive(shell, cmd, result: b.result, stop: b.stop, alwaysPoll: !json && history != nil) {
            b.liveProgress().map { (_, l, fresh) in
                // completed intervals are permanent lines (pretty mode), printed above the live line
                let lines = json ? [] : fresh.map(historyLine)
                guard l.count > 0 else { return Tick(lines: lines, live: "waiting for the first round trip...") }
                return Tick(lines: lines, live: liveLine(l))
            }
        }
        let summary = r.recorder.summary()
        if json {
            var o: JSONObject = ["bench": "latency", "destination": .string(dest),
                                 "mode": .string(mode == .receipt ? "receipt" : "self"),
                                 "samples": .integer(Int64(r.samples)),
                                 "elapsed_s": .number(StatsFormat.round3(Double(r.elapsedNanoseconds) / 1e9)),
                                 "latency_ms": summary.json]
            if history != nil { o.append("history", .array(r.history.map(\.json))) }
            writeJSON(shell, o)
        } else {
            if history != nil {   // intervals completed since the last poll, and the last partial one
                for l in b.takeNewIntervals() { shell.output.sinkLine(historyLine(l)) }
            }
            let what = mode == .receipt ? "SEND+RECEIPT to \(dest)" : "send to self via \(dest)"
            shell.output.answer(text: "bench latency, \(what): \(r.samples) samples in "
                                + "\(StatsFormat.fixed(Double(r.elapsedNanoseconds) / 1e9, 3)) s"
                                + (interrupted ? " (interrupted)" : "") + "\n" + summary.text, json: nil)
        }
        try CommandInterrupt.endScriptIfInterrupted(shell, interrupted)
    }

    /// `min 0.120  avg 0.210  p50 0.200  p99 0.900  max 1.500 ms  (1504 samples)`
    static func liveLine(_ l: LatencySummary) -> String {
        "min \(StatsFormat.ms(Double(l.minNanoseconds)))  avg \(StatsFormat.ms(l.meanNanoseconds))  "
            + "p50 \(StatsFormat.ms(Double(l.p50Nanoseconds)))  p99 \(StatsFormat.ms(Double(l.p99Nanoseconds)))  "
            + "max \(StatsFormat.ms(Double(l.maxNanoseconds))) ms  (\(l.count) samples)"
    }

    static func historyLine(_ l: LatencySummary) -> String {
        liveLine(l) + "  -- \(timestamp())"
    }

    static func timestamp() -> String {
        var t = time(nil)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return String(format: "%02d:%02d:%02d", tmv.tm_hour, tmv.tm_min, tmv.tm_sec)
    }

    // MARK: running and printing

    /// What a progress poll gives: lines to print for good (history intervals) and the live line.
    struct Tick { var lines: [String] = []; var live: String }

    /// `drive` for an engine whose progress line is made from its `BenchProgress`.
    static func drive<E: BenchEngine>(_ shell: Shell, _ cmd: ParsedCommand, _ engine: E, json: Bool? = nil,
                                      line: @escaping (BenchProgress) -> Tick) throws -> (E.Outcome, interrupted: Bool) {
        try drive(shell, cmd, result: engine.result, stop: engine.stop, json: json) { engine.progress().map(line) }
    }

    /// Waits for a bench on the shell thread: progress line on a terminal (stderr, ~4 times a second), frames and
    /// events processed meanwhile, first Ctrl-C stops the bench (its partial figures are the result, and
    /// `interrupted` is true), a second one abandons it. `alwaysPoll`: poll progress even without a terminal
    /// (for its permanent lines).
    static func drive<T>(_ shell: Shell, _ cmd: ParsedCommand, result: EventLoopFuture<T>, stop: @escaping () -> Void,
                         alwaysPoll: Bool = false, json: Bool? = nil,
                         progress: @escaping () -> EventLoopFuture<Tick>) throws -> (T, interrupted: Bool) {
        let wake = shell.wake
        let done = BenchBox<Result<T, Error>>()
        result.whenComplete { r in done.set(r); wake.signal() }
        let tty = isatty(2) == 1 && !(json ?? jsonMode(shell, cmd)) && !shell.output.quiet
        let pending = BenchBox<Result<Tick, Error>>()
        var asked = false
        var shown = false
        var stopRequested = false
        var nextPoll = Date().addingTimeInterval(0.25)
        func show(_ r: Result<Tick, Error>) {
            guard case .success(let t) = r else { return }
            for l in t.lines { shell.output.sinkLine(l) }
            if tty {
                shell.output.sink("\r\u{1B}[K" + t.live, .stderr)
                shown = true
            }
        }
        while done.get() == nil {
            if shell.interrupted {
                Interrupt.clear()
                if stopRequested { break }
                stopRequested = true
                stop()
            }
            if tty || alwaysPoll, !asked, Date() >= nextPoll {
                asked = true
                progress().whenComplete { r in pending.set(r); wake.signal() }
            }
            shell.pump(maxWait: 0.25)
            if asked, let r = pending.take() {
                asked = false
                nextPoll = Date().addingTimeInterval(0.25)
                show(r)
            }
        }
        if shown { shell.output.sink("\r\u{1B}[K", .stderr) }
        guard done.get() != nil else { throw ShellError("interrupted", column: nil, exitStatus: shell.interactive ? 1 : 130) }
        return (try shell.waitInterruptibly(result), stopRequested)
    }

    /// Pretty: a title line then the report's lines; JSON: one object (report + extra + memory).
    static func emit(_ shell: Shell, _ cmd: ParsedCommand, report: BenchReport, title: String, extra: [(String, JSONValue)]) {
        let mem = BenchMemory.current()
        if jsonMode(shell, cmd) {
            var o = JSONObject()
            for (k, v) in report.json.objectValue ?? JSONObject() {
                o.append(k == "MB_per_s" ? "mb_per_s" : k, v)
            }
            for (k, v) in extra { o.append(k, v) }
            if let mem {
                o.append("rss_mb", .number(StatsFormat.round3(Double(mem.rssKiB) / 1024)))
                o.append("peak_rss_mb", .number(StatsFormat.round3(Double(mem.peakKiB) / 1024)))
            }
            writeJSON(shell, o)
        } else {
            var text = title + "\n" + report.text
            if let mem {
                text += "\nmemory MB  rss \(StatsFormat.fixed(Double(mem.rssKiB) / 1024, 1))  "
                    + "peak \(StatsFormat.fixed(Double(mem.peakKiB) / 1024, 1))"
            }
            shell.output.answer(text: text, json: nil)
        }
    }

    /// A bench's figures are what it was asked for: printed under -q too (-q quiets chatter only).
    static func writeJSON(_ shell: Shell, _ o: JSONObject) {
        shell.output.sink(JSONValue.object(o).compact + "\n", .stdout)
    }
}

/// A value handed from the event loop to the shell thread.
final class BenchBox<V>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: V?
    func set(_ v: V) { lock.lock(); value = v; lock.unlock() }
    func get() -> V? { lock.lock(); defer { lock.unlock() }; return value }
    /// Returns the value and empties the box.
    func take() -> V? { lock.lock(); defer { value = nil; lock.unlock() }; return value }
}

extension Output {
    /// A whole line on stdout, above a progress line (clears it first when stderr is a terminal).
    func sinkLine(_ text: String) {
        if quiet { return }
        if isatty(2) == 1 { sink("\r\u{1B}[K", .stderr) }
        sink(text + "\n", .stdout)
    }
}
