import Foundation
import StompTestSupport
import XCTest
import StompProto
import RPCCommands
import StompBroker
import StompBench
@testable import StompShell

/// `bench send|consume|latency`: parsing without a broker; figures against a real broker when
/// STOMPSH_TEST_ACTIVEMQ / STOMPSH_TEST_RABBITMQ are set (eval "$(scripts/brokers env)"), and against the sandbox
/// broker (STOMPSH_TEST_SANDBOX, else started in this process).
final class BenchCommandTests: XCTestCase {
    final class Captured: @unchecked Sendable {
        let lock = NSLock()
        var stdout = ""
        var stderr = ""
    }

    func makeShell(_ captured: Captured) -> Shell {
        let o = Output(color: false)
        let shell = Shell(output: o)
        o.sink = { text, stream in
            captured.lock.lock()
            if stream == .stdout { captured.stdout += text } else { captured.stderr += text }
            captured.lock.unlock()
        }
        return shell
    }

    func testReceiptModes() {
        XCTAssertEqual(BenchReceipts("none"), BenchReceipts.none)
        XCTAssertEqual(BenchReceipts("each"), .each)
        XCTAssertEqual(BenchReceipts("window:64"), .window(64))
        XCTAssertNil(BenchReceipts("window:0"))
        XCTAssertNil(BenchReceipts("window:"))
        XCTAssertNil(BenchReceipts("all"))
        XCTAssertEqual(BenchReceipts.window(8).description, "window:8")
    }

    func testInTableAndParses() throws {
        XCTAssertNotNil(CommandTable.find("bench"))
        let p = try XCTUnwrap(LineParser.parse("bench send /queue/b -n 10 --size 5 --receipts window:3 --json",
                                               resolve: { _ in nil }))
        XCTAssertEqual(p.arguments, ["send", "/queue/b"])
        XCTAssertEqual(p.option("--count"), "10")
        XCTAssertEqual(p.option("--receipts"), "window:3")
        XCTAssertTrue(p.flag("--json"))
        XCTAssertThrowsError(try LineParser.parse("bench flood /q", resolve: { _ in nil }))
        XCTAssertThrowsError(try LineParser.parse("bench consume /q --ack client", resolve: { _ in nil }))
    }

    func testNeedsConnectionAndChecksOptions() {
        let c = Captured()
        let shell = makeShell(c)
        XCTAssertThrowsError(try shell.run(line: "bench send /queue/b")) { e in
            XCTAssertTrue((e as? ShellError)?.message.hasPrefix("not connected") == true)
        }
        // options that belong to another subcommand are refused by the parser (the table's declaration), before
        // anything else
        XCTAssertThrowsError(try LineParser.parse("bench send /q --ack auto", resolve: { _ in nil })) { e in
            XCTAssertEqual((e as? ShellError)?.message, "option --ack does not apply to 'bench send'")
            XCTAssertEqual((e as? ShellError)?.column, 15)
        }
    }

    func testBodyAndMemory() {
        XCTAssertEqual(BenchMessage.body(size: 0).count, 0)
        XCTAssertEqual(BenchMessage.body(size: 1000).count, 1000)
        XCTAssertFalse(BenchMessage.body(size: 1000).contains(0))
        #if os(Linux)
        let m = BenchMemory.current()
        XCTAssertNotNil(m)
        XCTAssertGreaterThan(m?.rssKiB ?? 0, 0)
        XCTAssertGreaterThanOrEqual(m?.peakKiB ?? 0, m?.rssKiB ?? 0)
        #endif
    }

    func testLiveLine() {
        var r = LatencyRecorder()
        for ns in [100_000, 200_000, 300_000] as [UInt64] { r.record(nanoseconds: ns) }
        let line = BenchShellCommands.liveLine(r.summary())
        XCTAssertTrue(line.hasPrefix("min 0.100  avg 0.200  p50 0.200"), line)
        XCTAssertTrue(line.hasSuffix("ms  (3 samples)"), line)
    }

    // MARK: against brokers

