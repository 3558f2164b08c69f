import XCTest
import StompProto
@testable import StompShell

final class ShellTests: XCTestCase {
    var out: [(String, OutputTarget)] = []

    func makeShell() -> Shell {
        let o = Output(color: false)
        let shell = Shell(output: o)
        o.sink = { [unowned self] t, s in self.out.append((t, s)) }
        return shell
    }

    var stdout: String { out.filter { $0.1 == .stdout }.map(\.0).joined() }
    var stderr: String { out.filter { $0.1 == .stderr }.map(\.0).joined() }

    func testDispatchEchoSetAndVariables() throws {
        let shell = makeShell()
        try shell.run(line: "set who  big world")
        try shell.run(line: "echo hello $who")
        XCTAssertEqual(stdout, "hello big world\n")
        XCTAssertEqual(shell.variables["who"], "big world")
        try shell.run(line: "set format json")
        XCTAssertEqual(shell.settings.format, .json)
        try shell.run(line: "echo x")
        XCTAssertTrue(stdout.hasSuffix("{\"echo\":\"x\"}\n"))
    }

    func testCommandWithoutOptionsTakesDashWordsAsText() throws {
        let shell = makeShell()
        try shell.run(line: "echo --- x ---")
        try shell.run(line: "echo -n  a")
        try shell.run(line: "echo -- b")
        try shell.run(line: "set dashed --flag-like value")
        try shell.run(line: "echo $dashed")
        XCTAssertEqual(stdout, "--- x ---\n-n  a\n-- b\n--flag-like value\n")
        // commands with options still reject unknown ones, with the synopsis
        XCTAssertThrowsError(try shell.run(line: "wait --bogus")) { e in
            XCTAssertEqual((e as? ShellError)?.note, "usage: wait [N] [--timeout SECONDS] [--on ID|DEST] [--idle SECONDS]")
        }
    }

    func testExpectTimeoutShowsOtherMessages() throws {
        let shell = makeShell()
        shell.inbox.push(.frame(StompFrame(.message, headers: StompHeaders([("destination", "/queue/b"), ("subscription", "s2")]),
                                           body: "not for a")), generation: shell.generation)
        XCTAssertThrowsError(try shell.run(line: "expect --on /queue/a --timeout 0")) { e in
            let se = e as! ShellError
            XCTAssertEqual(se.message, "expect: no message on /queue/a within 0 s (1 other message(s) waiting)")
            XCTAssertTrue(se.note?.hasPrefix("received instead:\nMESSAGE /queue/b") == true, se.note ?? "")
            XCTAssertTrue(se.note?.contains("not for a") == true)
        }
        try shell.run(line: "expect --on /queue/b --body 'not for a' --timeout 0")   // still there
    }

    func testSetTakesOneQuotedWordWithoutQuotes() throws {
        let shell = makeShell()
        try shell.run(line: "set a \"hello   world\"")
        try shell.run(line: "set b 'single $a'")
        try shell.run(line: "set c \"x\" and \"y\"")
        try shell.run(line: "set d it's")
        try shell.run(line: "set e \"$a!\"")
        XCTAssertEqual(shell.variables["a"], "hello   world")
        XCTAssertEqual(shell.variables["b"], "single $a")
        XCTAssertEqual(shell.variables["c"], "\"x\" and \"y\"")
        XCTAssertEqual(shell.variables["d"], "it's")
        XCTAssertEqual(shell.variables["e"], "hello   world!")
    }

    func testSettingErrorsHaveColumns() {
        let shell = makeShell()
        XCTAssertThrowsError(try shell.run(line: "set trace maybe")) { e in
            XCTAssertEqual((e as? ShellError)?.column, 11)
        }
        XCTAssertThrowsError(try shell.run(line: "set format xml")) { e in
            XCTAssertEqual((e as? ShellError)?.column, 12)
        }
    }

