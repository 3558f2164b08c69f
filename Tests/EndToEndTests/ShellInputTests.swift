import Foundation
import StompTestSupport
import XCTest

/// Field-test defects in what the shell reads and prints: -q and echo, `send --file` on any readable file,
/// directories and negative counts, bytes that are not UTF-8, heredoc quoting, the `connect` caret, and
/// `broker` as a real subcommand.
final class ShellInputTests: XCTestCase {
    /// Runs `bash -c SCRIPT` (for arguments and inputs Foundation cannot pass: bytes that are not UTF-8).
    func bash(_ script: String, env: [String: String] = [:]) throws -> Stompsh.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = Stompsh.tempHome
        environment["NO_COLOR"] = "1"
        environment["STOMPSH"] = Stompsh.binary
        for (k, v) in env { environment[k] = v }
        return try runToEnd("/bin/bash", ["-c", script], environment: environment)
    }

    // MARK: item 13: -q

    func testQuietNeverSilencesEcho() throws {
        let r = try Stompsh.run(["-q", "-c", "echo hello", "-c", "set x 1", "-c", "echo x is $x"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "hello\nx is 1\n")
    }

    /// What a bench measured and what drain, move, dump and load did are those commands' answers: -q keeps them.
    func testQuietKeepsBenchFiguresAndOperatorCounts() throws {
        let q = Brokers.unique("shell-quiet-figures"), q2 = Brokers.unique("shell-quiet-figures-to")
        let r = try Stompsh.run(["-q", Brokers.sandbox, "-c", "bench send \(q) -n 20", "-c", "move \(q) \(q2)",
                                 "-c", "drain \(q2)", "-c", "bench send \(q) -n 5 --json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("bench send \(q)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("moved 20 messages"), r.stdout)
        XCTAssertTrue(r.stdout.contains("drained 20 messages"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\"bench\":\"send\""), r.stdout)
        XCTAssertFalse(r.stdout.contains("connected to"), "chatter stays quiet: \(r.stdout)")
    }

    /// The man page's EXAMPLES script, run under -q as written there, prints its `echo`.
    func testManPageExampleScriptPrintsUnderQuiet() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("shell-quiet-example")
        let script = """
            subscribe \(q)
            send \(q) -H trace-id:43 <<END
            line one
            line two
            END
            expect --body-match '^line one' -H trace-id:43
            echo got: ${last.body}
            """
        let r = try Stompsh.run(["-q", url, "-f", "-"], stdin: script)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("got: line one\nline two\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains("subscribed to"), "chatter stays quiet: \(r.stdout)")
    }

    /// An `rpc call`'s result is what the script asked for: -q keeps it (the timing line is chatter).
    func testQuietKeepsTheRPCCallResult() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("shell-quiet-rpc")
        let r = try bash("""
            "$STOMPSH" -q '\(url)' -c 'rpc serve \(q) --count 2' >/dev/null 2>&1 &
            sleep 1.5
            "$STOMPSH" -q '\(url)' -c 'rpc call \(q) add 1 2 --timeout 10' -c 'rpc call \(q) add 2 2 --json --timeout 10'
            status=$?
            wait
            exit $status
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "3", r.stdout)
        XCTAssertTrue(lines.count == 2 && lines[1].hasPrefix(#"{"rpc":"add","result":4,"#), r.stdout)
    }

    // MARK: item 14: files, directories, counts

    func testSendFileReadsDevNullStdinAndFIFOs() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("shell-sendfile")
        let fifo = NSTemporaryDirectory() + "stompsh-fifo-\(getpid())"
        unlink(fifo)
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        defer { unlink(fifo) }
        let r = try bash("""
            # the writer gives up after 10 s if stompsh never opens the FIFO (and holds no pipe of the test)
            timeout 10 sh -c "printf 'from a fifo' > '\(fifo)'" >/dev/null 2>&1 &
            printf 'from stdin' | "$STOMPSH" -q '\(url)' -c 'subscribe \(q)' \
              -c 'send \(q) --file /dev/null' -c 'expect --body ""' \
              -c 'send \(q) --file /dev/stdin' -c 'expect --body "from stdin"' \
              -c 'send \(q) --file \(fifo)' -c 'expect --body "from a fifo"'
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("cannot read"), r.stderr)
    }

    func testSendFileDirectoryAndScriptDirectory() throws {
        let dir = NSTemporaryDirectory()
        let send = try Stompsh.run(["--sandbox", "-c", "send /queue/x --file \(dir)"])
        XCTAssertEqual(send.status, 2, "a file argument that cannot be read is a usage error, as for load and dump")
        XCTAssertTrue(send.stderr.contains("-c[1]:1:15: error: cannot read '\(dir)': Is a directory"), send.stderr)
        let script = try Stompsh.run(["-f", dir])
        XCTAssertEqual(script.status, 2)
        XCTAssertEqual(script.stderr, "stompsh: cannot read script '\(dir)': Is a directory\n")
    }

    func testNegativeCountsAreRefused() throws {
        let r = try Stompsh.run(["-c", "repeat -1 echo x"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("-c[1]:1:8: error: N: expected an integer ≥ 0, got '-1'"), r.stderr)
        XCTAssertEqual(r.stdout, "")
        let w = try Stompsh.run(["-c", "wait -1"])
        XCTAssertTrue(w.stderr.hasPrefix("-c[1]:1:6: error: N: expected an integer ≥ 0, got '-1'"), w.stderr)
    }

    // MARK: item 5: bytes that are not UTF-8

    /// A script line with a byte that is not UTF-8 is refused at its LINE:COL and nothing of it is sent;
    /// the lines before it ran.
    func testScriptWithInvalidUTF8IsRefusedNotRewritten() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("shell-utf8")
        let path = NSTemporaryDirectory() + "stompsh-utf8-\(getpid()).stompsh"
        var bytes = Array("subscribe \(q)\nsend \(q) ok\nwait 1\nsend \(q) b".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("d\nsend \(q) after\n".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { unlink(path) }
        let r = try Stompsh.run([url, "--json", "-f", path, "-q"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(path):4:\(8 + q.count): error: invalid UTF-8 (byte 0xFF)"), r.stderr)
        let bodies = r.lines.filter { $0.contains("\"MESSAGE\"") }
        XCTAssertEqual(bodies.count, 1, r.stdout)
        XCTAssertTrue(bodies.allSatisfy { $0.contains("\"body\":\"ok\"") }, r.stdout)
        XCTAssertFalse(r.stdout.contains("\u{FFFD}"), r.stdout)

        // the same on standard input
        let s = try bash("printf 'echo one\\necho t\\xffo\\necho three\\n' | \"$STOMPSH\"")
        XCTAssertEqual(s.status, 2)
        XCTAssertEqual(s.stdout, "one\n")
        XCTAssertTrue(s.stderr.hasPrefix("<stdin>:2:7: error: invalid UTF-8 (byte 0xFF)"), s.stderr)
    }

    func testCommandArgumentWithInvalidUTF8IsRefused() throws {
        let r = try bash("\"$STOMPSH\" -c 'echo fine' -c \"$(printf 'echo caf\\xe9')\"")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "", "nothing runs")
        XCTAssertTrue(r.stderr.hasPrefix("-c[2]:1:9: error: invalid UTF-8 (byte 0xE9)"), r.stderr)
        let url = try bash("\"$STOMPSH\" \"$(printf 'stomp://h\\xff')\"")
        XCTAssertEqual(url.status, 2)
        XCTAssertTrue(url.stderr.hasPrefix("stompsh: argument 1 (column 10): invalid UTF-8 (byte 0xFF)"), url.stderr)
    }

    // MARK: item 16: heredocs and backslashes

    func testQuotedHeredocIsLiteralAndBackslashesAreKept() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("shell-heredoc")
        let script = #"""
            subscribe \#(q)
            send \#(q) <<'END'
            costs $5 in $HOME
            END
            expect --body 'costs $5 in $HOME'
            send \#(q) <<END
            home=${env.HOME}
            END
            expect --body "home=${env.HOME}"
            send \#(q) -H a:b\c -H 'x:y z' body
            expect -H a:b\c -H 'x:y z'
            echo header a is ${last.header.a}
            """#
        let r = try Stompsh.run(["-q", url, "-f", "-"], stdin: script, env: ["HOME": "/home/ada"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").last, #"header a is b\c"#)
    }

    // MARK: item 17: caret and broker subcommand

    func testConnectErrorPointsAtTheURL() throws {
        let r = try Stompsh.run(["-c", "connect stomp://127.0.0.1:1"])
        XCTAssertEqual(r.status, 3)
        XCTAssertTrue(r.stderr.hasPrefix("-c[1]:1:9: error: "), r.stderr)
        let bad = try Stompsh.run(["-c", "connect stomp://x:1 --heart-beat -1,0"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("-c[1]:1:21: error: bad heart-beat '-1,0'"), bad.stderr)
    }

    /// broker, probe and replay are real subcommands: the completion scripts and `--help` know them and their own
    /// options; each still parses (and refuses bad input, exit 2) as `stompsh NAME ...`, and only as the first word.
    func testBrokerIsASubcommandInTheCompletionScripts() throws {
        let subcommands = [("broker", "port"), ("probe", "only"), ("replay", "speed")]
        for shell in ["bash", "zsh", "fish"] {
            let r = try Stompsh.run(["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, r.stderr)
            for (name, option) in subcommands {
                XCTAssertTrue(r.stdout.contains(name), "\(shell) completion lacks \(name)")
                XCTAssertTrue(r.stdout.contains(option), "\(shell) completion lacks \(name)'s --\(option)")
            }
        }
        let fish = try Stompsh.run(["--generate-completion-script", "fish"]).stdout
        XCTAssertTrue(fish.contains("\"stompsh probe\" only"), "fish: --only is not offered under probe")
        XCTAssertTrue(fish.contains("\"stompsh replay\" speed"), "fish: --speed is not offered under replay")
        let rootHelp = try Stompsh.run(["--help"])
        XCTAssertEqual(rootHelp.status, 0, rootHelp.stderr)
        for (name, option) in subcommands {
            XCTAssertTrue(rootHelp.stdout.contains("  \(name) "), "stompsh --help lacks \(name)")
            let help = try Stompsh.run([name, "--help"])
            XCTAssertEqual(help.status, 0, help.stderr)
            XCTAssertTrue(help.stdout.contains("--\(option)"), help.stdout)
            XCTAssertTrue(help.stdout.contains("USAGE: stompsh \(name) "), help.stdout)
            XCTAssertEqual(try Stompsh.run(["help", name]).stdout, help.stdout)
            let late = try Stompsh.run(["stomp://127.0.0.1:1", name] + (name == "replay" ? ["rec.jsonl"] : []))
            XCTAssertEqual(late.status, 2, late.stderr)
            XCTAssertTrue(late.stderr.contains("'\(name)' must be the first argument"), late.stderr)
        }
        for bad in [["broker", "--port", "70000"], ["probe", "--timeout", "0"], ["replay", "f", "--speed", "0"]] {
            let r = try Stompsh.run(bad)
            XCTAssertEqual(r.status, 2, "\(bad): \(r.stderr)")
        }
    }
}
