import Foundation
import NIOCore
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// CONNECT's `host` header: "/" by default (RabbitMQ's default vhost), and once the other form (the URL's host
/// name, the specification's recommendation) when a broker refuses it as an unknown host; both ways.
final class HostHeaderFallbackTests: XCTestCase {
    private func options(_ peer: FaultyPeer, host: String = "127.0.0.1") -> ConnectionOptions {
        peer.clientOptions(host: host)
    }

    /// A broker that reads `host` literally refuses host:/ ("host is unknown"): the client tries the URL's host
    /// name once more and connects.
    func testLiteralHostBrokerGetsTheHostNameAfterRefusingSlash() throws {
        let peer = try FaultyPeer(.literalHost("127.0.0.1"), group: testGroup)
        let client = try connect(options(peer), EventBox())
        XCTAssertEqual(client.state, .connected)
        XCTAssertEqual(peer.receivedFrames.filter { $0.command == .connect }.map { $0.headers["host"] }, ["/", "127.0.0.1"])
        try client.send(destination: "/queue/conn-host", body: "x", receipt: true).wait()
        // A reconnect goes straight to the form that worked.
        try client.dropConnection().wait()
        try client.close().wait()
    }

    /// Neither form accepted: one error naming both tries and --vhost; no third try.
    func testNeitherFormGivesOneErrorNamingVhost() throws {
        let peer = try FaultyPeer(.literalHost("broker.example"), group: testGroup)
        let e = expectConnectionError { _ = try connect(options(peer), EventBox()) }
        guard case .hostRefused(_, let tried)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(tried, ["/", "127.0.0.1"])
        let text = e!.description
        XCTAssertTrue(text.contains("--vhost"), text)
        XCTAssertTrue(text.contains(FaultyPeer.unknownHostMessage), text)
        XCTAssertFalse(text.contains("\n"))
        XCTAssertEqual(peer.receivedFrames.filter { $0.command == .connect }.count, 2)
    }

    /// A virtual host the user named is never replaced.
    func testANamedVhostIsNotSecondGuessed() throws {
        let peer = try FaultyPeer(.literalHost("127.0.0.1"), group: testGroup)
        var o = options(peer)
        o.vhost = "mine"
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        XCTAssertNotNil(e)
        XCTAssertEqual(peer.receivedFrames.filter { $0.command == .connect }.map { $0.headers["host"] }, ["mine"])
    }

    /// The fallback's two directions: "/" → host name, and host name → "/".
    func testAlternateHostHeaderBothWays() throws {
        let o = try ConnectionOptions(url: "stomp://broker.example:61613")
        let url = o.urls[0]
        XCTAssertEqual(o.hostHeader(for: url), "/")
        XCTAssertEqual(o.alternateHostHeader(for: url, after: "/"), "broker.example")
        XCTAssertEqual(o.alternateHostHeader(for: url, after: "broker.example"), "/")
        var named = o
        named.vhost = "v"
        XCTAssertNil(named.alternateHostHeader(for: url, after: "v"))
    }

    /// RabbitMQ (host = vhost) still works out of the box, with host:/ at the first try.
    func testRabbitMQWorksOutOfTheBox() throws {
        let broker = try TestEnv.rabbitMQ()
        var o = broker.options
        o.trace = true
        let bytes = NIOLockedBytes()
        let client = try StompClient.connect(o, on: testGroup) { e in
            if case .trace(.outbound, let b, _) = e { bytes.append(b) }
        }.wait()
        let sent = String(decoding: bytes.value, as: UTF8.self)
        XCTAssertEqual(sent.components(separatedBy: "CONNECT\n").count - 1, 1, sent)
        XCTAssertTrue(sent.contains("host:/\n"), sent)
        try client.disconnect().wait()
    }
}

/// `ConnectionOptions.quirks.hostIsVirtualHost` (from a probe profile, `stompsh --profile`) decides the `host`
/// header before any CONNECTED could tell.
final class HostHeaderQuirksTests: XCTestCase {
    private func options(_ peer: FaultyPeer, hostIsVirtualHost: Bool) -> ConnectionOptions {
        var o = peer.clientOptions()
        o.quirks = BrokerQuirks(hostIsVirtualHost: hostIsVirtualHost)
        return o
    }

    /// A broker known to read `host` literally gets the host name at once: no refused "/" first.
    func testLiteralHostQuirkSendsTheHostNameFirst() throws {
        let peer = try FaultyPeer(.literalHost("127.0.0.1"), group: testGroup)
        let client = try connect(options(peer, hostIsVirtualHost: false), EventBox())
        XCTAssertEqual(client.state, .connected)
        XCTAssertEqual(peer.receivedFrames.filter { $0.command == .connect }.map { $0.headers["host"] }, ["127.0.0.1"])
        try client.close().wait()
    }

    /// A broker known to read `host` as a virtual host: "/" only; its refusal is final (no host-name retry).
    func testVirtualHostQuirkTakesTheRefusalAsFinal() throws {
        let peer = try FaultyPeer(.literalHost("127.0.0.1"), group: testGroup)
        let e = expectConnectionError { _ = try connect(options(peer, hostIsVirtualHost: true), EventBox()) }
        XCTAssertNotNil(e)
        XCTAssertEqual(peer.receivedFrames.filter { $0.command == .connect }.map { $0.headers["host"] }, ["/"])
    }
}