    /// `--connections N`: N senders, each its own sequence stream, N consumers sharing the count; `--prebuilt`
    /// messages carry no sequence numbers and are counted as such.
    func testConnectionsAndPrebuilt() throws {
        for (name, url) in try brokers() {
            let (c, shell) = try connectedShell(url)
            defer { try? shell.run(line: "disconnect") }
            let q = "/queue/stompsh.benchrpc.conns.\(name).\(UInt32.random(in: 0...UInt32.max))"
            try shell.run(line: "bench send \(q) -n 1000 --size 10 --connections 4 --json")
            var j = try lastJSON(c.stdout)
            XCTAssertEqual(j["messages"]?.int64Value, 1000, name)
            XCTAssertEqual(j["connections"]?.int64Value, 4, name)
            try shell.run(line: "bench send \(q) -n 200 --size 10 --connections 2 --receipts window:8 --json")
            j = try lastJSON(c.stdout)
            XCTAssertEqual(j["receipts"]?.int64Value, 200, name)
            XCTAssertEqual(j["latency_ms"]?["count"]?.int64Value, 200, name)
            try shell.run(line: "bench consume \(q) -n 1200 --connections 3 --json")
            j = try lastJSON(c.stdout)
            XCTAssertEqual(j["messages"]?.int64Value, 1200, "\(name): \(j.compact)")
            XCTAssertEqual(j["connections"]?.int64Value, 3, name)
            XCTAssertEqual(j["streams"]?.int64Value, 6, "\(name): 4 + 2 senders")
            XCTAssertEqual(j["lost"]?.int64Value, 0, "\(name): \(j.compact)")
            XCTAssertEqual(j["duplicates"]?.int64Value, 0, name)
            XCTAssertEqual(j["complete"]?.boolValue, true, name)
            XCTAssertThrowsError(try shell.run(line: "bench consume \(q) -n 1 --timeout 0.5"), "\(name): a stray message")

            try shell.run(line: "bench send \(q) -n 100 --prebuilt --json")
            j = try lastJSON(c.stdout)
            XCTAssertEqual(j["prebuilt"]?.boolValue, true, name)
            XCTAssertEqual(j["messages"]?.int64Value, 100, name)
            try shell.run(line: "bench consume \(q) -n 100 --json")
            j = try lastJSON(c.stdout)
            XCTAssertEqual(j["unsequenced"]?.int64Value, 100, name)
            XCTAssertNil(j["latency_ms"], "\(name): no timestamps, no end-to-end latency")
            XCTAssertThrowsError(try shell.run(line: "bench send \(q) -n 5 --prebuilt --receipts each")) { e in
                XCTAssertTrue((e as? ShellError)?.message.contains("--receipts none only") == true, "\(e)")
            }
            XCTAssertThrowsError(try shell.run(line: "bench send \(q) -n 2 --connections 3"))
        }
    }

    /// `bench send -n N` leaves exactly N messages, whatever the receipts mode; `bench consume` checks them as a
    /// stream: every sequence number once, in order, with end-to-end latency from the send timestamp.
    func testSendLeavesExactlyNAndConsumeChecksTheStream() throws {
        for (name, url) in try brokers() {
            let (c, shell) = try connectedShell(url)
            defer { try? shell.run(line: "disconnect") }
            for n in [1, 2, 25] {
                let q = "/queue/stompsh.benchrpc.exact.\(name).\(UInt32.random(in: 0...UInt32.max))"
                try shell.run(line: "bench send \(q) -n \(n) --json")
                XCTAssertEqual(try lastJSON(c.stdout)["messages"]?.int64Value, Int64(n), name)
                try shell.run(line: "bench consume \(q) -n \(n) --json")
                let j = try lastJSON(c.stdout)
                XCTAssertEqual(j["messages"]?.int64Value, Int64(n), "\(name) -n \(n)")
                XCTAssertEqual(j["lost"]?.int64Value, 0, "\(name) -n \(n): \(j.compact)")
                XCTAssertEqual(j["duplicates"]?.int64Value, 0, "\(name) -n \(n)")
                XCTAssertEqual(j["out_of_order"]?.int64Value, 0, "\(name) -n \(n)")
                XCTAssertEqual(j["latency_ms"]?["count"]?.int64Value, Int64(n), "\(name) -n \(n): \(j.compact)")
                XCTAssertThrowsError(try shell.run(line: "bench consume \(q) -n 1 --timeout 0.5"),
                                     "\(name) -n \(n): a message more than was sent")
            }
        }
    }

