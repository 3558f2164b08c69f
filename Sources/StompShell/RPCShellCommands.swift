// `rpc call|serve|discover|methods|bench`: thin shell commands over RPCCommands (wire format: docs/rpc.md).
//
// `rpc` is one table entry whose first argument is the subcommand; the rest of the line is tokenized here,
// JSON-aware (quotes, brackets and braces are kept), so typed literals like {"k":[1, 2]} reach the literal
// parser intact and errors point at their column.
import Foundation
import NIOCore
import NIOConcurrencyHelpers
import StompProto
import StompConnection
import RPCCommands
import StompBench

public enum RPCShellCommands {
    /// The subcommands, their arguments and the options each takes (declared once, in the command table; the
    /// options are read from the rest of the line by `RPCCommandLine`).
    static let subcommandSpecs = [
        SubcommandSpec("call", summary: "call METHOD at DEST and print the result and the round-trip time",
                       arguments: callArguments,
                       options: ["--timeout", "--header", "--params", "--reply-to", "--json"],
                       help: """
                       Calls METHOD at DEST and prints the result (pretty JSON) and the round-trip time (`set timing off`
                       hides it). ARGs are typed literals: 42, 4.2, "text", bare words (strings), true, false, null,
                       [1,"a"], {"k":1}; NAME=VALUE arguments give params by name. An error reply or a timeout fails.
                       """),
        SubcommandSpec("serve", summary: "answer calls on DEST until Ctrl-C (or --count requests)",
                       arguments: [ArgumentSpec("DEST", .destination, help: "the destination to serve")],
                       options: ["--count", "--exec", "--concurrency", "--quiet", "--json", "--header"],
                       help: """
                       Answers calls on DEST: echo, add, sleep, fail, rpc.discover; --exec COMMAND answers the others
                       (request JSON on stdin, reply from stdout). Takes at most N requests at once (default 64).
                       """),
        SubcommandSpec("discover", summary: "call rpc.discover and keep the methods for completion, hints and checks",
                       arguments: [ArgumentSpec("DEST", .destination, help: "the service's destination")],
                       options: ["--timeout", "--reply-to", "--json"],
                       help: "Calls rpc.discover (OpenRPC) and keeps the methods for completion, hints and argument checks."),
        SubcommandSpec("methods", summary: "list the discovered methods with their signatures",
                       arguments: [ArgumentSpec("DEST", .destination, optional: true, help: "one service (default: all)")],
                       options: ["--json"],
                       help: "Lists the discovered methods with their signatures."),
        SubcommandSpec("bench", summary: "keep C calls in flight and print calls/s, errors and latency percentiles",
                       arguments: callArguments,
                       options: ["--calls", "--concurrency", "--connections", "--duration", "--rate", "--timeout",
                                 "--header", "--params", "--reply-to", "--json"],
                       help: """
                       Keeps up to C calls in flight (on each of N connections) and prints calls/s, errors, timeouts, late
                       replies and latency percentiles; exits 1 if a call got an error reply or timed out.
                       """),
    ]
    static let subcommands = subcommandSpecs.map(\.name)
    static let callArguments = [ArgumentSpec("DEST", .destination, help: "the service's destination"),
                                ArgumentSpec("METHOD", .rpcMethod, help: "the method to call"),
                                ArgumentSpec("ARG", .string, optional: true, variadic: true,
                                             help: "typed literal params, or NAME=VALUE params by name")]

