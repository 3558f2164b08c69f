import Foundation
import StompProto
import XCTest
@testable import StompBroker

/// The sandbox broker over TCP: framing, limits, heart-beats, closing.
final class SandboxBrokerTests: XCTestCase {
    var broker: SandboxBroker!

    override func setUpWithError() throws {
        var limits = StompLimits.default
        limits.maxBodySize = 1024
        broker = try SandboxBroker.startDetached(configuration: BrokerConfiguration(serverName: "test-sandbox"), limits: limits)
    }

    override func tearDownWithError() throws {
        try broker.stop().wait()
    }

    func testConnectSendReceiveOverTCP() throws {
        let s = try RawSocket(port: broker.port)
        s.write("CONNECT\naccept-version:1.2\nhost:/\n\n\0")
        XCTAssertTrue(s.readFrames(1).hasPrefix("CONNECTED\nversion:1.2\nserver:test-sandbox\n"))
        s.clear()
        s.write("SUBSCRIBE\ndestination:/queue/tcp\nid:s\n\n\0SEND\ndestination:/queue/tcp\nx-k:a\\cb\n\nhi\0")
        let text = s.readFrames(1)
        XCTAssertTrue(text.hasPrefix("MESSAGE\ndestination:/queue/tcp\nmessage-id:"), text)
        XCTAssertTrue(text.contains("\nsubscription:s\ncontent-length:2\nx-k:a\\cb\n\nhi\0"), "escaped as 1.2 wants: \(text)")
        s.clear()
        s.write("DISCONNECT\nreceipt:bye\n\n\0")
        XCTAssertEqual(s.readToEnd(), "RECEIPT\nreceipt-id:bye\n\n\0")
        XCTAssertTrue(s.isClosed)
    }

    func testMalformedFrameGetsErrorAndClose() throws {
        let s = try RawSocket(port: broker.port)
        s.write("CONNECT\naccept-version:1.2\n\n\0")
        _ = s.readFrames(1)
        s.clear()
        s.write("BOGUS\n\n\0")
        let text = s.readToEnd()
        XCTAssertTrue(text.hasPrefix("ERROR\nmessage:malformed frame\n"), text)
        XCTAssertTrue(s.isClosed)
    }

    func testBodyOverTheLimitGetsErrorAndClose() throws {
        let s = try RawSocket(port: broker.port)
        s.write("CONNECT\naccept-version:1.2\n\n\0")
        _ = s.readFrames(1)
        s.clear()
        s.write("SEND\ndestination:/queue/big\ncontent-length:5000\n\n" + String(repeating: "x", count: 5000) + "\0")
        let text = s.readToEnd()
        XCTAssertTrue(text.hasPrefix("ERROR\nmessage:limit exceeded (maxBodySize)\n"), text)
    }

    func testHeartBeatsBothWays() throws {
        let s = try RawSocket(port: broker.port)
        s.write("CONNECT\naccept-version:1.2\nheart-beat:0,200\n\n\0")
        XCTAssertTrue(s.readFrames(1).contains("heart-beat:200,0\n"))
        s.clear()
        // the broker sends an EOL at least every 200 ms while nothing else goes out
        let got = s.read(timeout: 1.1) { _ in false }
        XCTAssertGreaterThanOrEqual(got.filter { $0 == 0x0A }.count, 4, "heart-beats in 1.1 s: \(got.count)")

        let silent = try RawSocket(port: broker.port)
        silent.write("CONNECT\naccept-version:1.2\nheart-beat:200,0\n\n\0")
        XCTAssertTrue(silent.readFrames(1).contains("heart-beat:0,200\n"))
        let start = Date()
        _ = silent.readToEnd(timeout: 5)
        XCTAssertTrue(silent.isClosed, "a client that promised heart-beats and went silent is dropped")
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
    }

    func testStopClosesConnections() throws {
        let s = try RawSocket(port: broker.port)
        s.write("CONNECT\naccept-version:1.2\n\n\0")
        _ = s.readFrames(1)
        try broker.stop().wait()
        _ = s.readToEnd()
        XCTAssertTrue(s.isClosed)
        XCTAssertThrowsError(try RawSocket(port: broker.port), "no longer listening")
        broker = try SandboxBroker.startDetached()
    }

    func testPreferredPortFallsBackWhenTaken() throws {
        let group = broker.eventLoop
        let second = try SandboxBroker.startPreferring(preferredPort: broker.port, on: group).wait()
        XCTAssertNotEqual(second.port, broker.port)
        XCTAssertGreaterThan(second.port, 0)
        try second.stop().wait()
    }
}
