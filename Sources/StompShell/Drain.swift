// browse, drain and dump (the consuming side) on ConsumeEngine; `subscribe --count N`; `wait --idle S`.

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import StompProto
import StompConnection
import RPCCommands

enum DrainCommands {
    static func plural(_ n: Int) -> String { n == 1 ? "message" : "messages" }

    /// Prints a message on standard output (the session's format, or a JSON line); throws when the write failed
    /// (the message must not be acknowledged): the shell's one checked writer says so, and closes the connection.
    static func show(_ shell: Shell, _ f: StompFrame, json: Bool, command: String) throws {
        if json && shell.output.format != .json { shell.output.emit(FrameFormatter.json(f).compact) } else { shell.output.frame(f) }
        try shell.checkOutput()
    }

    /// Before acknowledging what was printed: standard output must still take writes.
    static func stdoutCommit(_ command: String) -> () throws -> Void {
        return {
            if Operator.stdoutBroken() {
                throw ShellError("\(command): standard output is closed; stopped without acknowledging what could not be shown")
            }
        }
    }

    static func runBrowse(_ shell: Shell, _ p: ParsedCommand) throws {
        let dest = p.arguments[0]
        var req = ConsumeRequest(destination: dest, browse: true, verb: "browsed", command: "browse")
        req.max = try Operator.count(p, "--count")
        req.selector = p.option("--selector")
        req.idle = 10
        let json = p.flag("--json")
        let r = try ConsumeEngine.run(shell, req, write: { try show(shell, $0, json: json, command: "browse") },
                                      commit: stdoutCommit("browse"))
        shell.output.answer(text: "browsed \(r.count) \(plural(r.count)) on \(VisibleText.value(dest)) (none consumed)",
                            json: CoreCommands.obj(("browsed", .integer(Int64(r.count))), ("destination", .string(dest))))
    }

    static func runDrain(_ shell: Shell, _ p: ParsedCommand) throws {
        let dest = p.arguments[0]
        var req = ConsumeRequest(destination: dest, verb: "drained", command: "drain")
        req.max = try Operator.count(p, "--max")
        req.idle = try Operator.positive(p, "--idle") ?? 1
        req.selector = p.option("--selector")
        let r: (count: Int, end: ConsumeEnd)
        if let path = p.argument(1) {
            let file = try LineFile(path: path, force: p.flag("--force"), what: "drain")
            r = try ConsumeEngine.run(shell, req, write: { try file.writeLine(MessageLine(frame: $0).encoded) },
                                      commit: { try file.sync() })
            try file.close()
        } else {
            r = try ConsumeEngine.run(shell, req, write: { try show(shell, $0, json: false, command: "drain") },
                                      commit: stdoutCommit("drain"))
        }
        let why = r.end == .max ? "reached --max" : "quiet for \(Shell.seconds(req.idle)) s"
        shell.output.answer(text: "drained \(r.count) \(plural(r.count)) from \(VisibleText.value(dest)) (\(why))",
                            json: CoreCommands.obj(("drained", .integer(Int64(r.count))), ("destination", .string(dest)),
                                                   ("end", .string(r.end.rawValue))))
    }

    static func runDump(_ shell: Shell, _ p: ParsedCommand) throws {
        let dest = p.arguments[0], path = p.arguments[1]
        let browse = p.flag("--browse")
        var req = ConsumeRequest(destination: dest, browse: browse, verb: "dumped", command: "dump")
        req.max = try Operator.count(p, "--count")
        req.idle = try Operator.positive(p, "--idle") ?? (browse ? 10 : 1)
        req.selector = p.option("--selector")
        if browse, let c = shell.client, !BrokerFamily(server: c.connectedInfo.server).canBrowse {
            throw ConsumeEngine.browseRefusal(BrokerFamily(server: c.connectedInfo.server), command: "dump --browse")
        }
        let file = try LineFile(path: path, force: p.flag("--force"), what: "dump")
        let r = try ConsumeEngine.run(shell, req, write: { try file.writeLine(MessageLine(frame: $0).encoded) },
                                      commit: { try file.sync() })
        try file.close()
        let how = browse ? "browsed, none consumed" : "consumed"
        shell.output.answer(text: "dumped \(r.count) \(plural(r.count)) from \(VisibleText.value(dest)) to \(path) (\(how))",
                            json: CoreCommands.obj(("dumped", .integer(Int64(r.count))), ("destination", .string(dest)),
                                                   ("file", .string(path)), ("browse", .bool(browse))))
    }

    // MARK: subscribe --count

