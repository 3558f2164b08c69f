import NIOCore
import StompProto
import XCTest
@testable import StompConnection

/// `ConnectionLifecycle` without sockets: failover order, backoff, when a loss is reconnected and when the
/// connection is lost for good, the user's intents.
final class ConnectionLifecycleStateTests: XCTestCase {
    private let rabbit = BrokerQuirks(server: "RabbitMQ/3.10.8")
    private let closed = StompConnectionError.closedByPeer(midFrame: false)

    func testFirstConnectTriesEachURLOnceInOrder() {
        var l = ConnectionLifecycle(urlCount: 3, policy: .default)
        XCTAssertEqual(l.start(), .open(index: 0))
        XCTAssertEqual(l.attemptFailed(.refused(host: "a", port: 1)), .open(index: 1))
        XCTAssertEqual(l.attemptFailed(.refused(host: "b", port: 1)), .open(index: 2))
        XCTAssertEqual(l.attemptFailed(.refused(host: "c", port: 1)), .giveUp(.refused(host: "c", port: 1)), "the last one's error")
        XCTAssertEqual(l.clientState, .closed)
    }

    func testARefusedLoginOrVirtualHostIsNotRetriedElsewhere() {
        var l = ConnectionLifecycle(urlCount: 2, policy: .default)
        _ = l.start()
        let refused = StompConnectionError.authenticationFailed(message: "Access refused", login: "guest")
        XCTAssertEqual(l.attemptFailed(refused), .giveUp(refused))
        var h = ConnectionLifecycle(urlCount: 2, policy: .default)
        _ = h.start()
        let host = StompConnectionError.hostRefused(message: "unknown", tried: ["/", "h"])
        XCTAssertEqual(h.attemptFailed(host), .giveUp(host))
    }

    func testALossReconnectsWithBackoffRoundRobinFromTheLastURL() {
        var l = ConnectionLifecycle(urlCount: 2, policy: ReconnectPolicy(maxAttempts: 3, initialDelay: .milliseconds(100),
                                                                         maxDelay: .milliseconds(250), multiplier: 2))
        _ = l.start()
        _ = l.attemptFailed(closed)
        XCTAssertEqual(l.attemptSucceeded(), .connected(index: 1, reconnected: false))
        XCTAssertEqual(l.linkClosed(closed, quirks: rabbit),
                       [.reportLost(closed), .reconnect(attempt: 1, index: 1, delay: .milliseconds(100))])
        XCTAssertEqual(l.clientState, .reconnecting)
        XCTAssertEqual(l.attemptFailed(.refused(host: "b", port: 1)), .reconnect(attempt: 2, index: 0, delay: .milliseconds(200)))
        XCTAssertEqual(l.attemptFailed(.refused(host: "a", port: 1)), .reconnect(attempt: 3, index: 1, delay: .milliseconds(250)))
        XCTAssertEqual(l.attemptFailed(.refused(host: "b", port: 1)), .giveUp(.refused(host: "b", port: 1)), "lost for good")
    }

    func testAReconnectThatSucceedsRestores() {
        var l = ConnectionLifecycle(urlCount: 1, policy: .default)
        _ = l.start()
        _ = l.attemptSucceeded()
        _ = l.linkClosed(.peerSilent(silentForSeconds: 25, expectedEveryMilliseconds: 10_000), quirks: rabbit)
        XCTAssertEqual(l.attemptSucceeded(), .connected(index: 0, reconnected: true))
        XCTAssertEqual(l.clientState, .connected)
    }

    /// What an ERROR means: a close just after one is not reconnected (the broker would refuse again), unless
    /// its words announce a shutdown.
    func testAnErrorTheBrokerClosedOnIsLostForGoodUnlessAShutdown() {
        let notFound = StompConnectionError.brokerError(ServerError(message: "not_found", headers: [:], body: []))
        var l = ConnectionLifecycle(urlCount: 1, policy: .default)
        _ = l.start()
        _ = l.attemptSucceeded()
        XCTAssertEqual(l.linkClosed(notFound, quirks: rabbit), [.giveUp(notFound)])
        let forced = StompConnectionError.brokerError(ServerError(message: "connection_forced", headers: [:], body: []))
        var s = ConnectionLifecycle(urlCount: 1, policy: .default)
        _ = s.start()
        _ = s.attemptSucceeded()
        XCTAssertEqual(s.linkClosed(forced, quirks: rabbit).first, .reportLost(forced))
    }

    func testNoReconnectPolicyGivesUpAtOnce() {
        var l = ConnectionLifecycle(urlCount: 1, policy: .none)
        _ = l.start()
        _ = l.attemptSucceeded()
        XCTAssertEqual(l.linkClosed(closed, quirks: BrokerQuirks()), [.giveUp(closed)])
    }

    func testTheUserLeaving() {
        var l = ConnectionLifecycle(urlCount: 1, policy: .default)
        _ = l.start()
        _ = l.attemptSucceeded()
        XCTAssertNil(l.userLeaves(), "connected: DISCONNECT, then the close ends it")
        XCTAssertEqual(l.clientState, .disconnecting)
        XCTAssertEqual(l.linkClosed(closed, quirks: BrokerQuirks()), [.giveUp(nil)], "a clean end, never reconnected")
        // While reconnecting: at once, and a late attempt result changes nothing.
        var r = ConnectionLifecycle(urlCount: 1, policy: .default)
        _ = r.start()
        _ = r.attemptSucceeded()
        _ = r.linkClosed(closed, quirks: BrokerQuirks())
        XCTAssertEqual(r.userLeaves(), .giveUp(nil))
        XCTAssertEqual(r.attemptSucceeded(), .giveUp(nil))
        XCTAssertEqual(r.clientState, .closed)
        // While the first connect runs: its failure does not fail over.
        var c = ConnectionLifecycle(urlCount: 2, policy: .default)
        _ = c.start()
        XCTAssertEqual(c.userLeaves(), .giveUp(nil))
        XCTAssertEqual(c.attemptFailed(closed), .giveUp(nil))
    }
}
