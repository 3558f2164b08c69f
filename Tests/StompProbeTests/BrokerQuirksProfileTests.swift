// The broker-quirks profile: derived from a card, written, read back; bad files say what is wrong with them.

import Foundation
@testable import StompProbe
import XCTest

final class BrokerQuirksProfileTests: XCTestCase {
    typealias R = ProbeReportTests

    static let activeMQLike = ProbeReport(url: "stomp://x", server: "Mystery/1", unreachable: false, prefix: "p", seconds: 1, results: [
        R.row("connect.host-literal", .conforms, key: "accepted"),
        R.row("connect.heart-beat-timing", .deviates, key: "first beat late, beats on time"),
        R.row("framing.repeated-header", .conforms, key: "first kept"),
        R.row("framing.largest-frame", .conforms, key: "largest 64 MiB"),
        R.row("errors.unknown-ack-id", .deviates, key: "ERROR+receipt-id, stays open"),
        R.row("reply.temp-queue-subscribe", .conforms, key: "accepted"),
        R.row("reply.without-subscribe", .notSupported, key: "reply lost"),
        R.row("reply.with-subscribe", .conforms, key: "reply arrives"),
        R.row("delivery.nack", .conforms, key: "removed"),
    ])

    func testProfileFromACard() {
        let p = BrokerQuirksProfile(report: Self.activeMQLike)
        XCTAssertEqual(p.server, "Mystery/1")
        XCTAssertFalse(p.hostIsVirtualHost)
        XCTAssertTrue(p.errorKeepsConnectionOpen)
        XCTAssertFalse(p.tempQueueSubscribeRefused)
        XCTAssertTrue(p.tempQueueNeedsSubscribe)
        XCTAssertTrue(p.firstHeartBeatLate)
        XCTAssertTrue(p.repeatedHeaderFirstWins)
        XCTAssertTrue(p.nackSupported)
        XCTAssertEqual(p.largestFrameBytes, 64 << 20)
    }

    func testRowsThatCouldNotTellKeepTheDefaults() {
        var r = Self.activeMQLike
        for i in r.results.indices { r.results[i].verdict = .couldNotTell }
        r.results[4].verdict = .deviates   // the errors row stands
        var expected = BrokerQuirksProfile()
        expected.server = "Mystery/1"
        expected.errorKeepsConnectionOpen = true
        XCTAssertEqual(BrokerQuirksProfile(report: r), expected)
    }

    func testProfileFileAndCardFileLoadToTheSameProfile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probe-profile-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let profileFile = dir.appendingPathComponent("p.json"), cardFile = dir.appendingPathComponent("card.json")
        let p = BrokerQuirksProfile(report: Self.activeMQLike)
        try p.jsonData().write(to: profileFile)
        try Self.activeMQLike.jsonData().write(to: cardFile)
        XCTAssertEqual(try BrokerQuirksProfile.load(path: profileFile.path), p)
        XCTAssertEqual(try BrokerQuirksProfile.load(path: cardFile.path), p)
        XCTAssertTrue(String(decoding: try p.jsonData(), as: UTF8.self).contains("\"format\" : \"stompsh-broker-profile/1\""))
    }

    func testMissingKeysTakeTheDefaults() throws {
        let p = try BrokerQuirksProfile.decode(Data(#"{"format":"stompsh-broker-profile/1","hostIsVirtualHost":true}"#.utf8))
        var expected = BrokerQuirksProfile()
        expected.hostIsVirtualHost = true
        XCTAssertEqual(p, expected)
    }

    func testBadProfilesSayWhatIsWrong() throws {
        func reason(_ text: String) -> String {
            do { _ = try BrokerQuirksProfile.decode(Data(text.utf8), path: "f.json"); return "loaded" } catch { return "\(error)" }
        }
        XCTAssertEqual(reason("[1]"), "broker profile 'f.json': not a JSON object")
        XCTAssertEqual(reason("\u{FF}"), "broker profile 'f.json': not a JSON object")
        XCTAssertTrue(reason("{}").contains("neither a profile"))
        XCTAssertTrue(reason(#"{"format":"other/9"}"#).contains("unknown format \"other/9\""))
        XCTAssertTrue(reason(#"{"format":"stompsh-broker-profile/1","nackSupported":"yes"}"#).contains("bad profile"))
        XCTAssertTrue(reason(#"{"results":3}"#).contains("not a stompsh probe card"))
        XCTAssertThrowsError(try BrokerQuirksProfile.load(path: "/nonexistent/p.json")) { XCTAssertTrue("\($0)".hasSuffix("no such file")) }
        XCTAssertThrowsError(try BrokerQuirksProfile.load(path: "/tmp")) { XCTAssertTrue("\($0)".hasSuffix("is a directory")) }
    }
}
