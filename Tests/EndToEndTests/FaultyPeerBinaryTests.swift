import Foundation
import NIOPosix
import StompTestSupport
import XCTest

/// The stompsh binary against every fault of `FaultyPeer` (hosted in this test process): each run ends
/// within its bound with the cause on stderr in one line, and the exit status says what happened.
final class FaultyPeerBinaryTests: XCTestCase {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    struct Row {
        var fault: FaultyPeer.Fault
        /// Options before the URL.
        var options: [String] = []
        /// `-c` commands; the first frame they send after CONNECT is the fault's trigger.
        var commands: [String]
        var status: Int32
        /// The cause as it must end a line on stderr after "error: " or "stompsh: " (a regular expression,
        /// PORT standing for the peer's port); nil: stderr must be empty.
        var cause: String?
        /// Seconds from start to exit: the relevant default timeout plus slack.
        var within: Double
    }

    static let subscribeAndWait = ["subscribe /queue/fault", "wait --timeout 60"]

    static var rows: [Row] {
        [
            Row(fault: .closeMidFrame, commands: subscribeAndWait, status: 3,
                cause: "broker closed the connection in the middle of a frame", within: 5),
            // Default stall timeout: 5 s (before the 10 s receipt timeout of the SUBSCRIBE).
            Row(fault: .stallMidFrame, commands: subscribeAndWait, status: 3,
                cause: "broker stopped sending in the middle of a frame: nothing for 5 s after 71 bytes of it", within: 5 + 5),
            Row(fault: .garbage, commands: subscribeAndWait, status: 3,
                cause: #"broker sent invalid STOMP: peer sent unknown command "HELLO THERE" at byte [0-9]+"#, within: 5),
            Row(fault: .oversizedHeader, commands: subscribeAndWait, status: 3,
                cause: "broker sent invalid STOMP: peer exceeded maxHeaderLineLength: [0-9]+ > 65536 at byte [0-9]+", within: 5),
            Row(fault: .oversizedBody, commands: subscribeAndWait, status: 3,
                cause: "broker sent invalid STOMP: peer exceeded maxBodySize: 67108865 > 67108864 at byte [0-9]+", within: 5),
            // Default receipt timeout 10 s, then DISCONNECT without its RECEIPT: 10 s more (the same timeout).
            Row(fault: .noReceipt, commands: subscribeAndWait, status: 1,
                cause: "timed out after 10 s waiting for RECEIPT r-1 for SUBSCRIBE to /queue/fault", within: 20 + 5),
            Row(fault: .stopHeartBeating(every: 500), options: ["--heart-beat", "500,500"], commands: subscribeAndWait,
                status: 3, cause: #"wait: connection lost: broker went silent: nothing received for [0-9.]+ s \(heart-beat expected every 500 ms\)"#,
                within: 1.5 + 5),
            Row(fault: .errorThenClose, commands: subscribeAndWait, status: 3,
                cause: #"broker closed the connection after its ERROR "queue /queue/fault is on fire""#, within: 5),
            // A second CONNECTED breaks the protocol: the connection is lost for good (3, as the man page says).
            Row(fault: .secondConnected, commands: subscribeAndWait, status: 3,
                cause: #"wait: connection lost: peer sent CONNECTED while the session is connected"#, within: 5),
            // Default connect timeout: 10 s.
            Row(fault: .neverConnected, commands: subscribeAndWait, status: 3,
                cause: #"timed out after 10 s waiting for CONNECTED from 127\.0\.0\.1:PORT"#, within: 10 + 5),
            Row(fault: .delayEveryFrame(.milliseconds(300)),
                commands: ["subscribe /queue/fault", "send --receipt /queue/fault slow", "expect --body slow"],
                status: 0, cause: nil, within: 10),
            Row(fault: .none, commands: ["subscribe /queue/fault", "send /queue/fault hi", "expect --body hi"],
                status: 0, cause: nil, within: 5),
            // A script whose sends went without receipts learns whether they arrived only from the DISCONNECT's
            // RECEIPT: a broker that closes instead makes the run fail, loudly (one that never answers it gets a
            // warning: TimeoutOptionsTests.testTheDisconnectWaitsTheReceiptTimeout).
            Row(fault: .closeOnDisconnect, commands: ["send /queue/fault hi"], status: 1,
                cause: #"disconnect: the broker did not confirm the DISCONNECT \(broker closed the connection\): frames sent without a receipt may not have arrived"#,
                within: 5),
        ]
    }

    func testEveryFaultEndsInTimeWithAOneLineError() throws {
        _ = Stompsh.binary
        let rows = Self.rows
        let peers = try rows.map { try FaultyPeer($0.fault, group: Self.group) }
        // In parallel: the slow rows wait for stompsh's default 10 s timeouts.
        var results = [(Stompsh.Result, Double)?](repeating: nil, count: rows.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: rows.count) { i in
            let row = rows[i]
            var args = ["--no-reconnect"] + row.options + [peers[i].url]
            for c in row.commands { args += ["-c", c] }
            let start = Date()
            let r = try? Stompsh.run(args, timeout: 60)
            let took = Date().timeIntervalSince(start)
            lock.lock()
            results[i] = r.map { ($0, took) }
            lock.unlock()
        }
        for (i, row) in rows.enumerated() {
            let name = row.fault.description
            guard let (r, took) = results[i] else { XCTFail("\(name): stompsh did not run"); continue }
            print("\(name): exit \(r.status) after \(String(format: "%.1f", took)) s; stderr:\n\(r.stderr)")
            XCTAssertLessThan(took, row.within, "\(name): took \(took) s")
            XCTAssertEqual(r.status, row.status, "\(name): stderr: \(r.stderr)")
            guard let cause = row.cause else {
                XCTAssertEqual(r.stderr, "", name)
                continue
            }
            if case .neverConnected = row.fault {} else {
                XCTAssertTrue(peers[i].triggered, "\(name): the fault never happened")
            }
            let pattern = "(error|stompsh): " + cause.replacingOccurrences(of: "PORT", with: "\(peers[i].port)") + "$"
            let lines = r.stderr.split(separator: "\n").map(String.init)
            XCTAssertTrue(lines.contains { $0.range(of: pattern, options: .regularExpression) != nil },
                          "\(name): no line matching \(pattern) in:\n\(r.stderr)")
            // Nothing else: at most the loss as it happened and the failing command, both naming the cause.
            XCTAssertLessThanOrEqual(lines.count, 2, "\(name):\n\(r.stderr)")
        }
    }

    /// Standard output that fails while the DISCONNECT is awaited (a MESSAGE of an ack-auto subscription arrives
    /// then and is printed into a pipe nobody reads) fails the run naming standard output. It was blamed on the
    /// broker ("did not confirm the DISCONNECT (broker closed the connection)": the shell's own close after the
    /// failed write, taken for the broker's), or, when the RECEIPT came first, not reported at all: exit 0.
    func testStandardOutputFailingWhileTheDisconnectIsAwaitedIsReportedAsSuch() throws {
        // every frame of the peer 300 ms late: the MESSAGE answering the SEND comes after the script's last line
        let peer = try FaultyPeer(.delayEveryFrame(.milliseconds(300)), group: Self.group)
        let r = try runToEnd("/bin/bash", ["-c", "HOME='\(Stompsh.tempHome)' '\(Stompsh.binary)' --no-reconnect -q \(peer.url) "
                                           + "-c 'subscribe /queue/fault' -c 'send /queue/fault hi' | true; "
                                           + "echo status ${PIPESTATUS[0]} >&2"], timeout: 30)
        XCTAssertTrue(r.stderr.contains("status 1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("standard output: Broken pipe"), r.stderr)
        XCTAssertFalse(r.stderr.contains("did not confirm the DISCONNECT"), r.stderr)
    }

    /// `stompsh replay` sends the recording's frames without receipts, so only the DISCONNECT's RECEIPT says they
    /// arrived: a broker that answers the DISCONNECT by closing the connection fails the replay (status 1, the
    /// shell's rule), as does a connection lost before the DISCONNECT (status 3). Both exited 0 with the summary.
    func testReplayFailsWhenTheBrokerDoesNotConfirmItsFrames() throws {
        let rec = NSTemporaryDirectory() + "stompsh-adv-replay-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: rec) }
        let text = """
            {"t":0.1,"dir":"out","frame":"SEND","headers":{"destination":"/queue/fault"},"body":"one"}
            {"t":0.2,"dir":"out","frame":"SEND","headers":{"destination":"/queue/fault"},"body":"two"}

            """
        XCTAssertTrue(FileManager.default.createFile(atPath: rec, contents: Data(text.utf8)))
        let closing = try FaultyPeer(.closeOnDisconnect, group: Self.group)
        var r = try Stompsh.run(["replay", rec, closing.url], timeout: 30)
        XCTAssertEqual(r.status, 1, "stdout: \(r.stdout) stderr: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("stompsh replay: the broker did not confirm the DISCONNECT (broker closed the connection): "
                                        + "frames sent without a receipt may not have arrived"), r.stderr)
        XCTAssertEqual(closing.receivedFrames.filter { $0.command == .send }.count, 2, "both were sent")
        // the connection lost after the first SEND (an ERROR, then the broker closes): the second may be lost
        let erring = try FaultyPeer(.errorThenClose, group: Self.group)
        r = try Stompsh.run(["replay", rec, erring.url], timeout: 30)
        XCTAssertEqual(r.status, 3, "stdout: \(r.stdout) stderr: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("stompsh replay: "), r.stderr)
        XCTAssertTrue(r.stderr.contains(FaultyPeer.errorMessage), r.stderr)
        // a broker that confirms: 0, and the summary
        let fine = try FaultyPeer(.none, group: Self.group)
        r = try Stompsh.run(["replay", rec, fine.url], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("replayed 2 frames (SEND 2)"), r.stdout)
    }
}
