import Foundation
import XCTest

/// `stompsh --sandbox` and `stompsh broker`: the in-memory broker through the built binary.
final class SandboxCommandTests: XCTestCase {
    func testSandboxFlagConnectsToAnInProcessBroker() throws {
        let r = try Stompsh.run(["--sandbox", "-c", "subscribe /queue/try", "-c", "send /queue/try hello", "-c", "expect --body hello",
                                 "-c", "status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("in-memory sandbox broker on 127.0.0.1:"), r.stdout)
        XCTAssertTrue(r.stdout.contains("not a real broker; messages are lost on exit"), r.stdout)
        XCTAssertTrue(r.stdout.contains("(STOMP 1.2, stompsh-sandbox/"), r.stdout)
        XCTAssertTrue(r.stdout.contains("MESSAGE /queue/try"), r.stdout)
    }

    func testSandboxFlagTakesNoURL() throws {
        let r = try Stompsh.run(["--sandbox", "stomp://localhost:61613", "-c", "echo never"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--sandbox starts its own broker"), r.stderr)
    }

    func testBrokerCommandServesLogsAndStopsOnSIGTERM() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Stompsh.binary)
        p.arguments = ["broker", "--port", "0"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        let log = LockedText()
        pipe.fileHandleForReading.readabilityHandler = { log.append($0.availableData) }
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        let url = try XCTUnwrap(log.wait(for: #"listening on (stomp://127\.0\.0\.1:\d+)"#), log.text)
        XCTAssertTrue(log.text.contains("in-memory sandbox broker"), log.text)

        let q = Brokers.unique("broker-cmd")
        let r = try Stompsh.run([url, "-c", "subscribe \(q)", "-c", "send \(q) via-broker", "-c", "expect --body via-broker"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertNotNil(log.wait(for: #"connection \d+: closed \(DISCONNECT\)"#), log.text)
        XCTAssertTrue(log.text.contains(": opened from 127.0.0.1:"), log.text)
        XCTAssertTrue(log.text.contains(": CONNECT as "), log.text)

        p.terminate()   // SIGTERM
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, log.text)
        XCTAssertNotNil(log.wait(for: "stopped"), log.text)
    }

    func testBrokerCommandFailsWhenThePortIsTaken() throws {
        let first = Process()
        first.executableURL = URL(fileURLWithPath: Stompsh.binary)
        first.arguments = ["broker", "--port", "0"]
        let pipe = Pipe()
        first.standardOutput = pipe
        let log = LockedText()
        pipe.fileHandleForReading.readabilityHandler = { log.append($0.availableData) }
        try first.run()
        defer { first.terminate(); first.waitUntilExit() }
        let url = try XCTUnwrap(log.wait(for: #"listening on stomp://127\.0\.0\.1:(\d+)"#), log.text)
        let r = try Stompsh.run(["broker", "--port", url])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "stompsh broker: port \(url) is in use\n")
        let ws = try Stompsh.run(["broker", "--port", "0", "--ws-port", url])
        XCTAssertEqual(ws.status, 1)
        XCTAssertEqual(ws.stderr, "stompsh broker: --ws-port: port \(url) is in use\n")
        let bad = try Stompsh.run(["broker", "--port", "70000"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
    }
}

/// Output of a child process, collected from a readability handler; `wait(for:)` matches a regex.
final class LockedText: @unchecked Sendable {
    private let cond = NSCondition()
    private var data = Data()

    func append(_ d: Data) {
        cond.lock()
        data.append(d)
        cond.broadcast()
        cond.unlock()
    }

    var text: String {
        cond.lock()
        defer { cond.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first capture group of `pattern` (or the whole match) once it appears, within `timeout` seconds.
    func wait(for pattern: String, timeout: Double = 10) -> String? {
        let regex = try! NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while true {
            let s = String(decoding: data, as: UTF8.self)
            if let m = regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) {
                let r = m.numberOfRanges > 1 ? m.range(at: 1) : m.range
                return Range(r, in: s).map { String(s[$0]) }
            }
            if !cond.wait(until: deadline) { return nil }
        }
    }
}