    /// `rpc`'s command table entry.
    static let spec = CommandSpec(
        name: "rpc",
        arguments: [ArgumentSpec("SUBCOMMAND", .choice(subcommands), help: "call, serve, discover, methods or bench"),
                    ArgumentSpec("ARGS", .restOfLine, optional: true, verbatim: true,   // RPCCommandLine substitutes
                                 help: "the subcommand's arguments and options")],
        options: [
            OptionSpec("--timeout", value: .duration, valueName: "SECONDS",
                       help: "call, discover, bench: wait this long for a reply (default 10)"),
            OptionSpec.header,
            OptionSpec("--params", value: .json, valueName: "JSON",
                       help: "call, bench: the params as one JSON array or object (instead of ARGs)"),
            OptionSpec("--reply-to", value: .destination, valueName: "DEST",
                       help: "call, discover, bench: replies come to DEST (default: a temporary queue)"),
            .flag("--json", help: "print one JSON object per result"),
            OptionSpec("--count", value: .count, valueName: "N", help: "serve: stop after N requests"),
            OptionSpec("--exec", value: .string, valueName: "COMMAND",
                       help: "serve: COMMAND answers the methods not built in (request JSON on stdin, reply from stdout)"),
            OptionSpec("--concurrency", short: "-c", value: .count, valueName: "N",
                       help: "serve: requests taken at once (default 64); bench: calls in flight (default 1)"),
            .flag("--quiet", short: "-q", help: "serve: no line per call served"),
            OptionSpec("--calls", short: "-n", value: .count, valueName: "CALLS",
                       help: "bench: calls in all (default 10000, unlimited with --duration)"),
            OptionSpec("--connections", value: .count, valueName: "N",
                       help: "bench: N connections, each with C calls in flight (default 1)"),
            OptionSpec("--duration", value: .duration, valueName: "SECONDS", help: "bench: stop after SECONDS"),
            OptionSpec("--rate", value: .number, valueName: "CALLS_PER_S",
                       help: "bench: calls started per second in all (default: as fast as replies come)"),
        ],
        subcommands: subcommandSpecs,
        optionsInRestOfLine: true,
        summary: "typed JSON-RPC 2.0 calls over STOMP, timed: call, serve, discover, methods, bench",
        help: """
        --reply-to DEST: replies come to DEST, subscribed for that one command and unsubscribed after it (by
        default: a temporary queue of the session, or of the bench's connection).
        Wire format: docs/rpc.md.
        """,
        complete: { shell, words, partial in complete(shell: shell, words: words, partial: partial) },
        hint: { shell, words in hint(shell: shell, words: words) },
        run: { shell, cmd in try run(shell, cmd) })

    public static let all: [CommandSpec] = [spec]

    // MARK: session state (per shell)

    final class State: @unchecked Sendable {
        let registry = RPCMethodRegistry()
        var rpc: RPCClient?
        weak var owner: StompClient?
    }
    private static let states = NIOLockedValueBox([ObjectIdentifier: (shell: WeakShell, state: State)]())
    struct WeakShell { weak var shell: Shell? }

    static func state(_ shell: Shell) -> State {
        states.withLockedValue { m in
            m = m.filter { $0.value.shell.shell != nil }
            if let s = m[ObjectIdentifier(shell)] { return s.state }
            let s = State()
            m[ObjectIdentifier(shell)] = (WeakShell(shell: shell), s)
            return s
        }
    }

    /// The methods discovered in this shell's session.
    public static func registry(for shell: Shell) -> RPCMethodRegistry { state(shell).registry }

    /// Runs `body` with an RPC client on the session's connection. Without `replyTo`: the session's client, whose
    /// temporary reply queue is set up once. With `replyTo`: a client of this command alone, subscribed to it and
    /// unsubscribed (receipt awaited) when the command ends, so no later command, here or on another connection,
    /// shares the destination with a subscription left behind.
    static func withRPCClient<T>(_ shell: Shell, replyTo: String?, _ body: (RPCClient) throws -> T) throws -> T {
        let client = try shell.requireClient()
        guard let replyTo else {
            let st = state(shell)
            if let r = st.rpc, st.owner === client { return try body(r) }
            let r = try shell.waitInterruptibly(RPCClient.start(on: client), timeout: ConnectionTimeouts(client.options).receiptWait)
            st.rpc = r
            st.owner = client
            return try body(r)
        }
        let wait = ConnectionTimeouts(client.options).receiptWait     // a SUBSCRIBE's, an UNSUBSCRIBE's RECEIPT
        let r = try shell.waitInterruptibly(RPCClient.start(on: client, replyTo: replyTo), timeout: wait)
        defer { _ = try? shell.waitInterruptibly(r.close(), timeout: wait) }
        return try body(r)
    }

