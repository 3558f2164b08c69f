// Script commands: wait, expect, expect-error, repeat.

import Foundation
import StompProto
import RPCCommands

public enum ScriptCommands {
    public static var all: [CommandSpec] { [wait, expect, expectError, repeatCommand] }

    static let onOption = OptionSpec("--on", value: .subscriptionID, valueName: "ID|DEST",
                                     help: "only messages of this subscription id or destination")
    static let timeoutOption = OptionSpec("--timeout", value: .duration, valueName: "SECONDS",
                                          help: "how long to wait (default: set timeout, 5 s)")

    static let wait = CommandSpec(
        name: "wait",
        arguments: [ArgumentSpec("N", .integer, optional: true, help: "number of messages (default 1)")],
        options: [timeoutOption, onOption,
                  OptionSpec("--idle", value: .duration, valueName: "SECONDS",
                             help: "instead of N: until no message arrived for SECONDS (--timeout only if given)")],
        summary: "wait until N more messages arrived (fails on timeout)",
        help: "Consumes N received messages not yet consumed by wait/expect (those that arrived before the wait count; "
            + "all that arrived count, also those no longer kept for expect; a browser's end marker is no message).",
        run: { shell, p in
            if p.option("--idle") != nil {
                if p.argument(0) != nil { throw ShellError("give N or --idle, not both", column: p.column(ofArgument: 0), exitStatus: 2) }
                return try DrainCommands.waitIdle(shell, p)
            }
            let n = Int(p.argument(0) ?? "1") ?? 1      // ≥ 0: the parser checks every .integer
            let timeout = try p.seconds("--timeout", default: shell.settings.timeout)
            let filter = p.option("--on")
            var got = 0
            let ok = try shell.waitUntil(timeout: timeout, failingOnLoss: "wait") {
                got += shell.inbox.consumeArrivals(upTo: n - got, on: filter)
                return got >= n
            }
            if !ok {
                let on = filter.map { " on \($0)" } ?? ""
                throw ShellError("wait: timed out after \(Shell.seconds(timeout)) s: \(got) of \(n) message\(n == 1 ? "" : "s") arrived\(on)")
            }
        })

    static let expect = CommandSpec(
        name: "expect",
        options: [onOption, timeoutOption,
                  OptionSpec("--body", value: .string, valueName: "TEXT", help: "the body must be exactly TEXT"),
                  OptionSpec("--body-match", value: .string, valueName: "REGEX", help: "the body must match REGEX (anywhere)"),
                  OptionSpec("--header", short: "-H", value: .header, valueName: "NAME:VALUE", repeatable: true,
                             help: "the header must have this value (repeatable)")],
        summary: "assert that the next message arrives in time and matches",
        help: "Takes the next received message not yet consumed by wait/expect; fails if none arrives in time or it does "
            + "not match, and prints what arrived instead. ${last.body} and ${last.header.NAME} refer to it afterwards.",
        run: { shell, p in
            var regex: NSRegularExpression?
            if let r = p.option("--body-match") {
                do { regex = try NSRegularExpression(pattern: r, options: []) } catch {
                    throw ShellError.usage("bad regex '\(r)'", column: p.column(ofOption: "--body-match"))
                }
            }
            let wanted = try CoreCommands.headers(p)
            let timeout = try p.seconds("--timeout", default: shell.settings.timeout)
            let filter = p.option("--on")
            var message: ReceivedMessage?
            let ok = try shell.waitUntil(timeout: timeout, failingOnLoss: "expect") {
                message = shell.inbox.consume(on: filter)
                return message != nil
            }
            guard ok, let m = message else {
                let on = filter.map { " on \($0)" } ?? ""
                let others = shell.inbox.pending
                var e = ShellError("expect: no message\(on) within \(Shell.seconds(timeout)) s"
                                   + (others.isEmpty ? "" : " (\(others.count) other message(s) waiting)"))
                if !others.isEmpty {
                    // what arrived instead (not consumed: a later wait/expect still sees them)
                    let shown = others.prefix(3).map { FrameFormatter.pretty($0.frame, color: nil) }
                    e.note = "received instead:\n" + shown.joined(separator: "\n")
                        + (others.count > 3 ? "\n... and \(others.count - 3) more" : "")
                }
                throw e
            }
            shell.lastMessage = m.frame
            var problems: [String] = []
            let body = String(decoding: m.frame.body, as: UTF8.self)
            if let b = p.option("--body"), b != body { problems.append("body is \(quote(body)), expected \(quote(b))") }
            if let regex, regex.firstMatch(in: body, range: NSRange(body.startIndex..., in: body)) == nil {
                problems.append("body \(quote(body)) does not match /\(p.option("--body-match")!)/")
            }
            for (name, value) in wanted.pairs {
                let got = m.frame.headers[name]
                if got != value { problems.append("header \(VisibleText.name(name)) is \(got.map(quote) ?? "missing"), expected \(quote(value))") }
            }
            if !problems.isEmpty {
                var e = ShellError("expect: " + problems.joined(separator: "; "))
                e.note = "received:\n" + FrameFormatter.pretty(m.frame, color: nil)
                throw e
            }
        })

