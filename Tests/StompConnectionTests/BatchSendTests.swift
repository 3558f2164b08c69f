import Foundation
import NIOCore
import StompConnection
import StompProto
import XCTest

/// `StompClient.send(batch:)`: several SENDs in one call (one write, one flush, one future), each made by the
/// session and each seen by the trace as its own frame; a SEND that cannot be made or encoded ends the batch at
/// its index. On ActiveMQ, RabbitMQ and the sandbox; over WebSocket one message per frame.
final class BatchSendTests: XCTestCase {
    private func requests(_ q: String, _ bodies: [String]) -> [SendRequest] {
        bodies.map { SendRequest(destination: q, headers: ["x-n": $0], body: Array($0.utf8)) }
    }

    private func outboundFrames(_ box: EventBox) -> [StompFrame] {
        box.all.compactMap { e -> StompFrame? in
            guard case .trace(.outbound, let bytes, _) = e else { return nil }
            var d = FrameDecoder(version: .v1_2)
            d.append(bytes)
            guard case .frame(let f)? = try? d.next(), f.command == .send else { return nil }
            XCTAssertNil(try? d.next(), "one trace event holds one frame")
            return f
        }
    }

    /// 40 SENDs of different sizes arrive complete and in order; the trace shows each as its own frame; the
    /// client counts 40 frames sent.
    func testABatchArrivesInOrderAndIsTracedFrameByFrame() throws {
        for broker in try TestEnv.brokers() {
            let box = EventBox()
            var options = broker.options
            options.trace = true
            let client = try connect(options, box)
            let q = "/queue/" + uniqueName("client-batch")
            _ = try client.subscribe(destination: q, id: "s1", receipt: true).wait()
            let before = try client.snapshot().wait().counters.framesSent
            let bodies = (0..<40).map { String(repeating: "b", count: $0 * 7) + "-\($0)" }
            try client.send(batch: requests(q, bodies)).wait()
            let got = box.messages(40, timeout: 10, subscription: "s1")
            XCTAssertEqual(got.map { $0.bodyString ?? "" }, bodies, "\(broker)")
            XCTAssertEqual(got.map { $0.headers["x-n"] ?? "" }, bodies, "\(broker)")
            XCTAssertEqual(outboundFrames(box).map { $0.bodyString ?? "" }, bodies, "\(broker): traced frame by frame")
            XCTAssertEqual(try client.snapshot().wait().counters.framesSent - before, 40, "\(broker)")
            try client.disconnect().wait()
        }
    }

    /// The third SEND cannot be encoded (its content-length is wrong): the batch fails at index 2 with the
    /// encoding error, the first two are written, the fourth and fifth are not. A batch whose `unless` says
    /// true writes nothing and succeeds; one naming a transaction that is not open fails at index 0.
    func testAFailedSendEndsTheBatchAtItsIndex() throws {
        for broker in try TestEnv.brokers() {
            let box = EventBox()
            let client = try connect(broker.options, box)
            let q = "/queue/" + uniqueName("client-batch-fail")
            _ = try client.subscribe(destination: q, id: "s1", receipt: true).wait()
            var batch = requests(q, ["0", "1", "2", "3", "4"])
            batch[2].headers["content-length"] = "1"
            batch[2].body = Array("xy".utf8)
            do {
                try client.send(batch: batch).wait()
                XCTFail("\(broker): the batch should fail")
            } catch let e as BatchSendError {
                XCTAssertEqual(e.index, 2, "\(broker)")
                guard case .encoding = e.error else { return XCTFail("\(broker): \(e.error)") }
            }
            try client.send(batch: requests(q, ["dropped"]), unless: { true }).wait()
            do {
                try client.send(batch: requests(q, ["no-tx"]), transaction: .named("tx-none")).wait()
                XCTFail("\(broker): a transaction not open")
            } catch let e as BatchSendError {
                XCTAssertEqual(e.index, 0, "\(broker)")
                guard case .session = e.error else { return XCTFail("\(broker): \(e.error)") }
            }
            try client.send(destination: q, body: "end", receipt: true).wait()
            let got = box.messages(3, timeout: 10, subscription: "s1")
            XCTAssertEqual(got.map { $0.bodyString ?? "" }, ["0", "1", "end"], "\(broker)")
            try client.disconnect().wait()
        }
    }

    /// `.newestOpen` joins the transaction open when the batch (or a single `send(in:)`) runs: aborted, its SENDs
    /// never arrive; a batch after the abort (no transaction open) does.
    func testNewestOpenJoinsTheOpenTransaction() throws {
        for broker in try TestEnv.brokers() {
            let box = EventBox()
            let client = try connect(broker.options, box)
            let q = "/queue/" + uniqueName("client-batch-tx")
            _ = try client.subscribe(destination: q, id: "s1", receipt: true).wait()
            try client.begin("tx-a", receipt: true).wait()
            try client.send(batch: requests(q, ["in-tx-1", "in-tx-2"]), transaction: .newestOpen).wait()
            // No receipt: RabbitMQ answers a SEND in a transaction only at the COMMIT.
            try client.send(destination: q, body: Array("in-tx-3".utf8), in: .newestOpen).wait()
            try client.abort("tx-a", receipt: true).wait()
            try client.send(batch: requests(q, ["after"]), transaction: .newestOpen).wait()
            try client.send(destination: q, body: "end", receipt: true).wait()
            let got = box.messages(2, timeout: 10, subscription: "s1")
            XCTAssertEqual(got.map { $0.bodyString ?? "" }, ["after", "end"], "\(broker)")
            try client.disconnect().wait()
        }
    }

    /// Over WebSocket a batch of 12 SENDs goes as 12 WebSocket messages (one STOMP frame each), and arrives.
    func testOverWebSocketEachFrameIsItsOwnMessage() throws {
        for broker in try WebSocketTests.brokers() {
            let box = EventBox()
            var options = broker.options
            options.trace = true
            let client = try connect(options, box)
            let q = "/queue/" + uniqueName("client-batch-ws")
            _ = try client.subscribe(destination: q, id: "s1", receipt: true).wait()
            let countMessages = {
                box.all.filter { e in
                    if case .transportTrace(.outbound, let n, _) = e { return n.hasPrefix("ws ") && n.contains(" message,") }
                    return false
                }.count
            }
            let before = countMessages()
            let bodies = (0..<12).map { "ws-\($0)" }
            try client.send(batch: requests(q, bodies)).wait()
            XCTAssertEqual(countMessages() - before, 12, "\(broker)")
            let got = box.messages(12, timeout: 10, subscription: "s1")
            XCTAssertEqual(got.map { $0.bodyString ?? "" }, bodies, "\(broker)")
            try client.disconnect().wait()
        }
    }
}
