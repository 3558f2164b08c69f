// Faults the shell-parser fuzzer (scripts/fuzz shell-parser) found, each from its minimised input; the inputs are
// also kept as seeds in fuzz/corpus/shell-parser/regression-*.
import XCTest
@testable import StompShell
import RPCCommands

final class FuzzRegressionTests: XCTestCase {
    /// The logical lines of a -c script, as the batch runner reads them.
    func logicalLines(_ script: String) -> [LogicalLine] {
        var reader = LogicalLineReader(StringScriptSource(name: "-c[1]", text: script), table: CommandTable.all)
        var out: [LogicalLine] = []
        while let l = reader.next() { out.append(l) }
        return out
    }

    /// Input "\r\n" (regression-crlf): CR LF is a single Character, so splitting the -c text on "\n" left
    /// CRLF-separated commands on one line (`-c $'echo a\r\necho b'` printed "a\r\necho b").
    func testCRLFEndsALineOfACommandString() {
        XCTAssertTrue(logicalLines("\r\n").isEmpty)
        XCTAssertEqual(logicalLines("echo a\r\necho b\r\n").map(\.text), ["echo a", "echo b"])
        XCTAssertEqual(logicalLines("echo a\r\n\r\necho b\necho c\r").map(\.text), ["echo a", "echo b", "echo c"])
    }

    /// Input "rpc serve $dest'" (regression-rpc-substitution): the rpc words were split after substitution, so
    /// their columns counted in the substituted text; with dest=/queue/orders the unterminated quote was
    /// reported at column 24 of a 16-column line. Now columns are the line's, and a value's are its `$`'s.
    func testRPCErrorColumnsAreColumnsOfTheLineAsTyped() throws {
        let vars = ["dest": "/queue/orders", "bad": "[1,,2]"]
        func column(_ line: String) throws -> Int? {
            let cmd = try XCTUnwrap(LineParser.parse(line, table: CommandTable.all, resolve: { vars[$0] }))
            do {
                let args = try RPCCommandLine(cmd, resolve: { vars[$0] }).arguments()
                _ = try RPCCommandLine.callParams(args)
                return nil
            } catch let e as RPCUsageError { return e.column }
        }
        XCTAssertEqual(try column("rpc serve $dest'"), 16)
        XCTAssertEqual(try column("rpc call $dest m 1 ${bad} 2"), 20)          // inside a value: its `$`
        XCTAssertEqual(try column("rpc call $dest m 1 [\"e\u{301}\", x"), 26)   // in characters, not scalars
        XCTAssertEqual(try column("rpc call /q m --params $bad"), 24)
    }

    /// Input "send\\\n <<TAG\n$A\nTAG" (regression-heredoc-after-continuation): an error in a heredoc line was
    /// placed counting from the first line of a continued command line, one line too early per continuation.
    func testHeredocErrorsPointAtTheHeredocLineAfterAContinuation() throws {
        let lines = logicalLines("send\\\n <<TAG\n$A\nTAG\n")
        XCTAssertEqual(lines.count, 1)
        let line = try XCTUnwrap(lines.first)
        XCTAssertEqual(line.block, ["$A"])
        XCTAssertThrowsError(try LineParser.parse(line.text, block: line.block, table: CommandTable.all, resolve: { _ in nil })) { e in
            let e = e as! ShellError
            XCTAssertEqual(e.lineOffset, 1)
            XCTAssertEqual(line.position(of: e).line, 3)
            XCTAssertEqual(line.position(of: e).column, 1)
        }
    }
}

