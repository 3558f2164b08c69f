// The verdict logic: judged answers, and whole checks driven against a scripted fake broker (ERROR that closes or
// stays open, silence, a broker that drops the connection mid-probe, one that cannot be reached).

@testable import StompProbe
import StompProto
import XCTest

final class ProbeVerdictTests: XCTestCase {
    func options() -> ProbeOptions {
        var o = ProbeOptions()
        o.timeout = 0.2
        o.quiet = 0.05
        o.idleWindow = 0.1
        o.heartBeatListen = 0.1
        o.prefix = "probe-test"
        return o
    }

    func run(_ behaviour: FakeBehaviour, only: [ProbeGroup] = [], unreachable: Bool = false) -> ProbeReport {
        var o = options()
        o.groups = only
        return Prober(transport: FakeTransport(behaviour, unreachable: unreachable), target: ProbeTarget(), options: o,
                      displayURL: "fake://").run()
    }

    // MARK: judged answers

    func testAnErrorThatClosesConforms() {
        let o = ErrorChecks.judge(.error(headers: ["message", "receipt-id"], staysOpen: false), mustError: true)
        XCTAssertEqual(o.verdict, .conforms)
        XCTAssertEqual(o.key, "ERROR+receipt-id, closed")
    }

    func testAnErrorThatLeavesTheConnectionOpenDeviates() {
        let o = ErrorChecks.judge(.error(headers: ["message"], staysOpen: true), mustError: false)
        XCTAssertEqual(o.verdict, .deviates)
        XCTAssertEqual(o.key, "ERROR, stays open")
    }

    func testAReceiptForAFrameThatMustFailDeviatesButIsAllowedOtherwise() {
        XCTAssertEqual(ErrorChecks.judge(.receipt, mustError: true).verdict, .deviates)
        XCTAssertEqual(ErrorChecks.judge(.receipt, mustError: false).verdict, .conforms)
    }

    func testSilenceIsADeviationOnlyWhereAnErrorIsRequired() {
        XCTAssertEqual(ErrorChecks.judge(.nothing, mustError: true).verdict, .deviates)
        XCTAssertEqual(ErrorChecks.judge(.nothing, mustError: false).verdict, .couldNotTell)
        XCTAssertEqual(ErrorChecks.judge(.error(headers: [], staysOpen: nil), mustError: true).verdict, .couldNotTell)
    }

    func testAMissingReceiptDeviates() {
        XCTAssertEqual(ReceiptChecks.judge(.timeout, command: .send, timeout: 1).verdict, .deviates)
        XCTAssertEqual(ReceiptChecks.judge(.closed("gone"), command: .disconnect, timeout: 1).key, "closed")
        XCTAssertEqual(ReceiptChecks.judge(.frame(StompFrame(.receipt, headers: ["receipt-id": "r"])), command: .send, timeout: 1).verdict, .conforms)
    }

    // MARK: whole checks against the fake

    func testErrorGroupAgainstABrokerThatClosesAfterEachError() {
        let r = run(FakeBehaviour(errorStaysOpen: false), only: [.errors])
        XCTAssertEqual(r.result("errors.unknown-command")?.verdict, .conforms, r.result("errors.unknown-command")?.observed ?? "")
        XCTAssertEqual(r.result("errors.unknown-command")?.key, "ERROR, closed")
        XCTAssertEqual(r.result("errors.missing-destination")?.key, "ERROR+receipt-id, closed")
        XCTAssertEqual(r.result("errors.unknown-ack-id")?.verdict, .conforms)
        // The fake ignores an unknown transaction: RECEIPT, allowed.
        XCTAssertEqual(r.result("errors.unknown-transaction")?.key, "RECEIPT")
        XCTAssertFalse(r.unreachable)
    }

    func testErrorGroupAgainstABrokerThatStaysOpenAfterAnError() {
        let r = run(FakeBehaviour(errorStaysOpen: true), only: [.errors])
        XCTAssertEqual(r.result("errors.unknown-command")?.verdict, .deviates)
        XCTAssertEqual(r.result("errors.unknown-command")?.key, "ERROR, stays open")
        XCTAssertEqual(r.result("errors.unknown-ack-id")?.key, "ERROR+receipt-id, stays open")
        XCTAssertTrue(r.hasDeviations)
    }

    func testReceiptsThatNeverComeAreVerdictsNotAnAbort() {
        let r = run(FakeBehaviour(silentFor: [.begin, .unsubscribe]), only: [.receipts])
        XCTAssertEqual(r.results.count, 9)
        XCTAssertEqual(r.result("receipts.begin")?.verdict, .deviates)
        XCTAssertEqual(r.result("receipts.begin")?.key, "none")
        // COMMIT needs a BEGIN first: the check cannot tell.
        XCTAssertEqual(r.result("receipts.commit")?.verdict, .couldNotTell)
        XCTAssertEqual(r.result("receipts.send")?.verdict, .conforms)
        XCTAssertEqual(r.result("receipts.disconnect")?.verdict, .conforms)
    }

