import Foundation
import XCTest

/// `send` without a receipt does not wait for its write per command (SendsInFlight, StompClient.send(batch:)), yet a script sees what it
/// saw when each send waited: messages in order, a failed send ends its own line with its column and exit status,
/// and nothing after it is sent or run. On the sandbox and on RabbitMQ.
final class PipelinedSendTests: XCTestCase {
    func brokers() throws -> [(String, [String])] {
        [("sandbox", ["--sandbox"]), ("rabbitmq", [try Brokers.rabbitmq()])]
    }

    /// Bodies in the order sent: a repeat's sends go out in batches, in order.
    func testRepeatedSendsArriveInOrder() throws {
        for (name, target) in try brokers() {
            let q = Brokers.unique("pipelined-order-\(name)")
            let r = try Stompsh.run(target + ["-q", "-c", "subscribe \(q)", "-c", "repeat 300 send \(q) m-${repeat.index}",
                                              "-c", "wait 300 --timeout 30"])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            let bodies = r.lines.filter { $0.hasPrefix("m-") }
            XCTAssertEqual(bodies, (1...300).map { "m-\($0)" }, name)
        }
    }

    /// The 10th send's body is 2 bytes against `content-length:1`: it fails to encode. The error names the repeat's
    /// line and the send's column (as when each send waited), `echo after` never runs, and sends 11 and 12 are
    /// never written: the queue gets 1...9 only. (The sandbox of `--sandbox` ends with the process: there the
    /// session subscribes itself; on RabbitMQ a second session drains the queue.)
    func testAFailedSendEndsItsLineAndNothingAfterItIsSent() throws {
        for (name, target) in try brokers() {
            let q = Brokers.unique("pipelined-fail-\(name)")
            let sandbox = name == "sandbox"
            let r = try Stompsh.run(target + ["-q", "-c", sandbox ? "subscribe \(q)" : "echo",
                                              "-c", "repeat 12 send -H content-length:1 \(q) ${repeat.index}",
                                              "-c", "echo after", "-c", "wait 12"])
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            XCTAssertEqual(r.stderr, #"-c[2]:1:11: error: cannot encode frame: content-length header "1" does not match the body (2 bytes)"#
                           + "\n", name)
            XCTAssertFalse(r.stdout.contains("after"), "\(name): \(r.stdout)")
            var received = r
            if !sandbox {
                received = try Stompsh.run(target + ["-q", "-c", "subscribe \(q)", "-c", "wait 9 --timeout 10", "-c", "sleep 1"])
                XCTAssertEqual(received.status, 0, "\(name): \(received.stderr)")
            }
            let bodies = received.lines.filter { $0.count <= 2 && $0.allSatisfy(\.isNumber) }
            XCTAssertEqual(bodies, (1...9).map(String.init), "\(name): \(received.stdout)")
        }
    }

    /// A failed send on a line of its own: the error is that line's, the next line does not run.
    func testAFailedSendOnItsOwnLineStopsTheScriptThere() throws {
        let r = try Stompsh.run(["--sandbox", "-q", "-c", "send /queue/pipelined-own x", "-c", "send -H content-length:1 /queue/pipelined-own xy",
                                 "-c", "echo after"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, #"-c[2]:1:1: error: cannot encode frame: content-length header "1" does not match the body (2 bytes)"# + "\n")
        XCTAssertEqual(r.stdout, "")
    }
    /// A receipted send says so with its time in milliseconds, two decimals (formatted without String(format:));
    /// with -q it prints nothing. In a transaction (joined on the event loop) it waits for the commit to arrive.
    func testAReceiptedSendPrintsItsTimeAndJoinsTheOpenTransaction() throws {
        let q = "/queue/" + "client-receipted-\(UUID().uuidString.prefix(8))"
        let r = try Stompsh.run(["--sandbox", "-c", "set timing on", "-c", "subscribe \(q)", "-c", "begin t1",
                                 "-c", "send --receipt \(q) in-tx", "-c", "echo before-commit", "-c", "commit t1", "-c", "wait 1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let sent = r.lines.filter { $0.hasPrefix("sent to \(q)") }
        XCTAssertEqual(sent.count, 1, r.stdout)
        XCTAssertNotNil(sent.first?.range(of: #"^sent to \S+ \(5 bytes\), receipt received in [0-9]+\.[0-9]{2} ms$"#,
                                          options: .regularExpression), r.stdout)
        let lines = r.lines
        if let echo = lines.firstIndex(of: "before-commit"), let body = lines.firstIndex(where: { $0.contains("in-tx") && !$0.hasPrefix("sent") }) {
            XCTAssertLessThan(echo, body, "the SEND joined the transaction: delivered at the commit: \(r.stdout)")
        } else {
            XCTFail(r.stdout)
        }
        let quiet = try Stompsh.run(["--sandbox", "-q", "-c", "send --receipt \(q) x"])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertEqual(quiet.stdout, "")
    }
}
