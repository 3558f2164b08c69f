import Foundation
import NIOCore
import StompConnection
import StompProto
import XCTest

/// An ERROR frame after CONNECTED does not end the connection: the socket's end does. Real brokers keep
/// the connection open after many ERRORs (see shared notes/brokers.md).
final class BrokerErrorTests: XCTestCase {
    private func isError(_ e: ClientEvent) -> Bool {
        if case .frame(let f) = e { return f.command == .error }
        return false
    }

    /// RabbitMQ: SEND to an unknown destination gets "Unknown destination" and the connection stays open: the
    /// next SEND gets its RECEIPT, the subscription made before still delivers.
    func testRabbitMQUnknownDestinationErrorKeepsTheConnection() throws {
        let broker = try TestEnv.rabbitMQ()
        let box = EventBox()
        let client = try connect(broker.options, box)
        let q = "/queue/" + uniqueName("conn-err")
        let sub = try client.subscribe(destination: q, receipt: true).wait()
        try client.send(destination: "/nowhere/" + uniqueName("conn"), body: "x").wait()
        guard case .frame(let error)? = box.wait(5, isError) else { return XCTFail("no ERROR") }
        XCTAssertEqual(error.headers["message"], "Unknown destination")
        try client.send(destination: q, body: "after", receipt: true).wait()
        XCTAssertEqual(box.message(5, subscription: sub.id)?.bodyString, "after")
        XCTAssertEqual(client.state, .connected)
        XCTAssertEqual(box.count { if case .connectionLost = $0 { return true }; return false }, 0)
        XCTAssertEqual(box.count(isError), 1, "one ERROR, reported once")
        try client.disconnect().wait()
        XCTAssertNil(try XCTUnwrap(box.closed(1)), "ended by our DISCONNECT")
    }

    /// ActiveMQ (and the sandbox, which follows it) stays open after an unknown ack id, BEGIN twice and a SEND
    /// without destination; an ERROR that answers a receipt fails that request (`.rejected`) at once instead of
    /// letting it time out.
    func testActiveMQErrorsKeepTheConnection() throws {
        for broker in try TestEnv.brokers([.activeMQ, .sandbox]) { try errorsKeepTheConnection(broker) }
    }

    private func errorsKeepTheConnection(_ broker: TestBroker) throws {
        let box = EventBox()
        let client = try connect(broker.options, box)
        let tx = uniqueName("conn-tx")
        let raw: [String] = [
            "ACK\nid:no-such-ack-\(tx)\n\n",
            "BEGIN\ntransaction:\(tx)\n\n",
            "BEGIN\ntransaction:\(tx)\n\n",
            "SEND\n\nno destination",
        ]
        for (i, frame) in raw.enumerated() {
            try client.sendRaw(Array(frame.utf8) + [0]).wait()
            if i == 1 { continue }   // the first BEGIN is fine
            XCTAssertNotNil(box.wait(5, isError), "ERROR for \(frame.debugDescription)")
            XCTAssertEqual(client.state, .connected, "after \(frame.debugDescription)")
        }
        let q = "/queue/" + uniqueName("conn-err")
        try client.send(destination: q, body: "still here", receipt: true).wait()
        XCTAssertEqual(client.state, .connected)
        XCTAssertEqual(box.count { if case .connectionLost = $0 { return true }; return false }, 0)
        try client.disconnect().wait()
    }

    /// A receipted request the broker answers with ERROR (its receipt-id: ActiveMQ, a bad selector) fails at
    /// once with `.rejected`, which does not end the connection (a script's status 1, not 3).
    func testErrorAnsweringAReceiptRejectsThatRequest() throws {
        let broker = try TestEnv.activeMQ()
        let box = EventBox()
        let client = try connect(broker.options, box)
        let q = "/queue/" + uniqueName("conn-rej")
        let start = Date()
        let e = expectConnectionError {
            _ = try client.subscribe(destination: q, headers: ["selector": "=== bad"], receipt: true).wait()
        }
        guard case .rejected(let err)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(err.message, "=== bad")
        XCTAssertLessThan(elapsed(since: start), 3, "not the 5 s receipt timeout")
        XCTAssertFalse(e!.endsConnection)
        XCTAssertEqual(e!.fault, .peer)
        XCTAssertFalse(e!.description.contains("\n"))
        XCTAssertNotNil(box.wait(1, isError), "the ERROR frame is still reported, once")
        try client.send(destination: q, body: "m", receipt: true).wait()
        XCTAssertEqual(client.state, .connected)
        try client.disconnect().wait()
    }
}
