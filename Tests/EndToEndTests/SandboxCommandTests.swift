import Foundation
import StompTestSupport
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
        let (p, log) = try startCollectingOutput(Stompsh.binary, ["broker", "--port", "0"])
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
        let (first, log) = try startCollectingOutput(Stompsh.binary, ["broker", "--port", "0"])
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
