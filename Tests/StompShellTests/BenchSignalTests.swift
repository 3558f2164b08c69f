import Foundation
import StompTestSupport
import XCTest

/// Ctrl-C (SIGINT) during a bench in a script (`stompsh -c 'bench ...'`): the bench stops, prints what it
/// measured, and the script ends with 130 (interrupted). Runs the built binary (STOMPSH_BINARY, else
/// .build/debug/stompsh) against each broker.
final class BenchSignalTests: XCTestCase {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    func binary() throws -> String {
        if let b = ProcessInfo.processInfo.environment["STOMPSH_BINARY"], !b.isEmpty { return b }
        for dir in [".build/debug", ".build/release"] {
            let p = Self.repoRoot.appendingPathComponent(dir).appendingPathComponent("stompsh").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw XCTSkip("no stompsh binary (set STOMPSH_BINARY)")
    }

    func brokers() -> [(String, String)] {
        let env = ProcessInfo.processInfo.environment
        if env["STOMPSH_REQUIRE_BROKERS"] == "1", env["STOMPSH_TEST_ACTIVEMQ"] == nil || env["STOMPSH_TEST_RABBITMQ"] == nil {
            XCTFail("STOMPSH_TEST_ACTIVEMQ / STOMPSH_TEST_RABBITMQ not set but STOMPSH_REQUIRE_BROKERS=1")
        }
        return [("activemq", env["STOMPSH_TEST_ACTIVEMQ"]), ("rabbitmq", env["STOMPSH_TEST_RABBITMQ"]),
                ("sandbox", SandboxFixture.url)].compactMap { n, u in u.map { (n, $0) } }
    }

    final class Collected: @unchecked Sendable {
        let lock = NSLock()
        var data = Data()
        var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    }

    /// Starts stompsh with `args`, waits until `ready` shows in its output, sends SIGINT, waits for the exit.
    func interrupt(_ args: [String], whenOutputContains ready: String? = nil, after seconds: Double = 1.5)
        throws -> (status: Int32, reason: Process.TerminationReason, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try binary())
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = NSTemporaryDirectory()
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let o = Collected(), e = Collected()
        out.fileHandleForReading.readabilityHandler = { h in let d = h.availableData; o.lock.lock(); o.data.append(d); o.lock.unlock() }
        err.fileHandleForReading.readabilityHandler = { h in let d = h.availableData; e.lock.lock(); e.data.append(d); e.lock.unlock() }
        try p.run()
        let deadline = Date().addingTimeInterval(20)
        if let ready {
            while !(o.text + e.text).contains(ready), p.isRunning, Date() < deadline { usleep(20_000) }
        }
        usleep(UInt32(seconds * 1e6))
        XCTAssertTrue(p.isRunning, "the bench ended before the signal: \(o.text) \(e.text)")
        kill(p.processIdentifier, SIGINT)
        let end = Date().addingTimeInterval(20)
        while p.isRunning, Date() < end { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("stompsh did not stop after SIGINT") }
        p.waitUntilExit()
        usleep(100_000)
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        return (p.terminationStatus, p.terminationReason, o.text, e.text)
    }

