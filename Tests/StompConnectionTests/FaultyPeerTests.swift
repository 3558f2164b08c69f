import Foundation
import NIOCore
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// Every fault of `FaultyPeer`, one table: StompClient reports each as its specific typed error, with a
/// clear one-line description, within the configured timeout — it never hangs.
final class FaultyPeerTests: XCTestCase {
    /// Where the fault shows.
    enum Outcome {
        /// `connect` fails.
        case connectFails
        /// The triggering SEND (with a receipt) fails; the connection stays up.
        case sendFails
        /// The connection ends (a `.closed` event carries the error).
        case connectionCloses
        /// Nothing fails: the client copes.
        case works
    }

    struct Row {
        var fault: FaultyPeer.Fault
        var outcome: Outcome
        /// The specific typed error.
        var kind: (StompConnectionError) -> Bool
        /// The whole description, as a regular expression; PORT stands for the peer's port.
        var text: String
        /// From the start of connect to the error (or to the end of the exchange for `.works`): the timeout
        /// that applies plus `slack`.
        var within: Double
        var tweak: (inout ConnectionOptions) -> Void = { _ in }
        /// `.works`: the body of a MESSAGE that must have arrived.
        var receives: String? = nil
    }

    /// Scheduling slack on a loaded machine; a hang would blow any bound.
    static let slack = 1.0

    static let messageStart = "MESSAGE\ndestination:/queue/fault\nsubscription:0\nmessage-id:fault-1\n\nhal"
    /// Bytes of the peer's CONNECTED frame (offsets in decoding errors count from the stream's start).
    static let connectedLength = "CONNECTED\nversion:1.2\nserver:FaultyPeer/1\nsession:faulty-1\nheart-beat:0,0\n\n\0".utf8.count

