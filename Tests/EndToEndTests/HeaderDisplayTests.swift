import Foundation
import XCTest

/// Header values hold any byte but NUL in STOMP 1.2 (LF and CR escaped on the wire): printed for a person they
/// stay on one line with their control characters visible (`\n`, `\r`, `\xHH`), so a broker, or whoever sent the
/// message, cannot forge a header line or a `status` entry, nor drive the terminal with ESC. `--json` stays exact.
final class HeaderDisplayTests: XCTestCase {
    /// ESC + "[2J" (clear the screen), handed in through the environment: a line has no escape for ESC.
    static let env = ["LEFT_ESC": "\u{1B}[2J"]
    static let note = "one\nforged:header\rtwo"

    /// A received MESSAGE whose header holds LF, CR and ESC (sent through each real broker and the sandbox) prints
    /// one line per header, escaped; its JSON line has the value exactly.
    func testAMessageHeaderWithLineBreaksPrintsOnOneLine() throws {
        for (name, url) in Brokers.all() {
            let q = Brokers.unique("s8left-hdr")
            let lines = ["subscribe \(q)", #"send \#(q) -H "x-note:one\nforged:header\rtwo" -H "x-esc:${env.LEFT_ESC}" hi"#,
                         "expect --body hi"]
            let r = try Stompsh.run([url] + lines.flatMap { ["-c", $0] }, env: Self.env)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains(#"x-note:one\nforged:header\rtwo"#), "\(name): \(r.stdout)")
            XCTAssertTrue(r.stdout.contains(#"x-esc:\x1B[2J"#), "\(name): \(r.stdout)")
            XCTAssertFalse(r.stdout.contains("\u{1B}"), "\(name): ESC reached the terminal: \(r.stdout)")
            XCTAssertFalse(r.stdout.contains("\r"), "\(name): \(r.stdout)")
            for line in r.stdout.split(separator: "\n") {
                XCTAssertFalse(line.hasPrefix("forged:"), "\(name): a forged header line: \(r.stdout)")
            }

            let json = try Stompsh.run(["--json", url] + lines.flatMap { ["-c", $0] }, env: Self.env)
            XCTAssertEqual(json.status, 0, "\(name): \(json.stderr)")
            let message = json.lines.compactMap { line -> [String: Any]? in
                let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                return o?["frame"] as? String == "MESSAGE" ? o : nil
            }.first
            let headers = message?["headers"] as? [String: String]
            XCTAssertEqual(headers?["x-note"], Self.note, "\(name): \(json.stdout)")
            XCTAssertEqual(headers?["x-esc"], "\u{1B}[2J", "\(name): \(json.stdout)")
        }
    }

    /// `status` lists subscription ids, destinations and transactions one to a line, escaped; `--json` exact.
    func testStatusShowsIdsAndTransactionsOnOneLine() throws {
        for (name, url) in Brokers.all() {
            let q = Brokers.unique("s8left-status")
            let lines = [#"subscribe \#(q) --id "s8left\nforged-subscription""#, #"begin "tx\r\nforged-transaction""#, "status"]
            let r = try Stompsh.run([url] + lines.flatMap { ["-c", $0] })
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains(#"s8left\nforged-subscription  \#(q)  ack:auto"#), "\(name): \(r.stdout)")
            XCTAssertTrue(r.stdout.contains(#"transactions tx\r\nforged-transaction"#), "\(name): \(r.stdout)")
            for line in r.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
                XCTAssertFalse(line.hasPrefix("forged"), "\(name): a forged status line: \(r.stdout)")
            }

            let json = try Stompsh.run(["--json", url] + lines.flatMap { ["-c", $0] })
            XCTAssertEqual(json.status, 0, "\(name): \(json.stderr)")
            let status = json.lines.compactMap { line -> [String: Any]? in
                let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                return o?["subscriptions"] != nil ? o : nil
            }.first
            let subscriptions = status?["subscriptions"] as? [[String: Any]]
            XCTAssertEqual(subscriptions?.first?["id"] as? String, "s8left\nforged-subscription", "\(name): \(json.stdout)")
            XCTAssertEqual(status?["transactions"] as? [String], ["tx\r\nforged-transaction"], "\(name): \(json.stdout)")
        }
    }
}
