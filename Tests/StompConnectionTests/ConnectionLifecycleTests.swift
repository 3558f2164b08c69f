import Foundation
import NIOCore
import NIOPosix
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// The client's connection life cycle (CONNECT, DISCONNECT, receipts, reconnect, failover, trace, connect
/// failures) against a `FaultyPeer`; the faults themselves are tabled in FaultyPeerTests.
final class ConnectionLifecycleTests: XCTestCase {
    private func options(_ peer: FaultyPeer) -> ConnectionOptions {
        peer.clientOptions()
    }

    /// CONNECT offers every version and sends host:/ when no vhost is given.
    func testConnectFrame() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)
        let box = EventBox()
        var o = options(peer)
        o.login = "bob"
        o.passcode = "secret"
        let client = try connect(o, box)
        let connect = try XCTUnwrap(peer.receivedFrames.first)
        XCTAssertEqual(connect.command, .connect)
        XCTAssertEqual(connect.headers["accept-version"], "1.0,1.1,1.2")
        XCTAssertEqual(connect.headers["host"], "/")
        XCTAssertEqual(connect.headers["login"], "bob")
        XCTAssertEqual(connect.headers["passcode"], "secret")
        XCTAssertEqual(client.connectedInfo.version, .v1_2)
        _ = try? client.close().wait()
    }

    /// DISCONNECT that never gets its RECEIPT: closed within disconnectTimeout.
    func testDisconnectWithoutReceiptClosesWithinBound() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)
        let box = EventBox()
        var o = options(peer)
        o.disconnectTimeout = .milliseconds(500)
        let client = try connect(o, box)
        let start = Date()
        try client.disconnect().wait()
        let took = elapsed(since: start)
        XCTAssertGreaterThanOrEqual(took, 0.45)
        XCTAssertLessThan(took, 1.5)
        XCTAssertEqual(client.state, .closed)
        XCTAssertTrue(try client.snapshot().wait().disconnectTimedOut)
        let closed = try XCTUnwrap(box.closed(1))
        XCTAssertNil(closed, "a DISCONNECT is a clean end")
        // The peer saw the DISCONNECT with a receipt header.
        XCTAssertTrue(String(decoding: peer.receivedBytes, as: UTF8.self).contains("DISCONNECT\nreceipt:"))
    }

    func testRefusedLogin() throws {
        let peer = try FaultyPeer(.refuseLogin, group: testGroup)
        let box = EventBox()
        let e = expectConnectionError { _ = try connect(options(peer), box) }
        guard case .authenticationFailed? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(e!.description.contains("Access refused"), e!.description)
    }

    /// A RECEIPT that never comes: the future fails after receiptTimeout; the connection stays usable.
    func testReceiptTimeout() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)
        let box = EventBox()
        var o = options(peer)
        o.receiptTimeout = .milliseconds(300)
        let client = try connect(o, box)
        let start = Date()
        let e = expectConnectionError { try client.send(destination: "/queue/x", body: "x", receipt: true).wait() }
        XCTAssertGreaterThanOrEqual(elapsed(since: start), 0.25)
        guard case .timeout? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(e!.description, "timed out after 0.3 s waiting for RECEIPT r-1 for SEND to /queue/x")
        XCTAssertEqual(client.state, .connected)
        try client.send(destination: "/queue/x", body: "y").wait()
        _ = try? client.close().wait()
    }

    /// The broker is gone for good: the attempts run out and the end is reported with the last cause.
    func testReconnectGivesUp() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)
        let box = EventBox()
        var o = options(peer)
        o.reconnect = ReconnectPolicy(maxAttempts: 2, initialDelay: .milliseconds(20))
        let client = try connect(o, box)
        _ = try client.subscribe(destination: "/queue/a", id: "a").wait()
        peer.stop()   // nothing listens any more
        try client.dropConnection().wait()
        let closed = try XCTUnwrap(box.closed(5), "no end reported")
        guard case .refused? = closed else { return XCTFail("got \(String(describing: closed))") }
        let kinds = box.all.compactMap { e -> String? in
            switch e {
            case .connectionLost: return "lost"
            case .reconnecting(let n, _, _): return "attempt \(n)"
            case .reconnected: return "reconnected"
            case .closed: return "closed"
            default: return nil
            }
        }
        XCTAssertEqual(kinds, ["lost", "attempt 1", "attempt 2", "closed"])
        XCTAssertEqual(client.state, .closed)
    }

    /// failover: the connected broker goes away; the next URL in the list takes over, subscriptions restored.
    func testFailoverReconnectsToTheNextURL() throws {
        let a = try FaultyPeer(.noReceipt, group: testGroup)
        let b = try FaultyPeer(.noReceipt, group: testGroup)
        let box = EventBox()
        var o = try ConnectionOptions(url: "failover:(stomp://127.0.0.1:\(a.port),stomp://127.0.0.1:\(b.port))")
        o.reconnect = ReconnectPolicy(maxAttempts: 4, initialDelay: .milliseconds(20))
        o.useEnvironmentCredentials = false
        o.heartBeat = .none
        let client = try connect(o, box)
        XCTAssertEqual(client.url.port, a.port)
        _ = try client.subscribe(destination: "/queue/a", id: "keep").wait()
        a.stop()
        try client.dropConnection().wait()
        let ev = box.wait(5) { if case .reconnected = $0 { return true }; return false }
        guard case .reconnected(_, let subs, _)? = ev else { return XCTFail("no reconnect: \(box.all)") }
        XCTAssertEqual(subs.map { $0.id }, ["keep"])
        XCTAssertEqual(client.url.port, b.port)
        // b saw CONNECT then the SUBSCRIBE with the same id.
        var text = ""
        let until = Date().addingTimeInterval(2)
        repeat {
            text = String(decoding: b.receivedBytes, as: UTF8.self)
            if text.contains("SUBSCRIBE\n") { break }
            Thread.sleep(forTimeInterval: 0.01)
        } while Date() < until
        XCTAssertTrue(text.contains("SUBSCRIBE\n") && text.contains("id:keep\n"), text)
        _ = try? client.close().wait()
    }

    func testSendWhileClosedFailsNotConnected() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)
        let box = EventBox()
        let client = try connect(options(peer), box)
        try client.close().wait()
        let e = expectConnectionError { try client.send(destination: "/queue/x", body: "x").wait() }
        guard case .notConnected? = e else { return XCTFail("got \(String(describing: e))") }
    }

    /// Trace shows every frame and heart-beat in both directions.
    func testTrace() throws {
        let peer = try FaultyPeer(.none, group: testGroup)
        let box = EventBox()
        var o = options(peer)
        o.trace = true
        o.heartBeat = HeartBeat(100, 0)
        let client = try connect(o, box)
        let send = StompFrame(.send, headers: ["destination": "/queue/t"], body: "b")
        try client.sendFrames([send, send]).wait()
        try client.sendFrames([send]).wait()
        Thread.sleep(forTimeInterval: 0.35)
        _ = try? client.close().wait()
        let outs = box.all.compactMap { e -> [UInt8]? in
            if case .trace(.outbound, let b, _) = e { return b } else { return nil }
        }
        let ins = box.all.compactMap { e -> [UInt8]? in
            if case .trace(.inbound, let b, _) = e { return b } else { return nil }
        }
        XCTAssertTrue(String(decoding: outs.first ?? [], as: UTF8.self).hasPrefix("CONNECT\n"))
        XCTAssertGreaterThanOrEqual(outs.filter { $0 == [0x0A] }.count, 2, "heart-beats traced")
        let sends = outs.filter { String(decoding: $0, as: UTF8.self).hasPrefix("SEND\n") }
        XCTAssertEqual(sends.count, 3, "one trace event per frame, also of a batch")
        XCTAssertEqual(Set(sends).count, 1)
        XCTAssertEqual(sends.first?.last, 0)
        XCTAssertTrue(String(decoding: ins.first ?? [], as: UTF8.self).hasPrefix("CONNECTED\n"))
    }

    /// One write of several frames (a raw block, `sendFrames`) is traced frame by frame, so the shell prints each
    /// on its own line with its own timestamp; CONNECT counts among the frames sent.
    func testTraceCutsOneWriteIntoFramesAndCONNECTIsCounted() throws {
        let peer = try FaultyPeer(.none, group: testGroup)
        let box = EventBox()
        var o = options(peer)
        o.trace = true
        let client = try connect(o, box)
        XCTAssertEqual(try client.snapshot().wait().counters.framesSent, 1, "CONNECT")
        let two = "SEND\ndestination:/queue/a\ncontent-length:3\n\nA\0B\0\nSEND\ndestination:/queue/b\n\nB\0"
        try client.sendRaw(Array(two.utf8)).wait()
        try client.sendFrames([StompFrame(.send, headers: ["destination": "/queue/c"], body: "C"),
                               StompFrame(.send, headers: ["destination": "/queue/d"], body: "D")]).wait()
        _ = try? client.close().wait()
        let outs = box.all.compactMap { e -> String? in
            if case .trace(.outbound, let b, _) = e { return String(decoding: b, as: UTF8.self) } else { return nil }
        }
        XCTAssertEqual(outs.count, 5, "\(outs)")
        XCTAssertEqual(Array(outs.dropFirst()), ["SEND\ndestination:/queue/a\ncontent-length:3\n\nA\0B\0\n",
                                                  "SEND\ndestination:/queue/b\n\nB\0",
                                                  "SEND\ndestination:/queue/c\n\nC\0",
                                                  "SEND\ndestination:/queue/d\n\nD\0"])
    }

    // MARK: - Connect failures

    func testRefusedPort() throws {
        // Bind then close to get a port nobody listens on.
        let ch = try ServerBootstrap(group: testGroup).bind(host: "127.0.0.1", port: 0).wait()
        let port = ch.localAddress!.port!
        try ch.close().wait()
        var o = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: port)])
        o.reconnect = .none
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        guard case .refused? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(e!.description, "connection refused by 127.0.0.1:\(port): nothing listens on port \(port)")
    }

    func testUnresolvableHost() throws {
        var o = ConnectionOptions(urls: [StompURL(host: "no-such-host.invalid", port: 61613)])
        o.connectTimeout = .seconds(5)
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        guard case .unreachable? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(e!.description.contains("no-such-host.invalid"), e!.description)
        print("unresolvable: \(e!)")
        XCTAssertFalse(e!.description.contains("\n"))
    }

    func testUnreachableAddress() throws {
        // TEST-NET-1 (RFC 5737): never routed. Depending on the network: no route, a timeout, or (behind a
        // firewall that rejects) refused; each names the address.
        var o = ConnectionOptions(urls: [StompURL(host: "192.0.2.1", port: 61613)])
        o.connectTimeout = .seconds(1)
        let start = Date()
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        XCTAssertLessThan(elapsed(since: start), 3)
        switch e {
        case .unreachable?:
            XCTAssertTrue(e!.description.hasPrefix("cannot reach 192.0.2.1:61613: "), e!.description)
        case .refused?:
            XCTAssertTrue(e!.description.contains("192.0.2.1:61613"), e!.description)
        default:
            XCTFail("got \(String(describing: e))")
        }
    }

    /// A host that never completes the TCP handshake (a listener whose accept queue is full):
    /// unreachable after connectTimeout, not a hang.
    func testConnectTimeout() throws {
        let server = try ServerBootstrap(group: testGroup)
            .serverChannelOption(ChannelOptions.backlog, value: 0)
            .serverChannelOption(ChannelOptions.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let port = server.localAddress!.port!
        var fillers: [Channel] = []
        for _ in 0..<4 {
            if let c = try? ClientBootstrap(group: testGroup).connectTimeout(.milliseconds(200))
                .connect(host: "127.0.0.1", port: port).wait() { fillers.append(c) }
        }
        defer { for c in fillers { try? c.close().wait() } }
        var o = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: port)])
        o.connectTimeout = .milliseconds(700)
        let start = Date()
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        let took = elapsed(since: start)
        XCTAssertLessThan(took, 2.5)
        switch e {
        case .unreachable?:
            XCTAssertTrue(e!.description.contains("timed out"), e!.description)
        case .timeout?:
            // The kernel completed the handshake after all: then no CONNECTED within the bound.
            XCTAssertTrue(e!.description.contains("CONNECTED"), e!.description)
        default:
            XCTFail("got \(String(describing: e))")
        }
    }

    /// failover: the first URL refuses, the second answers.
    func testFailoverToSecondURL() throws {
        let peer = try FaultyPeer(.noReceipt, group: testGroup)
        let ch = try ServerBootstrap(group: testGroup).bind(host: "127.0.0.1", port: 0).wait()
        let dead = ch.localAddress!.port!
        try ch.close().wait()
        var o = try ConnectionOptions(url: "failover:(stomp://127.0.0.1:\(dead),stomp://127.0.0.1:\(peer.port))")
        o.reconnect = .none
        let client = try connect(o, EventBox())
        XCTAssertEqual(client.url.port, peer.port)
        _ = try? client.close().wait()
    }
}