    /// `rpc serve`'s connection: `OwnConnection` keeping the session's reconnect policy, its events turned into
    /// notes (broker ERRORs, reconnects) for the shell to print.
    static func serveConnection(_ shell: Shell, like session: StompClient, notes: NIOLockedValueBox<[String]>) throws -> StompClient {
        let wake = shell.wake
        return try OwnConnection.open(shell, like: session, reconnect: true) { e in
            var note: String?
            switch e {
            case .frame(let f) where f.command == .error:
                note = "broker ERROR: " + FrameFormatter.errorSummary(f)
            case .connectionLost(let r): note = "connection lost: \(r)"
            case .reconnected: note = "reconnected; serving again"
            case .closed(let err?): note = "connection closed: \(err)"
            default: break
            }
            if let note { notes.withLockedValue { $0.append(note) }; wake.signal() }
        }
    }

    typealias Word = RPCCommandLine.Word
    typealias Args = RPCCommandLine.Args

    /// A number option's value; `RPCCommandLine` checked it against its kind's range (`LineParser.validate`).
    static func number(_ a: Args, _ name: String) -> Double? {
        a.option(name).flatMap { Double($0.text) }
    }

    static func headers(_ a: Args) throws -> StompHeaders {
        var h = StompHeaders()
        for w in a.options["--header"] ?? [] {
            guard let (name, value) = HeaderArgument.split(w.text) else {
                throw RPCUsageError("-H: expected NAME:VALUE, got '\(w.text)'", column: w.column)
            }
            h.append(name, value)
        }
        return h
    }

    static func timeout(_ a: Args, default d: Double = 10) throws -> TimeAmount {
        let s = number(a, "--timeout") ?? d
        return .nanoseconds(Int64(s * 1e9))
    }

    // MARK: running

    static func run(_ shell: Shell, _ cmd: ParsedCommand) throws {
        let sub = cmd.arguments[0]
        let line = try RPCCommandLine(cmd, resolve: shell.variables.resolve)
        do {
            let args = try line.arguments()
            switch sub {
            case "call": try call(shell, cmd, args)
            case "serve": try serve(shell, cmd, args)
            case "discover": try discover(shell, cmd, args)
            case "methods": try methods(shell, cmd, args)
            case "bench": try bench(shell, cmd, args)
            default: throw ShellError.usage("unknown rpc subcommand '\(sub)' (\(subcommands.joined(separator: ", ")))", column: cmd.column(ofArgument: 0))
            }
        } catch let e as RPCUsageError {   // a wrong argument, option or param: a usage error (exit status 2)
            throw ShellError.usage(e.message, column: e.column ?? cmd.commandColumn)
        }
    }

    static func jsonMode(_ shell: Shell, _ a: Args) -> Bool { a.flag("--json") || shell.settings.format == .json }

    /// DEST METHOD [ARG]... → (dest, method, params), checked against a discovered description.
    static func target(_ shell: Shell, _ cmd: ParsedCommand, _ a: Args, _ sub: String) throws -> (String, String, JSONValue) {
        guard a.positional.count >= 1 else { throw RPCUsageError("missing argument DEST for 'rpc \(sub)'", column: cmd.endColumn) }
        guard a.positional.count >= 2 else { throw RPCUsageError("missing argument METHOD for 'rpc \(sub)'", column: cmd.endColumn) }
        let dest = a.positional[0].text
        let method = a.positional[1].text
        let params = try RPCCommandLine.callParams(a)
        if let m = registry(for: shell).method(method, at: dest) {
            do { try m.check(params) } catch var e as RPCUsageError {
                if e.column == nil { e.column = a.positional[1].column }
                throw e
            }
        } else if let d = registry(for: shell).description(for: dest) {
            throw RPCUsageError("\(dest) has no method \(method) (rpc discover found: \(d.methods.map(\.name).joined(separator: ", ")))",
                                column: a.positional[1].column)
        }
        return (dest, method, params.params)
    }

