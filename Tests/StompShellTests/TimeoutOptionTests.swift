import Foundation
import NIOCore
import StompConnection
import StompTestSupport
import XCTest
@testable import StompShell

/// `TimeoutOption`: the one rule for `--write-timeout`/`--receipt-timeout` (argv and `connect`), and what reaches
/// the connection's options from argv's defaults and from `connect`'s own options.
final class TimeoutOptionTests: XCTestCase {
    func testAmounts() throws {
        XCTAssertNil(try TimeoutOption.write.amount("0"), "0: no stall check")
        XCTAssertNil(try TimeoutOption.write.amount("0.0"))
        XCTAssertEqual(try TimeoutOption.write.amount("1.5"), .milliseconds(1500))
        XCTAssertEqual(try TimeoutOption.write.amount("31536000"), .seconds(31_536_000))
        XCTAssertEqual(try TimeoutOption.receipt.amount("0.001"), .milliseconds(1))
        XCTAssertEqual(try TimeoutOption.receipt.amount("30"), .seconds(30))
        for (option, text) in [(TimeoutOption.receipt, "0"), (.write, "-1"), (.write, "-0.001"), (.receipt, "nan"),
                               (.write, "inf"), (.write, "1e12"), (.receipt, "31536000.5"), (.write, "0.0009"), (.write, ""),
                               (.receipt, "10s"), (.write, " 1")] {
            XCTAssertThrowsError(try option.amount(text), "\(option.rawValue) '\(text)'") { e in
                let se = e as? ShellError
                XCTAssertEqual(se?.exitStatus, 2)
                XCTAssertEqual(se?.message.hasPrefix(option.rawValue + ": expected seconds"), true, se?.message ?? "")
                XCTAssertEqual(se?.message.contains("\n"), false)
            }
        }
    }

    func testDefaultsFromArgvAndConnectOptionsReachTheConnection() throws {
        let o = Output(color: false)
        o.sink = { _, _ in }
        let shell = Shell(output: o)
        let url = SandboxFixture.url
        try shell.run(line: "connect \(url)")
        XCTAssertEqual(shell.client?.options.writeStallTimeout, .seconds(10), "the default")
        XCTAssertEqual(shell.client?.options.receiptTimeout, .seconds(10), "the default")
        // argv: --write-timeout 0 --receipt-timeout 2.5
        var d = shell.defaults
        d.parameters.writeTimeout = "0"
        d.parameters.receiptTimeout = "2.5"
        shell.defaults = d
        try shell.run(line: "connect \(url)")
        XCTAssertNil(shell.client?.options.writeStallTimeout)
        XCTAssertEqual(shell.client?.options.receiptTimeout, .milliseconds(2500))
        // `connect`'s own options win over argv's
        try shell.run(line: "connect \(url) --write-timeout 3 --receipt-timeout 0.25")
        XCTAssertEqual(shell.client?.options.writeStallTimeout, .seconds(3))
        XCTAssertEqual(shell.client?.options.receiptTimeout, .milliseconds(250))
        try shell.run(line: "disconnect")
    }
}
