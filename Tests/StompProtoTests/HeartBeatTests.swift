import XCTest
@testable import StompProto

/// HeartBeat and NegotiatedHeartBeat (spec "Heart-beating").
final class HeartBeatTests: XCTestCase {
    func testHeaderParsing() {
        XCTAssertEqual(HeartBeat(header: "1000,0"), HeartBeat(1000, 0))
        XCTAssertEqual(HeartBeat(header: "0, 500"), HeartBeat(0, 500))
        for bad in ["", "1", "1,2,3", "a,b", "-1,0", "1;2"] { XCTAssertNil(HeartBeat(header: bad), bad) }
        XCTAssertEqual(HeartBeat(10, 20).headerValue, "10,20")
        XCTAssertEqual(HeartBeat.none, HeartBeat(0, 0))
    }

    func testZeroDisablesADirection() {
        let n = NegotiatedHeartBeat.negotiate(client: HeartBeat(0, 1000), server: HeartBeat(2000, 0))
        XCTAssertNil(n.sendInterval)            // client cannot send
        XCTAssertEqual(n.receiveInterval, 2000)  // max(server offers 2000, client wants 1000)
        XCTAssertEqual(NegotiatedHeartBeat.negotiate(client: .none, server: HeartBeat(5, 5)), .none)
        XCTAssertEqual(NegotiatedHeartBeat.negotiate(client: HeartBeat(5, 5), server: .none), .none)
    }

    func testEachDirectionIsTheMaxOfOfferAndWant() {
        let n = NegotiatedHeartBeat.negotiate(client: HeartBeat(100, 3000), server: HeartBeat(500, 200))
        XCTAssertEqual(n.sendInterval, 200)       // max(client offers 100, server wants 200)
        XCTAssertEqual(n.receiveInterval, 3000)   // max(server offers 500, client wants 3000)
    }

    func testServerSideIsTheSameRuleWithArgumentsSwapped() {
        let c = HeartBeat(100, 3000), s = HeartBeat(500, 200)
        let server = NegotiatedHeartBeat.negotiate(client: s, server: c)
        let client = NegotiatedHeartBeat.negotiate(client: c, server: s)
        XCTAssertEqual(server.sendInterval, client.receiveInterval)
        XCTAssertEqual(server.receiveInterval, client.sendInterval)
    }
}
