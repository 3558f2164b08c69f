import XCTest
@testable import StompProto

/// StompSession: every transition, every rejected intent (which leaves the session unchanged:
/// nothing is sent), acknowledgement bookkeeping per version, receipts, heart-beat timing.
final class StompSessionTests: XCTestCase {
    private let t0 = StompInstant(milliseconds: 1_000)

    private func ms(_ m: UInt64) -> StompInstant { t0.advanced(byNanoseconds: m * 1_000_000) }

    private func connected(_ version: StompVersion = .v1_2, config: SessionConfiguration = SessionConfiguration(),
                           serverHeartBeat: String? = nil) throws -> StompSession {
        var s = StompSession(configuration: config)
        _ = try s.connect(now: t0)
        var h = StompHeaders()
        if version != .v1_0 { h.append("version", version.rawValue) }
        if let serverHeartBeat { h.append("heart-beat", serverHeartBeat) }
        h.append("server", "test/1")
        h.append("session", "s-1")
        _ = try s.receive(.frame(StompFrame(.connected, headers: h)), now: t0)
        XCTAssertEqual(s.state, .connected)
        return s
    }

    private func message(sub: String, id: String, ack: String? = nil, destination: String = "/q") -> FrameDecoderEvent {
        var h: StompHeaders = ["destination": destination, "message-id": id, "subscription": sub]
        if let ack { h.append("ack", ack) }
        return .frame(StompFrame(.message, headers: h, body: "m"))
    }

    /// Asserts `intent` throws `expected` and leaves the session exactly as it was.
    private func assertRejected(_ s: inout StompSession, _ expected: SessionError,
                                file: StaticString = #filePath, line: UInt = #line,
                                _ intent: (inout StompSession) throws -> StompFrame) {
        let before = s
        XCTAssertThrows(expected, try intent(&s), file: file, line: line)
        XCTAssertEqual(s.state, before.state, file: file, line: line)
        XCTAssertEqual(s.subscriptions, before.subscriptions, file: file, line: line)
        XCTAssertEqual(s.pendingAcks, before.pendingAcks, file: file, line: line)
        XCTAssertEqual(s.openTransactions, before.openTransactions, file: file, line: line)
        XCTAssertEqual(s.awaitedReceipts, before.awaitedReceipts, file: file, line: line)
        XCTAssertEqual(expected.fault, .local, file: file, line: line)
    }

    // MARK: Connecting

    func testInitialState() {
        var s = StompSession(configuration: SessionConfiguration())
        XCTAssertEqual(s.state, .disconnected)
        XCTAssertEqual(s.version, .v1_0)
        XCTAssertNil(s.connectedInfo)
        XCTAssertEqual(s.tick(now: t0), [])
        XCTAssertNil(s.nextDeadline(now: t0))
    }

    func testConnectFrame() throws {
        var s = StompSession(configuration: SessionConfiguration(host: "/", login: "u", passcode: "p:w",
                                                                 heartBeat: HeartBeat(1000, 2000)))
        let f = try s.connect(now: t0)
        XCTAssertEqual(f, StompFrame(.connect, headers: ["accept-version": "1.0,1.1,1.2", "host": "/", "login": "u",
                                                         "passcode": "p:w", "heart-beat": "1000,2000"]))
        XCTAssertEqual(s.state, .connecting)
    }

    func testConnectOptions() throws {
        var s = StompSession(configuration: SessionConfiguration(versions: [.v1_2], extraConnectHeaders: ["host": "vh", "x": "1"],
                                                                 useStompCommand: true))
        XCTAssertEqual(try s.connect(now: t0), StompFrame(.stomp, headers: ["accept-version": "1.2", "host": "vh", "x": "1"]))
        var old = StompSession(configuration: SessionConfiguration(versions: [.v1_0], heartBeat: HeartBeat(5, 5), useStompCommand: true))
        XCTAssertEqual(try old.connect(now: t0), StompFrame(.connect), "1.0 knows neither STOMP, accept-version nor heart-beat")
    }

    func testConnectWhileConnectingOrConnectedIsRejected() throws {
        var s = StompSession(configuration: SessionConfiguration())
        _ = try s.connect(now: t0)
        assertRejected(&s, .alreadyConnected) { try $0.connect(now: self.t0) }
        var c = try connected()
        assertRejected(&c, .alreadyConnected) { try $0.connect(now: self.t0) }
    }

    func testConnectedMovesToConnectedWithTheNegotiatedVersion() throws {
        for version in StompVersion.allCases {
            let s = try connected(version)
            XCTAssertEqual(s.version, version)
            XCTAssertEqual(s.connectedInfo?.server, "test/1")
            XCTAssertEqual(s.connectedInfo?.session, "s-1")
        }
    }