    /// `bench consume -n N` with ack auto on a fuller queue: the broker may send ahead and take what it sent as
    /// delivered (RabbitMQ's prefetch does not bound an auto-ack subscription; the sandbox sends what it has), so more
    /// than N leave the queue. The run says how many it saw (`beyond`, a lower bound: more may have been in flight)
    /// and warns, naming --ack client-individual, which takes exactly N.
    func testConsumeSaysWhatItTookBeyondN() throws {
        for (name, url) in try brokers() {
            let (c, shell) = try connectedShell(url)
            defer { try? shell.run(line: "disconnect") }
            let q = "/queue/stompsh.benchrpc.beyond.\(name).\(UInt32.random(in: 0...UInt32.max))"
            try shell.run(line: "bench send \(q) -n 1000 --receipts window:100 --json")
            try shell.run(line: "bench consume \(q) -n 1 --json")
            let j = try lastJSON(c.stdout)
            XCTAssertEqual(j["messages"]?.int64Value, 1, name)
            let beyond = try XCTUnwrap(j["beyond"]?.int64Value, "\(name): \(j.compact)")
            if name != "activemq" {   // ActiveMQ bounds an auto-ack subscription by its prefetch: it keeps the rest
                XCTAssertGreaterThan(beyond, 0, "\(name): the broker sent ahead")
            }
            if beyond > 0 {
                XCTAssertTrue(c.stderr.contains("\(beyond) more message") && c.stderr.contains("--ack client-individual takes exactly 1"),
                              "\(name): \(c.stderr)")
            }
            // what is left: fewer than asked arrive, so the command fails after reporting them
            XCTAssertThrowsError(try shell.run(line: "bench consume \(q) -n 100000 --timeout 1 --ack client-individual --json"))
            let left = try lastJSON(c.stdout)["messages"]?.int64Value ?? -1
            XCTAssertLessThanOrEqual(1 + beyond + left, 1000, "\(name): taken 1, seen \(beyond) beyond, \(left) left")
            if name == "activemq" { XCTAssertEqual(left, 999 - beyond, name) }
        }
    }

    /// `beyond` says what left the queue uncounted (ack auto). With client-individual nothing beyond N is taken (what
    /// arrives after N goes back), yet `beyond` counted each such arrival, with 4 connections the same messages again
    /// and again as they were given back and sent to another (ActiveMQ: beyond 2172 with 1900 left of 2000).
    func testConsumeClientIndividualTakesNothingBeyondN() throws {
        for (name, url) in try brokers() {
            let (c, shell) = try connectedShell(url)
            defer { try? shell.run(line: "disconnect") }
            let q = "/queue/stompsh.benchrpc.beyond-ci.\(name).\(UInt32.random(in: 0...UInt32.max))"
            try shell.run(line: "bench send \(q) -n 2000 --receipts window:100 --json")
            try shell.run(line: "bench consume \(q) -n 100 --connections 4 --ack client-individual --json")
            let j = try lastJSON(c.stdout)
            XCTAssertEqual(j["messages"]?.int64Value, 100, name)
            XCTAssertEqual(j["beyond"]?.int64Value, 0, "\(name): \(j.compact)")
            XCTAssertFalse(c.stderr.contains("more message"), "\(name): \(c.stderr)")
            XCTAssertThrowsError(try shell.run(line: "bench consume \(q) -n 100000 --timeout 1 --ack client-individual --json"))
            XCTAssertEqual(try lastJSON(c.stdout)["messages"]?.int64Value, 1900, name)
        }
    }

    /// A shell connected to `url`, its output captured.
    func connectedShell(_ url: String) throws -> (Captured, Shell) {
        let c = Captured()
        let shell = makeShell(c)
        try shell.run(line: "connect \(url)")
        return (c, shell)
    }

    func brokers() throws -> [(String, String)] {
        let env = ProcessInfo.processInfo.environment
        if env["STOMPSH_REQUIRE_BROKERS"] == "1", env["STOMPSH_TEST_ACTIVEMQ"] == nil || env["STOMPSH_TEST_RABBITMQ"] == nil {
            XCTFail("STOMPSH_TEST_ACTIVEMQ / STOMPSH_TEST_RABBITMQ not set but STOMPSH_REQUIRE_BROKERS=1")
        }
        return [("activemq", env["STOMPSH_TEST_ACTIVEMQ"]), ("rabbitmq", env["STOMPSH_TEST_RABBITMQ"]), ("sandbox", Self.sandbox)]
            .compactMap { n, u in u.map { (n, $0) } }
    }