    static var rows: [Row] {
        [
            Row(fault: .closeMidFrame, outcome: .connectionCloses,
                kind: { if case .closedByPeer(midFrame: true) = $0 { return true }; return false },
                text: "broker closed the connection in the middle of a frame", within: slack),
            Row(fault: .stallMidFrame, outcome: .connectionCloses,
                kind: { if case .stalledMidFrame = $0 { return true }; return false },
                text: "broker stopped sending in the middle of a frame: nothing for 0.5 s after \(messageStart.utf8.count) bytes of it",
                within: 0.5 + slack, tweak: { $0.frameStallTimeout = .milliseconds(500) }),
            Row(fault: .garbage, outcome: .connectionCloses,
                kind: { if case .protocolViolation(.unknownCommand("HELLO THERE", offset: connectedLength)) = $0 { return true }; return false },
                text: "broker sent invalid STOMP: peer sent unknown command \"HELLO THERE\" at byte \(connectedLength)",
                within: slack),
            Row(fault: .oversizedHeader, outcome: .connectionCloses,
                kind: { if case .protocolViolation(let e) = $0, e.exceededLimit?.name == "maxHeaderLineLength" { return true }; return false },
                text: "broker sent invalid STOMP: peer exceeded maxHeaderLineLength: [0-9]+ > 65536 at byte [0-9]+", within: slack),
            Row(fault: .oversizedBody, outcome: .connectionCloses,
                kind: { if case .protocolViolation(let e) = $0, e.exceededLimit?.name == "maxBodySize" { return true }; return false },
                text: "broker sent invalid STOMP: peer exceeded maxBodySize: 67108865 > 67108864 at byte [0-9]+", within: slack),
            Row(fault: .noReceipt, outcome: .sendFails,
                kind: { if case .timeout = $0 { return true }; return false },
                text: "timed out after 0.3 s waiting for RECEIPT r-1 for SEND to /queue/fault",
                within: 0.3 + slack, tweak: { $0.receiptTimeout = .milliseconds(300) }),
            Row(fault: .stopHeartBeating(every: 200), outcome: .connectionCloses,
                kind: { if case .peerSilent(_, expectedEveryMilliseconds: 200) = $0 { return true }; return false },
                text: #"broker went silent: nothing received for [0-9.]+ s \(heart-beat expected every 200 ms\)"#,
                // the session's rule: 2 × 200 ms + max(100 ms slack, 200 ms / 2) = 500 ms of silence
                within: 0.5 + 0.2 + slack,
                tweak: { $0.heartBeat = HeartBeat(200, 200); $0.heartBeatMinimumSlack = .milliseconds(100) }),
            Row(fault: .errorThenClose, outcome: .connectionCloses,
                kind: { if case .brokerError = $0 { return true }; return false },
                text: #"broker closed the connection after its ERROR "queue /queue/fault is on fire""#, within: slack),
            Row(fault: .neverConnected, outcome: .connectFails,
                kind: { if case .timeout = $0 { return true }; return false },
                text: #"timed out after 0\.5 s waiting for CONNECTED from 127\.0\.0\.1:PORT"#,
                within: 0.5 + slack, tweak: { $0.connectTimeout = .milliseconds(500) }),
            // Slow is not broken: CONNECTED and RECEIPT each 300 ms late, well inside the timeouts.
            Row(fault: .delayEveryFrame(.milliseconds(300)), outcome: .works, kind: { _ in false }, text: "",
                within: 0.6 + slack),
            // A frame arriving in pieces, each within the stall timeout though the whole takes longer: not a stall.
            Row(fault: .trickleFrame(pieces: 4, apart: .milliseconds(300)), outcome: .works, kind: { _ in false }, text: "",
                within: 1.2 + slack, tweak: { $0.frameStallTimeout = .milliseconds(500) }, receives: "trickled"),
            // Slower than the connect timeout: the same fault is then a timeout.
            Row(fault: .delayEveryFrame(.milliseconds(800)), outcome: .connectFails,
                kind: { if case .timeout = $0 { return true }; return false },
                text: #"timed out after 0\.3 s waiting for CONNECTED from 127\.0\.0\.1:PORT"#,
                within: 0.3 + slack, tweak: { $0.connectTimeout = .milliseconds(300) }),
        ]
    }

    func testEveryFaultIsReportedClearlyAndInTime() throws {
        for row in Self.rows {
            try check(row)
        }
    }

    private func check(_ row: Row) throws {
        let name = row.fault.description
        let peer = try FaultyPeer(row.fault, group: testGroup)
        var o = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: peer.port)])
        o.reconnect = .none
        o.heartBeat = .none
        o.connectTimeout = .seconds(3)
        o.receiptTimeout = .seconds(3)
        o.useEnvironmentCredentials = false
        row.tweak(&o)
        let box = EventBox()
        let start = Date()
        var error: StompConnectionError?
        var client: StompClient?
        do {
            client = try connect(o, box)
        } catch let e as StompConnectionError {
            error = e
        }
        var sendError: StompConnectionError?
        if let client {
            do {
                try client.send(destination: "/queue/fault", body: "trigger", receipt: true).wait()
            } catch let e as StompConnectionError {
                sendError = e
            }
        }
        switch row.outcome {
        case .connectFails:
            XCTAssertNil(client, "\(name): connect should fail")
        case .sendFails:
            error = sendError
            XCTAssertEqual(client?.state, .connected, "\(name): the connection survives")
        case .connectionCloses:
            XCTAssertNotNil(client, "\(name): connect should work")
            guard let closed = box.closed(row.within + 2) else {
                return XCTFail("\(name): no close reported within \(row.within + 2) s (hang?)")
            }
            error = closed
            if let sendError {   // the pending RECEIPT fails with the same cause
                XCTAssertEqual(sendError.description, closed?.description, name)
            }
        case .works:
            XCTAssertNil(sendError, "\(name): \(String(describing: sendError))")
            XCTAssertEqual(client?.state, .connected, name)
            XCTAssertGreaterThanOrEqual(elapsed(since: start), 0.55, "\(name): the peer's frames were not delayed")
            if let body = row.receives { XCTAssertEqual(box.message(1)?.bodyString, body, name) }
        }
        let took = elapsed(since: start)
        XCTAssertLessThan(took, row.within, "\(name): took \(took) s, bound \(row.within) s")
        _ = try? client?.close().wait()
        guard row.outcome != .works else { return }
        guard let error else { return XCTFail("\(name): no error") }
        XCTAssertTrue(row.kind(error), "\(name): wrong kind: \(error) (\(String(reflecting: error)))")
        let text = error.description
        XCTAssertFalse(text.contains("\n"), "\(name): not one line: \(text)")
        let pattern = "^" + row.text.replacingOccurrences(of: "PORT", with: "\(peer.port)") + "$"
        XCTAssertNotNil(text.range(of: pattern, options: .regularExpression), "\(name): \(text) !~ \(pattern)")
    }

    /// The well-behaved peer is a working echo broker (the baseline the faults depart from).
    func testWithoutFaultThePeerEchoes() throws {
        let peer = try FaultyPeer(.none, group: testGroup)
        var o = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: peer.port)])
        o.reconnect = .none
        o.heartBeat = .none
        o.useEnvironmentCredentials = false
        let box = EventBox()
        let client = try connect(o, box)
        XCTAssertEqual(client.connectedInfo.server, FaultyPeer.server)
        _ = try client.subscribe(destination: "/queue/echo", id: "s").wait()
        try client.send(destination: "/queue/echo", body: "ping", receipt: true).wait()
        XCTAssertEqual(box.message(2)?.bodyString, "ping")
        try client.disconnect().wait()
        XCTAssertEqual(peer.receivedFrames.map(\.command), [.connect, .subscribe, .send, .disconnect])
    }
}