    func testConnectedWithAVersionWeDidNotOfferFails() throws {
        var s = StompSession(configuration: SessionConfiguration(versions: [.v1_1, .v1_2]))
        _ = try s.connect(now: t0)
        XCTAssertThrows(SessionError.versionNotOffered("1.0"),
                        try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.0"])), now: t0))
        XCTAssertEqual(s.state, .failed)
        XCTAssertEqual(SessionError.versionNotOffered(nil).fault, .peer)
    }

    func testUnexpectedFramesFromThePeer() throws {
        var s = StompSession(configuration: SessionConfiguration())
        XCTAssertThrows(SessionError.unexpectedFrame(.connected, state: .disconnected),
                        try s.receive(.frame(StompFrame(.connected)), now: t0))
        XCTAssertThrows(SessionError.unexpectedFrame(.message, state: .disconnected),
                        try s.receive(message(sub: "0", id: "1"), now: t0))
        var c = try connected()
        XCTAssertThrows(SessionError.unexpectedFrame(.connected, state: .connected),
                        try c.receive(.frame(StompFrame(.connected)), now: t0))
        XCTAssertThrows(SessionError.unexpectedFrame(.send, state: .connected),
                        try c.receive(.frame(StompFrame(.send)), now: t0))
        XCTAssertEqual(SessionError.unexpectedFrame(.send, state: .connected).fault, .peer)
    }

    // MARK: Rejected intents before CONNECTED

    func testEveryIntentBeforeConnectedIsRejected() throws {
        for connecting in [false, true] {
            var s = StompSession(configuration: SessionConfiguration())
            if connecting { _ = try s.connect(now: t0) }
            assertRejected(&s, .notConnected(intent: "SEND")) { try $0.send(destination: "/q", headers: [:], body: [], receipt: nil, transaction: nil) }
            assertRejected(&s, .notConnected(intent: "SUBSCRIBE")) { try $0.subscribe(destination: "/q", id: "0", ack: .auto, headers: [:], receipt: nil) }
            assertRejected(&s, .notConnected(intent: "UNSUBSCRIBE")) { try $0.unsubscribe(id: "0", receipt: nil) }
            assertRejected(&s, .notConnected(intent: "ACK")) { try $0.ack(messageID: nil, transaction: nil, receipt: nil) }
            assertRejected(&s, .notConnected(intent: "NACK")) { try $0.nack(messageID: nil, transaction: nil, receipt: nil) }
            assertRejected(&s, .notConnected(intent: "BEGIN")) { try $0.begin(transaction: "t", receipt: nil) }
            assertRejected(&s, .notConnected(intent: "COMMIT")) { try $0.commit(transaction: "t", receipt: nil) }
            assertRejected(&s, .notConnected(intent: "ABORT")) { try $0.abort(transaction: "t", receipt: nil) }
            assertRejected(&s, .notConnected(intent: "DISCONNECT")) { try $0.disconnect(receipt: "r") }
        }
    }

    // MARK: SEND

    func testSendFrame() throws {
        var s = try connected()
        _ = try s.begin(transaction: "tx")
        let f = try s.send(destination: "/q", headers: ["destination": "/ignored", "content-type": "text/plain"],
                           body: [1], receipt: "r1", transaction: "tx")
        XCTAssertEqual(f, StompFrame(.send, headers: ["destination": "/q", "content-type": "text/plain",
                                                      "transaction": "tx", "receipt": "r1"], body: [1]))
        XCTAssertEqual(s.awaitedReceipts, ["r1"])
        XCTAssertEqual(s.receiptPurpose("r1"), .send(destination: "/q"))
    }

    func testSendInAnUnknownTransactionIsRejected() throws {
        var s = try connected()
        assertRejected(&s, .unknownTransaction("nope")) { try $0.send(destination: "/q", headers: [:], body: [], receipt: nil, transaction: "nope") }
    }

    func testADuplicateReceiptIdIsRejected() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r")
        assertRejected(&s, .duplicateReceipt("r")) { try $0.send(destination: "/q", headers: [:], body: [], receipt: "r", transaction: nil) }
    }

    // MARK: Subscriptions

    func testSubscribeAndUnsubscribe() throws {
        var s = try connected()
        XCTAssertEqual(try s.subscribe(destination: "/a", id: "1", ack: .client, headers: ["selector": "x", "id": "no"], receipt: "r"),
                       StompFrame(.subscribe, headers: ["id": "1", "destination": "/a", "ack": "client", "selector": "x", "receipt": "r"]))
        _ = try s.subscribe(destination: "/b", id: "0")
        XCTAssertEqual(s.subscriptions.map(\.id), ["1", "0"], "in subscribe order")
        XCTAssertEqual(s.subscription(id: "1"), SubscriptionInfo(id: "1", destination: "/a", ack: .client, headers: ["selector": "x"]))
        XCTAssertEqual(try s.unsubscribe(id: "1", receipt: nil), StompFrame(.unsubscribe, headers: ["id": "1"]))
        XCTAssertEqual(s.subscriptions.map(\.id), ["0"])
    }

