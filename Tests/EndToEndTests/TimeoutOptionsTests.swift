import Foundation
import NIOPosix
import StompTestSupport
import XCTest

/// `--write-timeout S` and `--receipt-timeout S` (argv and `connect`): the operator chooses how long a broker may
/// take none of our bytes (0: for ever, flow control that legitimately holds a producer) and how long a RECEIPT
/// may take; bad values are usage errors (2) in one line naming the option.
final class TimeoutOptionsTests: XCTestCase {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static let bodyFile: String = {
        let path = NSTemporaryDirectory() + "stompsh-knob-body-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: UInt8(ascii: "k"), count: 1 << 20))
        return path
    }()

    static let sends = "repeat 40 send /queue/knob-stall --file \(bodyFile)"

    static func stallLine(seconds: String, column: Int) -> String {
        "^-c\\[\\d\\]:1:\(column): error: broker stopped reading: none of [0-9]+ bytes waiting to be written taken for "
            + seconds + #" s \(broker stuck, or flow control holding this producer\); connection closed$"#
    }

    func testWriteTimeoutOneEndsAStalledSendInAboutASecond() throws {
        let peer = try FaultyPeer(.stopReading, group: Self.group)
        try assertStallEnds(["--no-reconnect", "--write-timeout", "1", peer.url, "-c", Self.sends, "-c", "echo after"],
                            seconds: "1", within: 1..<5)
    }

    /// The same chosen on the `connect` command (no URL on argv): the option is parsed and reaches the connection.
    func testConnectCommandTakesTheWriteTimeout() throws {
        let peer = try FaultyPeer(.stopReading, group: Self.group)
        try assertStallEnds(["--no-reconnect", "-c", "connect \(peer.url) --write-timeout 1.5", "-c", Self.sends,
                             "-c", "echo after"], seconds: "1.5", within: 1.5..<6)
    }

