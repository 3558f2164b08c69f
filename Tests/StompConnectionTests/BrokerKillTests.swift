import Foundation
import NIOCore
import StompConnection
import StompProto
import XCTest

/// A broker crashes (SIGKILL) and comes back while a client streams receipted sends and another consumes in
/// client-individual mode. Runs against the persistent pair of `scripts/brokers env --killable` (never the
/// shared brokers other tests use); skipped when it is not configured, unless STOMPSH_REQUIRE_KILLABLE=1.
final class BrokerKillTests: XCTestCase {
    func testActiveMQKilledMidStreamKeepsReceiptedSendsAndRedeliversUnacked() throws {
        try killMidStream(try KillableBroker.activeMQ())
    }

    func testRabbitMQKilledMidStreamKeepsReceiptedSendsAndRedeliversUnacked() throws {
        try killMidStream(try KillableBroker.rabbitMQ())
    }

    /// The scenario, on one broker with one crash:
    /// - a consumer (client-individual, small prefetch) has received the first messages of a preloaded queue
    ///   and acknowledged the odd-numbered ones (with receipts);
    /// - a sender streams persistent messages numbered by a `seq` header, each with a receipt;
    /// - the broker is killed and started again; both clients reconnect by themselves.
    /// Afterwards every send that got its receipt is on the broker (exact set comparison by `seq`), the
    /// stream went on after the restart, the consumer was resubscribed under the same id, and every message
    /// it had not acknowledged is delivered again.
    private func killMidStream(_ killable: KillableBroker) throws {
        let broker = killable.broker
        var options = broker.options
        options.reconnect = ReconnectPolicy(maxAttempts: 400, initialDelay: .milliseconds(100), maxDelay: .milliseconds(500))
        options.receiptTimeout = .seconds(10)
        let ackQueue = "/queue/" + uniqueName("kill-acks")
        let sendQueue = "/queue/" + uniqueName("kill-sends")
        let preloaded = 100
        let prefetch = 10

        // Consumer: preload, subscribe client-individual, acknowledge the odd ones of the first deliveries.
        let consumerBox = EventBox()
        let consumerLog = DeliveryLog()
        let consumer = try StompClient.connect(options, on: testGroup) { e in
            consumerLog.record(e)
            consumerBox.handler(e)
        }.wait()
        // Both queues exist well before the crash: RabbitMQ 3.10 once lost a queue declared (by its first SEND)
        // half a second before a SIGKILL, with every receipted message in it.
        try consumer.send(destination: sendQueue, headers: ["persistent": "true", "seq": "0"], body: "declares the queue",
                          receipt: true).wait()
        for seq in 1...preloaded {
            try consumer.send(destination: ackQueue, headers: ["persistent": "true", "seq": "\(seq)"],
                              body: "preloaded \(seq)", receipt: true).wait()
        }
        let prefetchHeader = broker.kind == .rabbitMQ ? "prefetch-count" : "activemq.prefetchSize"
        _ = try consumer.subscribe(destination: ackQueue, id: "acks", ack: .clientIndividual,
                                   headers: [prefetchHeader: "\(prefetch)"], receipt: true).wait()
        let firstDeliveries = consumerBox.messages(prefetch, timeout: 10, subscription: "acks")
        XCTAssertEqual(firstDeliveries.count, prefetch, "\(broker): first deliveries")
        var acked = Set<Int>()
        for m in firstDeliveries {
            guard let seq = m.seq, seq % 2 == 1 else { continue }
            _ = try consumer.ack(messageID: m.headers["message-id"], receipt: true).wait()
            acked.insert(seq)
        }
        XCTAssertFalse(acked.isEmpty, "\(broker): nothing acknowledged before the crash")

        // Sender: a stream of receipted persistent sends.
        let senderBox = EventBox()
        let sender = try connect(options, senderBox)
        let stream = ReceiptedSendStream(client: sender, destination: sendQueue)
        stream.start()
        defer { stream.stop() }
        XCTAssertTrue(stream.waitForReceipts(200, timeout: 20), "\(broker): the stream did not get going")

        try killable.kill()
        let atKill = stream.highestReceipted
        XCTAssertNotNil(consumerBox.wait(10) { if case .connectionLost = $0 { return true }; return false },
                        "\(broker): consumer did not notice the crash")
        try killable.start()

        let reconnected = consumerBox.wait(60) { if case .reconnected = $0 { return true }; return false }
        guard case .reconnected(_, let resubscribed, let lost)? = reconnected else {
            return XCTFail("\(broker): consumer did not reconnect; events: \(consumerBox.all.suffix(5))")
        }
        XCTAssertEqual(resubscribed.map(\.id), ["acks"], "\(broker)")
        let deliveredBefore = consumerLog.seqs(connection: 0)
        XCTAssertEqual(lost.unacknowledged.count, deliveredBefore.subtracting(acked).count,
                       "\(broker): unacknowledged messages the client reports lost")

        // The stream goes on after the restart.
        XCTAssertTrue(stream.waitForReceipts(stream.receiptedCount + 100, timeout: 30),
                      "\(broker): no receipts after the restart")
        XCTAssertTrue(stream.stop(), "\(broker): the sender did not finish")

        // Every message not acknowledged comes again (acknowledging each so that more are delivered).
        let unacked = Set(1...preloaded).subtracting(acked)
        var redelivered = Set<Int>()
        var ackedAfter = Set<String>()
        let deadline = Date().addingTimeInterval(30)
        while !unacked.isSubset(of: redelivered), Date() < deadline {
            for m in consumerLog.messages(connection: 1) {
                guard let id = m.headers["message-id"], !ackedAfter.contains(id) else { continue }
                if let seq = m.seq { redelivered.insert(seq) }
                _ = try consumer.ack(messageID: id).wait()
                ackedAfter.insert(id)
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertEqual(unacked.subtracting(redelivered).sorted(), [],
                       "\(broker): unacknowledged messages not delivered after the restart")
        print("\(broker): \(acked.count) acknowledged before the crash, \(deliveredBefore.count) delivered; "
              + "\(redelivered.count) delivered after it (\(redelivered.intersection(acked).count) of them acknowledged before)")

        // Every receipted send is on the broker.
        let receipted = stream.receipted
        XCTAssertGreaterThan(stream.highestReceipted, atKill, "\(broker): no receipted send after the restart")
        let verifierBox = EventBox()
        let verifier = try connect(broker.options, verifierBox)
        _ = try verifier.subscribe(destination: sendQueue, id: "verify", receipt: true).wait()
        var onBroker = Set<Int>()
        while !receipted.isSubset(of: onBroker), let m = verifierBox.message(5, subscription: "verify") {
            if let seq = m.seq { onBroker.insert(seq) }
        }
        XCTAssertEqual(receipted.subtracting(onBroker).sorted(), [], "\(broker): receipted sends lost in the crash")
        print("\(broker): \(receipted.count) sends receipted (\(atKill) before the crash), \(stream.failed.count) failed "
              + "(outcome unknown, \(stream.failed.intersection(onBroker).count) of them on the broker)")

        try? verifier.disconnect().wait()
        try? sender.disconnect().wait()
        try? consumer.disconnect().wait()
    }
}

/// The persistent broker a test may kill, from `scripts/brokers env --killable`.
struct KillableBroker {
    var broker: TestBroker
    /// Shell command line running scripts/brokers on the killable pair.
    var control: String
    /// "activemq" or "rabbitmq": the suffix of scripts/brokers' kill-/start- commands.
    var service: String

    static func activeMQ(file: StaticString = #filePath, line: UInt = #line) throws -> KillableBroker {
        try named("STOMPSH_TEST_KILLABLE_ACTIVEMQ", name: "ActiveMQ (killable)", service: "activemq", rabbit: false,
                  file: file, line: line)
    }

    static func rabbitMQ(file: StaticString = #filePath, line: UInt = #line) throws -> KillableBroker {
        try named("STOMPSH_TEST_KILLABLE_RABBITMQ", name: "RabbitMQ (killable)", service: "rabbitmq", rabbit: true,
                  file: file, line: line)
    }

    private static func named(_ variable: String, name: String, service: String, rabbit: Bool,
                              file: StaticString, line: UInt) throws -> KillableBroker {
        guard let url = TestEnv.value(variable), let control = TestEnv.value("STOMPSH_TEST_KILLABLE_BROKERS") else {
            let why = "\(variable) / STOMPSH_TEST_KILLABLE_BROKERS not set (eval \"$(scripts/brokers env --killable)\")"
            if TestEnv.value("STOMPSH_REQUIRE_KILLABLE") == "1" { XCTFail(why, file: file, line: line) }
            throw XCTSkip(why)
        }
        let broker = TestBroker(name: name, url: try StompURL.parseList(url)[0], kind: rabbit ? .rabbitMQ : .activeMQ)
        return KillableBroker(broker: broker, control: control, service: service)
    }

    /// SIGKILL: the broker dies without shutting down.
    func kill() throws { try run("kill-\(service)") }

    /// Starts it again; returns once it answers STOMP.
    func start() throws { try run("start-\(service)") }

    /// Runs scripts/brokers COMMAND with system(): Foundation.Process would wait for the end of a pipe that a
    /// started broker could inherit.
    private func run(_ command: String) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName(command) + ".log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let started = Date()
        let status = system("\(control) \(command) </dev/null >'\(log)' 2>&1")
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        print("scripts/brokers \(command) (\(String(format: "%.1f", elapsed(since: started))) s): \(output)", terminator: "")
        guard status == 0 else { throw KillableBrokerFailure(command: command, output: output) }
    }
}

struct KillableBrokerFailure: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "scripts/brokers \(command) failed: \(output)" }
}