    func testABrokerThatClosesMidProbeMarksTheRowsAndGoesOn() {
        let r = run(FakeBehaviour(closeOn: [.subscribe]), only: [.delivery, .receipts])
        XCTAssertEqual(r.result("delivery.queue-fifo")?.verdict, .couldNotTell)
        XCTAssertTrue(r.result("delivery.queue-fifo")?.observed.contains("connection ended") ?? false,
                      r.result("delivery.queue-fifo")?.observed ?? "")
        XCTAssertEqual(r.result("receipts.subscribe")?.verdict, .deviates)
        // Later rows still ran, each on a new connection.
        XCTAssertEqual(r.result("receipts.send")?.verdict, .conforms)
        XCTAssertEqual(r.result("receipts.begin")?.verdict, .conforms)
    }

    func testARefusedDestinationIsAVerdictOnItsRow() {
        let r = run(FakeBehaviour(refusedPrefix: "/temp-queue/"), only: [.reply])
        XCTAssertEqual(r.result("reply.temp-queue-subscribe")?.verdict, .notSupported)
        XCTAssertEqual(r.result("reply.with-subscribe")?.key, "SUBSCRIBE refused")
        XCTAssertEqual(r.results.count, ReplyChecks.all.count)
    }

    func testAnUnreachableBrokerGivesAFullCardOfCouldNotTell() {
        let r = run(FakeBehaviour(), unreachable: true)
        XCTAssertTrue(r.unreachable)
        XCTAssertEqual(r.results.count, ProbeChecks.all.count)
        XCTAssertTrue(r.results.allSatisfy { $0.verdict == .couldNotTell })
        XCTAssertTrue(r.results[0].observed.contains("connection refused (fake)"), r.results[0].observed)
    }

    func testOnlyRunsTheNamedGroupsInTableOrder() {
        let r = run(FakeBehaviour(), only: [.transactions, .connect])
        XCTAssertEqual(Set(r.results.map(\.group)), [.connect, .transactions])
        XCTAssertEqual(r.results.first?.id, "connect.version-1.0")
        XCTAssertEqual(r.results.map(\.id), ProbeChecks.all.filter { [.connect, .transactions].contains($0.group) }.map(\.id))
    }

    func testTheIdleSocketCheckCannotTellWhenTheBrokerWaitsLongerThanTheProbe() {
        let r = run(FakeBehaviour(), only: [.connect])
        XCTAssertEqual(r.result("connect.idle-before-connect")?.verdict, .couldNotTell)
        XCTAssertEqual(r.result("connect.idle-before-connect")?.key, "open")
        // The fake answers 0,0: no beats offered.
        XCTAssertEqual(r.result("connect.heart-beat-timing")?.verdict, .notSupported)
        XCTAssertEqual(r.result("connect.bad-login")?.key, "accepted")
    }

    func testThePasscodeNeverReachesTheEvidence() throws {
        var o = options()
        o.groups = [.receipts]
        let r = Prober(transport: FakeTransport(), target: ProbeTarget(login: "probe", passcode: "s3cret-pass"), options: o,
                       displayURL: "fake://").run()
        let evidence = r.results.flatMap(\.evidence)
        XCTAssertTrue(evidence.contains { $0.contains("CONNECT") && $0.contains("passcode:****") }, "\(evidence.prefix(3))")
        XCTAssertFalse(evidence.contains { $0.contains("s3cret-pass") })
        XCTAssertFalse(String(decoding: try r.jsonData(), as: UTF8.self).contains("s3cret-pass"))
    }

    func testGroupListParsing() throws {
        XCTAssertEqual(try ProbeGroup.parseList("errors,connect,errors"), [.errors, .connect])
        XCTAssertEqual(try ProbeGroup.parseList("request-reply"), [.reply])
        XCTAssertThrowsError(try ProbeGroup.parseList("connect,bogus")) { XCTAssertTrue("\($0)".contains("'bogus'")) }
        XCTAssertThrowsError(try ProbeGroup.parseList(""))
    }

    func testEveryCheckIdIsUniqueAndNamesItsGroup() {
        let ids = ProbeChecks.all.map(\.id)
        XCTAssertEqual(Set(ids).count, ids.count)
        for c in ProbeChecks.all { XCTAssertTrue(c.id.hasPrefix(c.group.rawValue + ".")); XCTAssertFalse(c.spec.isEmpty) }
        XCTAssertEqual(Set(ProbeChecks.all.map(\.group)), Set(ProbeGroup.allCases))
    }
}