    static func call(_ shell: Shell, _ cmd: ParsedCommand, _ a: Args) throws {
        let (dest, method, params) = try target(shell, cmd, a, "call")
        let tmo = try timeout(a)
        let extra = try headers(a)
        let r = try withRPCClient(shell, replyTo: a.option("--reply-to")?.text) { rpc in
            try shell.waitInterruptibly(rpc.call(destination: dest, method: method, params: params, headers: extra, timeout: tmo))
        }
        try printOutcome(shell, method: method, r, json: jsonMode(shell, a))
    }

    static func printOutcome(_ shell: Shell, method: String, _ r: RPCCallResult, json: Bool) throws {
        let ms = StatsFormat.round3(r.milliseconds)
        var o: JSONObject = ["rpc": .string(method)]
        switch r.outcome {
        case .result(let v):
            shell.variables.user["rpc.result"] = v.stringValue ?? v.compact
            o.append("result", v)
            o.append("ms", .number(ms))
            if json { shell.output.emit(JSONValue.object(o).compact) } else {     // the answer: never quieted by -q
                shell.output.answer(text: v.pretty, json: nil)
                if shell.settings.timing { shell.output.info("(\(StatsFormat.fixed(r.milliseconds, 3)) ms)") }
            }
        case .error(let e):
            o.append("error", e.json)
            o.append("ms", .number(ms))
            if json { shell.output.emit(JSONValue.object(o).compact) }
            else if shell.settings.timing { shell.output.info("(\(StatsFormat.fixed(r.milliseconds, 3)) ms)") }
            throw ShellError("rpc \(method): error reply \(e.code): \(e.message)" + (e.data.map { " (\($0.compact))" } ?? ""))
        }
    }

    static func discover(_ shell: Shell, _ cmd: ParsedCommand, _ a: Args) throws {
        guard let destWord = a.positional.first else { throw RPCUsageError("missing argument DEST for 'rpc discover'", column: cmd.endColumn) }
        if a.positional.count > 1 { throw RPCUsageError("unexpected argument '\(a.positional[1].text)'", column: a.positional[1].column) }
        let dest = destWord.text
        let tmo = try timeout(a)
        let r = try withRPCClient(shell, replyTo: a.option("--reply-to")?.text) { rpc in
            try shell.waitInterruptibly(rpc.call(destination: dest, method: "rpc.discover", params: .array([]), timeout: tmo))
        }
        guard case .result(let doc) = r.outcome else {
            if case .error(let e) = r.outcome { throw ShellError("rpc discover \(dest): error reply \(e.code): \(e.message)") }
            return
        }
        let d: RPCServiceDescription
        do { d = try RPCServiceDescription(openRPC: doc) } catch {
            throw ShellError("rpc discover \(dest): not an OpenRPC document: \(error)")
        }
        let reg = registry(for: shell)
        reg.register(d, for: dest)
        shell.completion.add(.destination, dest)
        for m in d.methods { shell.completion.add(.rpcMethod, m.name) }
        if jsonMode(shell, a) {
            shell.output.emit(JSONValue.object(["rpc": "rpc.discover", "result": doc, "ms": .number(StatsFormat.round3(r.milliseconds))]).compact)
        } else {
            var lines = ["\(dest): \(d.title.isEmpty ? "" : d.title + " ")\(d.version.isEmpty ? "" : d.version + ", ")\(d.methods.count) method\(d.methods.count == 1 ? "" : "s")"]
            for m in d.methods { lines.append("  " + m.signature + (m.summary.map { "  — \($0)" } ?? "")) }
            shell.output.answer(text: lines.joined(separator: "\n"), json: nil)
            if shell.settings.timing { shell.output.info("(\(StatsFormat.fixed(r.milliseconds, 3)) ms)") }
        }
    }

