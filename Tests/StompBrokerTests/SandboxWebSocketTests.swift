import Foundation
import StompBroker
import StompProto
import XCTest

/// The sandbox's WebSocket endpoint at the byte level: what it answers to HTTP that is not an upgrade to its path,
/// the subprotocol it picks, and STOMP in (masked) WebSocket messages.
final class SandboxWebSocketTests: XCTestCase {
    private var broker: SandboxBroker!
    private var ws: SandboxWebSocketListener!

    override func setUpWithError() throws {
        broker = try SandboxBroker.startDetached()
        ws = try broker.listenWebSocket(port: 0).wait()
    }

    override func tearDownWithError() throws {
        try broker.stop().wait()
    }

    func testOtherPathsAnswer404AndAPlainRequest426() throws {
        let a = try RawSocket(port: ws.port)
        a.write("GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
        let notFound = a.readToEnd()
        XCTAssertTrue(notFound.hasPrefix("HTTP/1.1 404 Not Found"), notFound)
        XCTAssertTrue(notFound.contains("/ws"), "the answer names the endpoint: \(notFound)")
        let b = try RawSocket(port: ws.port)
        b.write("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(b.readToEnd().hasPrefix("HTTP/1.1 426 Upgrade Required"))
    }

    func testUpgradePicksTheClientsFirstSTOMPSubprotocolAndSpeaksSTOMP() throws {
        let s = try RawSocket(port: ws.port)
        s.write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt, v11.stomp, v12.stomp\r\n\r\n")
        let head = String(decoding: s.read { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, as: UTF8.self)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 101"), head)
        XCTAssertTrue(head.lowercased().contains("sec-websocket-protocol: v11.stomp"), head)
        XCTAssertTrue(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "RFC 6455's example accept key: \(head)")
        s.clear()
        // A masked text message with CONNECT; the answer is one unmasked text message with CONNECTED.
        let connect = Array("CONNECT\naccept-version:1.1\nhost:/\n\n\0".utf8)
        let mask: [UInt8] = [1, 2, 3, 4]
        s.write([0x81, 0x80 | UInt8(connect.count)] + mask + connect.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        let reply = s.read { $0.count >= 2 && $0.count >= 2 + Int($0[1] & 0x7F) }
        XCTAssertEqual(reply.first, 0x81, "FIN + text")
        XCTAssertEqual(reply[1] & 0x80, 0, "a server does not mask")
        let body = String(decoding: reply.dropFirst(2), as: UTF8.self)
        XCTAssertTrue(body.hasPrefix("CONNECTED\n") && body.contains("version:1.1"), body)
    }
}
