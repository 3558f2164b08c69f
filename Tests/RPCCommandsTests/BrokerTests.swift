// RPC against real brokers: STOMPSH_TEST_ACTIVEMQ / STOMPSH_TEST_RABBITMQ (from `scripts/brokers env`), skipped
// when unset unless STOMPSH_REQUIRE_BROKERS=1; and against the sandbox broker (STOMPSH_TEST_SANDBOX, else in-process).
import Foundation
import StompTestSupport
import XCTest
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import StompProto
import StompConnection
import StompBroker
import StompBench
@testable import RPCCommands

/// The brokers, by the environment variable naming each.
enum Broker: String, CaseIterable {
    case activemq = "STOMPSH_TEST_ACTIVEMQ", rabbitmq = "STOMPSH_TEST_RABBITMQ", sandbox = "STOMPSH_TEST_SANDBOX"
}

/// Collects the frames the client did not intercept.
final class FrameLog: @unchecked Sendable {
    let box = NIOLockedValueBox([StompFrame]())
    func add(_ f: StompFrame) { box.withLockedValue { $0.append(f) } }
    var frames: [StompFrame] { box.withLockedValue { $0 } }
}

class BrokerTestCase: XCTestCase {
    static let group = MultiThreadedEventLoopGroup.singleton
    var clients: [StompClient] = []

    func brokerURL(_ b: Broker) throws -> String {
        let env = ProcessInfo.processInfo.environment
        if b == .sandbox { return SandboxFixture.url }
        if let u = env[b.rawValue], !u.isEmpty { return u }
        if env["STOMPSH_REQUIRE_BROKERS"] == "1" { XCTFail("\(b.rawValue) not set but STOMPSH_REQUIRE_BROKERS=1"); throw XCTSkip("missing broker") }
        throw XCTSkip("\(b.rawValue) not set (eval \"$(scripts/brokers env)\")")
    }

    func connect(_ b: Broker, log: FrameLog? = nil) throws -> StompClient {
        let url = try brokerURL(b)
        var o = ConnectionOptions(urls: try StompURL.parseList(url))
        o.login = "guest"; o.passcode = "guest"
        o.reconnect = ReconnectPolicy(maxAttempts: 0)
        o.heartBeat = HeartBeat(0, 0)
        let c = try StompClient.connect(o, on: Self.group) { e in
            if case .frame(let f) = e { log?.add(f) }
        }.wait()
        clients.append(c)
        return c
    }

    override func tearDown() {
        for c in clients { _ = try? c.disconnect().wait() }
        clients = []
        super.tearDown()
    }

    func queue(_ name: String) -> String { "/queue/stompsh.rpctest.\(name).\(CorrelationIDGenerator.randomToken(6))" }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

final class RPCBrokerTests: BrokerTestCase {
    func callAndServe(_ b: Broker, sameConnection: Bool) throws {
        let sc = try connect(b)
        let cc = sameConnection ? sc : try connect(b)
        let dest = queue("serve")
        let server = try RPCServer.start(on: sc, options: RPCServerOptions(destination: dest, concurrency: 4)).wait()
        let rpc = try RPCClient.start(on: cc).wait()
        func call(_ m: String, _ p: JSONValue) throws -> RPCOutcome {
            try rpc.call(destination: dest, method: m, params: p, timeout: .seconds(10)).wait().outcome
        }
        XCTAssertEqual(try call("echo", [1, "a", .object(["k": true])]), .result([1, "a", .object(["k": true])]))
        XCTAssertEqual(try call("echo", .object(["x": 1])), .result(.object(["x": 1])))
        XCTAssertEqual(try call("add", [1, 2, 3]), .result(6))
        XCTAssertEqual(try call("add", [1, 2.5]), .result(3.5))
        XCTAssertEqual(try call("sleep", [20]), .result(20))
        XCTAssertEqual(try call("fail", [7, "boom", .object(["d": 1])]), .error(RPCErrorObject(code: 7, message: "boom", data: .object(["d": 1]))))
        guard case .error(let e) = try call("nope", []) else { return XCTFail("expected an error") }
        XCTAssertEqual(e.code, -32601)
        let r = try rpc.call(destination: dest, method: "echo", params: [], timeout: .seconds(5)).wait()
        XCTAssertGreaterThan(r.roundTripNanoseconds, 0)
        XCTAssertEqual(rpc.counterSnapshot.late, 0)
        _ = try server.stop().wait()
        XCTAssertEqual(server.servedCount, 8)
        _ = try rpc.close().wait()
    }

