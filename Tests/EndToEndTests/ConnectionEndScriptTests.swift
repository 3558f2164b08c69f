import Foundation
import XCTest

/// What a script's exit status says about ERROR frames and lost connections (man page, EXIT STATUS): an ERROR
/// the connection survives fails the script (1) unless `expect-error` takes it; a connection lost for good is 3;
/// each ERROR is shown once.
final class ConnectionEndScriptTests: XCTestCase {
    /// RabbitMQ keeps the connection after "Unknown destination": the next SEND gets its RECEIPT, the script
    /// fails with 1 (not 3), the ERROR's body appears once.
    func testErrorTheConnectionSurvivesExitsOne() throws {
        let url = try Brokers.rabbitmq()
        let q = Brokers.unique("conn")
        let r = try Stompsh.run([url, "-c", "send /nowhere/conn x", "-c", "sleep 0.5", "-c", "send --receipt \(q) ok",
                                 "-c", "echo still connected"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains("still connected"), r.stdout)
        let all = r.stdout + r.stderr
        XCTAssertEqual(all.components(separatedBy: "is not a valid destination").count - 1, 1, all)
        XCTAssertFalse(all.contains("lost"), all)
        // Expected: status 0.
        let ok = try Stompsh.run([url, "-c", "send /nowhere/conn x", "-c", "expect-error --message 'Unknown destination'",
                                  "-c", "send --receipt \(q) ok"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    /// ActiveMQ keeps the connection after BEGIN twice; expect-error takes it.
    func testActiveMQBeginTwiceIsAnErrorNotALoss() throws {
        let url = try Brokers.activemq()
        let script = "raw <<EOF\nBEGIN\ntransaction:conn-t\n\nEOF\nraw <<EOF\nBEGIN\ntransaction:conn-t\n\nEOF\n"
        let r = try Stompsh.run([url, "-c", script, "-c", "sleep 0.5", "-c", "status"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains("connected"), r.stdout)
        let ok = try Stompsh.run([url, "-c", script, "-c", "expect-error --message 'already started'", "-c", "status"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    /// --no-reconnect and a frame the broker rejects and closes on (RabbitMQ: a missing /amq/queue/): exit 3, the
    /// loss said once, `status` says not connected.
    func testLostForGoodExitsThree() throws {
        let url = try Brokers.rabbitmq()
        let r = try Stompsh.run([url, "--no-reconnect", "-c", "subscribe /amq/queue/conn-missing-\(UUID().uuidString.prefix(8))",
                                 "-c", "sleep 1", "-c", "echo after"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "lost for good").count - 1, 1, r.stderr)
        XCTAssertEqual((r.stdout + r.stderr).components(separatedBy: "no queue").count - 1, 1, r.stdout + r.stderr)
    }
}
