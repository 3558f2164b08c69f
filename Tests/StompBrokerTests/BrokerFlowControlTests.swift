import StompProto
import XCTest
@testable import StompBroker

/// Back-pressure toward subscribers and the broker's memory limit, without sockets.
final class BrokerFlowControlTests: XCTestCase {
    private func harness(window: Int = 64 << 10, maxMemory: Int = BrokerConfiguration.defaultMaxMemory) -> EngineHarness {
        EngineHarness(configuration: BrokerConfiguration(serverName: "test-sandbox", messageIDPrefix: "m",
                                                         deliveryWindow: window, maxMemory: maxMemory))
    }

    func testAutoAckSubscriberGetsOneWindowUntilItsSocketTakesIt() {
        let h = harness(window: 10_000)
        let p = h.connect(), c = h.connect()
        let body = String(repeating: "x", count: 100)
        for _ in 0..<1000 { _ = h.publish(p, "/queue/window", body) }
        let first = messages(h.subscribe(c, "/queue/window", id: "s"))
        XCTAssertGreaterThan(first.count, 0)
        XCTAssertLessThan(first.count, 40, "a window of 10,000 bytes, not the whole queue")
        XCTAssertEqual(h.engine.queueDepth("window"), 1000 - first.count, "the rest stays queued")
        XCTAssertTrue(messages(h.publish(p, "/queue/window", body)).isEmpty, "nothing more until the socket took it")
        let second = messages(h.drained(c)).count
        XCTAssertEqual(Double(second), Double(first.count), accuracy: 1, "one more window")
        XCTAssertEqual(messages(h.drainAll(c, after: [])).count + first.count + second, 1001)
        XCTAssertEqual(h.engine.queueDepth("window"), 0)
    }

    func testClosingMidWindowLeavesTheRestQueuedForTheNextSubscriber() {
        let h = harness(window: 10_000)
        let p = h.connect(), c = h.connect(), next = h.connect()
        for i in 0..<500 { _ = h.publish(p, "/queue/left", "\(i)") }
        let taken = messages(h.subscribe(c, "/queue/left", id: "s")).count
        _ = h.closed(c)
        let rest = bodies(h.drainAll(next, after: h.subscribe(next, "/queue/left", id: "n")))
        XCTAssertEqual(rest.count, 500 - taken)
        XCTAssertEqual(rest.first, "\(taken)", "in order, from where the first one stopped")
    }

    func testMemoryLimitRefusesSendsWithAnErrorAndTheConnectionStays() {
        let h = harness(maxMemory: 100_000)
        let p = h.connect()
        let body = String(repeating: "b", count: 1000)
        var accepted = 0
        var refusal: StompFrame?
        for i in 0..<1000 {
            let out = frames(h.publish(p, "/queue/full", body, ["receipt": "r\(i)"]))
            if out.first?.command == .error { refusal = out.first; break }
            accepted += 1
        }
        XCTAssertEqual(refusal?.headers["message"], "memory limit reached")
        XCTAssertEqual(refusal?.headers["receipt-id"], "r\(accepted)")
        XCTAssertGreaterThan(accepted, 50)
        XCTAssertLessThanOrEqual(h.engine.heldBytes, 100_000)
        XCTAssertEqual(h.engine.queueDepth("full"), accepted, "the refused SEND was not queued")
        // consuming makes room; the same connection may send again
        let c = h.connect()
        XCTAssertEqual(messages(h.drainAll(c, after: h.subscribe(c, "/queue/full", id: "s"))).count, accepted)
        XCTAssertEqual(h.engine.heldBytes, 0)
        XCTAssertEqual(frames(h.publish(p, "/queue/full", body, ["receipt": "again"])).map(\.command), [.message, .receipt])
    }

    func testHeldBytesReturnToZeroWhateverWayMessagesLeave() {
        let h = harness()
        let p = h.connect(), c = h.connect()
        _ = h.subscribe(c, "/queue/ci", id: "ci", ack: .clientIndividual)
        _ = h.subscribe(c, "/queue/cl", id: "cl", ack: .client)
        _ = h.subscribe(c, "/topic/t", id: "t", ack: .client)
        _ = h.subscribe(c, "/topic/t2", id: "t2")
        let a = messages(h.publish(p, "/queue/ci", "1"))[0]
        _ = h.publish(p, "/queue/cl", "2")
        let b = messages(h.publish(p, "/queue/cl", "3"))[0]
        _ = h.publish(p, "/topic/t", "4")
        _ = h.publish(p, "/topic/t2", "5")
        _ = h.send(p, .begin, ["transaction": "tx"])
        _ = h.send(p, .send, ["destination": "/queue/tx", "transaction": "tx"], body: "6")
        _ = h.send(p, .begin, ["transaction": "left-open"])
        _ = h.send(p, .send, ["destination": "/queue/tx", "transaction": "left-open"], body: "7")
        XCTAssertGreaterThan(h.engine.heldBytes, 0)
        _ = h.send(c, .ack, ["id": a.headers["ack"]!])
        _ = h.send(c, .ack, ["id": b.headers["ack"]!])
        _ = h.send(p, .abort, ["transaction": "tx"])
        _ = h.send(c, .unsubscribe, ["id": "t"])
        _ = h.closed(p)
        XCTAssertEqual(h.engine.heldBytes, 0)
    }

    func testSlowTopicSubscriberGetsItsBacklogInOrderWhenWritable() {
        let h = harness(window: 1 << 30, maxMemory: 50_000)
        let p = h.connect(), slow = h.connect(), fast = h.connect()
        _ = h.subscribe(slow, "/topic/news", id: "s")
        _ = h.subscribe(fast, "/topic/news", id: "f")
        _ = h.setWritable(false, slow)
        var sent = 0
        while frames(h.publish(p, "/topic/news", "\(sent)"), to: p).first?.command != .error { sent += 1 }
        XCTAssertGreaterThan(sent, 10, "the backlog counts toward the memory limit")
        XCTAssertEqual(bodies(h.drainAll(slow, after: h.setWritable(true, slow))), (0..<sent).map { "\($0)" })
        XCTAssertEqual(h.engine.heldBytes, 0)
    }

    func testQueueStorageShrinksAfterADrain() {
        var fifo = FIFO<Int>()
        for i in 0..<100_000 { fifo.append(i) }
        for _ in 0..<99_000 { _ = fifo.popFirst() }
        XCTAssertEqual(fifo.count, 1000)
        XCTAssertLessThan(fifo.capacity, 10_000, "storage follows the content down")
        XCTAssertEqual(fifo.first, 99_000)
    }

    func testByteSizes() {
        XCTAssertEqual(ByteSize.parse("1024"), 1024)
        XCTAssertEqual(ByteSize.parse("64K"), 64 << 10)
        XCTAssertEqual(ByteSize.parse("512M"), 512 << 20)
        XCTAssertEqual(ByteSize.parse("2GiB"), 2 << 30)
        XCTAssertEqual(ByteSize.parse("3mb"), 3 << 20)
        for bad in ["", "M", "-1M", "1.5G", "12X", "1 M", "99999999999999G"] { XCTAssertNil(ByteSize.parse(bad), bad) }
    }
}