    func testCallAndServeActiveMQ() throws { try callAndServe(.activemq, sameConnection: false) }
    func testCallAndServeRabbitMQ() throws { try callAndServe(.rabbitmq, sameConnection: false) }
    func testCallAndServeSandbox() throws { try callAndServe(.sandbox, sameConnection: false) }
    func testCallAndServeSameConnectionActiveMQ() throws { try callAndServe(.activemq, sameConnection: true) }
    func testCallAndServeSameConnectionRabbitMQ() throws { try callAndServe(.rabbitmq, sameConnection: true) }
    func testCallAndServeSameConnectionSandbox() throws { try callAndServe(.sandbox, sameConnection: true) }

    func timeoutAndLate(_ b: Broker) throws {
        let sc = try connect(b), cc = try connect(b)
        let dest = queue("late")
        let server = try RPCServer.start(on: sc, options: RPCServerOptions(destination: dest)).wait()
        let rpc = try RPCClient.start(on: cc).wait()
        XCTAssertThrowsError(try rpc.call(destination: dest, method: "sleep", params: [400], timeout: .milliseconds(100)).wait()) { e in
            XCTAssertEqual(e as? RPCCallError, .timeout(method: "sleep", seconds: 0.1))
        }
        // the late reply is counted and dropped; the next call gets its own reply
        let deadline = Date().addingTimeInterval(5)
        while rpc.lateReplies == 0, Date() < deadline { usleep(20_000) }
        XCTAssertEqual(rpc.lateReplies, 1)
        XCTAssertEqual(try rpc.call(destination: dest, method: "echo", params: ["after"], timeout: .seconds(5)).wait().outcome, .result(["after"]))
        XCTAssertEqual(rpc.counterSnapshot.timeouts, 1)
        // nobody listening: a timeout
        XCTAssertThrowsError(try rpc.call(destination: queue("nobody"), method: "echo", params: [], timeout: .milliseconds(200)).wait())
        _ = try server.stop().wait()
    }

    /// Every call keeps its own timeout, whatever the others': a short one issued after a long one still ends at
    /// its time (the calls share one timer), calls that time out together each fail once, and a call that is
    /// answered in time is not failed by a timer armed for another.
    func testEachCallTimesOutOnItsOwnDeadlineSandbox() throws {
        let cc = try connect(.sandbox)
        let rpc = try RPCClient.start(on: cc).wait()
        let nobody = queue("nobody-deadlines")
        let long = rpc.call(destination: nobody, method: "long", params: [], timeout: .seconds(30))
        let started = Date()
        let shorts = (0..<3).map { _ in rpc.call(destination: nobody, method: "short", params: [], timeout: .milliseconds(300)) }
        for f in shorts {
            XCTAssertThrowsError(try f.wait()) { e in XCTAssertEqual(e as? RPCCallError, .timeout(method: "short", seconds: 0.3)) }
        }
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(waited, 0.29)
        XCTAssertLessThan(waited, 10, "the short calls ended on their own deadline, not the long call's")
        XCTAssertEqual(rpc.counterSnapshot.timeouts, 3)
        XCTAssertEqual(try rpc.eventLoop.submit { rpc.inFlight }.wait(), 1, "the long call is still waiting")
        _ = try rpc.close().wait()
        XCTAssertThrowsError(try long.wait()) { e in XCTAssertEqual(e as? RPCCallError, .closed) }
        XCTAssertEqual(rpc.counterSnapshot.timeouts, 3)
    }