    static func methods(_ shell: Shell, _ cmd: ParsedCommand, _ a: Args) throws {
        let reg = registry(for: shell)
        let dests = a.positional.first.map { [$0.text] } ?? reg.destinations
        if let w = a.positional.first, reg.description(for: w.text) == nil {
            throw RPCUsageError("no methods known for \(w.text) (use 'rpc discover \(w.text)')", column: w.column)
        }
        var lines: [String] = []
        var json: [JSONValue] = []
        for d in dests {
            guard let desc = reg.description(for: d) else { continue }
            for m in desc.methods {
                lines.append("\(d)  \(m.signature)" + (m.summary.map { "  — \($0)" } ?? ""))
                json.append(.object(["destination": .string(d), "method": .string(m.name), "signature": .string(m.signature),
                                     "params": .array(m.params.map { .object(["name": .string($0.name), "type": .string($0.typeText), "required": .bool($0.required)]) })]))
            }
        }
        if jsonMode(shell, a) { for j in json { shell.output.emit(j.compact) } }
        else { shell.output.answer(text: lines.isEmpty ? "no methods known (use 'rpc discover DEST')" : lines.joined(separator: "\n"), json: nil) }
    }

    static func serve(_ shell: Shell, _ cmd: ParsedCommand, _ a: Args) throws {
        guard let destWord = a.positional.first else { throw RPCUsageError("missing argument DEST for 'rpc serve'", column: cmd.endColumn) }
        if a.positional.count > 1 { throw RPCUsageError("unexpected argument '\(a.positional[1].text)'", column: a.positional[1].column) }
        let session = try shell.requireClient()
        var remaining = number(a, "--count").map { Int($0) }
        let concurrency = number(a, "--concurrency").map { Int($0) } ?? RPCServerOptions.defaultConcurrency
        let quiet = a.flag("--quiet") || shell.settings.quiet
        let json = jsonMode(shell, a)
        let extra = try headers(a)
        let queue = NIOLockedValueBox([RPCServedCall]())
        let notes = NIOLockedValueBox([String]())
        let wake = shell.wake
        var total = 0
        var announced = false
        // each call served, for the line printed per call (none asked with -q)
        var onServed: (@Sendable (RPCServedCall) -> Void)?
        if !quiet {
            onServed = { call in
                queue.withLockedValue { $0.append(call) }
                wake.signal()
            }
        }
        func flush() {
            for n in notes.withLockedValue({ q -> [String] in defer { q.removeAll() }; return q }) { shell.output.warning(n) }
            for c in queue.withLockedValue({ q -> [RPCServedCall] in defer { q.removeAll() }; return q }) {
                let ms = StatsFormat.fixed(Double(c.nanoseconds) / 1e6, 3)
                if json {
                    var o: JSONObject = ["served": .string(c.method), "ms": .number(StatsFormat.round3(Double(c.nanoseconds) / 1e6))]
                    if let e = c.errorCode { o.append("error", .integer(Int64(e))) }
                    shell.output.emitLine(JSONValue.object(o).compact)
                } else {
                    shell.output.result(text: "\(c.method)  \(ms) ms" + (c.errorCode.map { "  error \($0)" } ?? ""), json: nil)
                }
            }
        }
        // Serves on a connection of its own unless `set trace on` (then on the session's, to show the frames).
        // When the broker ends that connection (ActiveMQ sends ERROR for a reply to a temporary queue whose caller
        // has gone), it connects again and goes on serving.
        var interrupted = false
        try CommandInterrupt.catching(shell) {
          while true {
            let client = shell.settings.trace ? session : try serveConnection(shell, like: session, notes: notes)
            defer { if client !== session { OwnConnection.close(shell, [client]) } }
            let options = RPCServerOptions(destination: destWord.text, concurrency: concurrency, count: remaining,
                                           exec: a.option("--exec")?.text, headers: extra)
            let server = try shell.waitInterruptibly(RPCServer.start(on: client, options: options, onServed: onServed),
                                                     timeout: ConnectionTimeouts(client.options).receiptWait)
            if !announced {
                shell.output.info("serving \(destWord.text) (concurrency \(concurrency)\(remaining.map { ", \($0) calls" } ?? ""); Ctrl-C stops)")
                announced = true
            }
            let done = NIOLockedValueBox(false)
            server.finished.whenComplete { _ in done.withLockedValue { $0 = true }; wake.signal() }
            while !done.withLockedValue({ $0 }) {
                if shell.interrupted {
                    Interrupt.clear()
                    interrupted = true
                    _ = try? shell.waitInterruptibly(server.stop(), timeout: 10)
                    break
                }
                shell.pump(maxWait: 0.5)
                flush()
            }
            flush()
            total += server.servedCount
            if let r = remaining { remaining = r - server.servedCount }
            if interrupted || !server.endedByConnectionLoss || client === session || (remaining.map { $0 <= 0 } ?? false) { break }
            shell.output.warning("connecting again to serve \(destWord.text)")
          }
        }
        shell.output.info("served \(total) call\(total == 1 ? "" : "s")")
        try CommandInterrupt.endScriptIfInterrupted(shell, interrupted)
    }

