import Foundation
import XCTest

/// A standard output that fails (`| head -1`, `>/dev/full`, `>&-`) ends the session loudly and at once: a
/// message on stderr, exit status 1, the connection closed so the broker keeps what was not consumed, on the
/// real brokers with a queue holding many messages.
final class OutputFailureTests: XCTestCase {
    /// Many, so that what a busy machine lets stompsh take before `head` is gone (the broker pushes auto-ack
    /// messages as fast as the socket takes them) stays a minority.
    static let queued = 20000

    /// What a run under bash gave: stompsh's own exit status (PIPESTATUS), its stderr, and the wall time.
    struct Run { var status: Int32; var stderr: String; var seconds: Double; var stdout: String }

    /// Runs `stompsh ARGS` inside `bash -c` with `redirect` appended (e.g. `| head -1`, `>/dev/full`, `>&-`).
    func runUnderBash(_ args: [String], redirect: String, file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let dir = NSTemporaryDirectory() + "stompsh-outfail-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let errPath = dir + "/stderr", statusPath = dir + "/status"
        let quoted = ([Stompsh.binary] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let script = "\(quoted.joined(separator: " ")) 2>'\(errPath)' \(redirect); echo ${PIPESTATUS[0]} >'\(statusPath)'"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = Stompsh.tempHome
        env["NO_COLOR"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let start = Date()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        let status = Int32((try? String(contentsOfFile: statusPath, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Run(status: status, stderr: stderr, seconds: seconds, stdout: String(decoding: data, as: UTF8.self))
    }

    /// Puts at least `count` messages on `queue`.
    func fill(_ url: String, _ queue: String, count: Int) throws {
        let r = try Stompsh.run([url, "-q", "-c", "bench send \(queue) -n \(count) --size 64 --receipts window:64"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// How many messages `queue` holds: drains it and counts.
    func drain(_ url: String, _ queue: String) throws -> Int {
        let r = try Stompsh.run([url, "-q", "--json", "-c", "subscribe \(queue)", "-c", "sleep 6"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.lines.filter { $0.contains("\"frame\":\"MESSAGE\"") }.count
    }

    func realBrokers() throws -> [(String, String)] {
        [("activemq", try Brokers.activemq()), ("rabbitmq", try Brokers.rabbitmq())]
    }

    /// `... | head -1` on a queue of 5000: out within a few seconds (not after draining the queue or the
    /// `wait`), status 1, "standard output: Broken pipe" on stderr, `echo done` never run, most messages kept.
    func testClosedPipeStopsConsumingAtOnce() throws {
        for (name, url) in try realBrokers() {
            let q = Brokers.unique("shell-outfail-\(name)")
            try fill(url, q, count: Self.queued)
            // -q: the first line is a MESSAGE's, so the pipe closes while messages arrive during `wait`
            let r = try runUnderBash(["-q", url, "-c", "subscribe \(q)", "-c", "wait \(Self.queued + 1) --timeout 60", "-c", "echo done"],
                                     redirect: "| head -1")
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            XCTAssertEqual(r.stdout, "MESSAGE \(q)\n")
            // messages may arrive (and fail to print) while `subscribe` still waits for its receipt: -c[1] or -c[2]
            let message = ":1:1: error: standard output: Broken pipe: stopped; connection closed, nothing more is consumed\n"
            XCTAssertTrue(["-c[1]" + message, "-c[2]" + message].contains(r.stderr), "\(name): \(r.stderr)")
            XCTAssertLessThan(r.seconds, 10, "\(name): stompsh kept going after the pipe closed")
            XCTAssertFalse(r.stdout.contains("done"))
            let left = try drain(url, q)
            XCTAssertGreaterThan(left, Self.queued / 2, "\(name): \(left) of \(Self.queued) left on the queue")
        }
    }

    /// The field test's command as it was, without -q: `connected to ...` is the line `head` takes, and the
    /// session ends at the next write.
    func testClosedPipeWithoutQuiet() throws {
        let url = try Brokers.rabbitmq()
        let q = Brokers.unique("shell-outfail-chatty")
        try fill(url, q, count: 500)
        let r = try runUnderBash([url, "-c", "subscribe \(q)", "-c", "wait 501 --timeout 60", "-c", "echo done"], redirect: "| head -1")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("connected to "), r.stdout)
        XCTAssertTrue(r.stderr.contains("error: standard output: Broken pipe: stopped"), r.stderr)
        XCTAssertLessThan(r.seconds, 10)
    }

    /// `>/dev/full`: ENOSPC is an error like EPIPE.
    func testFullDiskIsAnError() throws {
        for (name, url) in try realBrokers() {
            let q = Brokers.unique("shell-devfull-\(name)")
            try fill(url, q, count: 200)
            let r = try runUnderBash([url, "-c", "subscribe \(q)", "-c", "wait 201 --timeout 30", "-c", "echo done"],
                                     redirect: ">/dev/full")
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("standard output: No space left on device"), "\(name): \(r.stderr)")
            XCTAssertLessThan(r.seconds, 10)
            XCTAssertGreaterThan(try drain(url, q), 0, "\(name): the connection was closed before the queue was drained")
        }
    }

    /// `--trace` into a failing stdout: the trace of the first connect is what fails to print; that is a failed
    /// output (status 1, as without --trace), not a connection lost (3), for each way stdout can fail.
    func testTraceIntoFailingStdoutExitsOne() throws {
        for (name, url) in try realBrokers() {
            for redirect in [">/dev/full", "| head -0", ">&-"] {
                let r = try runUnderBash(["--trace", url, "-c", "echo hi"], redirect: redirect)
                XCTAssertEqual(r.status, 1, "\(name) \(redirect): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("standard output: "), "\(name) \(redirect): \(r.stderr)")
                XCTAssertFalse(r.stderr.contains("connection lost"), "\(name) \(redirect): \(r.stderr)")
            }
        }
    }

    /// `>&-`: EBADF; and the closed descriptor is not reused for the socket (the output never reaches the broker).
    func testClosedStdoutIsAnError() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("shell-closed-stdout")
        let r = try runUnderBash([url, "-c", "subscribe \(q)", "-c", "send \(q) hello", "-c", "wait 1", "-c", "echo done"],
                                 redirect: ">&-")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("standard output: Bad file descriptor"), r.stderr)
        XCTAssertLessThan(r.seconds, 10)
        // Nothing to print (-q, no echo): a closed stdout is no error.
        let quiet = try runUnderBash(["-q", url, "-c", "send --receipt \(q) x"], redirect: ">&-")
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
    }

    /// `echo` alone into a closed pipe fails with its own line and column, whatever `on-error` says.
    func testEchoIntoClosedPipeStopsTheScript() throws {
        let r = try runUnderBash(["-c", "set on-error continue", "-c", "echo one", "-c", "sleep 0.5", "-c", "-echo two",
                                  "-c", "sleep 0.5", "-c", "echo three"],
                                 redirect: "| true")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("error: standard output: Broken pipe"), r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "Broken pipe").count, 2, "reported once: \(r.stderr)")
    }
}