    /// A request as a responder receives it: the caller's extra headers, its reply-to and correlation-id (not
    /// the extras' look-alikes), the JSON-RPC body with the same id; each request counts as one frame sent.
    func requestOnTheWire(_ b: Broker) throws {
        let log = FrameLog()
        let sc = try connect(b, log: log), cc = try connect(b)
        let dest = queue("wire")
        _ = try sc.subscribe(destination: dest, id: "w", receipt: true).wait()
        let rpc = try RPCClient.start(on: cc).wait()
        let framesBefore = try cc.snapshot().wait().counters.framesSent
        let headers: StompHeaders = ["x-rpc-extra": "a:b\\c", "correlation-id": "look-alike", "reply-to": "/queue/elsewhere"]
        let calls = (0..<3).map { i in
            rpc.call(destination: dest, method: "echo", params: [.integer(Int64(i))], headers: headers, timeout: .milliseconds(300))
        }
        for f in calls { XCTAssertThrowsError(try f.wait()) }   // nobody answers
        XCTAssertEqual(try cc.snapshot().wait().counters.framesSent - framesBefore, 3)
        let deadline = Date().addingTimeInterval(5)
        while log.frames.filter({ $0.command == .message }).count < 3, Date() < deadline { usleep(20_000) }
        let requests = log.frames.filter { $0.command == .message }
        XCTAssertEqual(requests.count, 3)
        let prefix = try rpc.eventLoop.submit { rpc.ids.prefix }.wait()
        for (i, m) in requests.enumerated() {
            XCTAssertEqual(m.headers["x-rpc-extra"], "a:b\\c")
            // the broker rewrites a temp-queue reply-to (/remote-temp-queue/..., /reply-queue/...): the caller's, not the extra
            XCTAssertEqual(m.headers.values(for: "reply-to").count, 1)
            XCTAssertTrue(m.headers["reply-to"].map { $0.contains("temp-queue/") || $0.hasPrefix("/reply-queue/") } ?? false,
                          m.headers["reply-to"] ?? "none")
            let cid = try XCTUnwrap(m.headers["correlation-id"])
            XCTAssertTrue(cid.hasPrefix(prefix) && cid != prefix + "0", cid)
            XCTAssertEqual(m.headers["content-type"], "application/json")
            let body = try JSONValue.parse(bytes: m.body)
            XCTAssertEqual(body, .object(["jsonrpc": "2.0", "method": "echo", "params": [.integer(Int64(i))], "id": .string(cid)]))
        }
        _ = try rpc.close().wait()
    }

    func testRequestOnTheWireActiveMQ() throws { try requestOnTheWire(.activemq) }
    func testRequestOnTheWireRabbitMQ() throws { try requestOnTheWire(.rabbitmq) }
    func testRequestOnTheWireSandbox() throws { try requestOnTheWire(.sandbox) }