    /// `subscribe DEST --count N`: the first N messages are shown, each acknowledged once it was written to
    /// standard output, then the subscription ends. Underneath: a prefetch of N, ack mode client (one cumulative
    /// ACK per printed batch; on RabbitMQ in a transaction committed at the end, and only without another
    /// acknowledging subscription on the connection, else client-individual, an ACK each); one that
    /// still arrives after the N-th is not acknowledged and goes back to the queue (`CountedSubscription`).
    static func subscribeCounted(_ shell: Shell, _ p: ParsedCommand, count n: Int) throws {
        let client = try shell.requireClient()
        let dest = p.arguments[0]
        if let a = p.option("--ack"), a != "auto" {
            throw ShellError("--count takes the N messages with ack auto; with --ack \(a) acknowledge them yourself and "
                             + "'unsubscribe'", column: p.column(ofOption: "--count"), exitStatus: 2)
        }
        guard n > 0 else { throw ShellError("--count must be at least 1", column: p.column(ofOption: "--count"), exitStatus: 2) }
        let family = BrokerFamily(server: client.connectedInfo.server)
        var headers = try CoreCommands.headers(p)
        if headers[family.prefetchHeader] == nil { headers[family.prefetchHeader] = String(n) }
        let id = p.option("--id") ?? Operator.makeSubscriptionID("count")
        // RabbitMQ's cumulative ACK settles other subscriptions' messages too: only without another acknowledging one
        let othersAcknowledge = family == .rabbitMQ
            ? try Operator.waitFor(shell, client.query { $0.subscriptions.contains { $0.ack != .auto } }, what: "subscribe \(dest)")
            : false
        let prefetch = headers[family.prefetchHeader].flatMap { Int($0) } ?? n
        // RabbitMQ: the N are acknowledged together after the N-th, so a smaller prefetch stops the deliveries for good
        if family == .rabbitMQ, prefetch < n {
            let column = p.optionValues.last { $0.long == "--header" && HeaderArgument.split($0.value)?.0 == family.prefetchHeader }?
                .column ?? p.column(ofOption: "--header")
            throw ShellError("on RabbitMQ --count acknowledges the messages together after the N-th: \(family.prefetchHeader) "
                             + "\(prefetch) is below --count \(n), and the broker would stop sending at \(prefetch); give at least "
                             + "\(n) or leave it out", column: column, exitStatus: 2)
        }
        let counter = CountedSubscription(client: client, id: id, limit: n, prefetch: prefetch, family: family,
                                          othersAcknowledge: othersAcknowledge,
                                          version: client.connectedInfo.version)
        // registered before the SUBSCRIBE: messages can be printed while its receipt is awaited
        shell.countedSubscriptions[id] = counter
        do {
            _ = try Operator.waitFor(shell, client.subscribe(destination: dest, id: id, ack: counter.ackMode,
                                                            headers: headers, receipt: true), what: "subscribe \(dest)")
        } catch {
            shell.countedSubscriptions[id] = nil
            counter.cancel()
            throw error
        }
        shell.completion.add(.destination, dest)
        shell.output.result(text: "subscribed to \(VisibleText.value(dest)) (id \(id), ack auto, until \(n) \(plural(n)))",
                            json: CoreCommands.obj(("subscribed", .string(dest)), ("id", .string(id)),
                                                   ("ack", .string("auto")), ("count", .integer(Int64(n)))))
    }

    // MARK: wait --idle

    /// `wait --idle S`: consumes received messages until none arrived for S seconds; `--timeout`, when given,
    /// bounds the whole wait (it fails if the destination never goes quiet).
    static func waitIdle(_ shell: Shell, _ p: ParsedCommand) throws {
        guard let idle = try Operator.positive(p, "--idle") else { return }
        let timeout = p.option("--timeout") == nil ? nil : try p.seconds("--timeout", default: 0)
        let filter = p.option("--on")
        let start = Date()
        var last = Date()
        var got = 0
        shell.processEvents()
        while true {
            let taken = shell.inbox.consumeArrivals(upTo: .max, on: filter)
            got += taken
            if taken > 0 { last = Date() }
            let quiet = Date().timeIntervalSince(last)
            if quiet >= idle { break }
            if Interrupt.requested { Interrupt.clear(); throw ShellError("interrupted") }
            if let timeout, Date().timeIntervalSince(start) >= timeout {
                throw ShellError("wait: timed out after \(Shell.seconds(timeout)) s: still not quiet for \(Shell.seconds(idle)) s "
                                 + "(\(got) \(plural(got)) arrived)")
            }
            if shell.client == nil, shell.lostReason != nil {
                throw ShellError.connection("wait: connection lost: \(shell.lostReason ?? "closed")")
            }
            shell.pump(maxWait: min(idle - quiet, 0.25))
        }
        shell.output.result(text: "\(got) \(plural(got)), then quiet for \(Shell.seconds(idle)) s",
                            json: CoreCommands.obj(("waited", .integer(Int64(got))), ("idle", .number(idle))))
    }
}