    /// A header value or body text quoted in an error: at most 200 characters, shown as `VisibleText` has it.
    static func quote(_ s: String) -> String {
        let short = s.count > 200 ? String(s.prefix(200)) + "..." : s
        return "'" + VisibleText.value(short) + "'"
    }

    static let expectError = CommandSpec(
        name: "expect-error",
        options: [timeoutOption,
                  OptionSpec("--message", value: .string, valueName: "TEXT", help: "the ERROR's message header must contain TEXT"),
                  OptionSpec("--match", value: .string, valueName: "REGEX", help: "message header or body must match REGEX")],
        summary: "assert that the broker answered with an ERROR (or refused the connection)",
        help: "Takes the next ERROR frame not yet consumed (or a refused connect); fails if none arrives in time. "
            + "The broker closes the connection after an ERROR: 'connect' again to go on.",
        run: { shell, p in
            var regex: NSRegularExpression?
            if let r = p.option("--match") {
                do { regex = try NSRegularExpression(pattern: r, options: []) } catch {
                    throw ShellError.usage("bad regex '\(r)'", column: p.column(ofOption: "--match"))
                }
            }
            let timeout = try p.seconds("--timeout", default: shell.settings.timeout)
            let ok = try shell.waitUntil(timeout: timeout) { !shell.inbox.errors.isEmpty }
            guard ok else { throw ShellError("expect-error: no ERROR within \(Shell.seconds(timeout)) s") }
            let f = shell.inbox.errors.removeFirst()
            shell.expectedErrorTaken = true
            if shell.inbox.errors.isEmpty {
                shell.lostReason = shell.client == nil ? "broker sent ERROR (expected)" : nil
                shell.lostForGood = false
            }
            let message = f.headers["message"] ?? ""
            let text = message + "\n" + String(decoding: f.body, as: UTF8.self)
            if let m = p.option("--message"), !message.contains(m) {
                throw ShellError("expect-error: message is \(quote(message)), expected it to contain \(quote(m))")
            }
            if let regex, regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                throw ShellError("expect-error: ERROR \(quote(message)) does not match /\(p.option("--match")!)/")
            }
        })

    static let repeatCommand = CommandSpec(
        name: "repeat",
        arguments: [ArgumentSpec("N", .integer),
                    ArgumentSpec("COMMAND", .restOfLine, verbatim: true, help: "a command line; ${repeat.index} is 1..N")],
        options: [OptionSpec("--interval", value: .duration, valueName: "SECONDS", help: "pause between runs")],
        summary: "run a command N times",
        run: { shell, p in
            let n = Int(p.arguments[0]) ?? 0
            let interval = try p.seconds("--interval", default: 0)
            let line = p.rawRestOfLine ?? ""
            let base = p.column(ofArgument: 1) - 1
            let padded = String(repeating: " ", count: base) + line
            var template: LineTemplate?      // the command parsed once, when it can be
            for i in 0..<max(n, 0) {
                if i > 0, interval > 0 { try shell.sleepInterruptibly(interval) }
                if Interrupt.requested { Interrupt.clear(); throw ShellError("interrupted") }
                shell.variables.user["repeat.index"] = String(i + 1)
                try shell.runIteration(line: padded, block: p.block, template: &template)
                if shell.shouldQuit { break }
            }
        })
}