    static func bench(_ shell: Shell, _ cmd: ParsedCommand, _ a: Args) throws {
        let (dest, method, params) = try target(shell, cmd, a, "bench")
        let calls = number(a, "--calls").map { Int($0) }
        let conc = number(a, "--concurrency").map { Int($0) } ?? 1
        let connections = number(a, "--connections").map { Int($0) } ?? 1
        let duration = number(a, "--duration")
        let rate = number(a, "--rate")
        let replyTo = a.option("--reply-to")
        if let replyTo, connections > 1 {
            throw RPCUsageError("--reply-to: one reply destination cannot serve \(connections) connections (each takes "
                                + "replies meant for the others); leave it out", column: replyTo.column)
        }
        var opts = RPCBenchOptions(destination: dest, method: method, params: params, calls: calls, concurrency: conc,
                                   duration: duration, rate: rate.map { $0 / Double(connections) }, timeout: try timeout(a),
                                   headers: try headers(a))
        let shares = opts.calls.map { benchShares($0, connections) }
        if let shares, shares.contains(0) {
            throw RPCUsageError("--connections: \(connections) connections for \(opts.calls ?? 0) calls",
                                column: a.option("--connections")?.column)
        }
        let json = jsonMode(shell, a)
        let session = try shell.requireClient()
        try CommandInterrupt.catching(shell) {
            let clients = try OwnConnection.open(shell, like: session, count: connections) { _ in { _ in } }
            defer { OwnConnection.close(shell, clients) }
            var engines: [RPCBench] = []
            for (k, c) in clients.enumerated() {
                let rpc = try shell.waitInterruptibly(RPCClient.start(on: c, replyTo: replyTo?.text),
                                                      timeout: ConnectionTimeouts(c.options).receiptWait)
                if let shares { opts.calls = shares[k] }
                engines.append(RPCBench.start(rpc, options: opts))
            }
            let group = BenchGroup(engines, on: clients[0].eventLoop)
            let (result, interrupted) = try BenchShellCommands.drive(shell, cmd, group, json: json) { p in
                BenchShellCommands.Tick(live: "\(p.done) calls  \(StatsFormat.fixed(p.perSecond, 0)) calls/s  "
                                        + "errors \(p.errors)  timeouts \(p.timeouts)")
            }
            let report = result.report
            if json {
                var o = report.json.objectValue ?? JSONObject()
                o["rpc"] = .string(method)
                if connections > 1 { o["connections"] = .integer(Int64(connections)) }
                if interrupted { o["interrupted"] = .bool(true) }
                shell.output.emit(JSONValue.object(o).compact)   // figures: printed under -q too
            } else {
                shell.output.answer(text: "rpc bench \(method) at \(dest), \(conc) in flight"
                                    + (connections > 1 ? " on each of \(connections) connections" : "")
                                    + (interrupted ? " (interrupted)" : "") + "\n" + report.text, json: nil)
            }
            shell.variables.user["rpc.bench.calls_per_s"] = StatsFormat.fixed(result.callsPerSecond, 1)
            try CommandInterrupt.endScriptIfInterrupted(shell, interrupted)
            if result.errors > 0 || result.timeouts > 0 {
                throw ShellError("rpc bench: \(result.errors) error\(result.errors == 1 ? "" : "s") and \(result.timeouts) "
                                 + "timeout\(result.timeouts == 1 ? "" : "s") in \(result.calls) calls"
                                 + (result.firstError.map { " (first: \($0))" } ?? ""))
            }
        }
    }

