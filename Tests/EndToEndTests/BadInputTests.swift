import Foundation
import XCTest

/// Bad user input, one table: each kind gets its exact error (with -c[INDEX]:LINE:COL) and leaves the session
/// connected — a send and receive right after it works, on a real broker.
final class BadInputTests: XCTestCase {
    struct Row {
        var kind: String
        /// The bad command line (a `-c` source; it may span lines).
        var input: String
        /// The error, after "-c[INDEX]:".
        var error: String
    }

    static let bigFile: String = {
        // Sparse: one byte over the 64 MiB body limit without writing 64 MiB.
        let path = NSTemporaryDirectory() + "stompsh-big-body-\(getpid())"
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o600)
        _ = ftruncate(fd, off_t(64 * 1024 * 1024 + 1))
        close(fd)
        return path
    }()

    static func rows(queue q: String) -> [Row] {
        [
            Row(kind: "unknown command", input: "sedn \(q) x",
                error: "1:1: error: unknown command 'sedn' (did you mean 'send'?)"),
            Row(kind: "bad option", input: "wait 1 --bogus",
                error: "1:8: error: unknown option '--bogus' for 'wait'"),
            Row(kind: "bad option value", input: "subscribe \(q) --ack sometimes",
                error: "1:\(18 + q.count): error: --ack: expected auto|client|client-individual, got 'sometimes'"),
            Row(kind: "bad URL (its passcode masked)", input: "connect ftp://bob:S3cret@nowhere",
                error: "1:1: error: bad URL: invalid broker URL 'ftp://bob:****@nowhere': unknown scheme 'ftp' (use stomp://, stomp+ssl://, ws:// or wss://)"),
            Row(kind: "bad literal", input: "rpc call /queue/nobody add [1,2",
                // The column where the literal should have gone on.
                error: "1:32: error: malformed literal [1,2: unexpected end of input, expected ',' or ']'"),
            Row(kind: "bad regex", input: "expect --body-match (",
                error: "1:8: error: bad regex '('"),
            Row(kind: "unterminated heredoc", input: "send \(q) <<EOF\nthe body\nno end marker",
                error: "1:\(7 + q.count): error: unterminated heredoc (missing a line 'EOF')"),
            Row(kind: "missing file", input: "send \(q) --file /nonexistent/body",
                error: "1:\(7 + q.count): error: cannot read '/nonexistent/body': No such file or directory"),
            Row(kind: "body too large", input: "send \(q) --file \(bigFile)",
                error: "1:\(7 + q.count): error: body too large: '\(bigFile)' is 67108865 bytes; stompsh sends at most 67108864 (64 MiB, its maxBodySize)"),
        ]
    }

    func testEachBadInputHasItsExactErrorAndTheSessionStaysConnected() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("bad-input")
        defer { try? FileManager.default.removeItem(atPath: Self.bigFile) }
        let rows = Self.rows(queue: q)
        var commands = ["set on-error continue", "subscribe \(q)"]
        var expected: [String] = []
        for (i, row) in rows.enumerated() {
            expected.append("-c[\(commands.count + 1)]:\(row.error)")
            commands += [row.input, "send \(q) still-connected-\(i)", "expect --body still-connected-\(i) --timeout 10"]
        }
        commands.append("status")
        var args = [url]
        for c in commands { args += ["-c", c] }
        let r = try Stompsh.run(args)
        let errors = r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-c[") }
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(i < errors.count ? errors[i] : nil, expected[i], row.kind)
        }
        XCTAssertEqual(errors.count, rows.count, "one error per bad input, none after:\n\(r.stderr)")
        XCTAssertFalse(r.stderr.contains("S3cret"), r.stderr)
        XCTAssertTrue(r.stdout.contains("connected to \(url)"), r.stdout)
        XCTAssertEqual(r.status, 2, "the highest status of the failures: 2 for the bad URL (a usage error)")
    }
}
