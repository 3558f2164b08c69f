import Foundation
import NIOCore
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// The client's outbound path without futures or fresh buffers per write: `writeFrames` (no promise), the
/// reused outbound buffer, and a receipted request written without a write promise.
final class WriteFramesTests: XCTestCase {
    /// Frames written faster than the socket drains: the outbound buffer is reused only once NIO has written it,
    /// so every frame arrives whole and in order, none overwritten by a later one while it waited.
    func testWritesUnderBackPressureArriveIntact() throws {
        // a peer that reads nothing during the burst: one reading all along drained 10 MB as fast as it came (CI)
        let peer = try FaultyPeer(.holdReads, group: testGroup)
        let client = try connect(peer.clientOptions(), EventBox())
        let count = 160
        let size = 64 * 1024   // 10 MB in one event-loop task: more than the socket buffers of a peer not reading hold
        let frames = (0..<count).map { i in
            StompFrame(.send, headers: ["destination": "/queue/w", "n": "\(i)"],
                       body: [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: size))
        }
        let pending = try client.eventLoop.submit { () -> Bool in
            var pendingSeen = false
            for (i, f) in frames.enumerated() {
                // in turn the future-less write, the future-returning one (both share the client's buffer) and
                // bytes encoded by the caller (the encoder handler's own reused buffer)
                switch i % 3 {
                case 0: try client.writeFrames([f])
                case 1: _ = client.sendFrames([f])
                default: _ = client.sendEncoded(try FrameEncoder(version: .v1_2).encode(f), frames: [f])
                }
                if !client.isWritable { pendingSeen = true }
            }
            return pendingSeen
        }.wait()
        XCTAssertTrue(pending, "the socket never pushed back: the test did not exercise a pending write")
        peer.releaseReads()
        try client.sendFrames([StompFrame(.send, headers: ["destination": "/queue/w", "receipt": "end"])]).wait()
        let deadline = Date().addingTimeInterval(20)
        while peer.receivedFrames.filter({ $0.command == .send }).count < count + 1, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let sends = peer.receivedFrames.filter { $0.command == .send }.prefix(count)
        XCTAssertEqual(sends.count, count)
        for (i, f) in sends.enumerated() {
            XCTAssertEqual(f.headers["n"], "\(i)", "out of order")
            XCTAssertEqual(f.body.count, size)
            XCTAssertTrue(f.body.allSatisfy { $0 == UInt8(truncatingIfNeeded: i) }, "frame \(i) overwritten")
        }
        try client.disconnect().wait()
    }

    /// `writeFrames` refuses at once what it cannot write: an unencodable frame (nothing of the call written, the
    /// connection stays), and any frame once the connection is closed. The session sees what was written.
    func testWriteFramesThrowsWhatItCannotWrite() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)   // the receipts stay awaited: the session's view shows
        let client = try connect(peer.clientOptions(), EventBox())
        let good = StompFrame(.send, headers: ["destination": "/queue/w", "receipt": "w-1"], body: "ok")
        let bad = StompFrame(.send, headers: ["destination": "/queue/w", "content-length": "5"], body: "abc")
        let thrown = try client.eventLoop.submit { () -> StompConnectionError? in
            do {
                try client.writeFrames([good, bad])
                return nil
            } catch {
                return error as? StompConnectionError
            }
        }.wait()
        guard case .encoding? = thrown else { return XCTFail("got \(String(describing: thrown))") }
        XCTAssertEqual(try client.query { $0.awaitedReceipts }.wait(), [], "nothing written, nothing awaited")
        try client.eventLoop.submit { try client.writeFrames([good]) }.wait()
        XCTAssertEqual(try client.query { $0.awaitedReceipts }.wait(), ["w-1"], "the session saw the written frame")
        try client.sendFrames([StompFrame(.send, headers: ["destination": "/queue/w", "receipt": "w-2"])]).wait()
        // one frame without an array: the same write
        try client.eventLoop.submit {
            try client.writeFrame(StompFrame(.send, headers: ["destination": "/queue/w", "receipt": "w-3"]))
        }.wait()
        XCTAssertEqual(try client.query { $0.awaitedReceipts }.wait(), ["w-1", "w-2", "w-3"])
        let badOne = try client.eventLoop.submit { () -> StompConnectionError? in
            do { try client.writeFrame(bad); return nil } catch { return error as? StompConnectionError }
        }.wait()
        guard case .encoding? = badOne else { return XCTFail("got \(String(describing: badOne))") }
        let deadline = Date().addingTimeInterval(5)
        while peer.receivedFrames.filter({ $0.command == .send }).count < 3, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertEqual(peer.receivedFrames.filter { $0.command == .send }.map { $0.headers["receipt"] },
                       ["w-1", "w-2", "w-3"])
        try client.close().wait()
        let afterClose = try client.eventLoop.submit { () -> StompConnectionError? in
            do {
                try client.writeFrames([good])
                return nil
            } catch {
                return error as? StompConnectionError
            }
        }.wait()
        guard case .notConnected? = afterClose else { return XCTFail("got \(String(describing: afterClose))") }
    }

    /// A receipted request is encoded before it is written: an unencodable one fails at once with the encoding
    /// error (not after the receipt timeout), its receipt is no longer awaited, and the connection stays.
    func testUnencodableReceiptedSendFailsAtOnce() throws {
        let peer = try FaultyPeer(.none, group: testGroup)
        var o = peer.clientOptions()
        o.receiptTimeout = .seconds(30)
        let client = try connect(o, EventBox())
        let start = Date()
        XCTAssertThrowsError(try client.send(destination: "/queue/w", headers: ["content-length": "5"], body: "abc",
                                             receipt: true).wait()) { e in
            guard case .encoding? = e as? StompConnectionError else { return XCTFail("got \(e)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(try client.query { $0.awaitedReceipts }.wait(), [])
        try client.send(destination: "/queue/w", body: "fine", receipt: true).wait()
        try client.disconnect().wait()
    }

    /// A receipted request waits on no write promise: when the link is lost with the RECEIPT outstanding, the
    /// request fails with the link's end (it never hangs until its timeout).
    func testReceiptedSendFailsWhenTheLinkIsLost() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)
        var o = peer.clientOptions()
        o.receiptTimeout = .seconds(30)
        o.reconnect = .none
        let client = try connect(o, EventBox())
        let sent = client.send(destination: "/queue/w", body: "lost", receipt: true)
        Thread.sleep(forTimeInterval: 0.1)
        let start = Date()
        try client.dropConnection().wait()
        XCTAssertThrowsError(try sent.wait()) { e in
            XCTAssertNotNil(e as? StompConnectionError, "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}
