import Foundation
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// Broker differences as one value derived from CONNECTED's `server` header, overridable.
final class BrokerQuirksTests: XCTestCase {
    func testDerivedFromTheServerHeader() {
        XCTAssertTrue(BrokerQuirks(server: "RabbitMQ/3.10.8").subscribesTempQueuesItself)
        XCTAssertFalse(BrokerQuirks(server: "ActiveMQ/5.17.2").subscribesTempQueuesItself)
        XCTAssertFalse(BrokerQuirks(server: nil).subscribesTempQueuesItself)
        XCTAssertFalse(BrokerQuirks(server: "NotRabbitMQ/1").subscribesTempQueuesItself)
        let q = BrokerQuirks(server: "RabbitMQ/3.10.8")
        XCTAssertTrue(q.announcesShutdown(ServerError(message: "connection_forced", headers: [:], body: [])))
        XCTAssertTrue(q.announcesShutdown(ServerError(message: "x", headers: [:], body: Array("Broker SHUTDOWN".utf8))))
        XCTAssertFalse(q.announcesShutdown(ServerError(message: "not_found", headers: [:], body: [])))
    }

    /// An override wins over the server header: a temp-queue SUBSCRIBE is then handled locally.
    func testOverrideWinsOverTheServerHeader() throws {
        let peer = try FaultyPeer(.none, group: testGroup)
        var o = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: peer.port)])
        o.reconnect = .none
        o.heartBeat = .none
        o.useEnvironmentCredentials = false
        o.quirks = BrokerQuirks(subscribesTempQueuesItself: true)
        let client = try connect(o, EventBox())
        let info = try client.subscribe(destination: "/temp-queue/conn-q", receipt: true).wait()
        XCTAssertEqual(info.id, "/temp-queue/conn-q")
        XCTAssertTrue(try client.subscribesImplicitly("/temp-queue/conn-q").wait())
        _ = try client.subscribe(destination: "/queue/conn-q", receipt: true).wait()
        try client.close().wait()
        XCTAssertEqual(peer.receivedFrames.filter { $0.command == .subscribe }.map { $0.headers["destination"] }, ["/queue/conn-q"])
    }
}