    /// A request that cannot be written (the connection lost, the client about to reconnect) fails at once with
    /// sendFailed, not at its timeout; the client serves calls again once reconnected.
    func testCallWhileDisconnectedFailsAtOnceSandbox() throws {
        var o = ConnectionOptions(urls: try StompURL.parseList(try brokerURL(.sandbox)))
        o.heartBeat = HeartBeat(0, 0)
        o.reconnect = ReconnectPolicy(maxAttempts: 20, initialDelay: .milliseconds(500))
        let cc = try StompClient.connect(o, on: Self.group) { _ in }.wait()
        clients.append(cc)
        let rpc = try RPCClient.start(on: cc, replyTo: queue("replies")).wait()
        _ = try cc.dropConnection().wait()
        let started = Date()
        XCTAssertThrowsError(try rpc.call(destination: queue("nobody"), method: "echo", params: [], timeout: .seconds(20)).wait()) { e in
            guard case .sendFailed? = e as? RPCCallError else { return XCTFail("\(e)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "failed at once, not at the 20 s timeout")
        XCTAssertEqual(try rpc.eventLoop.submit { rpc.inFlight }.wait(), 0)
    }

    func testTimeoutAndLateReplyActiveMQ() throws { try timeoutAndLate(.activemq) }
    func testTimeoutAndLateReplyRabbitMQ() throws { try timeoutAndLate(.rabbitmq) }
    func testTimeoutAndLateReplySandbox() throws { try timeoutAndLate(.sandbox) }

    func discovery(_ b: Broker) throws {
        let sc = try connect(b), cc = try connect(b)
        let dest = queue("discover")
        let server = try RPCServer.start(on: sc, options: RPCServerOptions(destination: dest)).wait()
        let rpc = try RPCClient.start(on: cc).wait()
        guard case .result(let doc) = try rpc.call(destination: dest, method: "rpc.discover", params: [], timeout: .seconds(5)).wait().outcome else {
            return XCTFail("discover failed")
        }
        let d = try RPCServiceDescription(openRPC: doc)
        XCTAssertEqual(d, RPCServer.builtins)
        XCTAssertEqual(d.methods.map(\.name), ["echo", "add", "sleep", "fail", "rpc.discover"])
        // type errors are found before sending: nothing is sent
        let sentBefore = rpc.counterSnapshot.sent
        let fail = d.method(named: "fail")!
        XCTAssertThrowsError(try fail.check(try RPCLiteral.params(from: [RPCArgumentToken("x", column: 20)]))) { e in
            XCTAssertEqual((e as? RPCUsageError)?.message, "parameter code of fail expects integer, given string \"x\"")
            XCTAssertEqual((e as? RPCUsageError)?.column, 20)
        }
        XCTAssertEqual(rpc.counterSnapshot.sent, sentBefore)
        _ = try server.stop().wait()
    }

    func testDiscoveryActiveMQ() throws { try discovery(.activemq) }
    func testDiscoveryRabbitMQ() throws { try discovery(.rabbitmq) }
    func testDiscoverySandbox() throws { try discovery(.sandbox) }

    func malformedRequests(_ b: Broker) throws {
        let log = FrameLog()
        let sc = try connect(b), cc = try connect(b, log: log)
        let dest = queue("malformed"), replies = queue("replies")
        let server = try RPCServer.start(on: sc, options: RPCServerOptions(destination: dest)).wait()
        _ = try cc.subscribe(destination: replies, id: "r", receipt: true).wait()
        func send(_ body: String, _ cid: String) throws {
            try cc.send(destination: dest, headers: ["reply-to": replies, "correlation-id": cid, "content-type": "application/json"],
                        body: Array(body.utf8)).wait()
        }
        try send("{not json", "c1")
        try send(#"{"jsonrpc":"2.0","method":5,"id":"c2"}"#, "c2")
        try send(#"{"jsonrpc":"2.0","method":"echo","params":[0]}"#, "c4")     // a notification: no reply
        try send(#"{"jsonrpc":"2.0","method":"echo","params":[1],"id":"c3"}"#, "c3")
        let deadline = Date().addingTimeInterval(5)
        func replyCount() -> Int { log.frames.filter { $0.command == .message }.count }
        while replyCount() < 3, Date() < deadline { usleep(20_000) }
        usleep(200_000)     // a reply to the notification would have come by now
        let byID = Dictionary(log.frames.map { ($0.headers["correlation-id"] ?? "", $0.bodyString ?? "") }, uniquingKeysWith: { a, _ in a })
        XCTAssertTrue(byID["c1"]?.hasPrefix(#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error""#) ?? false, byID["c1"] ?? "none")
        XCTAssertTrue(byID["c1"]?.hasSuffix(#","id":"c1"}"#) ?? false)
        XCTAssertTrue(byID["c2"]?.hasPrefix(#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request""#) ?? false, byID["c2"] ?? "none")
        XCTAssertEqual(byID["c3"], #"{"jsonrpc":"2.0","result":[1],"id":"c3"}"#)
        XCTAssertNil(byID["c4"])
        XCTAssertEqual(log.frames.first { $0.command == .message }?.headers["content-type"], "application/json")
        _ = try server.stop().wait()
    }

    func testMalformedRequestsActiveMQ() throws { try malformedRequests(.activemq) }
    func testMalformedRequestsRabbitMQ() throws { try malformedRequests(.rabbitmq) }
    func testMalformedRequestsSandbox() throws { try malformedRequests(.sandbox) }

    func bench(_ b: Broker) throws {
        let sc = try connect(b), cc = try connect(b)
        let dest = queue("bench")
        let server = try RPCServer.start(on: sc, options: RPCServerOptions(destination: dest, concurrency: 16)).wait()
        let rpc = try RPCClient.start(on: cc).wait()
        let r = try RPCBench.run(rpc, options: RPCBenchOptions(destination: dest, method: "add", params: [1, 2], calls: 2000,
                                                               concurrency: 8, timeout: .seconds(10))).wait()
        XCTAssertEqual(r.calls, 2000)
        XCTAssertEqual(r.ok, 2000)
        XCTAssertEqual(r.errors + r.timeouts + r.late, 0, r.firstError ?? "")
        XCTAssertGreaterThan(r.callsPerSecond, 0)
        let l = r.latency
        XCTAssertEqual(l.count, 2000)
        XCTAssertTrue(l.minNanoseconds > 0 && l.minNanoseconds <= l.p50Nanoseconds && l.p50Nanoseconds <= l.p90Nanoseconds
                      && l.p90Nanoseconds <= l.p99Nanoseconds && l.p99Nanoseconds <= l.p999Nanoseconds && l.p999Nanoseconds <= l.maxNanoseconds)
        XCTAssertLessThan(l.p50Nanoseconds, 1_000_000_000)
        let j = r.report.json
        XCTAssertEqual(j["calls"], 2000)
        XCTAssertNotNil(j["calls_per_s"]?.doubleValue)
        XCTAssertNotNil(j["latency_ms"]?["p99.9"]?.doubleValue)
        print("rpc bench \(b): " + r.report.text.replacingOccurrences(of: "\n", with: " | "))
        // duration + rate
        let r2 = try RPCBench.run(rpc, options: RPCBenchOptions(destination: dest, method: "echo", duration: 1, rate: 200)).wait()
        // the rate is a ceiling (how close a loaded machine gets to it is a figure, not a test)
        XCTAssertTrue(r2.calls > 0 && r2.calls <= 201, "rate 200/s for 1 s: \(r2.calls) calls")
        _ = try server.stop().wait()
    }

    func testBenchActiveMQ() throws { try bench(.activemq) }
    func testBenchRabbitMQ() throws { try bench(.rabbitmq) }
    func testBenchSandbox() throws { try bench(.sandbox) }

    /// Two responders share a queue; one dies (socket closed, no DISCONNECT) midway: every call completes once.
    func loadSharing(_ b: Broker) throws {
        let s1 = try connect(b), s2 = try connect(b), cc = try connect(b)
        let dest = queue("share")
        let a = try RPCServer.start(on: s1, options: RPCServerOptions(destination: dest, concurrency: 4)).wait()
        let k = try RPCServer.start(on: s2, options: RPCServerOptions(destination: dest, concurrency: 4)).wait()
        let rpc = try RPCClient.start(on: cc).wait()
        let run = RPCBench.start(rpc, options: RPCBenchOptions(destination: dest, method: "sleep", params: [2], calls: 1000,
                                                               concurrency: 16, timeout: .seconds(20)))
        let deadline = Date().addingTimeInterval(30)
        while k.servedCount < 150, Date() < deadline { usleep(5_000) }
        let servedByKilled = k.servedCount
        _ = try s2.close().wait()          // as if killed: unacknowledged requests go back to the queue
        let r = try run.result.wait()
        XCTAssertGreaterThan(servedByKilled, 0)
        XCTAssertGreaterThan(a.servedCount, 0)
        XCTAssertEqual(r.calls, 1000)
        XCTAssertEqual(r.ok + r.timeouts, 1000, "every call gets one reply or is counted as a timeout")
        XCTAssertEqual(r.errors, 0)
        print("load sharing \(b): survivor served \(a.servedCount), killed one served \(servedByKilled) before dying; ok \(r.ok) timeouts \(r.timeouts) late \(r.late)")
        _ = try a.stop().wait()
    }

    func testLoadSharingActiveMQ() throws { try loadSharing(.activemq) }
    func testLoadSharingRabbitMQ() throws { try loadSharing(.rabbitmq) }
    func testLoadSharingSandbox() throws { try loadSharing(.sandbox) }
}

/// The format is language-neutral: a stomp.py responder and caller (Tests/python/rpc_peer.py) talk to RPCClient/RPCServer.
final class RPCPythonInteropTests: BrokerTestCase {
    var peer: String { Self.repoRoot.appendingPathComponent("Tests/python/rpc_peer.py").path }

    func python(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [try StompPy.python(), peer] + args
        return p
    }

    func pythonResponder(_ b: Broker) throws {
        _ = try StompPy.python()
        let url = try brokerURL(b)
        let dest = queue("py-serve")
        let p = try python(["serve", url, dest, "--count", "4"])
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        // wait for "ready"
        var seen = ""
        while !seen.contains("ready") {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            seen += String(decoding: d, as: UTF8.self)
        }
        guard seen.contains("ready") else { return XCTFail("python responder said: \(seen)") }
        let rpc = try RPCClient.start(on: try connect(b)).wait()
        func call(_ m: String, _ params: JSONValue) throws -> RPCOutcome {
            try rpc.call(destination: dest, method: m, params: params, timeout: .seconds(10)).wait().outcome
        }
        XCTAssertEqual(try call("add", [1, 2, 3]), .result(6))
        XCTAssertEqual(try call("echo", .object(["k": ["v"]])), .result(.object(["k": ["v"]])))
        XCTAssertEqual(try call("fail", [9, "py"]), .error(RPCErrorObject(code: 9, message: "py")))
        guard case .error(let e) = try call("nope", []) else { return XCTFail() }
        XCTAssertEqual(e.code, -32601)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    func pythonCaller(_ b: Broker) throws {
        _ = try StompPy.python()
        let url = try brokerURL(b)
        let dest = queue("py-call")
        let server = try RPCServer.start(on: try connect(b), options: RPCServerOptions(destination: dest)).wait()
        func run(_ args: [String]) throws -> (Int32, String) {
            let p = try python(["call", url, dest] + args + ["--timeout", "10"])
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let errData = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            if p.terminationStatus > 1 { print("python caller stderr: " + String(decoding: errData, as: UTF8.self)) }
            return (p.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let (s1, o1) = try run(["add", "[1,2,3.5]"])
        XCTAssertEqual(s1, 0)
        let v1 = try JSONValue.parse(o1)
        XCTAssertEqual(v1["result"], 6.5)
        XCTAssertEqual(v1.objectValue?.keys, ["jsonrpc", "result", "id"])
        let (s2, o2) = try run(["fail", #"[3,"no"]"#])
        XCTAssertEqual(s2, 1)
        XCTAssertEqual(try JSONValue.parse(o2)["error"], .object(["code": 3, "message": "no"]))
        let (s3, o3) = try run(["rpc.discover"])
        XCTAssertEqual(s3, 0)
        XCTAssertEqual(try RPCServiceDescription(openRPC: try JSONValue.parse(o3)["result"]!), RPCServer.builtins)
        _ = try server.stop().wait()
    }

    func testPythonResponderActiveMQ() throws { try pythonResponder(.activemq) }
    func testPythonResponderRabbitMQ() throws { try pythonResponder(.rabbitmq) }
    func testPythonResponderSandbox() throws { try pythonResponder(.sandbox) }
    func testPythonCallerActiveMQ() throws { try pythonCaller(.activemq) }
    func testPythonCallerRabbitMQ() throws { try pythonCaller(.rabbitmq) }
    func testPythonCallerSandbox() throws { try pythonCaller(.sandbox) }
}

/// End to end with stompsh processes (the binary of this build, `StompshBinary`): two `rpc serve` on one queue,
/// `rpc bench` calling, one server SIGKILLed midway; `rpc` commands in scripts.
final class RPCProcessTests: BrokerTestCase {

    /// A `stompsh URL -c SERVE` process (an `rpc serve` command) that has printed its "serving" line (waited for
    /// up to 20 s), and `run`, which runs `stompsh URL -c C1 -c C2 ...` to its end against the same broker.
    struct Serving {
        let server: Process
        /// What the server printed so far.
        let serverOutput: LockedText
        /// Runs `stompsh URL -c C1 -c C2 ...` to its end: its exit status and output (stdout and stderr).
        let run: ([String]) throws -> (Int32, String)

        /// Ends the server (SIGTERM) if it still runs.
        func stop() {
            if server.isRunning { server.terminate() }
        }
    }

    func serve(_ b: Broker, _ serve: String) throws -> Serving {
        let bin = StompshBinary.path
        let url = try brokerURL(b)
        let (server, output) = try startCollectingOutput(bin, [url, "-c", serve])
        let deadline = Date().addingTimeInterval(20)
        while !output.text.contains("serving"), Date() < deadline { usleep(50_000) }
        return Serving(server: server, serverOutput: output, run: { commands in
            let (p, o) = try startCollectingOutput(bin, [url] + commands.flatMap { ["-c", $0] })
            p.waitUntilExit()
            usleep(50_000)
            return (p.terminationStatus, o.text)
        })
    }

    func twoServersOneKilled(_ b: Broker) throws {
        let bin = StompshBinary.path
        let url = try brokerURL(b)
        let dest = queue("e2e")
        let (s1, o1) = try startCollectingOutput(bin, [url, "-c", "rpc serve \(dest) --concurrency 4"])
        let (s2, o2) = try startCollectingOutput(bin, [url, "-c", "rpc serve \(dest) --concurrency 4"])
        defer { for p in [s1, s2] where p.isRunning { p.terminate() } }
        let deadline = Date().addingTimeInterval(20)
        while !(o1.text.contains("serving") && o2.text.contains("serving")), Date() < deadline { usleep(50_000) }
        XCTAssertTrue(o1.text.contains("serving") && o2.text.contains("serving"), o1.text + o2.text)
        let (caller, co) = try startCollectingOutput(bin, [url, "-c", "rpc bench \(dest) sleep 2 -n 1000 -c 16 --timeout 10 --json"])
        // kill the second responder once it has served some
        let d2 = Date().addingTimeInterval(30)
        while o2.text.split(separator: "\n").filter({ $0.hasPrefix("sleep") }).count < 100, Date() < d2 { usleep(10_000) }
        kill(s2.processIdentifier, SIGKILL)
        caller.waitUntilExit()
        usleep(200_000)
        let last = co.text.split(separator: "\n").last.map(String.init) ?? ""
        let r = try JSONValue.parse(last)
        let served1 = o1.text.split(separator: "\n").filter { $0.hasPrefix("sleep") }.count
        let served2 = o2.text.split(separator: "\n").filter { $0.hasPrefix("sleep") }.count
        print("e2e \(b): \(last); responder 1 served \(served1), responder 2 (killed) \(served2)")
        // a bench with timeouts exits 1 (the responder killed with requests in hand may cause some)
        XCTAssertEqual(caller.terminationStatus, (r["timeouts"]?.int64Value ?? 0) > 0 ? 1 : 0, co.text)
        XCTAssertEqual(r["calls"], 1000)
        XCTAssertEqual((r["ok"]?.int64Value ?? 0) + (r["timeouts"]?.int64Value ?? 0), 1000)
        XCTAssertEqual(r["errors"], 0)
        XCTAssertGreaterThan(served1, 0)
        XCTAssertGreaterThan(served2, 0)
    }

    func testTwoServersOneKilledActiveMQ() throws { try twoServersOneKilled(.activemq) }
    func testTwoServersOneKilledRabbitMQ() throws { try twoServersOneKilled(.rabbitmq) }
    func testTwoServersOneKilledSandbox() throws { try twoServersOneKilled(.sandbox) }

    /// `rpc call` in a script: result, --json line, error reply → exit 1, type error after discover → nothing sent.
    func shellCommands(_ b: Broker) throws {
        let dest = queue("shell")
        let serving = try serve(b, "rpc serve \(dest)")
        defer { serving.stop() }
        let so = serving.serverOutput, run = serving.run
        var (st, out) = try run(["rpc call \(dest) add 1 2 --json"])
        XCTAssertEqual(st, 0, out)
        XCTAssertTrue(out.contains(#"{"rpc":"add","result":3,"ms":"#), out)
        (st, out) = try run(["rpc call \(dest) echo {\"k\": [1, \"a b\"]} x=1"])
        XCTAssertNotEqual(st, 0)
        XCTAssertTrue(out.contains("cannot mix"), out)
        (st, out) = try run([#"rpc call \#(dest) echo {"k": [1, "a b"]} 4.5 word"#])
        XCTAssertEqual(st, 0, out)
        XCTAssertTrue(out.contains(#""a b""#) && out.contains("4.5") && out.contains(#""word""#) && out.contains(" ms)"), out)
        (st, out) = try run(["rpc call \(dest) fail 7 boom"])
        XCTAssertEqual(st, 1, out)
        XCTAssertTrue(out.contains("error reply 7: boom"), out)
        (st, out) = try run(["rpc call \(dest) add [1,2"])
        XCTAssertNotEqual(st, 0)
        XCTAssertTrue(out.contains("malformed literal"), out)
        let servedBefore = so.text.split(separator: "\n").filter { $0.hasPrefix("fail") }.count
        (st, out) = try run(["rpc discover \(dest)", "rpc methods", "rpc call \(dest) fail x"])
        XCTAssertEqual(st, 2, "params that do not fit the discovered signature are a usage error: " + out)
        XCTAssertTrue(out.contains("add(numbers: number...) -> number"), out)
        XCTAssertTrue(out.contains(#"parameter code of fail expects integer, given string "x""#), out)
        usleep(300_000)
        XCTAssertEqual(so.text.split(separator: "\n").filter { $0.hasPrefix("fail") }.count, servedBefore, "nothing sent on a type error")
        (st, out) = try run(["rpc call \(dest) sleep 500 --timeout 0.1"])
        XCTAssertEqual(st, 1, out)
        XCTAssertTrue(out.contains("timed out"), out)
        (st, out) = try run(["rpc bench \(dest) echo 1 -n 200 -c 4 --json"])
        XCTAssertEqual(st, 0, out)
        let r = try JSONValue.parse(out.split(separator: "\n").last.map(String.init) ?? "")
        XCTAssertEqual(r["ok"], 200)
        XCTAssertNotNil(r["latency_ms"]?["p50"]?.doubleValue)
    }

    /// A reply destination given with --reply-to belongs to the command that gave it: after `rpc call
    /// --reply-to R`, an `rpc bench --reply-to R` (on a connection of its own) gets every reply, none taken by a
    /// subscription the call left behind; and a bench with error replies or timeouts exits 1.
    func replyToAndBenchStatus(_ b: Broker) throws {
        let dest = queue("replyto")
        let replies = queue("replyto.R")
        let serving = try serve(b, "rpc serve \(dest) -q")
        defer { serving.stop() }
        let run = serving.run
        var (st, out) = try run(["rpc call \(dest) echo 1 --reply-to \(replies)",
                                 "rpc bench \(dest) echo 1 -n 20 --reply-to \(replies) --timeout 3 --json",
                                 "rpc call \(dest) echo 2 --reply-to \(replies)"])
        XCTAssertEqual(st, 0, out)
        let j = try JSONValue.parse(out.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? "")
        XCTAssertEqual(j["ok"], 20, out)
        XCTAssertEqual(j["timeouts"], 0, out)
        XCTAssertFalse(out.contains("MESSAGE"), "no reply printed as a plain message: \(out)")
        // N connections share the calls, each with its own reply queue
        (st, out) = try run(["rpc bench \(dest) echo 1 -n 40 -c 2 --connections 3 --json"])
        XCTAssertEqual(st, 0, out)
        XCTAssertTrue(out.contains(#""ok":40"#) && out.contains(#""connections":3"#), out)
        (st, out) = try run(["rpc bench \(dest) echo 1 -n 40 --connections 2 --reply-to \(replies)"])
        XCTAssertNotEqual(st, 0, out)
        XCTAssertTrue(out.contains("--reply-to: one reply destination cannot serve 2 connections"), out)
        // error replies: the figures, then exit 1
        (st, out) = try run(["rpc bench \(dest) fail 7 boom -n 5 --json"])
        XCTAssertEqual(st, 1, out)
        XCTAssertTrue(out.contains(#""errors":5"#), out)
        XCTAssertTrue(out.contains("5 error"), out)
        // timeouts: exit 1 too
        (st, out) = try run(["rpc bench \(dest) sleep 400 -n 2 --timeout 0.1 --json"])
        XCTAssertEqual(st, 1, out)
        XCTAssertTrue(out.contains(#""timeouts":2"#), out)
        // after discovery, a call the server accepts is not refused: echo's variadic params may be named
        (st, out) = try run(["rpc discover \(dest)", "rpc call \(dest) echo name=ada tags=[1,2] --json"])
        XCTAssertEqual(st, 0, out)
        XCTAssertTrue(out.contains(#""result":{"name":"ada","tags":[1,2]}"#), out)
        // what the schema does forbid is still refused before anything is sent
        (st, out) = try run(["rpc discover \(dest)", "rpc call \(dest) add a=1 b=x"])
        XCTAssertNotEqual(st, 0, out)
        XCTAssertTrue(out.contains("expects number"), out)
    }

    func testReplyToAndBenchStatusActiveMQ() throws { try replyToAndBenchStatus(.activemq) }
    func testReplyToAndBenchStatusRabbitMQ() throws { try replyToAndBenchStatus(.rabbitmq) }
    func testReplyToAndBenchStatusSandbox() throws { try replyToAndBenchStatus(.sandbox) }

    func testShellCommandsActiveMQ() throws { try shellCommands(.activemq) }
    func testShellCommandsRabbitMQ() throws { try shellCommands(.rabbitmq) }
    func testShellCommandsSandbox() throws { try shellCommands(.sandbox) }
}