    static var sandbox: String { SandboxFixture.url }

    func lastJSON(_ text: String) throws -> JSONValue {
        let line = try XCTUnwrap(text.split(separator: "\n").last { $0.hasPrefix("{\"bench\"") }, text)
        return try JSONValue.parse(String(line))
    }

    func testSendConsumeLatencyOnBrokers() throws {
        for (name, url) in try brokers() {
            let c = Captured()
            let shell = makeShell(c)
            try shell.run(line: "connect \(url)")
            let q = "/queue/stompsh.benchtest.\(name).\(UInt32.random(in: 0...UInt32.max))"

            for mode in ["none", "each", "window:16"] {
                try shell.run(line: "bench send \(q) -n 300 --size 64 --receipts \(mode) --json")
                let j = try lastJSON(c.stdout)
                XCTAssertEqual(j["bench"]?.stringValue, "send", name)
                XCTAssertEqual(j["messages"]?.int64Value, 300, "\(name) \(mode)")
                XCTAssertEqual(j["receipts_mode"]?.stringValue, mode)
                XCTAssertGreaterThan(j["msgs_per_s"]?.doubleValue ?? 0, 0)
                XCTAssertGreaterThan(j["mb_per_s"]?.doubleValue ?? 0, 0)
                if mode == "none" {
                    XCTAssertNil(j["latency_ms"])
                } else {
                    XCTAssertEqual(j["receipts"]?.int64Value, 300)
                    XCTAssertEqual(j["latency_ms"]?["count"]?.int64Value, 300)
                    XCTAssertGreaterThan(j["latency_ms"]?["p50"]?.doubleValue ?? 0, 0)
                }
            }
            // exactly the 900 sent: the no-receipt run confirms with a receipt on its last message, not an extra SEND
            try shell.run(line: "bench consume \(q) -n 900 --json")
            var j = try lastJSON(c.stdout)
            XCTAssertEqual(j["messages"]?.int64Value, 900, name)
            XCTAssertEqual(j["complete"]?.boolValue, true)
            XCTAssertEqual(j["bytes"]?.int64Value, 900 * 64)
            XCTAssertThrowsError(try shell.run(line: "bench consume \(q) -n 1 --timeout 0.5"), "\(name): a stray message")

            try shell.run(line: "bench send \(q) -n 200 --receipts window:50")
            XCTAssertTrue(c.stdout.contains("msgs/s"), c.stdout)
            try shell.run(line: "bench consume \(q) -n 100 --ack client-individual --json")
            j = try lastJSON(c.stdout)
            XCTAssertEqual(j["messages"]?.int64Value, 100, name)
            XCTAssertEqual(j["ack"]?.stringValue, "client-individual")
            // the rest is still there: messages delivered beyond N were given back (ActiveMQ on UNSUBSCRIBE,
            // RabbitMQ by NACK), not held until the connection closes
            try shell.run(line: "bench consume \(q) -n 100 --ack client-individual --timeout 5 --json")
            XCTAssertEqual(try lastJSON(c.stdout)["messages"]?.int64Value, 100, name)

            // nothing more: stops after --timeout and fails
            XCTAssertThrowsError(try shell.run(line: "bench consume \(q) -n 5 --timeout 0.5")) { e in
                XCTAssertTrue((e as? ShellError)?.message.contains("only 0 of 5") == true, "\(e)")
            }

            try shell.run(line: "bench latency -n 50 --json")
            j = try lastJSON(c.stdout)
            XCTAssertEqual(j["samples"]?.int64Value, 50, name)
            XCTAssertEqual(j["mode"]?.stringValue, "receipt")
            XCTAssertGreaterThan(j["latency_ms"]?["p50"]?.doubleValue ?? 0, 0)

            let t = "/topic/stompsh.benchtest.\(UInt32.random(in: 0...UInt32.max))"
            try shell.run(line: "bench latency \(t) -n 30 --history 0.05 --json")
            j = try lastJSON(c.stdout)
            XCTAssertEqual(j["samples"]?.int64Value, 30, name)
            XCTAssertEqual(j["mode"]?.stringValue, "self")
            XCTAssertGreaterThanOrEqual(j["history"]?.arrayValue?.count ?? 0, 1)

            // nothing of the benches reached the inbox
            XCTAssertTrue(shell.inbox.pending.isEmpty, name)
            try shell.run(line: "disconnect")
        }
    }
}
