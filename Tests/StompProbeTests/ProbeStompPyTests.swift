// A client nobody here wrote agrees with the card: stomp.py (Tests/python/probe_interop.py, STOMP 1.0, 1.1 and 1.2
// connections) drives the sandbox through some of the probe's checks, and reports each in the card's words.

import Foundation
import NIOPosix
import StompConnection
import StompProbe
import StompTestSupport
import XCTest

final class ProbeStompPyTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/probe_interop.py").path

    func testStompPyAgreesWithTheSandboxCard() throws { try agree(try StompURL(parsing: SandboxFixture.url)) }

    func testStompPyAgreesWithTheActiveMQCard() throws {
        guard let u = ProcessInfo.processInfo.environment["STOMPSH_TEST_ACTIVEMQ"], !u.isEmpty else {
            if ProcessInfo.processInfo.environment["STOMPSH_REQUIRE_BROKERS"] == "1" { XCTFail("STOMPSH_TEST_ACTIVEMQ not set") }
            throw XCTSkip("STOMPSH_TEST_ACTIVEMQ not set")
        }
        try agree(try StompURL(parsing: u))
    }

    func agree(_ url: StompURL) throws {
        let python = try StompPy.python()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, Self.script, url.host, String(url.port)]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, errText)
        let seen = try JSONDecoder().decode([String: String].self, from: data)
        XCTAssertGreaterThanOrEqual(seen.count, 14, "\(seen)")

        var options = ProbeOptions()
        options.groups = [.connect, .delivery, .transactions, .errors, .reply]
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let report = Prober(transport: SocketTransport(url: url, group: group),
                            target: ProbeTarget(login: "guest", passcode: "guest", host: "/", hostName: url.host),
                            options: options, displayURL: url.description).run()
        for (id, key) in seen.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(report.result(id)?.key, key, "\(id): stomp.py saw '\(key)', the probe '\(report.result(id)?.observed ?? "no row")'")
        }
    }
}