extension StompFrame {
    /// The `seq` header the kill tests number their messages with.
    var seq: Int? { headers["seq"].flatMap { Int($0) } }
}

/// MESSAGE frames by connection: 0 before the first `.reconnected`, 1 after it, and so on.
final class DeliveryLog: @unchecked Sendable {
    private let lock = NSLock()
    private var connection = 0
    private var frames: [(connection: Int, frame: StompFrame)] = []

    func record(_ event: ClientEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .frame(let f) where f.command == .message: frames.append((connection, f))
        case .reconnected: connection += 1
        default: break
        }
    }

    func messages(connection n: Int) -> [StompFrame] {
        lock.lock()
        defer { lock.unlock() }
        return frames.filter { $0.connection == n }.map(\.frame)
    }

    func seqs(connection n: Int) -> Set<Int> { Set(messages(connection: n).compactMap(\.seq)) }
}

/// Sends persistent messages numbered 1, 2, 3... (header `seq`) on its own thread, each with a receipt and at
/// most `window` awaiting theirs, until stopped. While the client reconnects it pauses instead of spinning
/// on `.notConnected`. Records which sends got their receipt and which failed (outcome unknown).
final class ReceiptedSendStream: @unchecked Sendable {
    let client: StompClient
    let destination: String
    let window: Int
    private let lock = NSCondition()
    private var receiptedSeqs = Set<Int>()
    private var failedSeqs = Set<Int>()
    private var stopRequested = false
    private var stopResult: Bool?
    private var outstanding = 0
    private let finished = DispatchSemaphore(value: 0)