    func testSIGINTStopsBenchSendAndPrintsFigures() throws {
        for (name, url) in brokers() {
            // a topic without subscribers: the broker drops what the bench sends
            let t = "/topic/stompsh.benchrpc.sigint.\(name).\(UInt32.random(in: 0...UInt32.max))"
            let r = try interrupt([url, "-c", "bench send \(t) -n 100000000 --receipts window:8 --json", "-c", "echo after"])
            XCTAssertEqual(r.reason, .exit, "\(name): ended by the signal, not by stompsh: \(r.stderr)")
            XCTAssertEqual(r.status, 130, "\(name): \(r.stdout) \(r.stderr)")
            let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("{\"bench\"") }, "\(name): \(r.stdout) \(r.stderr)")
            let j = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertEqual(j?["interrupted"] as? Bool, true, name)
            XCTAssertGreaterThan(j?["messages"] as? Int ?? 0, 0, name)
            XCTAssertFalse(r.stdout.contains("after"), "\(name): the script stops after an interrupted bench")
            XCTAssertTrue(r.stderr.contains("interrupted"), "\(name): \(r.stderr)")
        }
    }

    func testSIGINTStopsBenchLatencyRPCBenchAndRPCServe() throws {
        for (name, url) in brokers() {
            var r = try interrupt([url, "-c", "bench latency -n 100000000"])
            XCTAssertEqual(r.reason, .exit, name)
            XCTAssertEqual(r.status, 130, "\(name): \(r.stdout) \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("bench latency") && r.stdout.contains("p99"), "\(name): \(r.stdout)")

            let q = "/queue/stompsh.benchrpc.sigint.rpc.\(name).\(UInt32.random(in: 0...UInt32.max))"
            // a responder in another process, and an rpc bench against it interrupted
            let server = Process()
            server.executableURL = URL(fileURLWithPath: try binary())
            server.arguments = [url, "-q", "-c", "rpc serve \(q) -q"]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            defer { if server.isRunning { server.terminate() } }
            r = try interrupt([url, "-c", "rpc bench \(q) sleep 5 -n 100000000 -c 4 --json"], after: 2)
            XCTAssertEqual(r.reason, .exit, name)
            XCTAssertEqual(r.status, 130, "\(name): \(r.stdout) \(r.stderr)")
            XCTAssertTrue(r.stdout.contains(#""interrupted":true"#) && r.stdout.contains(#""errors":0"#), "\(name): \(r.stdout)")
            server.terminate()

            r = try interrupt([url, "-c", "rpc serve \(q) -q"], whenOutputContains: "serving", after: 0.2)
            XCTAssertEqual(r.reason, .exit, name)
            XCTAssertEqual(r.status, 130, "\(name): \(r.stdout) \(r.stderr)")
            XCTAssertTrue((r.stdout + r.stderr).contains("served 0 calls"), "\(name): \(r.stdout) \(r.stderr)")
        }
    }

    /// A peer that answers CONNECTED and then never reads again: the socket fills and the bench waits for it
    /// to become writable (a broker applying back-pressure, exactly when an operator presses Ctrl-C).
    /// Returns its port; it lives until the test process ends.
    func stallingPeer() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        XCTAssertEqual(listen(fd, 8), 0)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        Thread.detachNewThread {
            while true {
                let c = accept(fd, nil, nil)
                guard c >= 0 else { return }
                var small: Int32 = 4096
                setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
                var frame: [UInt8] = []
                var b = [UInt8](repeating: 0, count: 256)
                while !frame.contains(0) {
                    let n = read(c, &b, b.count)
                    if n <= 0 { break }
                    frame += b[0..<n]
                }
                let connected = Array("CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0".utf8)
                _ = write(c, connected, connected.count)
                // never read again; the descriptor stays open
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Ctrl-C while the bench waits for a socket the broker stopped reading: the bench still stops, prints its
    /// figures (interrupted) and the script ends with 130, in each receipts mode.
    func testSIGINTStopsBenchSendBlockedByBackPressure() throws {
        let port = try stallingPeer()
        for mode in ["none", "window:8", "each"] {
            let start = Date()
            let r = try interrupt(["--no-reconnect", "stomp://127.0.0.1:\(port)", "-c",
                                   "bench send /queue/fixer-stall -n 1000000 --receipts \(mode) --json", "-c", "echo after"],
                                  whenOutputContains: "connected to", after: 1.5)
            XCTAssertEqual(r.reason, .exit, "\(mode): \(r.stderr)")
            XCTAssertEqual(r.status, 130, "\(mode): \(r.stdout) \(r.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(start), 15, mode)
            let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("{\"bench\"") }, "\(mode): \(r.stdout) \(r.stderr)")
            let j = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertEqual(j?["interrupted"] as? Bool, true, mode)
            XCTAssertFalse(r.stdout.contains("after"), mode)
        }
    }

    /// Ctrl-C before a bench has anything to report (rpc bench waiting for its reply subscription's receipt from a
    /// broker that stopped reading): the script still ends with 130, as after SIGINT, not with a plain failure.
    func testSIGINTDuringABenchsSetupEndsTheScriptWith130() throws {
        let port = try stallingPeer()
        let r = try interrupt(["--no-reconnect", "stomp://127.0.0.1:\(port)", "-c",
                               "rpc bench /queue/stall-svc echo --calls 10", "-c", "echo after"],
                              whenOutputContains: "connected to", after: 1.0)
        XCTAssertEqual(r.reason, .exit, r.stderr)
        XCTAssertEqual(r.status, 130, "\(r.stdout) \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("interrupted"), r.stderr)
        XCTAssertFalse(r.stdout.contains("after"), r.stdout)
    }
}
