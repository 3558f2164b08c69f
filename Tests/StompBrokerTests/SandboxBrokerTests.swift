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
        XCTAssertTrue(text.contains("\nsubscription:s\ncontent-length:2\nexpires:0\npriority:4\ntimestamp:"), text)
        XCTAssertTrue(text.contains("\nx-k:a\\cb\n\nhi\0"), "escaped as 1.2 wants: \(text)")
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
        XCTAssertLessThanOrEqual(got.filter { $0 == 0x0A }.count, 7, "at the interval, as ActiveMQ, not at half of it: \(got.count)")

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

/// The server side of flow control and the timers: over TCP, with the socket options real clients get.
final class SandboxBrokerFlowTests: XCTestCase {
    func testAClientThatReadsLittleAndClosesLeavesMostMessagesQueued() throws {
        // issue 14 item 3: 50,000 queued, ack:auto from a raw socket, read 64 KB, close (ActiveMQ keeps ~48,555)
        let broker = try SandboxBroker.startDetached()
        defer { try? broker.stop().wait() }
        let producer = try RawSocket(port: broker.port)
        producer.write("CONNECT\naccept-version:1.2\n\n\0")
        _ = producer.readFrames(1)
        let body = String(repeating: "x", count: 100)
        var batch = ""
        for i in 0..<50_000 {
            batch += "SEND\ndestination:/queue/drain\n\n\(body)\0"
            if i % 1000 == 999 { producer.write(batch); batch = "" }
        }
        producer.write("SEND\ndestination:/queue/drain\nreceipt:all\n\nlast\0")
        XCTAssertTrue(producer.readFrames(2, timeout: 60).contains("receipt-id:all"))

        let reader = try RawSocket(port: broker.port)
        reader.write("CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\ndestination:/queue/drain\nid:s\nack:auto\n\n\0")
        reader.read(timeout: 10) { $0.count >= 64 * 1024 }
        Thread.sleep(forTimeInterval: 0.5)   // let the broker push what the socket takes
        reader.close()

        let second = try RawSocket(port: broker.port)
        second.write("CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\ndestination:/queue/drain\nid:t\n\n\0")
        let end = Array("\n\nlast\0".utf8)
        let got = second.read(timeout: 120) { $0.count >= end.count && Array($0[($0.count - end.count)...]) == end }
        let messages = got.split(separator: 0).filter { String(decoding: $0.prefix(9), as: UTF8.self).contains("MESSAGE") }.count
        XCTAssertGreaterThan(messages, 45_000, "most of the 50,001 stayed queued for the next subscriber")
    }

    func testSendsPastTheMemoryLimitGetAnErrorAndTheConnectionStays() throws {
        let broker = try SandboxBroker.startDetached(configuration: BrokerConfiguration(maxMemory: 1 << 20))
        defer { try? broker.stop().wait() }
        let s = try RawSocket(port: broker.port)
        s.write("CONNECT\naccept-version:1.2\n\n\0")
        _ = s.readFrames(1)
        s.clear()
        let body = String(repeating: "y", count: 10_000)
        for i in 0..<200 { s.write("SEND\ndestination:/queue/cap\nreceipt:r\(i)\n\n\(body)\0") }
        let text = s.readFrames(200, timeout: 20)
        XCTAssertTrue(text.contains("ERROR\nmessage:memory limit reached\nreceipt-id:r"), String(text.prefix(500)))
        XCTAssertFalse(s.isClosed)
        XCTAssertLessThan(text.components(separatedBy: "RECEIPT\n").count - 1, 200)
    }

    func testASocketThatNeverConnectsIsClosedAfterTheConnectTimeout() throws {
        let broker = try SandboxBroker.startDetached(configuration: BrokerConfiguration(connectTimeout: 500))
        defer { try? broker.stop().wait() }
        let idle = try RawSocket(port: broker.port)
        let start = Date()
        _ = idle.readToEnd(timeout: 5)
        XCTAssertTrue(idle.isClosed)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.4)
        let connected = try RawSocket(port: broker.port)
        connected.write("CONNECT\naccept-version:1.2\n\n\0")
        _ = connected.readFrames(1)
        _ = connected.read(timeout: 1.5) { _ in false }
        XCTAssertFalse(connected.isClosed, "a connection that sent CONNECT in time stays")
    }

    func testABusyPortIsNamed() throws {
        let broker = try SandboxBroker.startDetached()
        defer { try? broker.stop().wait() }
        XCTAssertThrowsError(try SandboxBroker.startDetached(port: broker.port)) { error in
            XCTAssertEqual("\(error)", "port \(broker.port) is in use")
            XCTAssertTrue((error as? SandboxListenError)?.isPortInUse ?? false)
            XCTAssertEqual(error as? SandboxListenError, .portInUse(host: "127.0.0.1", port: broker.port))
        }
        XCTAssertThrowsError(try broker.listenWebSocket(port: broker.port).wait(), "the WebSocket listener says so too") { error in
            XCTAssertEqual("\(error)", "port \(broker.port) is in use")
            XCTAssertNotEqual(error as? SandboxListenError, .addressNotAvailable(host: "127.0.0.1", port: broker.port))
        }
    }
}