    func testSubscriptionErrors() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "1")
        assertRejected(&s, .duplicateSubscription("1")) { try $0.subscribe(destination: "/b", id: "1", ack: .auto, headers: [:], receipt: nil) }
        assertRejected(&s, .unknownSubscription("2")) { try $0.unsubscribe(id: "2", receipt: nil) }
        var old = try connected(.v1_0)
        assertRejected(&old, .unsupportedInVersion(intent: "ack mode client-individual", version: .v1_0)) {
            try $0.subscribe(destination: "/a", id: "1", ack: .clientIndividual, headers: [:], receipt: nil)
        }
    }

    /// Receipts and subscriptions live in separate maps: the same id in both never collides.
    func testReceiptIdsAndSubscriptionIdsAreIndependent() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "1", receipt: "1")
        XCTAssertEqual(try s.receive(.frame(StompFrame(.receipt, headers: ["receipt-id": "1"])), now: t0),
                       .receipt(id: "1", for: .subscribe(id: "1")))
        XCTAssertEqual(s.subscriptions.map(\.id), ["1"])
        XCTAssertEqual(s.awaitedReceipts, [])
        _ = try s.send(destination: "/a", receipt: "1")
        _ = try s.unsubscribe(id: "1")
        XCTAssertEqual(s.awaitedReceipts, ["1"])
    }

    // MARK: Messages and acknowledgements

    func testMessagesOnAutoSubscriptionsAwaitNothing() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/q", id: "0")
        let e = try s.receive(message(sub: "0", id: "m1"), now: t0)
        guard case .message(_, let sub, let pending) = e else { return XCTFail("\(e)") }
        XCTAssertEqual(sub?.id, "0")
        XCTAssertNil(pending)
        assertRejected(&s, .ackNotExpected(subscription: "0", mode: .auto)) { try $0.ack(messageID: nil, transaction: nil, receipt: nil) }
        assertRejected(&s, .ackNotExpected(subscription: "0", mode: .auto)) { try $0.ack(messageID: "m1", transaction: nil, receipt: nil) }
    }

    func testAckErrors() throws {
        var s = try connected()
        assertRejected(&s, .nothingToAcknowledge) { try $0.ack(messageID: nil, transaction: nil, receipt: nil) }
        _ = try s.subscribe(destination: "/q", id: "0", ack: .client)
        _ = try s.receive(message(sub: "0", id: "m1", ack: "a1"), now: t0)
        assertRejected(&s, .unknownMessage("m9")) { try $0.ack(messageID: "m9", transaction: nil, receipt: nil) }
        assertRejected(&s, .unknownTransaction("t")) { try $0.ack(messageID: "m1", transaction: "t", receipt: nil) }
        var old = try connected(.v1_0)
        assertRejected(&old, .unsupportedInVersion(intent: "NACK", version: .v1_0)) { try $0.nack(messageID: nil, transaction: nil, receipt: nil) }
    }

    func testAckHeadersPerVersion() throws {
        let expected: [StompVersion: StompHeaders] = [
            .v1_2: ["id": "a1"],
            .v1_1: ["message-id": "m1", "subscription": "0"],
            .v1_0: ["message-id": "m1"],
        ]
        for version in StompVersion.allCases {
            var s = try connected(version)
            _ = try s.subscribe(destination: "/q", id: "0", ack: .client)
            let e = try s.receive(message(sub: "0", id: "m1", ack: "a1"), now: t0)
            let ackID = version == .v1_2 ? "a1" : "m1"
            XCTAssertEqual(e, .message(StompFrame(.message, headers: ["destination": "/q", "message-id": "m1", "subscription": "0", "ack": "a1"], body: "m"),
                                       subscription: s.subscription(id: "0"),
                                       pendingAck: PendingAck(subscription: "0", messageID: "m1", ackID: ackID)))
            XCTAssertEqual(try s.ack(messageID: nil, transaction: nil, receipt: nil), StompFrame(.ack, headers: expected[version]!))
            XCTAssertEqual(s.pendingAcks, [])
        }
    }

    func testAckByMessageIdOrAckIdWithTransactionAndReceipt() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/q", id: "0", ack: .clientIndividual)
        _ = try s.receive(message(sub: "0", id: "m1", ack: "a1"), now: t0)
        _ = try s.receive(message(sub: "0", id: "m2", ack: "a2"), now: t0)
        _ = try s.begin(transaction: "t")
        XCTAssertEqual(try s.nack(messageID: "a1", transaction: "t", receipt: "r"),
                       StompFrame(.nack, headers: ["id": "a1", "transaction": "t", "receipt": "r"]))
        XCTAssertEqual(s.receiptPurpose("r"), .nack(messageID: "m1"))
        XCTAssertEqual(s.pendingAcks.map(\.messageID), ["m2"])
        XCTAssertEqual(try s.ack(messageID: "m2"), StompFrame(.ack, headers: ["id": "a2"]))
    }

    /// client mode: an ACK settles that message and every earlier one of the same subscription.
    func testCumulativeAckInClientMode() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "A", ack: .client)
        _ = try s.subscribe(destination: "/b", id: "B", ack: .client)
        for (sub, id) in [("A", "1"), ("B", "2"), ("A", "3"), ("A", "4"), ("B", "5")] {
            _ = try s.receive(message(sub: sub, id: id), now: t0)
        }
        _ = try s.ack(messageID: "3")
        XCTAssertEqual(s.pendingAcks.map(\.messageID), ["2", "4", "5"])
        _ = try s.ack(messageID: "5")
        XCTAssertEqual(s.pendingAcks.map(\.messageID), ["4"])
    }

    /// The indexed pending store against the plain array it replaced (`lastIndex(where:)`, cumulative
    /// `client` removal), with duplicate ids, mixed modes and enough traffic to trigger compaction.
    func testPendingAcksMatchArrayModel() throws {
        var s = try connected(.v1_1)
        _ = try s.subscribe(destination: "/a", id: "A", ack: .client)
        _ = try s.subscribe(destination: "/b", id: "B", ack: .clientIndividual)
        var model: [PendingAck] = []
        var rng = SystemRandomNumberGenerator()
        var next = 0
        for _ in 0..<4000 {
            let r = Int.random(in: 0..<10, using: &rng)
            if r < 5 || model.isEmpty {
                let sub = Bool.random(using: &rng) ? "A" : "B"
                // Some ids repeat (redeliveries).
                let id = Int.random(in: 0..<8, using: &rng) == 0 && next > 0 ? "m\(Int.random(in: 0..<next, using: &rng))" : "m\(next)"
                next += 1
                _ = try s.receive(message(sub: sub, id: id), now: t0)
                model.append(PendingAck(subscription: sub, messageID: id, ackID: id))
            } else {
                let pick: String? = r == 9 ? nil : model[Int.random(in: 0..<model.count, using: &rng)].messageID
                let i = pick.map { id in model.lastIndex { $0.messageID == id }! } ?? model.count - 1
                XCTAssertEqual(s.pendingAck(for: pick), pick.map { id in model.first { $0.messageID == id }! } ?? model.last)
                _ = try s.ack(messageID: pick)
                settleInModel(&model, at: i)
            }
            XCTAssertEqual(s.pendingAckCount, model.count)
        }
        XCTAssertEqual(s.pendingAcks, model)
        _ = try s.unsubscribe(id: "A")
        XCTAssertEqual(s.pendingAcks, model.filter { $0.subscription != "A" })
    }

    /// The array model's ACK of entry `i`: subscription "A" acks cumulatively (`client`: every earlier one of "A"
    /// too), any other individually.
    private func settleInModel(_ model: inout [PendingAck], at i: Int) {
        if model[i].subscription == "A" {
            var k = 0
            model.removeAll { e in defer { k += 1 }; return k <= i && e.subscription == "A" }
        } else {
            model.remove(at: i)
        }
    }

    /// STOMP 1.2, where the ack id is not the message-id (sandbox, RabbitMQ) or is (ActiveMQ): the indexed store
    /// against the plain array, looked up by either id, with an ack id that is another message's message-id,
    /// redeliveries that reuse a settled id, and more than a thousand settled ids (their keys are dropped in bulk).
    func testPendingAcksMatchArrayModelWithAckIDs() throws {
        var s = try connected(.v1_2)
        _ = try s.subscribe(destination: "/a", id: "A", ack: .client)
        _ = try s.subscribe(destination: "/b", id: "B", ack: .clientIndividual)
        var model: [PendingAck] = []
        var rng = SystemRandomNumberGenerator()
        var next = 0
        for _ in 0..<6000 {
            let r = Int.random(in: 0..<10, using: &rng)
            if r < 5 || model.isEmpty {
                let sub = Int.random(in: 0..<8, using: &rng) == 0 ? "A" : "B"
                let old = next > 0 ? Int.random(in: 0..<next, using: &rng) : 0
                let id = Int.random(in: 0..<8, using: &rng) == 0 && next > 0 ? "m\(old)" : "m\(next)"
                let ackID: String
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: ackID = id                                   // the ack id is the message-id
                case 1 where next > 0: ackID = "m\(Int.random(in: 0..<next, using: &rng))"   // another's message-id
                default: ackID = "a\(next)"
                }
                next += 1
                _ = try s.receive(message(sub: sub, id: id, ack: ackID), now: t0)
                model.append(PendingAck(subscription: sub, messageID: id, ackID: ackID))
            } else {
                let e = model[Int.random(in: 0..<model.count, using: &rng)]
                let pick: String? = r == 9 ? nil : Bool.random(using: &rng) ? e.messageID : e.ackID
                let oldest = pick.map { id in model.first { $0.messageID == id } ?? model.first { $0.ackID == id }! }
                XCTAssertEqual(s.pendingAck(for: pick), oldest ?? model.last)
                let i = pick.map { id in model.lastIndex { $0.messageID == id || $0.ackID == id }! } ?? model.count - 1
                _ = try s.ack(messageID: pick)
                settleInModel(&model, at: i)
            }
            XCTAssertEqual(s.pendingAckCount, model.count)
        }
        XCTAssertEqual(s.pendingAcks, model)
        for p in model { XCTAssertNotNil(s.pendingAck(for: p.ackID)) }
        _ = try s.unsubscribe(id: "A")
        XCTAssertEqual(s.pendingAcks, model.filter { $0.subscription != "A" })
    }

    /// ACK and NACK frames written raw (`checkRaw`, as `bench consume` and `sendRaw` do) settle what the
    /// session's own `ack` would: the newest entry whose message-id or ack id is the frame's `id` (else its
    /// `message-id`), looked up by the header's bytes; an `id` that matches nothing settles nothing, even when
    /// its `message-id` would match; ids longer than a word, ids that differ in their last byte only.
    func testRawAcksSettleLikeTheArrayModel() throws {
        var s = try connected(.v1_2)
        _ = try s.subscribe(destination: "/a", id: "A", ack: .client)
        _ = try s.subscribe(destination: "/b", id: "B", ack: .clientIndividual)
        var model: [PendingAck] = []
        var rng = SystemRandomNumberGenerator()
        var next = 0
        func name(_ prefix: String, _ n: Int) -> String {
            n % 3 == 0 ? "\(prefix)\(n)" : "ID:host-48213-1733380000000-1:1:1:1:\(prefix)\(n)"
        }
        for _ in 0..<6000 {
            let r = Int.random(in: 0..<10, using: &rng)
            if r < 5 || model.isEmpty {
                let sub = Int.random(in: 0..<8, using: &rng) == 0 ? "A" : "B"
                let id = Int.random(in: 0..<8, using: &rng) == 0 && next > 0
                    ? name("m", Int.random(in: 0..<next, using: &rng)) : name("m", next)
                let ackID = Int.random(in: 0..<4, using: &rng) == 0 ? id : name("a", next)
                next += 1
                _ = try s.receive(message(sub: sub, id: id, ack: ackID), now: t0)
                model.append(PendingAck(subscription: sub, messageID: id, ackID: ackID))
            } else {
                let e = model[Int.random(in: 0..<model.count, using: &rng)]
                let command: StompCommand = Bool.random(using: &rng) ? .ack : .nack
                var h = StompHeaders()
                let key: String
                switch r {
                case 9:   // an id nobody carries, with a message-id that would match: nothing settles
                    key = e.messageID + "x"
                    h.append("id", key)
                    h.append("message-id", e.messageID)
                case 8:   // no id header: the message-id counts
                    key = e.messageID
                    h.append("message-id", key)
                default:
                    key = Bool.random(using: &rng) ? e.messageID : e.ackID
                    h.append("id", key)
                }
                try s.checkRaw(StompFrame(command, headers: h))
                if let i = model.lastIndex(where: { $0.messageID == key || $0.ackID == key }) { settleInModel(&model, at: i) }
            }
            XCTAssertEqual(s.pendingAckCount, model.count)
        }
        XCTAssertEqual(s.pendingAcks, model)
        // the rest in one written batch (checkRaw of frames): each ACK settles what the model says it does
        var batch: [StompFrame] = []
        while let first = model.first {
            batch.append(StompFrame(.ack, headers: ["id": first.ackID]))
            settleInModel(&model, at: model.lastIndex { $0.messageID == first.ackID || $0.ackID == first.ackID }!)
        }
        s.checkRaw(batch)
        XCTAssertEqual(s.pendingAcks, [])
    }

    /// `receiveMessage` (the client's path) keeps the same books as `receive`: pending acks per mode and version,
    /// the auto message that explains a mistaken ACK, unknown subscriptions, and the same error before CONNECTED.
    func testReceiveMessageKeepsTheSameBooksAsReceive() throws {
        for version in [StompVersion.v1_0, .v1_1, .v1_2] {
            var a = try connected(version)
            var b = try connected(version)
            for s in [("A", AckMode.client), ("B", version == .v1_0 ? .client : .clientIndividual), ("C", .auto)] {
                _ = try a.subscribe(destination: "/" + s.0, id: s.0, ack: s.1)
                _ = try b.subscribe(destination: "/" + s.0, id: s.0, ack: s.1)
            }
            for n in 0..<300 {
                let sub = ["A", "B", "C", "B", "zz"][n % 5]
                let ack: String? = n % 3 == 0 ? nil : n % 3 == 1 ? "m\(n)" : "ack-\(n)-with-a-longer-id"
                let event = message(sub: sub, id: "m\(n)", ack: ack)
                _ = try a.receive(event, now: t0)
                guard case .frame(let f) = event else { return XCTFail() }
                try b.receiveMessage(f, now: t0)
                XCTAssertEqual(a.pendingAcks, b.pendingAcks, "\(version) after \(n)")
            }
            XCTAssertEqual(a.pendingAckCount, 180)
            // an ACK of a message on the auto subscription, of a pending one, of the newest: the same outcome
            func outcome(_ s: inout StompSession, _ id: String?) -> String {
                do { return try s.ack(messageID: id).headers.pairs.map { "\($0.name):\($0.value)" }.joined(separator: ",") }
                catch { return "\(error)" }
            }
            for id in ["m297", "m296", nil, "m1"] {
                XCTAssertEqual(outcome(&a, id), outcome(&b, id))
                XCTAssertEqual(a.pendingAcks, b.pendingAcks)
            }
            _ = try a.receive(message(sub: "C", id: "m-auto"), now: t0)
            guard case .frame(let f) = message(sub: "C", id: "m-auto") else { return XCTFail() }
            try b.receiveMessage(f, now: t0)
            XCTAssertEqual(outcome(&a, "m-auto"), outcome(&b, "m-auto"))
        }
        var fresh = StompSession()
        XCTAssertThrowsError(try fresh.receiveMessage(StompFrame(.message, headers: ["subscription": "A"]), now: t0)) { e in
            XCTAssertEqual(e as? SessionError, .unexpectedFrame(.message, state: .disconnected))
        }
    }

    func testIndividualAckInClientIndividualMode() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "A", ack: .clientIndividual)
        for id in ["1", "2", "3"] { _ = try s.receive(message(sub: "A", id: id), now: t0) }
        _ = try s.ack(messageID: "2")
        XCTAssertEqual(s.pendingAcks.map(\.messageID), ["1", "3"])
        _ = try s.ack()   // newest
        XCTAssertEqual(s.pendingAcks.map(\.messageID), ["1"])
    }

    func testUnsubscribeDropsItsPendingMessages() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "A", ack: .client)
        _ = try s.receive(message(sub: "A", id: "1"), now: t0)
        _ = try s.unsubscribe(id: "A")
        XCTAssertEqual(s.pendingAcks, [])
    }

    func testMessageForAnUnknownSubscription() throws {
        var s = try connected()
        XCTAssertEqual(try s.receive(message(sub: "zz", id: "1"), now: t0),
                       .message(StompFrame(.message, headers: ["destination": "/q", "message-id": "1", "subscription": "zz"], body: "m"),
                                subscription: nil, pendingAck: nil))
    }

    func testVersion1_0MessagesWithoutSubscriptionMatchByDestination() throws {
        var s = try connected(.v1_0)
        _ = try s.subscribe(destination: "/q", id: "x", ack: .client)
        let e = try s.receive(.frame(StompFrame(.message, headers: ["destination": "/q", "message-id": "7"])), now: t0)
        guard case .message(_, let sub, let pending) = e else { return XCTFail() }
        XCTAssertEqual(sub?.id, "x")
        XCTAssertEqual(pending, PendingAck(subscription: "x", messageID: "7", ackID: "7"))
    }

    // MARK: Transactions

    func testTransactions() throws {
        var s = try connected()
        XCTAssertEqual(try s.begin(transaction: "t1", receipt: nil), StompFrame(.begin, headers: ["transaction": "t1"]))
        _ = try s.begin(transaction: "t2", receipt: "r")
        XCTAssertEqual(s.openTransactions, ["t1", "t2"])
        assertRejected(&s, .duplicateTransaction("t1")) { try $0.begin(transaction: "t1", receipt: nil) }
        XCTAssertEqual(try s.commit(transaction: "t1", receipt: nil), StompFrame(.commit, headers: ["transaction": "t1"]))
        XCTAssertEqual(try s.abort(transaction: "t2", receipt: "r2"), StompFrame(.abort, headers: ["transaction": "t2", "receipt": "r2"]))
        XCTAssertEqual(s.openTransactions, [])
        assertRejected(&s, .unknownTransaction("t1")) { try $0.commit(transaction: "t1", receipt: nil) }
        assertRejected(&s, .unknownTransaction("t2")) { try $0.abort(transaction: "t2", receipt: nil) }
    }

    // MARK: Receipts, DISCONNECT, ERROR

    func testDisconnectThenReceiptCloses() throws {
        var s = try connected()
        XCTAssertEqual(try s.disconnect(receipt: "bye"), StompFrame(.disconnect, headers: ["receipt": "bye"]))
        XCTAssertEqual(s.state, .disconnecting)
        assertRejected(&s, .notConnected(intent: "SEND")) { try $0.send(destination: "/q", headers: [:], body: [], receipt: nil, transaction: nil) }
        assertRejected(&s, .notConnected(intent: "DISCONNECT")) { try $0.disconnect(receipt: "again") }
        // Messages may still arrive while disconnecting.
        _ = try s.receive(message(sub: "0", id: "1"), now: t0)
        XCTAssertEqual(try s.receive(.frame(StompFrame(.receipt, headers: ["receipt-id": "bye"])), now: t0),
                       .receipt(id: "bye", for: .disconnect))
        XCTAssertEqual(s.state, .closed)
    }

    func testUnawaitedReceiptHasNoPurpose() throws {
        var s = try connected()
        XCTAssertEqual(try s.receive(.frame(StompFrame(.receipt, headers: ["receipt-id": "?"])), now: t0), .receipt(id: "?", for: nil))
        XCTAssertEqual(s.state, .connected)
    }

    func testErrorAnsweringConnectFailsTheSessionAndCarriesTheBrokersMessage() throws {
        var s = StompSession(configuration: SessionConfiguration())
        _ = try s.connect(now: t0)
        let error = StompFrame(.error, headers: ["message": "bad login"], body: "details\n")
        XCTAssertEqual(try s.receive(.frame(error), now: t0),
                       .error(ServerError(message: "bad login", headers: ["message": "bad login"], body: Array("details\n".utf8))))
        XCTAssertEqual(s.state, .failed)
        assertRejected(&s, .notConnected(intent: "SEND")) { try $0.send(destination: "/q", headers: [:], body: [], receipt: nil, transaction: nil) }
    }

    /// After CONNECTED an ERROR leaves the session as it is: brokers often keep the connection open
    /// (RabbitMQ's unknown destination, ActiveMQ's unknown ack id); the transport's end decides.
    func testErrorAfterConnectedKeepsTheSessionAndSettlesItsReceipt() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/q", id: "1", ack: .client)
        _ = try s.send(destination: "/nowhere", receipt: "r-1")
        XCTAssertEqual(s.awaitedReceipts, ["r-1"])
        let error = StompFrame(.error, headers: ["message": "Unknown destination", "receipt-id": "r-1"])
        XCTAssertEqual(try s.receive(.frame(error), now: t0), .error(ServerError(frame: error)))
        XCTAssertEqual(s.state, .connected)
        XCTAssertEqual(s.awaitedReceipts, [])
        XCTAssertEqual(s.subscriptions.map(\.id), ["1"])
        XCTAssertEqual(try s.send(destination: "/q", receipt: "r-2").command, .send)
    }

    func testServerErrorDescriptionIsOneLine() {
        XCTAssertEqual(ServerError(frame: StompFrame(.error, headers: ["message": "m"], body: "b\n")).description, "broker error: m: b")
    }

    func testHeartbeatEvent() throws {
        var s = try connected()
        XCTAssertEqual(try s.receive(.heartbeat, now: t0), .heartbeat)
    }

    // MARK: Raw frames: tracked, never rejected

    func testRawFramesUpdateTheSessionsView() throws {
        var s = try connected()
        try s.checkRaw(StompFrame(.subscribe, headers: ["id": "r", "destination": "/raw", "ack": "client-individual", "receipt": "x"]))
        XCTAssertEqual(s.subscriptions, [SubscriptionInfo(id: "r", destination: "/raw", ack: .clientIndividual)])
        XCTAssertEqual(s.receiptPurpose("x"), .raw(.subscribe))
        _ = try s.receive(message(sub: "r", id: "m1", ack: "a1"), now: t0)
        try s.checkRaw(StompFrame(.ack, headers: ["id": "a1"]))
        XCTAssertEqual(s.pendingAcks, [])
        try s.checkRaw(StompFrame(.begin, headers: ["transaction": "t"]))
        XCTAssertEqual(s.openTransactions, ["t"])
        try s.checkRaw(StompFrame(.commit, headers: ["transaction": "t"]))
        XCTAssertEqual(s.openTransactions, [])
        try s.checkRaw(StompFrame(.unsubscribe, headers: ["id": "r"]))
        XCTAssertEqual(s.subscriptions, [])
        try s.checkRaw(StompFrame(.disconnect, headers: ["receipt": "d"]))
        XCTAssertEqual(s.state, .disconnecting)
        _ = try s.receive(.frame(StompFrame(.receipt, headers: ["receipt-id": "d"])), now: t0)
        XCTAssertEqual(s.state, .closed)
    }

    func testRawFramesAreNeverRejected() throws {
        var s = StompSession(configuration: SessionConfiguration())
        // Things the session would refuse are the point of raw frames.
        try s.checkRaw(StompFrame(.send, headers: ["destination": "/q"]))
        try s.checkRaw(StompFrame(.ack, headers: ["id": "nothing"]))
        try s.checkRaw(StompFrame(.commit, headers: ["transaction": "none"]))
        try s.checkRaw(StompFrame(.connect, headers: ["accept-version": "1.1"]))
        XCTAssertEqual(s.state, .connecting)
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.1"])), now: t0)
        XCTAssertEqual(s.version, .v1_1)
        try s.checkRaw(StompFrame(.subscribe, headers: ["id": "1", "destination": "/a"]))
        try s.checkRaw(StompFrame(.subscribe, headers: ["id": "1", "destination": "/b"]))
        XCTAssertEqual(s.subscriptions.map(\.destination), ["/b"])
    }

    // MARK: Heart-beats and time

    func testTickSaysWhenToSendAHeartbeat() throws {
        // We offer 1000 and want 2000; the server offers 3000 and wants 500.
        var s = try connected(config: SessionConfiguration(heartBeat: HeartBeat(1000, 2000)), serverHeartBeat: "3000,500")
        XCTAssertEqual(s.connectedInfo?.heartBeat, NegotiatedHeartBeat(sendInterval: 1000, receiveInterval: 3000))
        XCTAssertEqual(s.tick(now: ms(999)), [])
        XCTAssertEqual(s.nextDeadline(now: ms(0)), ms(1000))
        XCTAssertEqual(s.tick(now: ms(1000)), [.sendHeartbeat])
        s.didSend(now: ms(1000))
        XCTAssertEqual(s.tick(now: ms(1999)), [])
        XCTAssertEqual(s.nextDeadline(now: ms(1500)), ms(2000))
    }

    func testTickSaysWhenThePeerIsSilent() throws {
        // Receive interval r = 3000 ms, grace 2.0: silent after 2r + r/2 = 7500 ms without a byte, and before
        // the first byte after CONNECTED after one more r (10500 ms).
        var s = try connected(config: SessionConfiguration(heartBeat: HeartBeat(0, 2000)), serverHeartBeat: "3000,0")
        XCTAssertEqual(s.silenceLimit(receiveInterval: 3000), 10_500_000_000)
        XCTAssertEqual(s.nextDeadline(now: t0), ms(10500).advanced(byNanoseconds: 1))
        XCTAssertEqual(s.tick(now: ms(10500)), [])
        XCTAssertEqual(s.tick(now: ms(10500).advanced(byNanoseconds: 1)), [.peerSilent(lastHeardNanosecondsAgo: 10_500_000_001)])
        _ = try s.receive(.heartbeat, now: ms(5000))
        XCTAssertEqual(s.silenceLimit(receiveInterval: 3000), 7_500_000_000)
        XCTAssertEqual(s.tick(now: ms(12500)), [])
        XCTAssertEqual(s.nextDeadline(now: ms(6001)), ms(12500).advanced(byNanoseconds: 1))
        XCTAssertEqual(s.tick(now: ms(12501)), [.peerSilent(lastHeardNanosecondsAgo: 7_501_000_000)])
    }

    /// ActiveMQ beats only when its check (every r) finds nothing written: its first beat comes 2r after
    /// CONNECTED (seen: 19.999 s with r = 10 s) and later gaps reach 2r too. Neither may be called silence,
    /// even when a loaded machine delays the beat by several seconds.
    func testActiveMQsBeatsAtTwiceTheIntervalNeverRaceTheSilenceRule() throws {
        var s = try connected(config: SessionConfiguration(heartBeat: HeartBeat(10_000, 10_000)), serverHeartBeat: "10000,10000")
        XCTAssertEqual(s.connectedInfo?.heartBeat.receiveInterval, 10_000)
        // The first beat: 2r after CONNECTED, late by up to 14 s on a loaded machine.
        XCTAssertEqual(s.tick(now: ms(19_999)).filter { $0 != .sendHeartbeat }, [])
        XCTAssertEqual(s.tick(now: ms(34_000)).filter { $0 != .sendHeartbeat }, [])
        _ = try s.receive(.heartbeat, now: ms(34_000))
        // Steady state: a MESSAGE just after ActiveMQ's check, the next beat 2r later, late by up to 4 s.
        _ = try s.receive(.heartbeat, now: ms(44_000))
        XCTAssertEqual(s.tick(now: ms(44_000 + 20_000 + 4_000)).filter { $0 != .sendHeartbeat }, [])
        XCTAssertEqual(s.tick(now: ms(44_000 + 25_001)).filter { $0 != .sendHeartbeat },
                       [.peerSilent(lastHeardNanosecondsAgo: 25_001_000_000)], "a broker silent for 2.5 r is silent")
    }

    func testHeartbeatsAreSentAfterTheConfiguredFractionOfTheInterval() throws {
        var s = try connected(config: SessionConfiguration(heartBeat: HeartBeat(1000, 0), heartBeatSendRatio: 0.5),
                              serverHeartBeat: "0,1000")
        XCTAssertEqual(s.nextDeadline(now: t0), ms(500))
        XCTAssertEqual(s.tick(now: ms(499)), [])
        XCTAssertEqual(s.tick(now: ms(500)), [.sendHeartbeat])
        s.didSend(now: ms(500))
        XCTAssertEqual(s.nextDeadline(now: ms(500)), ms(1000))
    }

    func testARawConnectNegotiatesWhatItOffered() throws {
        var s = StompSession(configuration: SessionConfiguration(heartBeat: HeartBeat(1000, 1000)))
        try s.checkRaw(StompFrame(.connect, headers: ["accept-version": "1.2", "heart-beat": "0,500"]))
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.2", "heart-beat": "700,700"])), now: t0)
        XCTAssertEqual(s.connectedInfo?.heartBeat, NegotiatedHeartBeat(sendInterval: nil, receiveInterval: 700))
    }

    func testGraceFactorAndSlackAreConfigurable() throws {
        var s = try connected(config: SessionConfiguration(heartBeat: HeartBeat(0, 1000), heartBeatGrace: 1.5), serverHeartBeat: "1000,0")
        _ = try s.receive(.heartbeat, now: t0)
        XCTAssertEqual(s.tick(now: ms(2000)), [], "1.5 r + r/2")
        XCTAssertEqual(s.tick(now: ms(2001)), [.peerSilent(lastHeardNanosecondsAgo: 2_001_000_000)])
        var slack = try connected(config: SessionConfiguration(heartBeat: HeartBeat(0, 1000), heartBeatGrace: 1.5,
                                                               heartBeatMinimumSlack: 800), serverHeartBeat: "1000,0")
        _ = try slack.receive(.heartbeat, now: t0)
        XCTAssertEqual(slack.tick(now: ms(2300)), [])
        XCTAssertEqual(slack.tick(now: ms(2301)), [.peerSilent(lastHeardNanosecondsAgo: 2_301_000_000)])
    }

    func testNoHeartBeatsWhenEitherSideSaysZero() throws {
        var s = try connected(config: SessionConfiguration(heartBeat: HeartBeat(1000, 1000)), serverHeartBeat: "0,0")
        XCTAssertNil(s.nextDeadline(now: t0))
        XCTAssertEqual(s.tick(now: ms(1_000_000)), [])
        let old = try connected(.v1_0, config: SessionConfiguration(heartBeat: HeartBeat(1000, 1000)), serverHeartBeat: "1000,1000")
        XCTAssertNil(old.nextDeadline(now: t0), "1.0 has no heart-beats")
    }

    // MARK: Losing the connection and reconnecting

    func testConnectionLostReportsWhatWasLost() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "A", ack: .client)
        _ = try s.receive(message(sub: "A", id: "1"), now: t0)
        _ = try s.begin(transaction: "t")
        _ = try s.send(destination: "/a", receipt: "r")
        let lost = s.connectionLost()
        XCTAssertEqual(lost, LostState(transactions: ["t"], unacknowledged: [PendingAck(subscription: "A", messageID: "1", ackID: "1")]))
        XCTAssertEqual(s.state, .failed)
        XCTAssertEqual(s.awaitedReceipts, [])
        XCTAssertEqual(s.subscriptions.map(\.id), ["A"], "kept for resubscribing")
        let (resubscribe, lostAgain) = s.resetForReconnect()
        XCTAssertEqual(resubscribe.map(\.id), ["A"])
        XCTAssertTrue(lostAgain.isEmpty)
        XCTAssertEqual(s.state, .disconnected)
        XCTAssertEqual(s.subscriptions, [])
    }

    func testResetForReconnectWithoutConnectionLost() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "A", ack: .client, headers: ["selector": "x"])
        _ = try s.receive(message(sub: "A", id: "1"), now: t0)
        let (resubscribe, lost) = s.resetForReconnect()
        XCTAssertEqual(resubscribe, [SubscriptionInfo(id: "A", destination: "/a", ack: .client, headers: ["selector": "x"])])
        XCTAssertEqual(lost.unacknowledged.map(\.messageID), ["1"])
        // Reconnect and resubscribe.
        _ = try s.connect(now: t0)
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.2"])), now: t0)
        for sub in resubscribe { _ = try s.subscribe(destination: sub.destination, id: sub.id, ack: sub.ack, headers: sub.headers) }
        XCTAssertEqual(s.subscriptions, resubscribe)
    }

    func testConnectAgainAfterFailureStartsAfresh() throws {
        var s = try connected()
        _ = s.connectionLost()
        XCTAssertEqual(try s.connect(now: t0).command, .connect)
        XCTAssertEqual(s.state, .connecting)
        XCTAssertNil(s.connectedInfo)
    }

    /// One session serves every connection of a client: the next link of a failover list CONNECTs with its own
    /// host and credentials through the same session.
    func testTheNextConnectionBringsItsOwnConfiguration() throws {
        var s = try connected(config: SessionConfiguration(host: "a.example", login: "alice"))
        _ = s.resetForReconnect()
        var b = SessionConfiguration(host: "b.example", login: "bob")
        b.heartBeat = .none
        let frame = try s.connect(now: t0, configuration: b)
        XCTAssertEqual(frame.headers["host"], "b.example")
        XCTAssertEqual(frame.headers["login"], "bob")
        XCTAssertEqual(s.configuration.login, "bob")
        // Refused while connecting, and the configuration stays.
        XCTAssertThrowsError(try s.connect(now: t0, configuration: SessionConfiguration(login: "eve"))) {
            XCTAssertEqual($0 as? SessionError, .alreadyConnected)
        }
        XCTAssertEqual(s.configuration.login, "bob")
    }

    func testSessionErrorDescriptionsAreOneLine() {
        let all: [SessionError] = [.notConnected(intent: "SEND"), .alreadyConnected, .unknownSubscription("1"),
                                   .duplicateSubscription("1"), .unknownTransaction("t"), .duplicateTransaction("t"),
                                   .ackNotExpected(subscription: "1", mode: .auto), .unknownMessage("m"),
                                   .nothingToAcknowledge, .unsupportedInVersion(intent: "NACK", version: .v1_0),
                                   .duplicateReceipt("r"), .unexpectedFrame(.send, state: .connected), .versionNotOffered("9")]
        for e in all { XCTAssertFalse(e.description.contains("\n")) }
    }

    /// The session remembers the subscription the last MESSAGE named; a change of the subscriptions must not
    /// leave a MESSAGE matched to the old one.
    func testAMessageAfterResubscribingUnderTheSameIdGetsTheNewSubscription() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/q", id: "s1", ack: .auto)
        guard case .message(_, let a?, nil) = try s.receive(message(sub: "s1", id: "m1"), now: t0) else {
            return XCTFail("auto: no pending ack")
        }
        XCTAssertEqual(a.ack, .auto)
        _ = try s.unsubscribe(id: "s1")
        guard case .message(_, nil, nil) = try s.receive(message(sub: "s1", id: "m2"), now: t0) else {
            return XCTFail("unsubscribed: no subscription")
        }
        _ = try s.subscribe(destination: "/q2", id: "s1", ack: .clientIndividual)
        guard case .message(_, let b?, let p?) = try s.receive(message(sub: "s1", id: "m3"), now: t0) else {
            return XCTFail("the new subscription, with a pending ack")
        }
        XCTAssertEqual(b.destination, "/q2")
        XCTAssertEqual(p.messageID, "m3")
        XCTAssertEqual(s.pendingAcks.count, 1)
    }
}

