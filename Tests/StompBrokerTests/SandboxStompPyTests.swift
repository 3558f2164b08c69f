import Foundation
import StompTestSupport
import XCTest
@testable import StompBroker

/// A client nobody here wrote agrees: stomp.py drives the sandbox (STOMP 1.0, 1.1, 1.2) through the behaviours
/// where it follows ActiveMQ 5.17 (Tests/python/sandbox_conformance.py), and the same script passes against
/// the real ActiveMQ when STOMPSH_TEST_ACTIVEMQ names one.
final class SandboxStompPyTests: XCTestCase {
    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("python/sandbox_conformance.py").path

    /// Runs the script against HOST:PORT; returns its output, failing the test if any check failed.
    private func runScript(host: String, port: Int, extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let python = try StompPy.python()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, Self.script, host, String(port)] + extra
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, out, file: file, line: line)
        XCTAssertTrue(out.contains("\n0 failed"), out, file: file, line: line)
        return out
    }

    func testStompPyFindsTheSandboxBehavingAsActiveMQ() throws {
        let broker = try SandboxBroker.startDetached(configuration: BrokerConfiguration(connectTimeout: 2000))
        defer { try? broker.stop().wait() }
        let out = try runScript(host: "127.0.0.1", port: broker.port, extra: ["--connect-timeout", "2"])
        XCTAssertTrue(out.contains("ok   no CONNECT: closed after about 2.0 s"), out)
    }

    func testTheSameScriptPassesAgainstActiveMQ() throws {
        guard let url = ProcessInfo.processInfo.environment["STOMPSH_TEST_ACTIVEMQ"],
              let components = URLComponents(string: url), let host = components.host, let port = components.port else {
            if ProcessInfo.processInfo.environment["STOMPSH_REQUIRE_BROKERS"] == "1" { return XCTFail("STOMPSH_TEST_ACTIVEMQ is not set") }
            throw XCTSkip("STOMPSH_TEST_ACTIVEMQ is not set")
        }
        _ = try runScript(host: host, port: port)
    }
}