    // MARK: completion and hints

    /// The words after `rpc SUB` that are positional: an option and the value it takes (per the table) are not.
    static func positionals(_ words: [String]) -> [String] {
        let options = spec.options(forSubcommand: words.dropFirst().first)
        var out: [String] = []
        var i = 2
        while i < words.count {
            let w = words[i]
            i += 1
            if w.hasPrefix("-"), w.count > 1, Double(w) == nil {
                let name = w.split(separator: "=", maxSplits: 1).first.map(String.init) ?? w
                if let o = options.first(where: { $0.long == name || $0.short == name }), o.value != nil, !w.contains("=") { i += 1 }
                continue
            }
            out.append(w)
        }
        return out
    }

    /// Tab completion: the subcommands, then the subcommand's own options (from the table), the values an option
    /// takes, destinations, discovered methods and their parameter names.
    static func complete(shell: Shell, words: [String], partial: String) -> [String]? {
        let reg = registry(for: shell)
        if words.count == 1 { return subcommands }
        let sub = words[1]
        let options = spec.options(forSubcommand: sub)
        if partial.hasPrefix("-") { return options.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) } }
        if words.count > 2, let last = words.last, !last.contains("="),
           let o = options.first(where: { $0.long == last || $0.short == last }), let kind = o.value {
            if kind == .destination { return reg.destinations + Completer.values(kind, shell: shell, command: "rpc", partial: partial) }
            return Completer.values(kind, shell: shell, command: "rpc", partial: partial)
        }
        let positional = positionals(words)
        switch (sub, positional.count) {
        case (_, 0): return reg.destinations + shell.completion[.destination]
        case ("call", 1), ("bench", 1):
            let dest = positional[0]
            if let d = reg.description(for: dest) { return d.methods.map(\.name) }
            return shell.completion[.rpcMethod]
        case ("call", _), ("bench", _):
            guard let m = reg.method(positional[1], at: positional[0]) else { return [] }
            return m.params.map { $0.name + "=" }
        default: return []
        }
    }

    /// The greyed hint: a discovered method's signature, else what the subcommand's synopsis (from the table)
    /// still expects.
    static func hint(shell: Shell, words: [String]) -> String? {
        guard words.count >= 2 else { return subcommands.joined(separator: "|") + " ..." }
        guard let sub = spec.subcommand(named: words[1]) else { return nil }
        let positional = positionals(words)
        if sub.name == "call" || sub.name == "bench", positional.count >= 2 {
            return registry(for: shell).method(positional[1], at: positional[0])?.signature
        }
        guard positional.count < sub.arguments.count else { return nil }
        let rest = sub.arguments[positional.count...].map(CommandSpec.argumentSynopsis)
        return (rest + (positional.isEmpty ? spec.options(forSubcommand: sub.name).map(\.synopsis) : [])).joined(separator: " ")
    }
}

extension Output {
    /// One line to stdout regardless of the format (the `--json` form of rpc output). Suppressed by -q.
    func emitLine(_ text: String) {
        if quiet { return }
        emit(text)
    }
}
