import Foundation
import NIOCore
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// A broker that accepts the connection and stops reading (stuck, or flow control holding the producer) must
/// not hold a writer for ever when no heart-beat was agreed: once none of the bytes waiting to be written were
/// taken for `writeStallTimeout`, the connection ends with `.writeStalled` and every write waiting fails with it.
/// A slow broker that keeps taking bytes is not stalled.
final class WriteStallTests: XCTestCase {
    static let body = [UInt8](repeating: UInt8(ascii: "w"), count: 1 << 20)

    private func options(_ peer: FaultyPeer, stall: TimeAmount) -> ConnectionOptions {
        var o = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: peer.port)])
        o.reconnect = .none
        o.heartBeat = .none
        o.useEnvironmentCredentials = false
        o.writeStallTimeout = stall
        return o
    }

    /// Plain SENDs (no receipt) of 1 MiB each into a peer that never reads: the socket buffers fill, then the
    /// writes fail with the stall within its timeout (plus a check's slice and slack), not never.
    func testPlainSendsToAPeerThatStopsReadingFailWithTheStall() throws {
        let peer = try FaultyPeer(.stopReading, group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer, stall: .milliseconds(500)), box)
        var futures: [EventLoopFuture<Void>] = []
        let start = Date()
        for _ in 0..<48 { futures.append(client.send(destination: "/queue/stall", body: Self.body)) }
        var firstError: Error?
        var failed = 0
        for f in futures {
            do { try f.wait() } catch {
                if firstError == nil { firstError = error }
                failed += 1
            }
        }
        let took = elapsed(since: start)
        XCTAssertGreaterThan(failed, 0, "48 MiB cannot all fit in the socket buffers of a peer that never reads")
        XCTAssertLessThan(took, 0.5 + 0.1 + 3, "took \(took) s")
        guard let closed = box.closed(3) else { return XCTFail("no close reported") }
        guard case .writeStalled(let seconds, let pending)? = closed else {
            return XCTFail("closed with \(String(describing: closed)), not writeStalled")
        }
        XCTAssertEqual(seconds, 0.5)
        XCTAssertGreaterThan(pending, 0)
        XCTAssertNotNil(closed?.description.range(
            of: #"^broker stopped reading: none of [0-9]+ bytes waiting to be written taken for 0\.5 s \(broker stuck, or flow control holding this producer\); connection closed$"#,
            options: .regularExpression), closed?.description ?? "")
        XCTAssertTrue(closed?.endsConnection ?? false)
        // The writes waiting fail with the cause, not an anonymous closed-channel error.
        XCTAssertEqual((firstError as? StompConnectionError)?.description, closed?.description,
                       "first failure: \(String(describing: firstError))")
        // Every other kind of request waits no longer either: the connection is gone.
        XCTAssertThrowsError(try client.begin("tx-stall").wait())
    }

    /// An ACK, BEGIN or SUBSCRIBE stuck behind the full buffer fails with the same cause.
    func testEveryRequestStuckBehindTheFullBufferFailsWithTheStall() throws {
        let peer = try FaultyPeer(.stopReading, group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer, stall: .milliseconds(400)), box)
        for _ in 0..<48 { _ = client.send(destination: "/queue/stall", body: Self.body) }
        let waiting: [EventLoopFuture<Void>] = [
            client.begin("tx-1"),
            client.subscribe(destination: "/queue/stall-sub").map { _ in },
            client.unsubscribe(id: "nobody-yet").recover { _ in },   // refused locally or failed: never hangs
            client.sendRaw(Array("SEND\ndestination:/queue/stall\n\nraw\0".utf8)),
        ]
        for (i, f) in waiting.enumerated() where i != 2 {
            XCTAssertThrowsError(try f.wait(), "request \(i)") { e in
                guard case .writeStalled? = e as? StompConnectionError else {
                    return XCTFail("request \(i): \(e)")
                }
            }
        }
        _ = try waiting[2].wait()
        XCTAssertNotNil(box.closed(3))
    }

    /// Over WebSocket the same: the stall is judged below the WebSocket framing, on the socket's buffered bytes.
    func testOverWebSocketAServerThatStopsReadingFailsTheWritesWithTheStall() throws {
        let server = try ScriptedWebSocketServer.startRaw(subprotocol: "v12.stomp") { message, reply in
            guard String(decoding: message, as: UTF8.self).hasPrefix("CONNECT") else { return }
            reply(.bytes(.text), "", Array("CONNECTED\nversion:1.2\n\n\0".utf8))
            reply(.stopReading, "", [])
        }
        defer { server.stop() }
        var o = server.options
        o.writeStallTimeout = .milliseconds(500)
        let box = EventBox()
        let client = try connect(o, box)
        let futures = (0..<48).map { _ in client.send(destination: "/queue/stall", body: Self.body) }
        var failure: Error?
        for f in futures { do { try f.wait() } catch { failure = failure ?? error } }
        guard case .writeStalled? = failure as? StompConnectionError else { return XCTFail("\(String(describing: failure))") }
        guard case .writeStalled?? = box.closed(3) else { return XCTFail("not closed with the stall") }
    }

    /// Slow is not stalled even when the kernel's buffers hide it: a peer taking 4 KiB every 20 ms (200 KB/s)
    /// frees the channel's buffer only once a third of our socket's send buffer drained (seconds), but its TCP
    /// acknowledges all the time; with the timeout at 1 s the connection stays up for 4 s of it.
    func testAPeerReadingSlowerThanTheSendBufferDrainsIsNotStalled() throws {
        let peer = try FaultyPeer(.readSlowly(every: .milliseconds(20), bytes: 4096), group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer, stall: .seconds(1)), box)
        for _ in 0..<16 { _ = client.send(destination: "/queue/slow", body: Self.body) }
        if let closed = box.closed(4) { XCTFail("closed while the peer was reading: \(String(describing: closed))") }
        XCTAssertEqual(client.state, .connected)
        _ = try? client.close().wait()
    }

    /// Slow is not stalled: a peer reading one socket read every 20 ms takes 6 MiB after the buffers filled
    /// with the timeout at 0.5 s, and every write succeeds.
    func testAPeerThatReadsSlowlyIsNotStalled() throws {
        let peer = try FaultyPeer(.readSlowly(every: .milliseconds(20)), group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer, stall: .milliseconds(500)), box)
        let futures = (0..<16).map { _ in client.send(destination: "/queue/slow", body: Self.body) }
        for f in futures { try f.wait() }
        XCTAssertEqual(client.state, .connected)
        _ = try? client.close().wait()
    }
}