    /// Runs `args` against a peer that stopped reading: exit 3 after `within` seconds (the timeout, found by a
    /// check every fifth of it, plus start-up), the stall named at the send's column, the next line not run.
    private func assertStallEnds(_ args: [String], seconds: String, within: Range<Double>,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let start = Date()
        let r = try Stompsh.run(args, timeout: 60)
        let took = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 3, r.stderr, file: file, line: line)
        XCTAssertFalse(r.stdout.contains("after"), r.stdout, file: file, line: line)
        XCTAssertTrue(within.contains(took), "took \(took) s: \(r.stderr)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.range(of: Self.stallLine(seconds: seconds, column: 11), options: .regularExpression) != nil },
                      r.stderr, file: file, line: line)
    }

    /// 0: no stall check. Still waiting well after the default (10 s, checked every 2 s) would have ended it;
    /// the test bounds its own time and kills it.
    func testWriteTimeoutZeroWaitsPastTheDefaultStall() throws {
        let peer = try FaultyPeer(.stopReading, group: Self.group)
        let run = try Stompsh.Background(["--no-reconnect", "--write-timeout", "0", peer.url, "-c", Self.sends, "-c", "echo after"])
        XCTAssertTrue(run.waitUntilConnected(), run.stderr.text)
        // The default stall: 10 s plus one check interval (2 s); 3 s more of slack.
        let stalledSince = Date()
        while run.process.isRunning, Date().timeIntervalSince(stalledSince) < 15 { usleep(100_000) }
        XCTAssertTrue(run.process.isRunning, "ended without the stall check: \(run.process.terminationStatus) \(run.stderr.text)")
        run.finish()
        XCTAssertFalse(run.stderr.text.contains("broker stopped reading"), run.stderr.text)
        XCTAssertFalse(run.stdout.text.contains("after"), run.stdout.text)
    }

    func testReceiptTimeoutOneFailsAMissingReceiptInAboutASecond() throws {
        for viaConnect in [false, true] {
            let peer = try FaultyPeer(.noReceipt, group: Self.group)
            let args = viaConnect
                ? ["--no-reconnect", "-c", "connect \(peer.url) --receipt-timeout 1"]
                : ["--no-reconnect", "--receipt-timeout", "1", peer.url]
            let start = Date()
            let r = try Stompsh.run(args + ["-c", "subscribe /queue/knob-fault", "-c", "echo after"], timeout: 60)
            let took = Date().timeIntervalSince(start)
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertFalse(r.stdout.contains("after"), r.stdout)
            XCTAssertTrue(peer.triggered)
            XCTAssertNotNil(r.stderr.range(of: "error: timed out after 1 s waiting for RECEIPT r-1 for SUBSCRIBE to /queue/knob-fault"),
                            r.stderr)
            // 1 s, then DISCONNECT without its RECEIPT (1 s, the same timeout): well below the default's 10 s.
            XCTAssertGreaterThanOrEqual(took, 1)
            XCTAssertLessThan(took, 7, "viaConnect \(viaConnect): \(r.stderr)")
        }
    }

    static let bad: [(option: String, value: String)] = [
        ("--write-timeout", "-1"), ("--write-timeout", "nan"), ("--write-timeout", "NaN"), ("--write-timeout", "ten"),
        ("--write-timeout", "1e12"), ("--write-timeout", "inf"), ("--write-timeout", ""), ("--write-timeout", "5s"),
        ("--write-timeout", "0.0001"), ("--write-timeout", "31536001"),
        ("--receipt-timeout", "0"), ("--receipt-timeout", "-0.5"), ("--receipt-timeout", "nan"), ("--receipt-timeout", "x"),
        ("--receipt-timeout", "1e300"), ("--receipt-timeout", "-inf"), ("--receipt-timeout", "31536000.5"),
    ]

    func testBadValuesOnTheCommandLineAreUsageErrorsNamingTheOption() throws {
        for (option, value) in Self.bad {
            let r = try Stompsh.run([option, value, "-c", "echo ran"])
            XCTAssertEqual(r.status, 2, "\(option) '\(value)': \(r.stderr)")
            XCTAssertFalse(r.stdout.contains("ran"))
            let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertEqual(first, "Error: \(option): expected seconds, "
                           + (option == "--write-timeout" ? "0 (no limit) or " : "") + "0.001 to 31536000 (a year), got '\(value)'",
                           r.stderr)
        }
    }

    func testBadValuesOnConnectAreUsageErrorsAtTheOption() throws {
        for (option, value) in Self.bad where !value.isEmpty {
            let r = try Stompsh.run(["-c", "connect stomp://127.0.0.1:1 \(option) \(value)", "-c", "echo ran"])
            XCTAssertEqual(r.status, 2, "\(option) '\(value)': \(r.stderr)")
            XCTAssertFalse(r.stdout.contains("ran"))
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("-c[1]:1:29: error: \(option): expected seconds, "), r.stderr)
            XCTAssertTrue(r.stderr.hasSuffix(", got '\(value)'\n"), r.stderr)
        }
    }

    func testGoodValuesAreAccepted() throws {
        for args in [["--write-timeout", "0"], ["--write-timeout", "0.5"], ["--write-timeout", "31536000"],
                     ["--receipt-timeout", "0.001"], ["--receipt-timeout", "30"], ["--write-timeout=2", "--receipt-timeout=3"]] {
            let r = try Stompsh.run(args + ["-c", "echo ran"])
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "ran\n")
        }
    }

    // MARK: what each timeout governs, and `status` showing them

    /// `status` shows the timeouts the connection runs with and the heart-beats offered, the broker's offer and
    /// what was agreed (text and JSON), from the command line and from `connect`.
    func testStatusShowsTheTimeoutsAndHeartBeats() throws {
        for (name, url) in Brokers.all() {
            for viaConnect in [false, true] {
                let args = viaConnect
                    ? ["-c", "connect \(url) --receipt-timeout 7.5 --write-timeout 0 --heart-beat 3000,4000"]
                    : ["--receipt-timeout", "7.5", "--write-timeout", "0", "--heart-beat", "3000,4000", url]
                let r = try Stompsh.run(args + ["-c", "status"])
                XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
                XCTAssertTrue(r.stdout.contains("  timeouts     receipt 7.5 s, disconnect 7.5 s, write none, connect 10 s\n"),
                              "\(name): \(r.stdout)")
                XCTAssertNotNil(r.stdout.range(of: #"heart-beats  send every [0-9]+ ms, expect every [0-9]+ ms \(offered 3000,4000, broker's [0-9]+,[0-9]+\)"#,
                                               options: .regularExpression), "\(name): \(r.stdout)")

                let json = try Stompsh.run(["--json"] + args + ["-c", "status"])
                XCTAssertEqual(json.status, 0, "\(name): \(json.stderr)")
                let status = json.lines.compactMap { line -> [String: Any]? in
                    let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                    return o?["timeouts"] != nil ? o : nil
                }.first
                let timeouts = status?["timeouts"] as? [String: Any]
                XCTAssertEqual(timeouts?["receipt_s"] as? Double, 7.5, "\(name): \(json.stdout)")
                XCTAssertEqual(timeouts?["disconnect_s"] as? Double, 7.5, "\(name): \(json.stdout)")
                XCTAssertTrue(timeouts?["write_s"] is NSNull, "\(name): \(json.stdout)")
                XCTAssertEqual(timeouts?["connect_s"] as? Int, 10, "\(name): \(json.stdout)")
                let beats = status?["heart_beats"] as? [String: Any]
                let offered = beats?["offered"] as? [String: Any]
                XCTAssertEqual(offered?["send_ms"] as? Int, 3000, "\(name): \(json.stdout)")
                XCTAssertEqual(offered?["receive_ms"] as? Int, 4000, "\(name): \(json.stdout)")
                XCTAssertNotNil(beats?["broker"] as? [String: Any], "\(name): \(json.stdout)")
            }
        }
    }

    /// DISCONNECT's RECEIPT is awaited as long as any RECEIPT (`--receipt-timeout`; it was a fixed 2 s): a broker
    /// that never answers it is closed after that, on time (it came after 5 s while heart-beats were due: the
    /// session's next deadline was the heart-beat's, not the receipt's), with a warning (a broker busy flooding the
    /// client answers late with nothing lost, so the status stays 0).
    func testTheDisconnectWaitsTheReceiptTimeout() throws {
        let peer = try FaultyPeer(.noReceipt, group: Self.group)
        let start = Date()
        let r = try Stompsh.run(["--no-reconnect", "-q", "--receipt-timeout", "3", peer.url, "-c", "send /queue/fault hi"],
                                timeout: 30)
        let took = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertGreaterThanOrEqual(took, 3)
        XCTAssertLessThan(took, 3 + 1.5)
        XCTAssertEqual(r.stderr, "warning: disconnect: no RECEIPT for the DISCONNECT within 3 s, closed anyway: "
                       + "frames sent without a receipt may not have arrived\n")
    }

    /// The subscriptions stompsh makes for a command (rpc's reply queue, `subscribe --count`) wait for their
    /// RECEIPT as `--receipt-timeout` says, not a limit of the shell's own (30 s before): the client's timeout
    /// ends the wait and names the RECEIPT. A broker whose first RECEIPT comes 40 s late.
    func testSubscriptionsOfCommandsWaitTheReceiptTimeout() throws {
        let commands = ["rpc call /queue/s8left-rpc add 1 2", "subscribe /queue/s8left-count --count 1"]
        let peers = try commands.map { _ in try FaultyPeer(.delayReceipts(count: 1, by: .seconds(40)), group: Self.group) }
        var results = [Stompsh.Result?](repeating: nil, count: commands.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: commands.count) { i in
            let r = try? Stompsh.run(["--no-reconnect", "--receipt-timeout", "31", peers[i].url, "-c", commands[i]], timeout: 60)
            lock.lock()
            results[i] = r
            lock.unlock()
        }
        for (i, command) in commands.enumerated() {
            guard let r = results[i] else { XCTFail("\(command): did not run"); continue }
            XCTAssertEqual(r.status, 1, "\(command): \(r.stderr)")
            XCTAssertNotNil(r.stderr.range(of: #"timed out after 31 s waiting for RECEIPT r-1 for SUBSCRIBE to /(temp-)?queue/"#,
                                           options: .regularExpression), "\(command): \(r.stderr)")
        }
    }
}
