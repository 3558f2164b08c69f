import Foundation
import NIOPosix
import StompTestSupport
import XCTest

/// A broker cannot make stompsh buffer without bound: while the shell is behind, stompsh stops reading from
/// the socket (TCP back-pressure) instead of buffering or dropping; `wait N` counts every arrival.
final class BackPressureTests: XCTestCase {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Peak resident memory (kB) of process `pid` so far, from /proc (0 if gone).
    private func peakRSSkB(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    /// A peer floods 2,000 MESSAGEs of 1 MiB: stompsh's memory stays bounded (it reached 2 GB in 3 s before)
    /// and `sleep 3` ends on time.
    func testFloodOfOneMebibyteMessagesKeepsMemoryBounded() throws {
        let peer = try FaultyPeer(.flood(messages: 2_000, size: 1 << 20), group: Self.group)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Stompsh.binary)
        p.arguments = ["-q", "--no-reconnect", peer.url, "-c", "subscribe /queue/flood", "-c", "sleep 3"]
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = Stompsh.tempHome
        p.environment = env
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        let start = Date()
        try p.run()
        var peak = 0
        while p.isRunning {
            peak = max(peak, peakRSSkB(p.processIdentifier))
            if Date().timeIntervalSince(start) > 30 { p.terminate(); break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.waitUntilExit()
        let took = Date().timeIntervalSince(start)
        print("flood: peak RSS \(peak / 1024) MiB, exit \(p.terminationStatus) after \(String(format: "%.1f", took)) s")
        XCTAssertTrue(peer.triggered)
        XCTAssertLessThan(peak, 400 * 1024, "peak RSS \(peak / 1024) MiB")
        XCTAssertLessThan(took, 15, "sleep 3 ends on time")
        XCTAssertEqual(p.terminationStatus, 0)
    }

    /// 20,000 messages on a real broker: `wait 20000` sees every one, though only 10,000 are kept for expect.
    func testWaitCountsEveryArrivalBeyondTheKeptMessages() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("conn-wait")
        let r = try Stompsh.run([url, "-q", "-c", "subscribe \(q)", "-c", "bench send \(q) -n 20000 --receipts window:100",
                                 "-c", "wait 20000 --timeout 120", "-c", "echo all arrived"], timeout: 180)
        XCTAssertEqual(r.status, 0, String(r.stderr.suffix(2000)))
        XCTAssertTrue(r.stdout.contains("all arrived"), String(r.stdout.suffix(300)))
    }

    /// ActiveMQ's queue browser ends with a MESSAGE carrying `browser:end`: not a message for wait.
    func testWaitDoesNotCountTheBrowserEnd() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("conn-browse")
        let r = try Stompsh.run([url, "-c", "repeat 4 send --receipt \(q) m${repeat.index}",
                                 "-c", "subscribe \(q) -H browser:true", "-c", "wait 4",
                                 "-c", "- wait 1 --timeout 1", "-c", "echo done"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("0 of 1 message arrived"), r.stderr)
        XCTAssertTrue(r.stdout.contains("done"), r.stdout)
    }
}
