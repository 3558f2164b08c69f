import Foundation
import StompProto
import XCTest
@testable import StompShell

/// The shortcuts of the script and printing paths give exactly what the general code gives: a repeat's parse-once
/// template, byte-level variable substitution, frames printed as bytes in a batch, arrivals consumed in bulk.
final class FastPathEquivalenceTests: XCTestCase {
    /// What a parse gave, comparable: the command or the error with its column.
    private func outcome(_ f: () throws -> ParsedCommand?) -> String {
        do {
            guard let p = try f() else { return "nil" }
            return "\(p.spec.name) \(p.arguments) \(p.optionValues.map { "\($0.long)=\($0.value)@\($0.column)" }) "
                + "\(p.body.map { String(decoding: $0, as: UTF8.self) } ?? "-") \(p.argumentColumns) \(p.commandColumn) \(p.endColumn)"
        } catch let e as ShellError {
            return "error \(e.message) @\(e.column.map(String.init) ?? "-") +\(e.lineOffset) status \(e.exitStatus)"
        } catch {
            return "other \(error)"
        }
    }

    func testTemplateInstantiatesAsAFullParseWouldParse() throws {
        let lines = ["send /queue/a body-${i}", "send /queue/a --receipt x-$i-${j}", "send /queue/a $$i ${i}$", "echo ${i} and $i",
                     "set x ${i}", "repeat 2 echo ${i}", "send /queue/a ${missing}", "send /queue/a ${}", "send /queue/a ${i",
                     "send /queue/a ünï ${i} ✓", "send /queue/a", "   send /queue/a  spaced  ${j}  ", "bench send /queue/a ${i}"]
        let values: [[String: String]] = [["i": "1", "j": "x"], ["i": "22", "j": ""], ["i": "-3", "j": "${i}"], ["i": "é", "j": "a b"]]
        for line in lines {
            var template: LineTemplate?
            var first: [String: String] = values[0]
            let resolve: VariableResolver = { first[$0] }
            _ = try? LineParser.parse(line, block: nil, table: CommandTable.all, resolve: resolve, template: &template)
            if line.hasPrefix("send /queue/a body") || line.hasPrefix("repeat") || line.hasPrefix("echo") {
                XCTAssertNotNil(template, line)
            }
            for v in values {
                first = v
                let full = outcome { try LineParser.parse(line, resolve: resolve) }
                if let template {
                    XCTAssertEqual(outcome { try template.instantiate(resolve: resolve) }, full, "\(line) with \(v)")
                }
            }
        }
        // where a variable is anywhere but in the rest of the line, no template (its value may make an option)
        for line in ["send -H a:${i} /queue/a b", "send ${q} body", "${cmd} /queue/a b", "send /queue/a <<EOF"] {
            var template: LineTemplate?
            _ = try? LineParser.parse(line, block: line.hasSuffix("EOF") ? ["x ${i}"] : nil, table: CommandTable.all,
                                      resolve: { _ in "v" }, template: &template)
            XCTAssertNil(template, line)
        }
    }

    func testASCIISubstitutionMatchesTheCharacterPath() {
        let texts = ["plain", "a$", "$", "$$", "$$x", "${}", "${x", "$1", "${x}${y}", "$x_y1-z", "pre ${x} post $y.", "${x}}",
                     "a\tb $x", "${last.header.x}", "${unknown} after", "x $unknown", "$_u", "${x}$"]
        let vars = ["x": "X", "y": "why", "x_y1": "U", "_u": "under"]
        let resolve: VariableResolver = { name in
            if name == "last.header.x" { throw ShellError("not UTF-8") }
            return vars[name]
        }
        for text in texts {
            for base in [1, 17] {
                let fast = outcome {
                    guard let s = try LineLexer.expandASCII(text, baseColumn: base, resolve: resolve) else { return nil }
                    return ParsedCommand(spec: CommandTable.all[0], arguments: [s])
                }
                let slow = outcome {
                    ParsedCommand(spec: CommandTable.all[0],
                                  arguments: [String(try LineLexer.expandTracked(text, baseColumn: base, resolve: resolve).chars)])
                }
                XCTAssertEqual(fast, slow, text)
            }
        }
        XCTAssertNil(try LineLexer.expandASCII("é $x", baseColumn: 1, resolve: resolve), "not ASCII: the Character path")
        XCTAssertNil(try LineLexer.expandASCII("a\r\n$x", baseColumn: 1, resolve: resolve), "CR LF is one character")
    }

