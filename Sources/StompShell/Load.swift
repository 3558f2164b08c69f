// load: the messages of a JSON-lines file (dump's, drain FILE's, a `--json` session's or a recording's) sent to
// DEST in file order, each with its body and application headers, every one confirmed by a RECEIPT.

import Foundation
import StompProto
import StompConnection
import RPCCommands

enum LoadCommand {
    static let window = 100

    static func run(_ shell: Shell, _ p: ParsedCommand) throws {
        let path = p.arguments[0], dest = p.arguments[1]
        let rate = try Operator.positive(p, "--rate")
        let skipBad = p.flag("--skip-bad")
        let reader = try LineReader(path: path, what: "load")
        let family = BrokerFamily(server: try shell.requireClient().connectedInfo.server)
        let conn = try OperatorConnection(shell, what: "load")
        defer { conn.close(shell) }
        let client = conn.client
        try conn.checkTarget(shell, dest, family: family, command: "load")
        let tally = CopyTally()
        let wake = shell.wake
        let progress = ProgressLine(shell, verb: "loaded")
        var sent = 0, skipped = 0, bad = 0
        var failure: ShellError?
        let start = Date()

        func check() {
            if failure == nil, let reason = tally.failure { failure = ShellError("load: sending to \(dest) failed: \(reason)") }
            if failure == nil { do { try conn.check("load") } catch let e as ShellError { failure = e } catch {} }
            if failure == nil, Interrupt.requested { Interrupt.clear(); failure = ShellError("interrupted") }
        }

        reading: while failure == nil {
            let bytes: [UInt8]
            do {
                guard let b = try reader.next() else { break }
                bytes = b
            } catch let e as ShellError { failure = e; break }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let line: MessageLine?
            do { line = try MessageLine.parse(bytes) } catch {
                var message = "\(path):\(reader.lineNumber): error: \(error)"
                if reader.lastLineUnterminated { message += " (the file ends in the middle of this line)" }
                if skipBad {
                    shell.output.warning(message + " (skipped)")
                    bad += 1
                    continue
                }
                failure = ShellError("load: " + message + "; nothing after it was sent (--skip-bad skips such lines)")
                break
            }
            guard let m = line, m.frame.command == .message || m.frame.command == .send else {
                skipped += 1
                continue
            }
            if m.frame.body.count > CoreCommands.maxBodySize {
                failure = ShellError("load: \(path):\(reader.lineNumber): a body of \(m.frame.body.count) bytes is too large to send")
                break
            }
            // pace: the n-th message not before n / rate seconds
            if let rate {
                let due = start.addingTimeInterval(Double(sent) / rate)
                while failure == nil, Date() < due {
                    shell.pump(maxWait: min(due.timeIntervalSinceNow, 0.1))
                    check()
                }
                if failure != nil { break reading }
            }
            while failure == nil, tally.inFlight >= window {
                shell.pump(maxWait: 0.1)
                check()
            }
            if failure != nil { break }
            tally.started()
            sent += 1
            client.send(destination: dest, headers: BrokerHeaders.application(m.frame), body: m.frame.body, receipt: true)
                .whenComplete { r in
                    switch r {
                    case .success: tally.finished()
                    case .failure(let e): tally.failed(Shell.describe(e))
                    }
                    wake.signal()
                }
            progress.update(tally.done)
            check()
        }
        while tally.inFlight > 0, conn.closedReason == nil {
            shell.pump(maxWait: 0.1)
            check()
            progress.update(tally.done)
        }
        progress.clear()
        if var failure {
            failure.message += " (\(tally.done) of \(sent) sent confirmed)"
            throw failure
        }
        let done = tally.done
        var text = "loaded \(done) \(DrainCommands.plural(done)) from \(path) to \(VisibleText.value(dest))"
        if skipped > 0 { text += "; \(skipped) other line\(skipped == 1 ? "" : "s") skipped" }
        if bad > 0 { text += "; \(bad) bad line\(bad == 1 ? "" : "s") skipped" }
        shell.output.answer(text: text, json: CoreCommands.obj(("loaded", .integer(Int64(done))), ("file", .string(path)),
                                                              ("destination", .string(dest)),
                                                              ("skipped", .integer(Int64(skipped))), ("bad", .integer(Int64(bad)))))
    }
}
