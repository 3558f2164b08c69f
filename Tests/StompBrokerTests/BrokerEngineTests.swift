import StompProto
import XCTest
@testable import StompBroker

/// The sandbox broker's rules, without sockets.
final class BrokerEngineTests: XCTestCase {
    // MARK: CONNECT

    func testConnectNegotiatesVersionAndHeartBeats() {
        let h = EngineHarness()
        let id = h.engine.open()
        let actions = h.send(id, .connect, ["accept-version": "1.0,1.1,1.2", "heart-beat": "500,1000", "host": "/"])
        let connected = frames(actions, to: id)[0]
        XCTAssertEqual(connected.command, .connected)
        XCTAssertEqual(connected.headers["version"], "1.2")
        XCTAssertEqual(connected.headers["server"], "test-sandbox")
        XCTAssertEqual(connected.headers["heart-beat"], "1000,500", "the broker sends as often as asked and wants what is offered")
        XCTAssertEqual(actions.last, .established(id, version: .v1_2,
                                                  heartBeat: NegotiatedHeartBeat(sendInterval: 1000, receiveInterval: 500), login: nil))
    }

    func testFastHeartBeatsAreGrantedAsAsked() {
        // as ActiveMQ: heart-beat:10,0 gets 0,10 and 0,50 gets 50,0 (no lower bound)
        let h = EngineHarness()
        let id = h.engine.open()
        let actions = h.send(id, .connect, ["accept-version": "1.2", "heart-beat": "10,50"])
        XCTAssertEqual(frames(actions)[0].headers["heart-beat"], "50,10")
        XCTAssertEqual(actions.last, .established(id, version: .v1_2,
                                                  heartBeat: NegotiatedHeartBeat(sendInterval: 50, receiveInterval: 10), login: nil))
    }

    func testConnectWithoutAcceptVersionIsStomp10WithoutHeartBeats() {
        let h = EngineHarness()
        let id = h.engine.open()
        let actions = h.send(id, .connect, ["heart-beat": "1000,1000"])
        XCTAssertEqual(frames(actions)[0].headers["version"], "1.0")
        XCTAssertEqual(frames(actions)[0].headers["heart-beat"], "0,0", "as ActiveMQ's 1.0 CONNECTED")
        XCTAssertEqual(actions.last, .established(id, version: .v1_0, heartBeat: .none, login: nil))
    }

    func testUnsupportedVersionIsRefused() {
        let h = EngineHarness()
        let id = h.engine.open()
        let actions = h.send(id, .connect, ["accept-version": "2.0"])
        let error = frames(actions)[0]
        XCTAssertEqual(error.command, .error)
        XCTAssertEqual(error.headers["message"], "unsupported STOMP version")
        XCTAssertEqual(error.headers["version"], "1.0,1.1,1.2")
        XCTAssertEqual(closes(actions).map { $0.0 }, [id])
    }

    func testFrameBeforeConnectIsAnError() {
        let h = EngineHarness()
        let id = h.engine.open()
        let actions = h.send(id, .send, ["destination": "/queue/a", "receipt": "r1"], body: "x")
        let error = frames(actions)[0]
        XCTAssertEqual(error.command, .error)
        XCTAssertEqual(error.headers["message"], "not connected")
        XCTAssertEqual(error.headers["receipt-id"], "r1")
        XCTAssertTrue(closes(actions).isEmpty, "as ActiveMQ: the connection stays open and may still CONNECT")
        XCTAssertEqual(frames(h.send(id, .connect, ["accept-version": "1.2"]))[0].command, .connected)
    }

    func testSecondConnectIsAnError() {
        let h = EngineHarness()
        let id = h.connect()
        XCTAssertEqual(frames(h.send(id, .connect, ["accept-version": "1.2"]))[0].headers["message"], "already connected")
    }

    // MARK: queues

    func testQueueHoldsMessagesUntilSomeoneSubscribes() {
        let h = EngineHarness()
        let p = h.connect(), c = h.connect()
        for i in 1...3 { XCTAssertTrue(messages(h.publish(p, "/queue/q", "m\(i)")).isEmpty) }
        XCTAssertEqual(h.engine.queueDepth("q"), 3)
        XCTAssertEqual(bodies(h.subscribe(c, "/queue/q", id: "s"), to: c), ["m1", "m2", "m3"])
        XCTAssertEqual(h.engine.queueDepth("q"), 0)
    }