extension StompSessionTests {
    /// STOMP 1.0/1.1: a topic's message reaches every subscription with the same message-id; a raw ACK names
    /// its copy by `subscription` + `message-id`, and the books settle that subscription's copy (the newest
    /// with that id was settled whoever it belonged to: s2's went, s1's stayed pending).
    func testARawAckByMessageIDSettlesTheCopyOfItsSubscription() throws {
        for version in [StompVersion.v1_0, .v1_1] {
            for batch in [false, true] {
                var s = try connected(version)
                _ = try s.subscribe(destination: "/topic/T", id: "s1", ack: .client)
                _ = try s.subscribe(destination: "/topic/T", id: "s2", ack: .client)
                _ = try s.receive(message(sub: "s1", id: "m1", ack: nil), now: t0)
                _ = try s.receive(message(sub: "s2", id: "m1", ack: nil), now: t0)
                let ack = StompFrame(.ack, headers: ["subscription": "s1", "message-id": "m1"])
                if batch { s.checkRaw([ack]) } else { try s.checkRaw(ack) }
                XCTAssertEqual(s.pendingAcks, [PendingAck(subscription: "s2", messageID: "m1", ackID: "m1")],
                               "\(version) batch \(batch)")
                // An ACK naming a subscription that has no such message settles nothing.
                try s.checkRaw(StompFrame(.ack, headers: ["subscription": "s9", "message-id": "m1"]))
                XCTAssertEqual(s.pendingAckCount, 1, "\(version) batch \(batch)")
            }
        }
    }
}
