import Foundation
import XCTest

/// `rpc serve --count N` ends after N calls having acknowledged every one of them: its last ACK must reach the
/// broker before its UNSUBSCRIBE, or the broker hands the last request back (to be served twice) and answers the
/// late ACK with an ERROR.
final class RPCServeCountTests: XCTestCase {
    func testServeCountAcknowledgesTheLastCallBeforeItUnsubscribes() throws {
        for (name, url) in Brokers.all() {
            let q = Brokers.unique("rpc-count-\(name)")
            let (server, out) = try Stompsh.startRPCServer(url, q, count: 2)
            var served = ""
            let caller = try Stompsh.run([url, "-c", "rpc call \(q) echo one", "-c", "rpc call \(q) echo two"], timeout: 60)
            XCTAssertEqual(caller.status, 0, "\(name): \(caller.stderr)")
            server.waitUntilExit()
            served += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(server.terminationStatus, 0, "\(name): \(served)")
            XCTAssertFalse(served.contains("ERROR"), "\(name): no late ACK: \(served)")
            // one line per call served (without -q)
            let lines = served.split(separator: "\n").filter { $0.hasPrefix("echo  ") && $0.hasSuffix(" ms") }
            XCTAssertEqual(lines.count, 2, "\(name): \(served)")
            XCTAssertTrue(served.contains("served 2 calls"), "\(name): \(served)")
            // Nothing was handed back: the queue is empty.
            let left = try Stompsh.run(["--json", url, "-c", "drain \(q) --idle 1"], timeout: 60)
            XCTAssertEqual(left.status, 0, "\(name): \(left.stderr)")
            XCTAssertFalse(left.stdout.contains("\"MESSAGE\""), "\(name): a served request came back: \(left.stdout)")
        }
    }
}
