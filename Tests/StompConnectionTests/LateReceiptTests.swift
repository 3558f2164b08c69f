import Foundation
import NIOCore
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// A RECEIPT that comes after its request timed out (against FaultyPeer): the caller gets the timeout once,
/// the late RECEIPT is counted (`ClientCounters.lateReceipts`), neither forwarded as a frame nor completing
/// anything else, and later receipted requests work. The session is the one table behind it.
final class LateReceiptTests: XCTestCase {
    private func options(_ peer: FaultyPeer, receiptTimeout: TimeAmount) -> ConnectionOptions {
        var o = peer.clientOptions()
        o.receiptTimeout = receiptTimeout
        return o
    }

    private func receiptFrames(_ box: EventBox) -> Int {
        box.count { if case .frame(let f) = $0 { return f.command == .receipt }; return false }
    }

    /// Waits until `counters.lateReceipts` reaches `n` (or `timeout` passes); returns the last snapshot.
    private func waitForLateReceipts(_ client: StompClient, _ n: Int, timeout: Double = 5) throws -> ClientSnapshot {
        let until = Date().addingTimeInterval(timeout)
        var snap = try client.snapshot().wait()
        while snap.counters.lateReceipts < n && Date() < until {
            Thread.sleep(forTimeInterval: 0.02)
            snap = try client.snapshot().wait()
        }
        return snap
    }

    /// Every frame of the peer 300 ms late, receipts given up after 100 ms: each receipted request times out
    /// with its own id, each RECEIPT then arrives late and is only counted; nothing crashes, nothing is
    /// completed twice, nothing stays awaited.
    func testEveryReceiptLateAgainstADelayingPeer() throws {
        let peer = try FaultyPeer(.delayEveryFrame(.milliseconds(300)), group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer, receiptTimeout: .milliseconds(100)), box)
        for (i, dest) in ["/queue/receipts-late-a", "/queue/receipts-late-b"].enumerated() {
            let start = Date()
            let e = expectConnectionError { try client.send(destination: dest, body: "x", receipt: true).wait() }
            guard case .timeout? = e else { return XCTFail("got \(String(describing: e))") }
            XCTAssertEqual(e!.description, "timed out after 0.1 s waiting for RECEIPT r-\(i + 1) for SEND to \(dest)")
            XCTAssertLessThan(elapsed(since: start), 0.3 + 1.0, "timed out before the RECEIPT came")
            XCTAssertEqual(try client.snapshot().wait().awaitedReceipts, [], "given up: no longer awaited")
        }
        let snap = try waitForLateReceipts(client, 2)
        XCTAssertEqual(snap.counters.lateReceipts, 2)
        XCTAssertEqual(snap.counters.receiptsReceived, 2)
        XCTAssertEqual(snap.awaitedReceipts, [])
        XCTAssertEqual(receiptFrames(box), 0, "a late RECEIPT is not forwarded: its caller already got the timeout")
        XCTAssertEqual(client.state, .connected)
        // Without a receipt the connection works as before.
        try client.send(destination: "/queue/receipts-late-a", body: "y").wait()
        _ = try? client.close().wait()
    }

    /// The first RECEIPT comes 300 ms late (after the 100 ms timeout), the peer is prompt afterwards: the next
    /// receipted requests succeed while the late one is still on its way, and its arrival completes none of them.
    func testTheNextReceiptedSendWorksWhileALateOneIsOnItsWay() throws {
        let peer = try FaultyPeer(.delayReceipts(count: 1, by: .milliseconds(300)), group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer, receiptTimeout: .milliseconds(100)), box)
        let e = expectConnectionError { try client.send(destination: "/queue/receipts-late", body: "1", receipt: true).wait() }
        XCTAssertEqual(e?.description, "timed out after 0.1 s waiting for RECEIPT r-1 for SEND to /queue/receipts-late")
        try client.send(destination: "/queue/receipts-late", body: "2", receipt: true).wait()
        let snap = try waitForLateReceipts(client, 1)
        XCTAssertEqual(snap.counters.lateReceipts, 1)
        XCTAssertEqual(snap.counters.receiptsReceived, 2)
        _ = try client.subscribe(destination: "/queue/receipts-late", id: "s", receipt: true).wait()
        try client.send(destination: "/queue/receipts-late", body: "3", receipt: true).wait()
        XCTAssertEqual(box.message(2)?.bodyString, "3")
        let end = try client.snapshot().wait()
        XCTAssertEqual(end.awaitedReceipts, [])
        XCTAssertEqual(end.counters.lateReceipts, 1)
        XCTAssertEqual(receiptFrames(box), 0)
        try client.disconnect().wait()
        XCTAssertFalse(try client.snapshot().wait().disconnectTimedOut)
    }

    /// A RECEIPT nobody asked for (a raw frame's) is forwarded as a frame, as before.
    func testAnUnknownReceiptIsForwarded() throws {
        let peer = try FaultyPeer(.none, group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer, receiptTimeout: .seconds(3)), box)
        try client.sendFrames([StompFrame(.send, headers: ["destination": "/queue/receipts-raw", "receipt": "mine"])]).wait()
        let e = box.wait(3) { if case .frame(let f) = $0 { return f.command == .receipt }; return false }
        guard case .frame(let f)? = e else { return XCTFail("no RECEIPT forwarded: \(box.all)") }
        XCTAssertEqual(f.headers["receipt-id"], "mine")
        XCTAssertEqual(try client.snapshot().wait().counters.lateReceipts, 0)
        _ = try? client.close().wait()
    }
}