    init(client: StompClient, destination: String, window: Int = 32) {
        self.client = client
        self.destination = destination
        self.window = window
    }

    var receipted: Set<Int> { lock.lock(); defer { lock.unlock() }; return receiptedSeqs }
    var failed: Set<Int> { lock.lock(); defer { lock.unlock() }; return failedSeqs }
    var receiptedCount: Int { receipted.count }
    var highestReceipted: Int { receipted.max() ?? 0 }

    func start() {
        Thread { self.run() }.start()
    }

    /// Waits until `count` sends in all have their receipt.
    func waitForReceipts(_ count: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while receiptedSeqs.count < count {
            if !lock.wait(until: deadline) { return receiptedSeqs.count >= count }
        }
        return true
    }

    /// Stops sending and waits for the outstanding receipts (or their failures). Idempotent.
    @discardableResult
    func stop() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let stopResult { return stopResult }
        stopRequested = true
        lock.broadcast()
        lock.unlock()
        let done = finished.wait(timeout: .now() + 30) == .success
        lock.lock()
        stopResult = done
        return done
    }

    private func run() {
        var seq = 0
        while true {
            lock.lock()
            while outstanding >= window && !stopRequested { lock.wait() }
            let stopping = stopRequested
            if !stopping { outstanding += 1 }
            lock.unlock()
            if stopping { break }
            if client.state != .connected {
                lock.lock()
                outstanding -= 1
                lock.unlock()
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            seq += 1
            let n = seq
            client.send(destination: destination, headers: ["persistent": "true", "seq": "\(n)"],
                        body: "stream \(n)", receipt: true).whenComplete { result in
                self.lock.lock()
                switch result {
                case .success: self.receiptedSeqs.insert(n)
                case .failure: self.failedSeqs.insert(n)
                }
                self.outstanding -= 1
                self.lock.broadcast()
                self.lock.unlock()
            }
        }
        lock.lock()
        while outstanding > 0 { lock.wait() }
        lock.unlock()
        finished.signal()
    }
}
