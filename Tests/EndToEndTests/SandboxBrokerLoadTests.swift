import Foundation
import StompTestSupport
import XCTest

/// `stompsh broker` under load: it stops promptly on SIGTERM and refuses SENDs past --max-memory (a busy port:
/// SandboxCommandTests).
final class SandboxBrokerLoadTests: XCTestCase {
    /// Starts `stompsh broker --port 0 ARGS`; returns the process, its log and its port.
    private func startBroker(_ args: [String] = []) throws -> (Process, LockedText, Int) {
        let (p, log) = try startCollectingOutput(Stompsh.binary, ["broker", "--port", "0"] + args)
        let port = try XCTUnwrap(log.wait(for: #"listening on stomp://127\.0\.0\.1:(\d+)"#).flatMap { Int($0) }, log.text)
        return (p, log, port)
    }

    /// A python3 peer (standard library only) that floods the broker: two connections send 100-byte messages
    /// to a queue as fast as they can; after `consumeAfter` seconds a third consumes them with ack:auto
    /// (the queue is long by then: the broker is delivering a backlog while still taking SENDs).
    private func startLoad(port: Int, queue: String, consumeAfter: Double) throws -> Process {
        let script = """
            import socket, sys, threading, time
            port, q, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
            def produce():
                s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"CONNECT\\naccept-version:1.2\\n\\n\\0")
                frame = ("SEND\\ndestination:" + q + "\\n\\n" + "x" * 100 + "\\0").encode() * 500
                while True: s.sendall(frame)
            def consume():
                time.sleep(delay)
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(("CONNECT\\naccept-version:1.2\\n\\n\\0SUBSCRIBE\\nid:s\\ndestination:" + q + "\\n\\n\\0").encode())
                while s.recv(1 << 20): pass
            for f in (produce, produce, consume): threading.Thread(target=f, daemon=True).start()
            threading.Event().wait()
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, String(port), queue, String(consumeAfter)]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func testSIGTERMUnderLoadStopsPromptlyWithStatus0() throws {
        let (broker, log, port) = try startBroker()
        defer { if broker.isRunning { kill(broker.processIdentifier, SIGKILL); broker.waitUntilExit() } }
        let load = try startLoad(port: port, queue: "/queue/broker-sigterm", consumeAfter: 4)
        defer { load.terminate(); load.waitUntilExit() }
        Thread.sleep(forTimeInterval: 4.5)   // a long queue, a consumer draining it, producers still sending
        XCTAssertTrue(broker.isRunning, log.text)
        let start = Date()
        broker.terminate()   // SIGTERM
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { broker.waitUntilExit(); stopped.signal() }
        guard stopped.wait(timeout: .now() + 10) == .success else {
            kill(broker.processIdentifier, SIGKILL)
            stopped.wait()
            return XCTFail("still running 10 s after SIGTERM: \(log.text.suffix(500))")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(broker.terminationStatus, 0)
        XCTAssertNotNil(log.wait(for: "stopped", timeout: 1), String(log.text.suffix(500)))
    }

    func testMaxMemoryRefusesSendsWithAnError() throws {
        let (broker, log, port) = try startBroker(["--max-memory", "1M"])
        defer { broker.terminate(); broker.waitUntilExit() }
        // a raw client: 2,000 SENDs of 1,000 bytes with receipts, then one more; it reads until that one is answered
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.settimeout(20)
            s.sendall(b"CONNECT\\naccept-version:1.2\\n\\n\\0")
            sends = b"".join(b"SEND\\ndestination:/queue/broker-maxmem\\nreceipt:r%d\\n\\n" % i + b"z" * 1000 + b"\\0" for i in range(2000))
            s.sendall(sends + b"SEND\\ndestination:/queue/broker-maxmem-2\\nreceipt:last\\n\\nx\\0")
            data = b""
            while b"receipt-id:last\\n" not in data:
                chunk = s.recv(1 << 16)
                if not chunk: break
                data += chunk
            text = data.decode()
            print("receipts", text.count("RECEIPT\\n"), "memory-errors", text.count("message:memory limit reached"),
                  "open", b"receipt-id:last\\n" in data)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, String(port)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let r = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let counts = r.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(counts.count, 2, r)
        XCTAssertGreaterThan(counts.first ?? 0, 500, "SENDs within 1 MiB are taken: \(r)")
        XCTAssertGreaterThan(counts.last ?? 0, 500, "the rest are refused: \(r)")
        XCTAssertEqual((counts.first ?? 0) + (counts.last ?? 0), 2001, r)
        XCTAssertTrue(r.contains("open True"), "every SEND answered, the connection kept: \(r)")
        XCTAssertTrue(log.text.contains("ERROR memory limit reached"), log.text)
        let bad = try Stompsh.run(["broker", "--max-memory", "lots"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--max-memory: expected a size such as 64M or 2G, got 'lots'"), bad.stderr)
    }
}