    func testCommandsNeedingConnection() {
        let shell = makeShell()
        for line in ["send /q x", "subscribe /q", "ack", "begin", "raw --file /etc/hostname", "disconnect", "unsubscribe s"] {
            XCTAssertThrowsError(try shell.run(line: "  " + line), line) { e in
                let se = e as? ShellError
                XCTAssertTrue(se?.message.hasPrefix("not connected") == true, line)
                XCTAssertEqual(se?.column, 3)
            }
        }
    }

    func testStatusNotConnected() throws {
        let shell = makeShell()
        try shell.run(line: "status")
        XCTAssertEqual(stdout, "not connected\n")
        XCTAssertEqual(shell.prompt, "(not connected)> ")
    }

    func testHelpCoversTable() throws {
        let shell = makeShell()
        try shell.run(line: "help")
        for spec in CommandTable.all { XCTAssertTrue(stdout.contains("  " + spec.synopsis), spec.name) }
        out = []
        try shell.run(line: "help --names")
        XCTAssertEqual(stdout, CommandTable.all.map(\.name).joined(separator: "\n") + "\n")
        out = []
        try shell.run(line: "help send")
        XCTAssertTrue(stdout.hasPrefix("usage: send DEST"))
        XCTAssertThrowsError(try shell.run(line: "help sedn"))
    }

    func testWaitAndExpectFromInbox() throws {
        let shell = makeShell()
        func deliver(_ body: String, _ dest: String = "/queue/a", sub: String = "s1", headers: [(String, String)] = []) {
            var h = StompHeaders([("destination", dest), ("subscription", sub), ("message-id", "m-\(body)")])
            for (k, v) in headers { h.append(k, v) }
            shell.inbox.push(.frame(StompFrame(.message, headers: h, body: body)), generation: shell.generation)
        }
        deliver("one")
        deliver("two", "/queue/b", sub: "s2", headers: [("k", "v")])
        try shell.run(line: "expect --on s2 --body two -H k:v")
        XCTAssertEqual(shell.variables["last.body"], "two")
        XCTAssertEqual(shell.variables["last.header.k"], "v")
        XCTAssertThrowsError(try shell.run(line: "expect --body nope --timeout 0")) { e in
            let se = e as! ShellError
            XCTAssertEqual(se.message, "expect: body is 'one', expected 'nope'")
            XCTAssertTrue(se.note!.contains("MESSAGE /queue/a"))
        }
        XCTAssertThrowsError(try shell.run(line: "wait 1 --timeout 0.05")) { e in
            XCTAssertEqual((e as! ShellError).message, "wait: timed out after 0.05 s: 0 of 1 message arrived")
        }
        deliver("three"); deliver("four")
        try shell.run(line: "wait 2 --timeout 0")
        XCTAssertTrue(stdout.contains("MESSAGE /queue/a"))
        XCTAssertEqual(shell.messagesReceived, 4)
    }

    func testExpectError() throws {
        let shell = makeShell()
        XCTAssertThrowsError(try shell.run(line: "expect-error --timeout 0"))
        shell.inbox.push(.frame(StompFrame(.error, headers: ["message": "Unknown STOMP action: BOGUS"])), generation: shell.generation)
        try shell.run(line: "expect-error --message 'Unknown' --match 'action: [A-Z]+'")
        XCTAssertTrue(shell.inbox.errors.isEmpty)
    }

    func testSensitiveLines() {
        let shell = makeShell()
        XCTAssertTrue(shell.isSensitive("connect --passcode secret"))
        XCTAssertTrue(shell.isSensitive("connect --passcode=secret"))
        XCTAssertTrue(shell.isSensitive("connect stomp://guest:guest@localhost"))
        XCTAssertFalse(shell.isSensitive("connect stomp://guest@localhost --login x"))
        XCTAssertFalse(shell.isSensitive("send /q passcode-less"))
    }

