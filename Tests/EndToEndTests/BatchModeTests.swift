import Foundation
import XCTest

/// Batch mode without a broker: argv, errors with FILE:LINE:COL, exit statuses, variables, help drift.
final class BatchModeTests: XCTestCase {
    func testVersion() throws {
        let r = try Stompsh.run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.range(of: #"^\d+\.\d+\.\d+"#, options: .regularExpression) != nil, r.stdout)
    }

    func testUsageErrorsExit2() throws {
        XCTAssertEqual(try Stompsh.run(["--bogus"]).status, 2)
        XCTAssertEqual(try Stompsh.run(["--heart-beat", "x", "-c", "echo"]).status, 2)
        XCTAssertEqual(try Stompsh.run(["--stomp-version", "3.0", "-c", "echo"]).status, 2)
        XCTAssertEqual(try Stompsh.run(["ftp://nope", "-c", "echo"]).status, 2)
        XCTAssertEqual(try Stompsh.run(["-f", "/nonexistent/script"]).status, 2)
    }

    func testEveryCommandInHelp() throws {
        let names = try Stompsh.run(["--list-commands"])
        XCTAssertEqual(names.status, 0)
        XCTAssertTrue(names.lines.contains("send"))
        let help = try Stompsh.run(["-c", "help"])
        XCTAssertEqual(help.status, 0)
        let helpNames = try Stompsh.run(["-c", "help --names"])
        XCTAssertEqual(helpNames.lines, names.lines)
        for name in names.lines {
            XCTAssertTrue(help.stdout.contains("  \(name)"), "help misses \(name)")
            let one = try Stompsh.run(["-c", "help \(name)"])
            XCTAssertEqual(one.status, 0, name)
            XCTAssertTrue(one.stdout.hasPrefix("usage: \(name)"), one.stdout)
        }
    }

    func testUnknownCommandWithSuggestion() throws {
        let r = try Stompsh.run(["-c", "echo one", "-c", "  sedn /queue/a x", "-c", "echo never"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "one\n")
        XCTAssertTrue(r.stderr.hasPrefix("-c[2]:1:3: error: unknown command 'sedn' (did you mean 'send'?)"), r.stderr)
    }

    func testScriptErrorLineAndColumnStops() throws {
        let path = Stompsh.script("""
            #!/usr/bin/env -S stompsh -f
            # a comment

            echo first
            subscribe /queue/a --ack sometimes
            echo never
            """)
        let r = try Stompsh.run(["-f", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "first\n")
        XCTAssertTrue(r.stderr.hasPrefix("\(path):5:26: error: --ack: expected auto|client|client-individual, got 'sometimes'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("usage: subscribe DEST"), r.stderr)
    }

    func testMissingArgumentAndBadOption() throws {
        let r = try Stompsh.run(["-c", "subscribe"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("-c[1]:1:10: error: missing argument DEST for 'subscribe'"), r.stderr)
        let r2 = try Stompsh.run(["-c", "wait 1 --bogus"])
        XCTAssertTrue(r2.stderr.hasPrefix("-c[1]:1:8: error: unknown option '--bogus' for 'wait'"), r2.stderr)
        XCTAssertTrue(r2.stderr.contains("usage: wait"), r2.stderr)
    }

    func testNotConnected() throws {
        let r = try Stompsh.run(["-c", "send /queue/a hello"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("-c[1]:1:1: error: not connected"), r.stderr)
    }

    func testConnectRefusedExit3() throws {
        let r = try Stompsh.run(["stomp://127.0.0.1:1", "-c", "echo never"])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("refused"), r.stderr)
        let r2 = try Stompsh.run(["-c", "connect stomp://127.0.0.1:1", "-c", "echo never"])
        XCTAssertEqual(r2.status, 3)
        XCTAssertTrue(r2.stderr.hasPrefix("-c[1]:1:9: error:"), r2.stderr)
    }

    func testVariables() throws {
        let r = try Stompsh.run(["-c", "set greeting hello  world", "-c", "echo [$greeting] [${greeting}] ${env.STOMPSH_T} $$5",
                                 "-c", "echo '$greeting'"], env: ["STOMPSH_T": "t"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "[hello  world] [hello  world] t $5\n'hello  world'\n")
        let bad = try Stompsh.run(["-c", "echo x $nope"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.hasPrefix("-c[1]:1:8: error: unknown variable 'nope'"), bad.stderr)
    }

    func testOnErrorContinueAndLeadingDash() throws {
        let path = Stompsh.script("""
            -bogus
            echo after-dash
            set on-error continue
            bogus2
            echo after-continue
            """)
        let r = try Stompsh.run(["-f", path])
        XCTAssertEqual(r.status, 2, "a usage error under on-error continue still fails the script, with 2")
        XCTAssertEqual(r.stdout, "after-dash\nafter-continue\n")
        XCTAssertTrue(r.stderr.contains("\(path):1:2: error: unknown command 'bogus'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(path):4:1: error: unknown command 'bogus2'"), r.stderr)
        let ok = try Stompsh.run(["-c", "-bogus", "-c", "echo fine"])
        XCTAssertEqual(ok.status, 0)
    }

    func testContinuationAndHeredoc() throws {
        let path = Stompsh.script("""
            echo one \\
            two
            echo <<EOF
            line 1
              line 2
            EOF
            echo done
            """)
        let r = try Stompsh.run(["-f", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "one two\nline 1\n  line 2\ndone\n")
    }

    func testUnterminatedHeredoc() throws {
        let path = Stompsh.script("echo ok\nsend /queue/a <<END\nbody\n")
        let r = try Stompsh.run(["-f", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("\(path):2:15: error: unterminated heredoc (missing a line 'END')"), r.stderr)
    }

    func testErrorInsideContinuedLineAndHeredoc() throws {
        let path = Stompsh.script("echo a \\\n  $nope\necho <<EOF\nfine\nbad ${x\nEOF\n")
        let r = try Stompsh.run(["-f", path])
        XCTAssertTrue(r.stderr.hasPrefix("\(path):2:3: error: unknown variable 'nope'"), r.stderr)
        let path2 = Stompsh.script("echo <<EOF\nfine\nbad ${x\nEOF\n")
        let r2 = try Stompsh.run(["-f", path2])
        XCTAssertTrue(r2.stderr.hasPrefix("\(path2):3:5: error: unterminated '${'"), r2.stderr)
    }

    func testBadRegex() throws {
        let r = try Stompsh.run(["-c", "expect --body-match 'a(b' --timeout 0"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("-c[1]:1:8: error: bad regex 'a(b'"), r.stderr)
    }

    func testPipedStdinAndJSONEcho() throws {
        let r = try Stompsh.run(["--json"], stdin: "echo hi\nset x 1\necho $x\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines, [#"{"echo":"hi"}"#, #"{"echo":"1"}"#])
    }

    /// -q quiets chatter, never what a script asks to print (echo).
    func testQuietKeepsEcho() throws {
        let r = try Stompsh.run(["-q", "-c", "echo hi", "-c", "bogus"])
        XCTAssertEqual(r.stdout, "hi\n")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("unknown command"))
    }

    func testRepeat() throws {
        let r = try Stompsh.run(["-c", "repeat 3 echo n=${repeat.index}"])
        XCTAssertEqual(r.stdout, "n=1\nn=2\nn=3\n")
        let bad = try Stompsh.run(["-c", "repeat 2 echo $nope"])
        XCTAssertTrue(bad.stderr.hasPrefix("-c[1]:1:15: error: unknown variable 'nope'"), bad.stderr)
    }

    func testRcFileOnlyWithRc() throws {
        let home = Stompsh.tempHome
        _ = FileManager.default.createFile(atPath: home + "/.stompshrc", contents: Data("set rcvar from-rc\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: home + "/.stompshrc") }
        let without = try Stompsh.run(["-c", "echo ${rcvar}"])
        XCTAssertEqual(without.status, 1)
        let with = try Stompsh.run(["--rc", "-c", "echo ${rcvar}"])
        XCTAssertEqual(with.stdout, "from-rc\n")
        XCTAssertEqual(with.status, 0)
    }

    func testSleepAndQuit() throws {
        let r = try Stompsh.run(["-c", "sleep 0.1", "-c", "quit", "-c", "echo never"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "")
    }
}