    func testQueueSharesMessagesRoundRobin() {
        let h = EngineHarness()
        let p = h.connect(), a = h.connect(), b = h.connect()
        _ = h.subscribe(a, "/queue/rr", id: "sa")
        _ = h.subscribe(b, "/queue/rr", id: "sb")
        var receivers: [ConnectionID] = []
        for i in 1...4 {
            for case .frame(let f, let to) in h.publish(p, "/queue/rr", "m\(i)") where f.command == .message { receivers.append(to) }
        }
        XCTAssertEqual(receivers, [a, b, a, b])
    }

    func testMessageFrameHeaders() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/h", id: "sub-1", ack: .client)
        let m = messages(h.publish(c, "/queue/h", "body", ["x-user": "1", "content-type": "text/plain", "receipt": "r9",
                                                        "persistent": "true"]))[0]
        XCTAssertEqual(m.headers["destination"], "/queue/h")
        XCTAssertEqual(m.headers["subscription"], "sub-1")
        XCTAssertEqual(m.headers["message-id"], "m-1")
        XCTAssertEqual(m.headers["ack"], "m-1/sub-1")
        XCTAssertEqual(m.headers["content-length"], "4")
        XCTAssertEqual(m.headers["x-user"], "1")
        XCTAssertEqual(m.headers["content-type"], "text/plain")
        XCTAssertEqual(m.headers["persistent"], "true")
        XCTAssertNil(m.headers["receipt"])
        XCTAssertNil(m.headers["redelivered"])
        let empty = messages(h.publish(c, "/queue/h", ""))[0]
        XCTAssertNil(empty.headers["content-length"], "no body, no content-length")
        XCTAssertNil(messages(h.subscribe(c, "/queue/auto", id: "a") + h.publish(c, "/queue/auto", "x"))[0].headers["ack"])
    }

    // MARK: topics

    func testTopicGoesToEverySubscriberAndIsNotKept() {
        let h = EngineHarness()
        let p = h.connect(), a = h.connect(), b = h.connect()
        XCTAssertTrue(messages(h.publish(p, "/topic/t", "nobody")).isEmpty)
        _ = h.subscribe(a, "/topic/t", id: "sa")
        _ = h.subscribe(b, "/topic/t", id: "sb")
        let actions = h.publish(p, "/topic/t", "all")
        XCTAssertEqual(bodies(actions, to: a), ["all"])
        XCTAssertEqual(bodies(actions, to: b), ["all"])
        XCTAssertEqual(messages(actions, to: a)[0].headers["destination"], "/topic/t")
    }

    // MARK: acknowledgements

    func testClientIndividualUnackedMessagesGoBackWhenTheSubscriberLeaves() {
        let h = EngineHarness()
        let p = h.connect(), c = h.connect(), other = h.connect()
        _ = h.subscribe(c, "/queue/ci", id: "s", ack: .clientIndividual)
        let got = (1...3).flatMap { messages(h.publish(p, "/queue/ci", "m\($0)")) }
        XCTAssertEqual(h.engine.pendingCount(c), 3)
        XCTAssertTrue(frames(h.send(c, .ack, ["id": got[1].headers["ack"]!])).isEmpty)
        XCTAssertEqual(h.engine.pendingCount(c), 2)
        XCTAssertTrue(messages(h.send(c, .unsubscribe, ["id": "s"])).isEmpty, "nobody else subscribed yet")
        XCTAssertEqual(h.engine.queueDepth("ci"), 2)
        let again = messages(h.subscribe(other, "/queue/ci", id: "o"))
        XCTAssertEqual(again.map { $0.bodyString }, ["m1", "m3"], "in the original order")
        XCTAssertEqual(again.map { $0.headers["redelivered"] }, ["true", "true"])
        XCTAssertEqual(again.map { $0.headers["message-id"] }, [got[0].headers["message-id"], got[2].headers["message-id"]])
    }

    func testClientAckIsCumulative() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/cum", id: "s", ack: .client)
        let got = (1...3).flatMap { messages(h.publish(c, "/queue/cum", "m\($0)")) }
        h.send(c, .ack, ["id": got[1].headers["ack"]!])
        XCTAssertEqual(h.engine.pendingCount(c), 1, "m1 and m2 settled")
        let actions = h.send(c, .ack, ["id": got[0].headers["ack"]!])
        XCTAssertEqual(frames(actions)[0].headers["message"], "unknown ack id", "m1 was settled by the cumulative ACK")
    }

    func testClosedConnectionsUnackedMessagesGoToTheNextSubscriber() {
        let h = EngineHarness()
        let p = h.connect(), a = h.connect(), b = h.connect()
        _ = h.subscribe(a, "/queue/lost", id: "s", ack: .client, extra: ["prefetch-count": "1"])
        _ = h.subscribe(b, "/queue/lost", id: "s", ack: .client, extra: ["prefetch-count": "1"])
        XCTAssertEqual(messages(h.publish(p, "/queue/lost", "one"), to: a).count, 1)
        XCTAssertEqual(messages(h.publish(p, "/queue/lost", "two"), to: b).count, 1)
        XCTAssertTrue(messages(h.publish(p, "/queue/lost", "three")).isEmpty, "both at their prefetch")
        let actions = h.closed(a)
        XCTAssertEqual(bodies(actions, to: b), [], "b still holds two unacknowledged")
        let m = messages(h.send(b, .ack, ["id": "m-2/s"]), to: b)
        XCTAssertEqual(m.map { $0.bodyString }, ["one"])
        XCTAssertEqual(m.first?.headers["redelivered"], "true")
        XCTAssertEqual(bodies(h.send(b, .ack, ["id": "m-1/s"]), to: b), ["three"])
        XCTAssertEqual(h.engine.connectionCount, 2)
    }

    func testPrefetchLimitsUnacknowledgedMessages() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/pf", id: "s", ack: .clientIndividual, extra: ["activemq.prefetchSize": "2"])
        var got: [StompFrame] = []
        for i in 1...5 { got += messages(h.publish(c, "/queue/pf", "m\(i)")) }
        XCTAssertEqual(got.map { $0.bodyString }, ["m1", "m2"])
        XCTAssertEqual(bodies(h.send(c, .ack, ["id": got[0].headers["ack"]!])), ["m3"])
        XCTAssertEqual(h.engine.queueDepth("pf"), 2)
    }

    func testNackDiscardsTheMessage() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/n", id: "s", ack: .clientIndividual)
        let m = messages(h.publish(c, "/queue/n", "refuse me"))[0]
        let actions = h.send(c, .nack, ["id": m.headers["ack"]!, "receipt": "r"])
        XCTAssertEqual(frames(actions).map(\.command), [.receipt])
        XCTAssertEqual(h.engine.pendingCount(c), 0)
        XCTAssertTrue(messages(h.send(c, .unsubscribe, ["id": "s"]) + h.subscribe(c, "/queue/n", id: "s2")).isEmpty)
    }

    func testAckByMessageIDInStomp11And10() {
        let h = EngineHarness()
        let c11 = h.connect(.v1_1), c10 = h.connect(.v1_0)
        _ = h.subscribe(c11, "/queue/v11", id: "s", ack: .client)
        let m = messages(h.publish(c11, "/queue/v11", "x"))[0]
        XCTAssertTrue(frames(h.send(c11, .ack, ["message-id": m.headers["message-id"]!, "subscription": "s"])).isEmpty)
        XCTAssertEqual(h.engine.pendingCount(c11), 0)
        _ = h.send(c10, .subscribe, ["destination": "/queue/v10", "ack": "client"])
        let m10 = messages(h.publish(c10, "/queue/v10", "y"))[0]
        XCTAssertEqual(m10.headers["subscription"], "/queue/v10", "1.0 without id: the destination is the id")
        XCTAssertTrue(frames(h.send(c10, .ack, ["message-id": m10.headers["message-id"]!])).isEmpty)
        XCTAssertEqual(h.engine.pendingCount(c10), 0)
        XCTAssertEqual(frames(h.send(c10, .nack, ["message-id": "m-1"]))[0].headers["message"], "NACK is not part of STOMP 1.0")
    }

    // MARK: transactions and receipts

    func testTransactedSendsArriveAtCommitAndAbortedOnesNever() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/tx", id: "s")
        h.send(c, .begin, ["transaction": "t1"])
        XCTAssertTrue(messages(h.publish(c, "/queue/tx", "a", ["transaction": "t1"])).isEmpty)
        XCTAssertTrue(messages(h.publish(c, "/queue/tx", "b", ["transaction": "t1"])).isEmpty)
        let commit = h.send(c, .commit, ["transaction": "t1", "receipt": "c1"])
        XCTAssertEqual(frames(commit).map(\.command), [.message, .message, .receipt])
        XCTAssertEqual(bodies(commit), ["a", "b"])
        XCTAssertNil(messages(commit)[0].headers["transaction"])
        h.send(c, .begin, ["transaction": "t2"])
        _ = h.publish(c, "/queue/tx", "never", ["transaction": "t2"])
        XCTAssertTrue(messages(h.send(c, .abort, ["transaction": "t2"])).isEmpty)
        XCTAssertEqual(h.engine.queueDepth("tx"), 0)
        XCTAssertEqual(frames(h.send(c, .commit, ["transaction": "t2"]))[0].headers["message"], "unknown transaction")
    }

    func testTransactedAckSettlesAtCommit() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/txa", id: "s", ack: .clientIndividual)
        let m = messages(h.publish(c, "/queue/txa", "x"))[0]
        h.send(c, .begin, ["transaction": "t"])
        h.send(c, .ack, ["id": m.headers["ack"]!, "transaction": "t"])
        XCTAssertEqual(h.engine.pendingCount(c), 1)
        h.send(c, .commit, ["transaction": "t"])
        XCTAssertEqual(h.engine.pendingCount(c), 0)
    }

    func testReceiptsAndDisconnect() {
        let h = EngineHarness()
        let c = h.connect()
        XCTAssertEqual(frames(h.subscribe(c, "/queue/r", id: "s", extra: ["receipt": "sub"]))[0].headers["receipt-id"], "sub")
        let actions = h.send(c, .disconnect, ["receipt": "bye"])
        XCTAssertEqual(frames(actions).map { $0.headers["receipt-id"] }, ["bye"])
        XCTAssertEqual(closes(actions).count, 1)
        XCTAssertNil(closes(actions)[0].1, "a normal close")
    }

    func testProtocolViolationsGetAnErrorWithReceiptIDAndTheConnectionStaysOpen() {
        let cases: [(StompFrame, String)] = [
            (StompFrame(.send, headers: ["receipt": "r"], body: "x"), "missing header 'destination'"),
            (StompFrame(.send, headers: ["destination": "/exchange/x", "receipt": "r"]), "unknown destination"),
            (StompFrame(.send, headers: ["destination": "/queue/", "receipt": "r"]), "empty destination name"),
            (StompFrame(.subscribe, headers: ["destination": "/queue/a", "receipt": "r"]), "missing header 'id'"),
            (StompFrame(.subscribe, headers: ["destination": "/queue/a", "id": "s", "ack": "sometimes", "receipt": "r"]), "invalid ack mode"),
            (StompFrame(.unsubscribe, headers: ["id": "nope", "receipt": "r"]), "unknown subscription"),
            (StompFrame(.ack, headers: ["id": "nope", "receipt": "r"]), "unknown ack id"),
            (StompFrame(.begin, headers: ["receipt": "r"]), "missing header 'transaction'"),
            (StompFrame(.message, headers: ["receipt": "r"]), "unexpected frame"),
            (StompFrame(.commit, headers: ["transaction": "nope", "receipt": "r"]), "unknown transaction"),
            (StompFrame(.abort, headers: ["transaction": "nope", "receipt": "r"]), "unknown transaction"),
            (StompFrame(.send, headers: ["destination": "/queue/a", "transaction": "nope", "receipt": "r"]), "unknown transaction"),
            (StompFrame(.connect, headers: ["accept-version": "1.2", "receipt": "r"]), "already connected"),
        ]
        for (frame, message) in cases {
            let h = EngineHarness()
            let c = h.connect()
            let actions = h.send(c, frame)
            XCTAssertEqual(frames(actions).count, 1, message)
            XCTAssertEqual(frames(actions).first?.command, .error, message)
            XCTAssertEqual(frames(actions).first?.headers["message"], message)
            XCTAssertEqual(frames(actions).first?.headers["receipt-id"], "r", message)
            XCTAssertFalse(frames(actions).first?.body.isEmpty ?? true, "details in the body: \(message)")
            XCTAssertTrue(closes(actions).isEmpty, "as ActiveMQ, the connection stays open: \(message)")
            XCTAssertEqual(frames(h.send(c, .send, ["destination": "/queue/after", "receipt": "next"])).map(\.command), [.receipt],
                           "the next frame is served: \(message)")
        }
    }

    func testBeginTwiceAndNackIn10AreErrorsThatKeepTheConnection() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.send(c, .begin, ["transaction": "t"])
        let twice = h.send(c, .begin, ["transaction": "t", "receipt": "r"])
        XCTAssertEqual(frames(twice).map { $0.headers["message"] }, ["transaction already begun"])
        XCTAssertTrue(closes(twice).isEmpty)
        let old = h.connect(.v1_0)
        let nack = h.send(old, .nack, ["message-id": "x", "receipt": "r"])
        XCTAssertEqual(frames(nack).map { $0.headers["message"] }, ["NACK is not part of STOMP 1.0"])
        XCTAssertTrue(closes(nack).isEmpty)
        XCTAssertEqual(frames(h.send(old, .send, ["destination": "/queue/x", "receipt": "ok"])).map(\.command), [.receipt])
    }

    func testEmptyHeaderNameIsMalformedAndCloses() {
        // ActiveMQ closes the socket on `:value`; the sandbox says why first
        let h = EngineHarness()
        let c = h.connect()
        let actions = h.send(c, StompFrame(.send, headers: StompHeaders([("destination", "/queue/e"), ("", "v"), ("receipt", "r")]), body: "x"))
        XCTAssertEqual(frames(actions).map { $0.headers["message"] }, ["malformed frame"])
        XCTAssertEqual(closes(actions).map { $0.0 }, [c])
        XCTAssertEqual(h.engine.queueDepth("e"), nil, "not forwarded")
    }

    func testRepeatedHeaderFirstOneWins() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/rep", id: "s")
        let frame = StompFrame(.send, headers: StompHeaders([("destination", "/queue/rep"), ("x-a", "1"), ("x-a", "2"),
                                                             ("destination", "/queue/other")]), body: "x")
        let m = messages(h.send(c, frame))
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(m.first?.headers.values(for: "x-a"), ["1"])
        XCTAssertEqual(m.first?.headers.values(for: "destination"), ["/queue/rep"])
    }

    func testMessageCarriesExpiresPriorityAndTimestamp() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/meta", id: "s")
        let plain = messages(h.publish(c, "/queue/meta", "a"))[0]
        XCTAssertEqual(plain.headers["expires"], "0")
        XCTAssertEqual(plain.headers["priority"], "4")
        XCTAssertEqual(plain.headers["timestamp"], String(h.now))
        let set = messages(h.publish(c, "/queue/meta", "b", ["priority": "9", "expires": String(h.now + 60_000), "timestamp": "1"]))[0]
        XCTAssertEqual(set.headers.values(for: "priority"), ["9"])
        XCTAssertEqual(set.headers.values(for: "expires"), [String(h.now + 60_000)])
        XCTAssertEqual(set.headers.values(for: "timestamp"), [String(h.now)], "the broker's clock, as ActiveMQ")
    }

    func testExpiredMessagesAreDroppedNotDelivered() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.publish(c, "/queue/exp", "short", ["expires": String(h.now + 1000)])
        _ = h.publish(c, "/queue/exp", "long", ["expires": String(h.now + 60_000)])
        h.now += 5000
        XCTAssertEqual(bodies(h.subscribe(c, "/queue/exp", id: "s")), ["long"])
        XCTAssertEqual(h.engine.heldBytes, 0)
    }

    func testDuplicateSubscriptionIDIsAnError() {
        let h = EngineHarness()
        let c = h.connect()
        _ = h.subscribe(c, "/queue/a", id: "s")
        XCTAssertEqual(frames(h.subscribe(c, "/queue/b", id: "s"))[0].headers["message"], "duplicate subscription id")
    }

    // MARK: temporary queues

    func testTempQueueReplyReachesTheSubscribedRequester() {
        let h = EngineHarness()
        let requester = h.connect(), responder = h.connect()
        _ = h.subscribe(responder, "/queue/svc", id: "svc")
        _ = h.subscribe(requester, "/temp-queue/replies", id: "mine")
        let request = messages(h.publish(requester, "/queue/svc", "ping", ["reply-to": "/temp-queue/replies"]))[0]
        let replyTo = request.headers["reply-to"]!
        XCTAssertEqual(replyTo, "/remote-temp-queue/\(requester)/replies")
        let reply = messages(h.publish(responder, replyTo, "pong", ["correlation-id": "c1"]), to: requester)
        XCTAssertEqual(reply.map { $0.bodyString }, ["pong"])
        XCTAssertEqual(reply.first?.headers["destination"], "/temp-queue/replies")
        XCTAssertEqual(reply.first?.headers["subscription"], "mine")
        XCTAssertEqual(reply.first?.headers["correlation-id"], "c1")
    }

    func testTempQueueReplyReachesARequesterThatDidNotSubscribe() {
        let h = EngineHarness()
        let requester = h.connect(), responder = h.connect()
        _ = h.subscribe(responder, "/queue/svc", id: "svc")
        let request = messages(h.publish(requester, "/queue/svc", "ping", ["reply-to": "/temp-queue/r"]))[0]
        let reply = messages(h.publish(responder, request.headers["reply-to"]!, "pong"), to: requester)
        XCTAssertEqual(reply.first?.headers["destination"], "/temp-queue/r")
        XCTAssertEqual(reply.first?.headers["subscription"], "/temp-queue/r", "as RabbitMQ: the destination is the subscription")
        XCTAssertNil(reply.first?.headers["ack"])
    }

    func testTempQueuesArePrivateAndVanishWithTheirConnection() {
        let h = EngineHarness()
        let a = h.connect(), b = h.connect()
        _ = h.subscribe(a, "/temp-queue/x", id: "ax")
        _ = h.subscribe(b, "/temp-queue/x", id: "bx")
        XCTAssertEqual(messages(h.publish(b, "/temp-queue/x", "for b")).map { $0.headers["subscription"] }, ["bx"])
        _ = h.closed(a)
        let gone = frames(h.publish(b, "/remote-temp-queue/\(a)/x", "gone", ["receipt": "r"]))
        XCTAssertEqual(gone.map(\.command), [.error], "as ActiveMQ: an ERROR, no RECEIPT")
        XCTAssertEqual(gone.first?.headers["message"], "destination does not exist")
        XCTAssertEqual(gone.first?.headers["receipt-id"], "r")
        XCTAssertEqual(frames(h.subscribe(b, "/remote-temp-queue/\(a)/x", id: "steal"))[0].headers["message"], "not your temporary queue")
    }

    // MARK: flow control

    func testUnwritableConnectionsAreSkippedUntilWritableAgain() {
        let h = EngineHarness()
        let p = h.connect(), slow = h.connect(), fast = h.connect()
        _ = h.subscribe(slow, "/queue/flow", id: "s")
        XCTAssertTrue(h.setWritable(false, slow).isEmpty)
        XCTAssertEqual(bodies(h.publish(p, "/queue/flow", "1")), [], "held: the only subscriber cannot take it")
        _ = h.subscribe(fast, "/queue/flow", id: "f")
        XCTAssertEqual(h.engine.queueDepth("flow"), 0, "the fast one got it on subscribing")
        _ = h.publish(p, "/queue/flow", "2")
        XCTAssertEqual(bodies(h.publish(p, "/queue/flow", "3"), to: fast), ["3"])
        _ = h.send(fast, .unsubscribe, ["id": "f"])
        _ = h.publish(p, "/queue/flow", "4")
        XCTAssertEqual(bodies(h.setWritable(true, slow), to: slow), ["4"])
    }

    func testManyMessagesThroughAQueue() {
        let h = EngineHarness()
        let c = h.connect()
        for i in 0..<20_000 { _ = h.publish(c, "/queue/bulk", "\(i)") }
        let got = bodies(h.drainAll(c, after: h.subscribe(c, "/queue/bulk", id: "s")))
        XCTAssertEqual(got.count, 20_000)
        XCTAssertEqual(got.first, "0")
        XCTAssertEqual(got.last, "19999")
        XCTAssertEqual(h.engine.queueNames, ["bulk"])
        _ = h.send(c, .unsubscribe, ["id": "s"])
        XCTAssertEqual(h.engine.queueNames, [], "an empty queue nobody uses is forgotten")
    }
}
