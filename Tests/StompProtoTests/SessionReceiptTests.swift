import XCTest
import StompProto

/// The session's one receipt table, driven with made-up instants: what is awaited, why, until when; the
/// timeout `tick` reports; a RECEIPT that comes after it (`.lateReceipt`), one nobody asked for, DISCONNECT's,
/// and what a lost connection or a reconnect does to the table.
final class SessionReceiptTests: XCTestCase {
    private let t0 = StompInstant(milliseconds: 1_000)

    private func ms(_ m: UInt64) -> StompInstant { t0.advanced(byNanoseconds: m * 1_000_000) }

    /// Connected without heart-beats, so that only receipts make deadlines.
    private func connected() throws -> StompSession {
        var s = StompSession(configuration: SessionConfiguration(heartBeat: .none))
        _ = try s.connect(now: t0)
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.2"])), now: t0)
        return s
    }

    private func receipt(_ id: String) -> FrameDecoderEvent {
        .frame(StompFrame(.receipt, headers: ["receipt-id": id]))
    }

    func testAReceiptWithoutDeadlineIsAwaitedUntilItComes() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r-1")
        XCTAssertNil(s.receiptDeadline("r-1"))
        XCTAssertNil(s.nextDeadline(now: t0), "no deadline, no heart-beat: nothing to schedule")
        XCTAssertEqual(s.tick(now: ms(3_600_000)), [])
        XCTAssertEqual(s.awaitedReceipts, ["r-1"])
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(3_600_000)), .receipt(id: "r-1", for: .send(destination: "/q")))
        XCTAssertEqual(s.awaitedReceipts, [])
    }

    func testTheDeadlinePassesThenTickReportsTheTimeoutOnce() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r-1")
        XCTAssertTrue(s.setReceiptDeadline("r-1", ms(100)))
        XCTAssertFalse(s.setReceiptDeadline("nobody", ms(100)), "only awaited receipts get a deadline")
        XCTAssertEqual(s.receiptDeadline("r-1"), ms(100))
        XCTAssertEqual(s.nextDeadline(now: t0), ms(100))
        XCTAssertEqual(s.tick(now: ms(99)), [])
        XCTAssertEqual(s.awaitedReceipts, ["r-1"])
        XCTAssertEqual(s.tick(now: ms(100)), [.receiptTimedOut(id: "r-1", for: .send(destination: "/q"))])
        XCTAssertEqual(s.awaitedReceipts, [], "no longer awaited")
        XCTAssertNil(s.receiptPurpose("r-1"))
        XCTAssertNil(s.nextDeadline(now: ms(100)))
        XCTAssertEqual(s.tick(now: ms(200)), [], "reported once")
        XCTAssertEqual(s.state, .connected, "a missing RECEIPT does not end the session")
    }

    /// With heart-beats to send (every 10 s, one due after 5 s), a receipt due sooner is still the next deadline:
    /// the heart-beat's replaced it, so a 2 s DISCONNECT timeout fired after 5 s (and any receipt timeout shorter
    /// than the heart-beat's wait came that late).
    func testAReceiptDueBeforeOurNextHeartBeatIsTheNextDeadline() throws {
        var s = StompSession(configuration: SessionConfiguration(heartBeat: HeartBeat(10_000, 0)))
        _ = try s.connect(now: t0)
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.2", "heart-beat": "0,10000"])), now: t0)
        s.didSend(now: t0)
        let beat = try XCTUnwrap(s.nextDeadline(now: t0), "a heart-beat to send")
        XCTAssertGreaterThan(beat, ms(2_000))
        _ = try s.send(destination: "/q", receipt: "r-1")
        XCTAssertTrue(s.setReceiptDeadline("r-1", ms(2_000)))
        XCTAssertEqual(s.nextDeadline(now: t0), ms(2_000))
        XCTAssertEqual(s.tick(now: ms(2_000)), [.receiptTimedOut(id: "r-1", for: .send(destination: "/q"))])
        XCTAssertEqual(s.nextDeadline(now: ms(2_000)), beat, "then the heart-beat again")
    }

    func testTimeoutsComeInRequestOrderAndTheEarliestDeadlineIsNext() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "A", receipt: "r-1")
        _ = try s.begin(transaction: "t", receipt: "r-2")
        _ = try s.send(destination: "/b", receipt: "r-3")
        s.setReceiptDeadline("r-1", ms(300))
        s.setReceiptDeadline("r-2", ms(100))
        s.setReceiptDeadline("r-3", ms(200))
        XCTAssertEqual(s.nextDeadline(now: t0), ms(100))
        XCTAssertEqual(s.tick(now: ms(100)), [.receiptTimedOut(id: "r-2", for: .begin(transaction: "t"))])
        XCTAssertEqual(s.nextDeadline(now: ms(100)), ms(200))
        XCTAssertEqual(s.tick(now: ms(500)), [.receiptTimedOut(id: "r-1", for: .subscribe(id: "A")),
                                             .receiptTimedOut(id: "r-3", for: .send(destination: "/b"))])
        XCTAssertEqual(s.subscriptions.map(\.id), ["A"], "a timed-out receipt undoes nothing")
        XCTAssertEqual(s.openTransactions, ["t"])
    }

    /// The table keeps its newest receipt apart (sequential requests skip the hashing): the newest and the
    /// older ones are awaited, answered out of order, given deadlines, replaced and timed out alike.
    func testTheNewestReceiptAndTheOlderOnesAreKeptAlike() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r-1")
        _ = try s.send(destination: "/q", receipt: "r-2")
        _ = try s.send(destination: "/q", receipt: "r-3")
        XCTAssertEqual(s.awaitedReceipts, ["r-1", "r-2", "r-3"])
        XCTAssertEqual(try s.receive(receipt("r-3"), now: ms(1)), .receipt(id: "r-3", for: .send(destination: "/q")))
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(1)), .receipt(id: "r-1", for: .send(destination: "/q")))
        XCTAssertEqual(s.awaitedReceipts, ["r-2"], "the newest gone, an older one is still found")
        XCTAssertTrue(s.setReceiptDeadline("r-2", ms(100)))
        _ = try s.begin(transaction: "t", receipt: "r-4")
        XCTAssertTrue(s.setReceiptDeadline("r-4", ms(50)))
        XCTAssertEqual(s.nextDeadline(now: ms(1)), ms(50), "the newest's deadline counts")
        // r-2 asked for again (a raw frame may): replaced (its deadline with it), and now the newest
        try s.checkRaw(StompFrame(.send, headers: ["destination": "/b", "receipt": "r-2"]))
        XCTAssertNil(s.receiptDeadline("r-2"))
        XCTAssertEqual(s.receiptPurpose("r-2"), .raw(.send))
        XCTAssertEqual(s.awaitedReceipts, ["r-4", "r-2"])
        XCTAssertEqual(s.tick(now: ms(60)), [.receiptTimedOut(id: "r-4", for: .begin(transaction: "t"))])
        XCTAssertNil(s.nextDeadline(now: ms(60)), "no deadline left (the replaced one went with its entry)")
        XCTAssertEqual(try s.receive(receipt("r-4"), now: ms(70)), .lateReceipt(id: "r-4", for: .begin(transaction: "t")))
        XCTAssertEqual(try s.receive(receipt("r-2"), now: ms(70)), .receipt(id: "r-2", for: .raw(.send)))
        XCTAssertEqual(s.awaitedReceipts, [])
    }

    func testAnswerBeforeTheDeadlineLeavesNothingToTimeOut() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r-1")
        s.setReceiptDeadline("r-1", ms(100))
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(50)), .receipt(id: "r-1", for: .send(destination: "/q")))
        XCTAssertNil(s.nextDeadline(now: ms(50)))
        XCTAssertEqual(s.tick(now: ms(100)), [])
    }

    /// `receiveReceipt` (the client's path) says what `receive`'s event says and keeps the same books: awaited,
    /// late, unknown, a second one, DISCONNECT's closing the session, and the same error before CONNECTED.
    func testReceiveReceiptSaysWhatTheEventSays() throws {
        var a = try connected()
        var b = try connected()
        for s in [0, 1] {
            for id in ["r-1", "r-2", "r-3"] {
                if s == 0 { _ = try a.send(destination: "/q", receipt: id) } else { _ = try b.send(destination: "/q", receipt: id) }
            }
        }
        a.setReceiptDeadline("r-2", ms(100))
        b.setReceiptDeadline("r-2", ms(100))
        _ = a.tick(now: ms(100))
        _ = b.tick(now: ms(100))
        _ = try a.disconnect(receipt: "bye")
        _ = try b.disconnect(receipt: "bye")
        for id in ["r-1", "r-2", "r-2", "nobody", "r-3", "bye"] {
            let event = try a.receive(receipt(id), now: ms(200))
            let r = try b.receiveReceipt(StompFrame(.receipt, headers: ["receipt-id": id]), now: ms(200))
            let expected: SessionEvent = r.late ? .lateReceipt(id: r.id, for: r.purpose!) : .receipt(id: r.id, for: r.purpose)
            XCTAssertEqual(event, expected, id)
            XCTAssertEqual(a.state, b.state, id)
            XCTAssertEqual(a.awaitedReceipts, b.awaitedReceipts, id)
        }
        XCTAssertEqual(b.state, .closed)
        var fresh = StompSession()
        XCTAssertThrowsError(try fresh.receiveReceipt(StompFrame(.receipt, headers: ["receipt-id": "r-1"]), now: t0)) { e in
            XCTAssertEqual(e as? SessionError, .unexpectedFrame(.receipt, state: .disconnected))
        }
    }

    /// The broker answers after the caller gave up: neither an error (the session goes on) nor an unknown
    /// receipt: `.lateReceipt`, once.
    func testTheLateReceiptIsItsOwnEvent() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r-1")
        s.setReceiptDeadline("r-1", ms(100))
        _ = s.tick(now: ms(100))
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(300)), .lateReceipt(id: "r-1", for: .send(destination: "/q")))
        XCTAssertEqual(s.state, .connected)
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(301)), .receipt(id: "r-1", for: nil), "a second one is unknown")
        // The id may be asked for again, and then it is awaited as new.
        _ = try s.send(destination: "/q", receipt: "r-1")
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(400)), .receipt(id: "r-1", for: .send(destination: "/q")))
    }

    func testAnUnknownReceiptHasNoPurpose() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r-1")
        XCTAssertEqual(try s.receive(receipt("nobody-asked"), now: t0), .receipt(id: "nobody-asked", for: nil))
        XCTAssertEqual(s.awaitedReceipts, ["r-1"])
        XCTAssertEqual(s.state, .connected)
    }

    func testTimedOutIdsAreRememberedWithinABound() throws {
        var s = try connected()
        let n = StompSession.expiredReceiptMemory
        for i in 0...n {
            _ = try s.send(destination: "/q", receipt: "r-\(i)")
            s.setReceiptDeadline("r-\(i)", ms(100))
        }
        XCTAssertEqual(s.tick(now: ms(100)).count, n + 1)
        // The memory was emptied when full: the last one is remembered, the first ones are not.
        XCTAssertEqual(try s.receive(receipt("r-\(n)"), now: ms(200)), .lateReceipt(id: "r-\(n)", for: .send(destination: "/q")))
        XCTAssertEqual(try s.receive(receipt("r-0"), now: ms(200)), .receipt(id: "r-0", for: nil))
    }

    func testAnErrorCarryingATimedOutReceiptIdForgetsIt() throws {
        var s = try connected()
        _ = try s.send(destination: "/nowhere", receipt: "r-1")
        s.setReceiptDeadline("r-1", ms(100))
        _ = s.tick(now: ms(100))
        let error = StompFrame(.error, headers: ["message": "no", "receipt-id": "r-1"])
        XCTAssertEqual(try s.receive(.frame(error), now: ms(200)), .error(ServerError(frame: error)))
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(300)), .receipt(id: "r-1", for: nil))
    }

    func testForgetReceiptStopsAwaitingWithoutATimeout() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "r-1")
        s.setReceiptDeadline("r-1", ms(100))
        XCTAssertEqual(s.forgetReceipt("r-1"), .send(destination: "/q"))
        XCTAssertEqual(s.awaitedReceipts, [])
        XCTAssertEqual(s.tick(now: ms(100)), [])
        XCTAssertNil(s.nextDeadline(now: ms(100)))
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(200)), .receipt(id: "r-1", for: nil))
    }

    // MARK: DISCONNECT's receipt

    func testDisconnectsReceiptClosesTheSession() throws {
        var s = try connected()
        _ = try s.disconnect(receipt: "bye")
        s.setReceiptDeadline("bye", ms(1000))
        XCTAssertEqual(s.nextDeadline(now: t0), ms(1000))
        XCTAssertEqual(try s.receive(receipt("bye"), now: ms(10)), .receipt(id: "bye", for: .disconnect))
        XCTAssertEqual(s.state, .closed)
    }

    func testDisconnectsReceiptTimesOutLikeAnyOther() throws {
        var s = try connected()
        _ = try s.disconnect(receipt: "bye")
        s.setReceiptDeadline("bye", ms(1000))
        XCTAssertEqual(s.tick(now: ms(1000)), [.receiptTimedOut(id: "bye", for: .disconnect)])
        XCTAssertEqual(s.state, .disconnecting, "the caller decides to close the transport")
        // Still answered, late: the session is over all the same.
        XCTAssertEqual(try s.receive(receipt("bye"), now: ms(1500)), .lateReceipt(id: "bye", for: .disconnect))
        XCTAssertEqual(s.state, .closed)
    }

    func testAnErrorAnsweringDisconnectClosesTheSession() throws {
        var s = try connected()
        _ = try s.disconnect(receipt: "bye")
        let error = StompFrame(.error, headers: ["message": "whatever", "receipt-id": "bye"])
        XCTAssertEqual(try s.receive(.frame(error), now: ms(10)), .error(ServerError(frame: error)))
        XCTAssertEqual(s.state, .closed)
        XCTAssertEqual(s.awaitedReceipts, [])
    }

    // MARK: Losing the connection

    func testConnectionLossClearsTheTableTimeoutsAndLateReceiptsIncluded() throws {
        var s = try connected()
        _ = try s.send(destination: "/q", receipt: "old")
        s.setReceiptDeadline("old", ms(100))
        _ = s.tick(now: ms(100))
        _ = try s.send(destination: "/q", receipt: "r-1")
        s.setReceiptDeadline("r-1", ms(500))
        _ = s.connectionLost()
        XCTAssertEqual(s.awaitedReceipts, [])
        XCTAssertNil(s.nextDeadline(now: ms(200)))
        XCTAssertEqual(s.tick(now: ms(600)), [], "nothing times out on a dead connection: the caller failed its waiters")
        _ = s.resetForReconnect()
        _ = try s.connect(now: ms(700))
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.2"])), now: ms(700))
        XCTAssertEqual(s.tick(now: ms(800)), [])
        // An id of the old connection means nothing on the new one.
        XCTAssertEqual(try s.receive(receipt("old"), now: ms(800)), .receipt(id: "old", for: nil))
        XCTAssertEqual(try s.receive(receipt("r-1"), now: ms(800)), .receipt(id: "r-1", for: nil))
    }

    func testResetForReconnectClearsTheTable() throws {
        var s = try connected()
        _ = try s.subscribe(destination: "/a", id: "A", receipt: "r-1")
        s.setReceiptDeadline("r-1", ms(100))
        let (resubscribe, _) = s.resetForReconnect()
        XCTAssertEqual(resubscribe.map(\.id), ["A"])
        XCTAssertEqual(s.awaitedReceipts, [])
        _ = try s.connect(now: ms(10))
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.2"])), now: ms(10))
        XCTAssertNil(s.nextDeadline(now: ms(10)))
        XCTAssertEqual(s.tick(now: ms(100)), [])
        _ = try s.subscribe(destination: "/a", id: "A", receipt: "r-1")
        XCTAssertEqual(s.awaitedReceipts, ["r-1"], "the same id is free again")
    }

    // MARK: Raw frames

    func testARawFramesReceiptIsAwaitedWithoutDeadline() throws {
        var s = try connected()
        try s.checkRaw(StompFrame(.send, headers: ["destination": "/q", "receipt": "x"]))
        XCTAssertEqual(s.receiptPurpose("x"), .raw(.send))
        XCTAssertNil(s.receiptDeadline("x"))
        XCTAssertEqual(s.tick(now: ms(3_600_000)), [])
        XCTAssertEqual(try s.receive(receipt("x"), now: ms(3_600_000)), .receipt(id: "x", for: .raw(.send)))
    }
}
