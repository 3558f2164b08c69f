// `stompsh --profile FILE`: what a probe learned changes how the shell talks to a broker it does not recognise.

import Foundation
import StompConnection
@testable import StompProbe
import StompTestSupport
import XCTest

final class ProfileOptionTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("integ-profile-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func file(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Runs the shell (not `probe`) with `args`.
    private func stompsh(_ args: [String]) throws -> ProbeCommandTests.Run {
        try runToEnd(ProbeCommandTests.binary, args)
    }

    /// The profile says SUBSCRIBE to a temp queue is refused (the broker subscribes the requester itself): against
    /// the sandbox, which stompsh otherwise treats by the specification, `subscribe /temp-queue/...` sends no
    /// SUBSCRIBE; without the profile it does. The same profile's host rule changes CONNECT's `host`.
    func testAProfileChangesTheTempQueueAndHostRules() throws {
        let profile = try file("p.json", #"{"format":"stompsh-broker-profile/1","tempQueueSubscribeRefused":true,"hostIsVirtualHost":false}"#)
        let command = ["--sandbox", "--trace", "-c", "subscribe /temp-queue/integ-profile"]
        let plain = try stompsh(command)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.contains(">>> SUBSCRIBE"), plain.stdout)
        XCTAssertTrue(plain.stdout.contains(">>> host:/\n"), plain.stdout)
        let profiled = try stompsh(["--profile", profile] + command)
        XCTAssertEqual(profiled.status, 0, profiled.stderr)
        XCTAssertFalse(profiled.stdout.contains(">>> SUBSCRIBE"), profiled.stdout)
        XCTAssertTrue(profiled.stdout.contains(">>> host:127.0.0.1\n"), profiled.stdout)
        XCTAssertTrue(profiled.stdout.contains("subscribed to /temp-queue/integ-profile"), profiled.stdout)
    }

    /// A card's rows become the client's quirks: RabbitMQ's answers (host name refused, SUBSCRIBE to a temp
    /// queue refused) give RabbitMQ's rules; ActiveMQ's give the specification's.
    func testACardGivesTheQuirksItMeasured() throws {
        typealias R = ProbeReportTests
        let rabbitLike = ProbeReport(url: "stomp://x", server: "Mystery/2", unreachable: false, prefix: "p", seconds: 1, results: [
            R.row("connect.host-literal", .conforms, key: "refused"),
            R.row("reply.temp-queue-subscribe", .notSupported, key: "refused, stays open"),
        ])
        let q = BrokerQuirks(profile: BrokerQuirksProfile(report: rabbitLike))
        XCTAssertTrue(q.subscribesTempQueuesItself)
        XCTAssertEqual(q.hostIsVirtualHost, true)
        let a = BrokerQuirks(profile: BrokerQuirksProfile(report: BrokerQuirksProfileTests.activeMQLike))
        XCTAssertFalse(a.subscribesTempQueuesItself)
        XCTAssertEqual(a.hostIsVirtualHost, false)
    }

    /// A profile that cannot be used: one line on stderr naming the file, exit 2, nothing run.
    func testABadProfileIsAOneLineUsageError() throws {
        let cases = [
            try file("garbage.json", "not json"),
            try file("other.json", #"{"format":"something-else/9"}"#),
            try file("typed.json", #"{"format":"stompsh-broker-profile/1","hostIsVirtualHost":"yes"}"#),
            dir.path,
            dir.appendingPathComponent("missing.json").path,
        ]
        for path in cases {
            let r = try stompsh(["--profile", path, "-c", "echo ran"])
            XCTAssertEqual(r.status, 2, "\(path): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("stompsh: --profile: broker profile '\(path)': "), r.stderr)
            XCTAssertFalse(r.stdout.contains("ran"), r.stdout)
        }
    }
}
