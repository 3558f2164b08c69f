// One rule for argument errors in scripts: a wrong command, option or argument is a usage error, exit status 2
// (man page, EXIT STATUS), whether the line parser, rpc's own tokenizer or the command finds it; the error points at
// FILE:LINE:COL. A command that fails at run time (not connected, unknown variable) exits 1.
import XCTest
import Foundation
import StompTestSupport
@testable import StompShell

final class UsageExitStatusTests: XCTestCase {
    struct Run { var status: Int32; var stderr: String }

    /// Runs `stompsh [ARGS] -f SCRIPT` on a script of `lines` (after an `echo` line, so the error is on line 2).
    func runScript(_ line: String, args: [String] = []) throws -> (Run, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stompsh-usage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("case.stompsh").path
        try Data("echo start\n\(line)\necho never\n".utf8).write(to: URL(fileURLWithPath: script))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: StompshBinary.path)
        p.arguments = args + ["-q", "-f", script]
        p.environment = ProcessInfo.processInfo.environment.merging(["HOME": dir.path]) { $1 }
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        _ = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (Run(status: p.terminationStatus, stderr: String(decoding: errData, as: UTF8.self)), script)
    }

    /// Each case: a script line, the column the error points at and the start of its message.
    static let usageErrors: [(line: String, column: Int, message: String)] = [
        ("bogus x", 1, "unknown command 'bogus'"),
        ("subscribe /queue/a --ack sometimes", 26, "--ack: expected auto|client|client-individual, got 'sometimes'"),
        ("subscribe /queue/a --bogus", 20, "unknown option '--bogus' for 'subscribe'"),
        ("subscribe", 10, "missing argument DEST for 'subscribe'"),
        ("load --rate -5 f.jsonl /queue/a", 13, "--rate: expected a number above 0, got '-5'"),
        ("load --rate nan f.jsonl /queue/a", 13, "--rate: expected a number above 0, got 'nan'"),
        ("drain /queue/a --idle 1e20", 23, "--idle: expected a number of seconds up to 31536000 (a year), got '1e20'"),
        ("wait --idle inf", 13, "--idle: expected a number of seconds, got 'inf'"),
        ("sleep 1e12", 7, "SECONDS: expected a number of seconds up to 31536000 (a year), got '1e12'"),
        ("wait -1", 6, "N: expected an integer ≥ 0, got '-1'"),
        ("subscribe /queue/a --count 0", 28, "--count: expected an integer ≥ 1, got '0'"),
        ("bench send /q -n 0", 18, "--count: expected an integer ≥ 1, got '0'"),
        ("bench send /q --ack auto", 15, "option --ack does not apply to 'bench send'"),
        // 93 GB: the body could not even be allocated (stompsh died of SIGABRT before it said a word)
        ("bench send /q --size 99999999999", 22,
         "--size: expected an integer from 0 to 67108864 (the largest body stompsh reads), got '99999999999'"),
        ("move /queue/a /queue/b --window 0", 33, "--window: expected an integer ≥ 1, got '0'"),
        ("rpc serve /queue/a --count 0", 28, "--count: expected an integer ≥ 1, got '0'"),
        ("rpc bench /queue/a m --rate 0", 29, "--rate: expected a number above 0, got '0'"),
        ("rpc bench /queue/a m --duration 1e20", 33, "--duration: expected a number of seconds up to 31536000"),
        ("rpc call /queue/a m --bogus", 21, "unknown option '--bogus' for 'rpc call'"),
        ("rpc call /queue/a", 18, "missing argument METHOD for 'rpc call'"),
        ("expect --body-match 'a(b'", 8, "bad regex 'a(b'"),
        ("subscribe '/queue/a", 11, "unterminated quote"),
        ("help rpc frobnicate", 10, "'rpc' has no subcommand 'frobnicate'"),
        ("send /queue/a <<END", 15, "unterminated heredoc (missing a line 'END')"),
    ]

    func testEveryArgumentErrorInAScriptExits2WithItsPosition() throws {
        for c in Self.usageErrors {
            let (r, script) = try runScript(c.line)
            XCTAssertEqual(r.status, 2, "\(c.line): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("\(script):2:\(c.column): error: \(c.message)"), "\(c.line): \(r.stderr)")
        }
    }

    /// Connected, a bench body too large to allocate killed stompsh with SIGABRT ("failed to allocate"): refused
    /// as a usage error before anything is allocated or sent.
    func testBenchSendSizeBeyondTheLargestBodyIsAUsageErrorOnTheSandbox() throws {
        let (r, script) = try runScript("bench send /queue/stompsh-usage-size --size 99999999999", args: ["--sandbox"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("\(script):2:45: error: --size: expected an integer from 0 to 67108864"), r.stderr)
    }

    /// Failures that depend on the session, not on how the line is written, stay 1.
    func testRunTimeFailuresStayStatus1() throws {
        for (line, message) in [("echo $nope", "2:6: error: unknown variable 'nope'"),
                                ("drain /queue/a", "2:1: error: not connected")] {
            let (r, script) = try runScript(line)
            XCTAssertEqual(r.status, 1, "\(line): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("\(script):\(message)"), "\(line): \(r.stderr)")
        }
    }

    /// The operator commands that found argument errors themselves already exited 2: still so (`dump Q DIR`).
    func testOperatorCommandsArgumentErrorsExit2OnTheSandbox() throws {
        let (r, script) = try runScript("dump /queue/stompsh-cmdtable-usage /tmp", args: ["--sandbox"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("\(script):2:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("'/tmp' is a directory"), r.stderr)
    }

    /// Every value the table gives a range is checked by the one validator: each count option refuses 0, each
    /// duration refuses a value above the bound, each rate refuses 0, for rpc's options (read by RPCCommandLine) too.
    func testEveryRangedValueOfTheTableIsCheckedInOnePlace() throws {
        var checked = 0
        for spec in CommandTable.all {
            for o in spec.options {
                let bad: (String, String)
                switch o.value {
                case .count?: bad = ("0", "an integer ≥ 1")
                case .bodySize?: bad = ("67108865", "an integer from 0 to 67108864 (the largest body stompsh reads)")
                case .number?: bad = ("0", "a number above 0")
                case .duration?: bad = ("31536001", "a number of seconds up to 31536000 (a year)")
                default: continue
                }
                let line: String
                if spec.optionsInRestOfLine {
                    guard let sub = spec.subcommands.first(where: { $0.optionNames.contains(o.long) }) else { continue }
                    line = "\(spec.name) \(sub.name) /q m \(o.long) \(bad.0)"
                } else {
                    let sub = spec.subcommands.first { $0.optionNames.contains(o.long) }.map { [$0.name] } ?? []
                    let required = spec.arguments.filter { !$0.optional }.dropFirst(sub.count).map { a -> String in
                        switch a.kind {
                        case .integer, .count: return "1"
                        case .choice(let c): return c[0]
                        default: return "x"
                        }
                    }
                    // the option before the arguments: a rest-of-line argument (repeat's COMMAND) takes all after it
                    line = ([spec.name] + sub + [o.long, bad.0] + required).joined(separator: " ")
                }
                let shell = Shell(output: Output(color: false))
                XCTAssertThrowsError(try shell.run(line: line), line) { e in
                    let e = e as? ShellError
                    XCTAssertEqual(e?.message, "\(o.long): expected \(bad.1), got '\(bad.0)'", line)
                    XCTAssertEqual(e?.exitStatus, 2, line)
                }
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 20)
    }
}