    private func frames() -> [StompFrame] {
        let h = StompHeaders([("destination", "/queue/a"), ("message-id", "m-1"), ("x", "1"), ("x", "2")])
        var json = h
        json.append("content-type", "application/json")
        let bodies: [[UInt8]] = [[], Array("plain body".utf8), Array("line1\r\nline2\r\n".utf8), Array("ends\n".utf8),
                                 Array("  {\"a\":[1,2]}".utf8), Array(" [1, 2] ".utf8), Array("{not json".utf8),
                                 Array("ünï ✓".utf8), [0x62, 0x01, 0x00, 0xFF], Array("tab\tx\u{7F}".utf8), Array("x\r\n".utf8),
                                 Array(" \n ".utf8),
                                 // longer than a word: what the word-at-a-time scans see past their first 8 bytes
                                 Array("a longer plain body, well past one word of eight bytes".utf8),
                                 Array("a longer body with \"quotes\" and a \\ backslash past one word".utf8),
                                 Array("sixteen bytes ok\u{1}control after two words".utf8),
                                 Array("sixteen bytes ok ünïcode after two words".utf8)]
        var out: [StompFrame] = []
        for b in bodies {
            out.append(StompFrame(.message, headers: h, body: b))
            out.append(StompFrame(.message, headers: json, body: b))
        }
        var many = StompHeaders([("destination", "/queue/a"), ("quote", "a \"b\" \\ c\td"),
                                 ("long-plain", "a value longer than eight bytes"), ("long-ctl", "0123456789\u{1}x"),
                                 ("long-quote", "0123456789abcdef\"")])
        for k in 0..<20 { many.append("h\(k % 15)", "v\(k)") }
        out.append(StompFrame(.message, headers: many, body: Array("many headers".utf8)))
        out.append(StompFrame(.error, headers: StompHeaders([("message", "bad")]), body: Array("why".utf8)))
        out.append(StompFrame(.receipt, headers: StompHeaders([("receipt-id", "r-1")]), body: []))
        return out
    }

