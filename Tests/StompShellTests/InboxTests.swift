import Foundation
import NIOConcurrencyHelpers
import StompConnection
import StompProto
import XCTest
@testable import StompShell

/// The inbox between the event loop and the shell thread: bounded memory, back-pressure instead of
/// buffering, `wait` counting every arrival, and what the shell says about connection events.
final class InboxTests: XCTestCase {
    private func message(_ i: Int, size: Int = 10, subscription: String = "s1") -> StompFrame {
        StompFrame(.message, headers: ["destination": "/queue/q", "subscription": subscription, "message-id": "m\(i)"],
                   body: [UInt8](repeating: 0x61, count: size))
    }

    /// Above the high water mark the inbox asks its client to stop reading; taking the events resumes it.
    func testQueueAboveHighWaterStopsReadingUntilTaken() {
        let inbox = Inbox(wake: WakeUp())
        let calls = NIOLockedValueBox<[Bool]>([])
        inbox.attachFlowControl { paused in calls.withLockedValue { $0.append(paused) } }
        let big = message(0, size: 1 << 20)
        for _ in 0..<8 { inbox.push(.frame(big), generation: 1) }
        XCTAssertFalse(inbox.readingPaused, "8 MiB is the limit, not over it")
        inbox.push(.frame(big), generation: 1)
        XCTAssertTrue(inbox.readingPaused)
        inbox.push(.frame(big), generation: 1)
        XCTAssertEqual(calls.withLockedValue { $0 }, [true], "asked once")
        XCTAssertEqual(inbox.take().count, 10)
        XCTAssertFalse(inbox.readingPaused)
        XCTAssertEqual(calls.withLockedValue { $0 }, [true, false])
        // Many small events count too.
        for i in 0...Inbox.queueHighCount { inbox.push(.frame(message(i)), generation: 1) }
        XCTAssertTrue(inbox.readingPaused)
        inbox.attachFlowControl(nil)
        XCTAssertEqual(calls.withLockedValue { $0 }, [true, false, true, false], "detaching resumes")
    }

    /// Kept messages are bounded by count and bytes; `wait` still counts the ones no longer kept.
    func testWaitCountsArrivalsBeyondWhatIsKept() {
        let inbox = Inbox(wake: WakeUp())
        for i in 0..<(Inbox.maxPending + 500) { inbox.record(ReceivedMessage(frame: message(i), receivedAt: Date())) }
        XCTAssertEqual(inbox.pending.count, Inbox.maxPending)
        XCTAssertEqual(inbox.unconsumedCount, Inbox.maxPending + 500)
        var got = 0
        while inbox.consumeArrival(on: "s1") { got += 1 }
        XCTAssertEqual(got, Inbox.maxPending + 500)
        XCTAssertEqual(inbox.unconsumedCount, 0)
        // Bytes: 100 messages of 1 MiB keep at most 64 MiB.
        for i in 0..<100 { inbox.record(ReceivedMessage(frame: message(i, size: 1 << 20), receivedAt: Date())) }
        XCTAssertLessThanOrEqual(inbox.pending.count, 64)
        XCTAssertEqual(inbox.unconsumedCount, 100)
        // expect takes the oldest message still kept, skipping those it can no longer check.
        XCTAssertEqual(inbox.consume(on: nil)?.frame.headers["message-id"], "m\(100 - inbox.pending.count)")
        XCTAssertEqual(inbox.unconsumedCount, inbox.pending.count)
    }

    /// `--on` counts only its own subscription's arrivals, kept or not.
    func testWaitOnASubscriptionCountsOnlyIt() {
        let inbox = Inbox(wake: WakeUp())
        for i in 0..<(Inbox.maxPending + 10) {
            inbox.record(ReceivedMessage(frame: message(i, subscription: i % 2 == 0 ? "even" : "odd"), receivedAt: Date()))
        }
        var even = 0
        while inbox.consumeArrival(on: "even") { even += 1 }
        XCTAssertEqual(even, (Inbox.maxPending + 10) / 2)
        XCTAssertEqual(inbox.unconsumedCount, (Inbox.maxPending + 10) / 2)
    }

    private var out: [(String, OutputTarget)] = []

    /// "reconnected" names the resubscribed subscriptions, and says nothing of an empty list.
    func testReconnectedWithoutSubscriptionsSaysNoEmptyList() {
        let o = Output(color: false)
        let shell = Shell(output: o)
        o.sink = { [unowned self] t, s in self.out.append((t, s)) }
        let info = ConnectedInfo(version: .v1_2, server: nil, session: nil, heartBeat: .none, headers: [:])
        shell.handle(.reconnected(info, resubscribed: [], lost: LostState(transactions: [], unacknowledged: [])))
        let sub = SubscriptionInfo(id: "s1", destination: "/queue/q", ack: .auto, headers: [:])
        shell.handle(.reconnected(info, resubscribed: [sub], lost: LostState(transactions: [], unacknowledged: [])))
        let text = out.map(\.0).joined()
        XCTAssertEqual(text, "reconnected (STOMP 1.2)\nreconnected (STOMP 1.2); resubscribed: s1\n")
    }

    /// A browser's end marker is printed but is no message for wait/expect.
    func testBrowserEndIsNotAMessage() {
        let shell = Shell(output: Output(color: false))
        shell.output.sink = { _, _ in }
        shell.handle(.frame(message(1)))
        shell.handle(.frame(StompFrame(.message, headers: ["destination": "/queue/q", "subscription": "s1",
                                                            "message-id": "end", "browser": "end"])))
        XCTAssertEqual(shell.inbox.unconsumedCount, 1)
    }
}
