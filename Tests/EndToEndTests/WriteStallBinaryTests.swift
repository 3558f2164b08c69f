import Foundation
import NIOPosix
import StompTestSupport
import XCTest

/// The stompsh binary against a broker that completes CONNECT (no heart-beats) and then never reads: a script
/// of plain `send`s (no receipt) with large bodies must not hang once the socket buffers are full. The write
/// waits at most the write stall timeout (10 s, the receipt timeout), then the line fails with the cause and
/// exit status 3; Ctrl-C ends it at once (SIGINT's default action in a script).
final class WriteStallBinaryTests: XCTestCase {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static let bodyFile: String = {
        let path = NSTemporaryDirectory() + "stompsh-stall-body-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: UInt8(ascii: "b"), count: 1 << 20))
        return path
    }()

    static let stallCause = #"broker stopped reading: none of [0-9]+ bytes waiting to be written taken for 10 s \(broker stuck, or flow control holding this producer\); connection closed"#

    func testPlainSendsToABrokerThatStopsReadingFailTheLineAtTheStallTimeout() throws {
        let peer = try FaultyPeer(.stopReading, group: Self.group)
        let start = Date()
        let r = try Stompsh.run(["--no-reconnect", peer.url, "-c", "repeat 40 send /queue/stall --file \(Self.bodyFile)",
                                 "-c", "echo after"], timeout: 60)
        let took = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 3, r.stderr)
        // 10 s without a byte taken, found by a check every 2 s, plus start-up and slack.
        XCTAssertLessThan(took, 10 + 2 + 5)
        XCTAssertGreaterThanOrEqual(took, 10)
        XCTAssertFalse(r.stdout.contains("after"), "the script went on: \(r.stdout)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.range(of: "^-c\\[1\\]:1:11: error: " + Self.stallCause + "$", options: .regularExpression) != nil },
                      "no line naming the stall at the send's column in:\n\(r.stderr)")
        // What waited in stompsh's own buffer is bounded (SendsInFlight: 8 MiB of bodies plus the batch being
        // handed over), not the 40 MiB the script asked to send.
        let pending = r.stderr.range(of: "none of [0-9]+ bytes", options: .regularExpression)
            .flatMap { Int(r.stderr[$0].split(separator: " ")[2]) }
        XCTAssertNotNil(pending)
        XCTAssertLessThanOrEqual(pending ?? .max, 10 << 20, "bytes held for a broker that does not read")
    }

    /// The same with the shell's default reconnect policy: the line still fails at the stall (3), it does not
    /// wait through reconnects.
    func testTheStallFailsTheLineWithReconnectOn() throws {
        let peer = try FaultyPeer(.stopReading, group: Self.group)
        let r = try Stompsh.run([peer.url, "-c", "repeat 40 send /queue/stall --file \(Self.bodyFile)", "-c", "echo after"],
                                timeout: 60)
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertFalse(r.stdout.contains("after"))
        XCTAssertNotNil(r.stderr.range(of: Self.stallCause, options: .regularExpression), r.stderr)
    }

    func testCtrlCInterruptsAScriptStalledOnASend() throws {
        let peer = try FaultyPeer(.stopReading, group: Self.group)
        let run = try Stompsh.Background(["--no-reconnect", peer.url, "-c", "repeat 40 send /queue/stall --file \(Self.bodyFile)",
                                          "-c", "echo after"])
        let p = run.process
        // Stalled: connected, and the buffers full well before the 10 s stall timeout.
        run.waitUntilConnected()
        usleep(3_000_000)
        XCTAssertTrue(p.isRunning, "ended before the signal: \(run.stdout.text) \(run.stderr.text)")
        let signalled = Date()
        kill(p.processIdentifier, SIGINT)
        while p.isRunning, Date().timeIntervalSince(signalled) < 20 { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("stompsh did not stop after SIGINT") }
        run.finish()
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5, "Ctrl-C waited for the stall timeout")
        // A script has SIGINT's default action (as sh does): killed by it; or, where a handler is installed, 130.
        let killedBySIGINT = p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGINT
        XCTAssertTrue(killedBySIGINT || (p.terminationReason == .exit && p.terminationStatus == 130),
                      "\(p.terminationReason.rawValue) \(p.terminationStatus): \(run.stderr.text)")
        XCTAssertFalse(run.stdout.text.contains("after"))
    }
}