    /// The printing path writes headers from their bytes (`forEachLineBytes`): the same JSON as the JSONValue
    /// formatter (first value of each name, escapes, many lines with repeats), and every line as `name:value`
    /// (through `VisibleText`).
    func testHeaderBytesArePrintedAsTheirStrings() {
        var escaped = StompHeaders([("destination", "/queue/ü"), ("x", "1"), ("x", "2"), ("q\"uote", "tab\there"), ("ctl", "a\u{1}b")])
        escaped.append("dup-later", "first")
        escaped.append("dup-later", "second")
        // non-ASCII UTF-8 needs no JSON escape: the one-copy path, with a repeated name
        let unescaped = StompHeaders([("destination", "/queue/ü"), ("x", "1"), ("ü", "é ✓"), ("x", "2"), ("y", "")])
        // names of one length (distinct and repeated), lengths equal modulo 64 (1 and 65), empty names repeated
        let long = String(repeating: "n", count: 65)
        let lengths = StompHeaders([("ab", "1"), ("cd", "2"), ("ab", "3"), ("a", "4"), (long, "5"), ("a", "6"), (long, "7"),
                                    (String(repeating: "m", count: 65), "8"), ("", "9"), ("", "10")])
        for f in frames() + [StompFrame(.message, headers: escaped, body: Array("b".utf8)),
                             StompFrame(.message, headers: unescaped, body: Array("b".utf8)),
                             StompFrame(.message, headers: lengths, body: Array("b".utf8))] {
            var json: [UInt8] = []
            FrameFormatter.appendJSON(f, to: &json)
            XCTAssertEqual(String(decoding: json, as: UTF8.self), FrameFormatter.json(f).compact)
            var plain: [UInt8] = []
            FrameFormatter.appendPlain(f, to: &plain)
            let lines = String(decoding: plain, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            // each line as `VisibleText` shows it (the bytes' way and the String way agree)
            XCTAssertEqual(lines[1...f.headers.count].map(String.init),
                           f.headers.map { "\(VisibleText.name($0.name)):\(VisibleText.value($0.value))" })
            var first = f.command.rawValue
            if let d = f.headers["destination"] { first += " " + VisibleText.value(d) }
            if f.command == .error, let m = f.headers["message"] { first += " " + VisibleText.value(m) }
            if f.command == .receipt, let r = f.headers["receipt-id"] { first += " " + VisibleText.value(r) }
            XCTAssertEqual(String(lines[0]), first)
        }
    }

    func testFramesPrintedInABatchAreWhatEachPrintedAloneIs() throws {
        for format in [OutputFormat.pretty, .json] {
            var alone: [(String, OutputTarget)] = []
            var batched: [(String, OutputTarget)] = []
            let a = Output(color: false)
            a.format = format
            a.sink = { alone.append(($0, $1)) }
            let b = Output(color: false)
            b.format = format
            b.sink = { batched.append(($0, $1)) }
            for f in frames() { a.frame(f) }
            a.error("an error")
            a.frame(frames()[1])
            b.batch {
                for f in frames() { b.frame(f) }
                b.error("an error")
                b.frame(frames()[1])
            }
            // the same text, in one write before the error and one after it
            XCTAssertEqual(batched.count, 3)
            XCTAssertEqual(batched.map(\.1), [.stdout, .stderr, .stdout])
            XCTAssertEqual(batched[0].0, alone.dropLast(2).map(\.0).joined(), "\(format)")
            XCTAssertEqual(batched[1].0, "an error\n")
            XCTAssertEqual(batched[2].0, alone.last!.0)
        }
    }

    func testBytesWrittenByTheWriterAreTheHeldText() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let out = Output(color: false, writer: OutputWriter(stdout: fds[1], stderr: fds[1]))
        out.batch { for f in frames() { out.frame(f) } }
        close(fds[1])
        let printed = FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile()
        let expected = frames().map { FrameFormatter.pretty($0, color: nil) }
            .map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
        XCTAssertEqual(String(decoding: printed, as: UTF8.self), expected)
    }

    func testBulkConsumeIsConsumeOneByOne() {
        func inbox(_ n: Int) -> Inbox {
            let i = Inbox(wake: WakeUp())
            for k in 0..<n {
                let f = StompFrame(.message, headers: StompHeaders([("destination", k % 3 == 0 ? "/queue/a" : "/queue/b"),
                                                                    ("subscription", k % 2 == 0 ? "s1" : "s2")]),
                                   body: Array("m\(k)".utf8))
                i.record(ReceivedMessage(frame: f, receivedAt: Date()))
            }
            return i
        }
        for filter in [nil, "s1", "/queue/a", "none"] {
            for (count, limit) in [(10, 4), (10, 100), (Inbox.maxPending + 50, 70)] {
                let one = inbox(count), bulk = inbox(count)
                var got = 0
                while got < limit, one.consumeArrival(on: filter) { got += 1 }
                XCTAssertEqual(bulk.consumeArrivals(upTo: limit, on: filter), got, "\(filter ?? "-") \(count) \(limit)")
                XCTAssertEqual(bulk.pending.map(\.frame.body), one.pending.map(\.frame.body))
                XCTAssertEqual(bulk.unconsumedCount, one.unconsumedCount)
                // what is left is consumed the same way afterwards
                XCTAssertEqual(bulk.consume(on: nil)?.frame.body, one.consume(on: nil)?.frame.body)
            }
        }
    }
}