    func testCompletion() {
        let shell = makeShell()
        XCTAssertEqual(Completer.complete(shell: shell, line: "sub").candidates, ["subscribe", "sub"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "subscribe /q --a").candidates, ["--ack"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "subscribe /q --ack c").candidates, ["client", "client-individual"])
        let r = Completer.complete(shell: shell, line: "send /q -H cont")
        XCTAssertEqual(r.candidates, ["content-type:", "content-length:"])
        XCTAssertEqual(r.replaceFrom, 11)
        shell.completion.add(.destination, "/queue/seen")
        XCTAssertEqual(Completer.complete(shell: shell, line: "send /queue/s").candidates, ["/queue/seen"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "set form").candidates, ["format"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "set format ").candidates, ["pretty", "json"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "help exp").candidates, ["expect", "expect-error"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "send /q body te").candidates, [])
    }

    /// `bench SUB --` offers only the options the table declares for SUB; with no subcommand yet, all of bench's.
    func testBenchSubcommandCompletionOffersOnlyItsOptions() {
        let shell = makeShell()
        let send = Completer.complete(shell: shell, line: "bench send /q --").candidates
        XCTAssertTrue(send.contains("--size") && send.contains("--receipts") && send.contains("--prebuilt"), "\(send)")
        for consumeOnly in ["--ack", "--prefetch", "--timeout"] { XCTAssertFalse(send.contains(consumeOnly), "\(send)") }
        for latencyOnly in ["--history", "--interval", "--mode"] { XCTAssertFalse(send.contains(latencyOnly), "\(send)") }
        let consume = Completer.complete(shell: shell, line: "bench consume /q --").candidates
        XCTAssertEqual(Set(consume), ["--count", "--ack", "--prefetch", "--timeout", "--connections", "--header", "--json"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "bench latency --").candidates.sorted(),
                       ["--count", "--history", "--interval", "--json", "--mode"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "bench send /q --p").candidates, ["--prebuilt"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "bench send /q -").candidates.filter { !$0.hasPrefix("--") }.sorted(),
                       ["-H", "-n"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "bench ").candidates, ["send", "consume", "latency"])
        // the hint after the subcommand shows its own options only
        XCTAssertEqual(Completer.hint(shell: shell, line: "bench latency "),
                       "[DEST] [-n N] [--history SECONDS] [--interval SECONDS] [--mode receipt|self] [--json]")
        let sendHint = Completer.hint(shell: shell, line: "bench send ") ?? ""
        XCTAssertTrue(sendHint.contains("--prebuilt") && !sendHint.contains("--ack"), sendHint)
    }

