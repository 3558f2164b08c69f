import Foundation
import StompTestSupport
import XCTest

/// STOMP over WebSocket through the built binary: `stompsh broker --ws-port`, `--sandbox --sandbox-ws`, argv options,
/// `rpc` both ways, `bench`, bad input, and stomp.py's WSConnection (a client nobody here wrote) against the
/// sandbox's endpoint; stompsh against RabbitMQ Web-STOMP (STOMPSH_TEST_RABBITMQ_WS).
final class WebSocketCommandTests: XCTestCase {
    /// `stompsh broker --port 0 --ws-port 0`, running until the test ends.
    final class BrokerProcess {
        let process: Process
        let log: LockedText
        var stompURL = ""
        var wsURL = ""

        init(extra: [String] = []) throws {
            (process, log) = try startCollectingOutput(Stompsh.binary, ["broker", "--port", "0", "--ws-port", "0"] + extra)
            stompURL = try XCTUnwrap(log.wait(for: #"listening on (stomp://127\.0\.0\.1:\d+)"#), log.text)
            wsURL = try XCTUnwrap(log.wait(for: #"WebSocket listening on (ws://127\.0\.0\.1:\d+/\S*)"#), log.text)
        }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    /// The sandbox's WebSocket endpoint: STOMPSH_TEST_SANDBOX_WS (scripts/test), else a `stompsh broker` of our own.
    static func sandboxWS() throws -> (url: String, stop: () -> Void) {
        if let url = ProcessInfo.processInfo.environment["STOMPSH_TEST_SANDBOX_WS"], !url.isEmpty { return (url, {}) }
        let b = try BrokerProcess()
        return (b.wsURL, b.stop)
    }

    /// The WebSocket endpoints to run the shell against: the sandbox, and RabbitMQ Web-STOMP when configured.
    static func endpoints() throws -> [(name: String, url: String, stop: () -> Void)] {
        let s = try sandboxWS()
        var out = [("sandbox", s.url, s.stop)]
        let env = ProcessInfo.processInfo.environment
        if let r = env["STOMPSH_TEST_RABBITMQ_WS"], !r.isEmpty {
            out.append(("RabbitMQ Web-STOMP", r, {}))
        } else if env["STOMPSH_REQUIRE_BROKERS"] == "1" {
            XCTFail("STOMPSH_TEST_RABBITMQ_WS is not set and STOMPSH_REQUIRE_BROKERS=1")
        }
        return out
    }

    func testBrokerServesWebSocketAndTheShellUsesIt() throws {
        let b = try BrokerProcess(extra: ["--ws-path", "/stomp"])
        defer { b.stop() }
        XCTAssertTrue(b.wsURL.hasSuffix("/stomp"), b.wsURL)
        let q = Brokers.unique("ws-cmd")
        let r = try Stompsh.run([b.wsURL, "--trace", "-c", "subscribe \(q)", "-c", "send \(q) over-websocket", "-c", "expect --body over-websocket",
                                 "-c", "status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("connected to \(b.wsURL)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("[GET /stomp HTTP/1.1]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("[HTTP/1.1 101 Switching Protocols (subprotocol v12.stomp)]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("[ws text message, "), r.stdout)
        // A raw STOMP client still works on the TCP port of the same broker.
        let t = try Stompsh.run([b.stompURL, "-c", "send \(q) --receipt over-tcp"])
        XCTAssertEqual(t.status, 0, t.stderr)
    }

    func testSandboxFlagReachableOverWebSocket() throws {
        let r = try Stompsh.run(["--sandbox", "--sandbox-ws", "-c", "subscribe /queue/try", "-c", "send /queue/try hello",
                                 "-c", "expect --body hello", "-c", "status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("in-memory sandbox broker on 127.0.0.1:"), r.stdout)
        XCTAssertTrue(r.stdout.contains("connected to ws://127.0.0.1:"), r.stdout)
        let bad = try Stompsh.run(["--sandbox-ws", "-c", "echo never"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
    }

    func testWebSocketHeaderIsMaskedInTheTraceAndValidated() throws {
        let b = try BrokerProcess()
        defer { b.stop() }
        let r = try Stompsh.run([b.wsURL, "--trace", "--ws-header", "Authorization: Bearer s3cr3t-token", "--origin", "https://app.example",
                                 "-c", "status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("[Authorization: ****]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("[Origin: https://app.example]"), r.stdout)
        XCTAssertFalse((r.stdout + r.stderr).contains("s3cr3t"), r.stdout)
        let bad = try Stompsh.run([b.wsURL, "--ws-header", "no colon here", "-c", "echo never"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("NAME: VALUE"), bad.stderr)
    }

    func testBinaryBodiesAndForcedBinaryOverWebSocket() throws {
        for e in try Self.endpoints() {
            defer { e.stop() }
            let q = Brokers.unique("ws-bin")
            let r = try Stompsh.run([e.url, "--login", "guest", "--ws-binary", "--trace", "-c", "subscribe \(q)",
                                     "-c", "send \(q) --receipt binary-please", "-c", "expect --body binary-please"],
                                    env: ["STOMP_PASSCODE": "guest"])
            XCTAssertEqual(r.status, 0, "\(e.name): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("[ws binary message, "), e.name)
            XCTAssertFalse(r.stdout.contains(">>> [ws text message"), e.name)
        }
    }

    func testBadInputIsOneLineAndExitsThree() throws {
        let b = try BrokerProcess()
        defer { b.stop() }
        let port = b.wsURL.split(separator: ":")[2].split(separator: "/")[0]
        let tcpPort = b.stompURL.split(separator: ":").last!
        let cases: [(String, String)] = [
            ("ws://127.0.0.1:\(port)/wrong", "404 Not Found to GET /wrong"),
            ("ws://127.0.0.1:\(tcpPort)/ws", "raw STOMP port"),
            ("stomp://127.0.0.1:\(port)", "answered in HTTP"),
            ("wss://127.0.0.1:\(port)/ws", "TLS with 127.0.0.1"),
        ]
        for (url, expected) in cases {
            let r = try Stompsh.run([url, "--no-reconnect", "-c", "echo never"], timeout: 30)
            XCTAssertEqual(r.status, 3, "\(url): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(url): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(url): \(r.stderr)")
        }
        let twoColons = try Stompsh.run(["stomp://h:1:2", "-c", "echo never"])
        XCTAssertEqual(twoColons.status, 2, twoColons.stderr)
        XCTAssertTrue(twoColons.stderr.contains("more than one ':'"), twoColons.stderr)
        XCTAssertFalse(twoColons.stderr.contains("resolve"), twoColons.stderr)
    }

    /// `rpc serve` and `rpc call` both over ws://, and across transports (caller on ws://, server on stomp://).
    func testRPCBothWaysOverWebSocket() throws {
        let b = try BrokerProcess()
        defer { b.stop() }
        for (serveURL, callURL) in [(b.wsURL, b.wsURL), (b.stompURL, b.wsURL), (b.wsURL, b.stompURL)] {
            let dest = Brokers.unique("ws-rpc")
            let (server, log) = try startCollectingOutput(Stompsh.binary, [serveURL, "-c", "rpc serve \(dest) --count 2"])
            defer { if server.isRunning { server.terminate() }; server.waitUntilExit() }
            XCTAssertNotNil(log.wait(for: #"(serving) "#), log.text)
            let r = try Stompsh.run([callURL, "-c", "rpc call \(dest) add 2 3 --timeout 10", "-c", "rpc call \(dest) echo hi --timeout 10"])
            XCTAssertEqual(r.status, 0, "\(serveURL) ← \(callURL): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("5"), r.stdout)
            server.waitUntilExit()
            XCTAssertEqual(server.terminationStatus, 0, log.text)
        }
    }

    func testBenchOverWebSocket() throws {
        for e in try Self.endpoints() {
            defer { e.stop() }
            let q = Brokers.unique("ws-bench")
            let r = try Stompsh.run([e.url, "--login", "guest", "-c", "bench send \(q) -n 2000 --size 100 --json",
                                     "-c", "bench consume \(q) -n 2000 --json"], env: ["STOMP_PASSCODE": "guest"], timeout: 120)
            XCTAssertEqual(r.status, 0, "\(e.name): \(r.stderr)")
            XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.contains("\"messages\":2000") }.count, 2, "\(e.name): \(r.stdout)")
        }
    }

    /// stomp.py's WebSocket connection (websocket-client) against the sandbox's endpoint: it sends, subscribes and
    /// receives what stompsh sent over TCP.
    func testStompPyWSConnectionAgainstTheSandbox() throws {
        let python = try StompPy.python(importing: ["websocket"])
        let b = try BrokerProcess()
        defer { b.stop() }
        let port = Int(b.wsURL.split(separator: ":")[2].split(separator: "/")[0])!
        let q = Brokers.unique("ws-stomppy")
        let script = """
        import sys, time, stomp
        got = []
        class L(stomp.ConnectionListener):
            def on_message(self, frame): got.append(frame.body)
        c = stomp.WSConnection([("127.0.0.1", \(port))], ws_path="/ws", heartbeats=(0, 0))
        c.set_listener("l", L())
        c.connect("guest", "guest", wait=True)
        c.subscribe("\(q)", id="1", ack="auto")
        c.send("\(q)", "from stomp.py")
        print("ready", flush=True)
        deadline = time.time() + 20
        while len(got) < 2 and time.time() < deadline: time.sleep(0.05)
        c.disconnect()
        print("got", got, flush=True)
        sys.exit(0 if got[:1] == ["from stomp.py"] and "from-stompsh" in got else 1)
        """
        let (py, log) = try startCollectingOutput("/usr/bin/env", [python, "-c", script])
        defer { if py.isRunning { py.terminate() } }
        XCTAssertNotNil(log.wait(for: "(ready)"), log.text)
        let r = try Stompsh.run([b.stompURL, "-c", "send \(q) --receipt from-stompsh"])
        XCTAssertEqual(r.status, 0, r.stderr)
        py.waitUntilExit()
        XCTAssertEqual(py.terminationStatus, 0, log.text)
    }

    /// RabbitMQ 3.10's Web-STOMP loses the connection when flow control pauses it while heart-beats are on (its
    /// heart-beat receiver crashes on `resume`), and it never sends the RECEIPT of a DISCONNECT (it closes the
    /// WebSocket instead). A script of sends without receipts into a queue with 1,000 consumers is flow
    /// controlled: it must end either with every message on the queue or with a failure it reports, never exit 0
    /// with messages missing. Several tries, since the broker does not always crash; a try without the crash
    /// checks that the clean close (RabbitMQ's answer to DISCONNECT) is taken as the end it is.
    func testRabbitMQWebSocketSendsWithoutReceiptsArriveOrTheRunFails() throws {
        let ws = try Brokers.url("STOMPSH_TEST_RABBITMQ_WS")
        let tcp = try Brokers.rabbitmq()
        let n = 10_000
        for attempt in 1...4 {
            let q = Brokers.unique("adv-wsflow")
            // 1,000 client-individual subscriptions on the queue over TCP: the broker's work per message grows,
            // and flow control reaches the WebSocket sender.
            let (consumer, log) = try startCollectingOutput(Stompsh.binary, [
                tcp, "-q", "-c", "repeat 1000 subscribe \(q) --ack client-individual", "-c", "echo subscribed",
                "-c", "wait --idle 5"])
            XCTAssertNotNil(log.wait(for: "subscribed", timeout: 60), log.text)
            let r = try Stompsh.run([ws, "-q", "-c", "repeat \(n) send \(q) m-${repeat.index}"], timeout: 120)
            consumer.waitUntilExit()
            let arrived = log.text.split(separator: "\n").filter { $0.hasPrefix("m-") }.count
            print("attempt \(attempt): sender exit \(r.status), \(arrived) of \(n) arrived; stderr: \(r.stderr)")
            if r.status == 0 {
                XCTAssertEqual(arrived, n, "exit 0 but \(n - arrived) of \(n) messages never arrived: \(r.stderr)")
            } else {
                XCTAssertFalse(r.stderr.isEmpty, "a failure without a word")
            }
            // the consumer acknowledged nothing: the queue holds what arrived
            _ = try Stompsh.run([tcp, "-q", "-c", "drain \(q) --idle 2"], timeout: 120)
        }
    }
}