    /// `rpc SUB --` offers only the options the command table declares for SUB (the ones `RPCCommandLine` accepts).
    func testRPCSubcommandCompletionOffersOnlyItsOptions() {
        let shell = makeShell()
        let call = Completer.complete(shell: shell, line: "rpc call /queue/svc add --").candidates
        XCTAssertEqual(call, ["--timeout", "--header", "--params", "--reply-to", "--json"])
        for serveOnly in ["--count", "--exec", "--concurrency", "--quiet"] { XCTAssertFalse(call.contains(serveOnly), "\(call)") }
        XCTAssertEqual(Completer.complete(shell: shell, line: "rpc serve /queue/svc --").candidates,
                       ["--count", "--exec", "--concurrency", "--quiet", "--json", "--header"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "rpc serve /queue/svc -").candidates.filter { !$0.hasPrefix("--") },
                       ["-c", "-q", "-H"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "rpc discover /queue/svc --").candidates,
                       ["--timeout", "--reply-to", "--json"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "rpc methods --").candidates, ["--json"])
        let bench = Completer.complete(shell: shell, line: "rpc bench /queue/svc add --c").candidates
        XCTAssertEqual(bench, ["--calls", "--concurrency", "--connections"])
        // the options parsed for SUB are exactly those offered
        let spec = RPCShellCommands.spec
        for sub in spec.subcommands {
            let offered = Completer.complete(shell: shell, line: "rpc \(sub.name) /q m --").candidates
            XCTAssertEqual(offered, sub.optionNames, sub.name)
            for o in offered {
                let kind = spec.options.first { $0.long == o }?.value
                let value = kind == nil ? "" : (kind == .header ? " a:b" : " 1")
                let cmd = try! LineParser.parse("rpc \(sub.name) /q m \(o)\(value)", resolve: nil)!
                XCTAssertNoThrow(try RPCCommandLine(cmd, resolve: nil).arguments(), "rpc \(sub.name) \(o)")
            }
        }
        let cmd = try! LineParser.parse("rpc call /q m --count 1", resolve: nil)!
        XCTAssertThrowsError(try RPCCommandLine(cmd, resolve: nil).arguments()) { e in
            XCTAssertEqual("\(e)", "column 15: unknown option '--count' for 'rpc call' (options: --timeout -H --params --reply-to --json)")
        }
        // a value-taking option's value is not a positional: after `--timeout 5` the method comes next
        shell.completion.add(.rpcMethod, "add")
        XCTAssertEqual(Completer.complete(shell: shell, line: "rpc call --timeout 5 /queue/svc a").candidates, ["add"])
        // hints come from the subcommand's declaration
        XCTAssertEqual(Completer.hint(shell: shell, line: "rpc serve "),
                       "DEST [--count N] [--exec COMMAND] [-c N] [-q] [--json] [-H NAME:VALUE]...")
        XCTAssertEqual(Completer.hint(shell: shell, line: "rpc call /queue/svc "), "METHOD [ARG...]")
        XCTAssertEqual(Completer.hint(shell: shell, line: "rpc methods "), "[DEST] [--json]")
        XCTAssertEqual(Completer.hint(shell: shell, line: "rpc "), "call|serve|discover|methods|bench ...")
        XCTAssertEqual(Completer.complete(shell: shell, line: "help rpc ").candidates, ["call", "serve", "discover", "methods", "bench"])
        XCTAssertEqual(Completer.complete(shell: shell, line: "help bench l").candidates, ["latency"])
    }

    func testHints() {
        let shell = makeShell()
        XCTAssertEqual(Completer.hint(shell: shell, line: "subscribe "), "DEST [--id ID] [--ack auto|client|client-individual] [-H NAME:VALUE]... [--count N]")
        XCTAssertEqual(Completer.hint(shell: shell, line: "send /q "), "[BODY]")
        XCTAssertEqual(Completer.hint(shell: shell, line: "wait"), " [N] [--timeout SECONDS] [--on ID|DEST] [--idle SECONDS]")
        XCTAssertNil(Completer.hint(shell: shell, line: "bogus "))
    }
}

final class OutputTests: XCTestCase {
    func testJSONFrame() {
        let f = StompFrame(.message, headers: StompHeaders([("destination", "/q"), ("x", "1"), ("x", "2")]), body: "hé")
        XCTAssertEqual(FrameFormatter.json(f).compact, #"{"frame":"MESSAGE","headers":{"destination":"/q","x":"1"},"body":"hé"}"#)
        let b = StompFrame(.message, headers: [:], body: [0x68, 0, 0xFF])
        XCTAssertEqual(FrameFormatter.json(b).compact, #"{"frame":"MESSAGE","headers":{},"body_base64":"aAD/"}"#)
    }

    func testPrettyBodies() {
        XCTAssertEqual(FrameFormatter.prettyBody(Array(#"{"a":1}"#.utf8), contentType: nil), "{\n  \"a\": 1\n}")
        XCTAssertEqual(FrameFormatter.prettyBody(Array("plain".utf8), contentType: nil), "plain")
        XCTAssertTrue(FrameFormatter.prettyBody([0, 1, 0x41], contentType: nil).hasPrefix("00000000  00 01 41"))
    }

    func testTraceShowsNulAndHeartbeat() {
        let t = FrameFormatter.trace(outbound: true, bytes: Array("SEND\ndestination:/a\\cb\n\nx\0".utf8), at: Date())
        XCTAssertTrue(t.contains(">>> SEND"))
        XCTAssertTrue(t.contains("destination:/a\\cb"))
        XCTAssertTrue(t.hasSuffix(">>> x^@"), t)
        XCTAssertTrue(FrameFormatter.trace(outbound: false, bytes: [0x0A], at: Date()).hasSuffix("<<< heart-beat (LF)"))
    }

    /// Two frames in one write: each on its own line with the timestamp (not `^@SEND` after the first, nor a
    /// second SEND line without a timestamp), with or without EOLs between them.
    func testTraceGivesEachFrameOfAChunkItsOwnEntry() throws {
        let stamped = try NSRegularExpression(pattern: #"^\d\d:\d\d:\d\d\.\d{3} >>> SEND$"#)
        for gap in ["", "\n", "\r\n\n"] {
            let t = FrameFormatter.trace(outbound: true, bytes: Array("SEND\ndestination:/a\n\none\0\(gap)SEND\ndestination:/b\n\ntwo\0".utf8),
                                         at: Date(timeIntervalSince1970: 0))
            let lines = t.split(separator: "\n").map(String.init)
            let starts = lines.filter { stamped.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
            XCTAssertEqual(starts.count, 2, t)
            XCTAssertFalse(t.contains("^@SEND"), t)
            XCTAssertTrue(lines.contains { $0.hasPrefix("             >>> one^@") }, t)   // EOLs after NUL stay visible
            XCTAssertEqual(lines.last, "             >>> two^@", t)
        }
    }

    func testTraceMasksTheConnectPasscodeOnly() {
        let connect = FrameFormatter.trace(
            outbound: true, bytes: Array("CONNECT\nlogin:guest\npasscode:s3cret\n\n\0".utf8), at: Date())
        XCTAssertFalse(connect.contains("s3cret"), connect)
        XCTAssertTrue(connect.contains(">>> passcode:****\n"), connect)
        XCTAssertTrue(connect.contains("login:guest"), connect)
        let send = FrameFormatter.trace(
            outbound: true, bytes: Array("SEND\ndestination:/q\n\npasscode:in-a-body\0".utf8), at: Date())
        XCTAssertTrue(send.contains("passcode:in-a-body"), send)
        // JSON trace lines too.
        let o = Output(color: false)
        o.format = .json
        var lines: [String] = []
        o.sink = { t, _ in lines.append(t) }
        o.trace(outbound: true, bytes: Array("STOMP\nlogin:guest\npasscode:s3cret\n\n\0".utf8))
        XCTAssertEqual(lines.count, 1)
        XCTAssertFalse(lines[0].contains("s3cret"), lines[0])
        XCTAssertTrue(lines[0].contains(#"login:guest\npasscode:****\n"#), lines[0])
    }

    /// "reconnected ...; resubscribed:" with nothing after it said nothing: the list is named only when it has ids.
    func testReconnectedLineNamesResubscriptionsOnlyWhenThereAreAny() {
        let output = Output(color: false)
        var text = ""
        output.sink = { t, _ in text += t }
        let shell = Shell(output: output)
        let info = ConnectedInfo(version: .v1_2, server: nil, session: nil,
                                 heartBeat: NegotiatedHeartBeat(sendInterval: nil, receiveInterval: nil), headers: [:])
        shell.handle(.reconnected(info, resubscribed: [], lost: LostState()))
        XCTAssertEqual(text, "reconnected (STOMP 1.2)\n")
        text = ""
        shell.handle(.reconnected(info, resubscribed: [SubscriptionInfo(id: "s1", destination: "/queue/a", ack: .auto)],
                                  lost: LostState()))
        XCTAssertEqual(text, "reconnected (STOMP 1.2); resubscribed: s1\n")
    }
}
