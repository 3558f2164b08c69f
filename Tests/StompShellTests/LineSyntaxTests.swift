import XCTest
import StompProto
@testable import StompShell

/// The rules a line is read by, as the man page states them: backslashes outside quotes, heredoc quoting,
/// counts, one `-H` parser, lines that are not UTF-8.
final class LineSyntaxTests: XCTestCase {
    let vars: [String: String] = ["name": "world", "HOME": "/home/ada"]
    var resolve: VariableResolver { { self.vars[$0] } }

    func parse(_ line: String, block: [String]? = nil) throws -> ParsedCommand {
        try XCTUnwrap(LineParser.parse(line, block: block, resolve: resolve))
    }

    func error(_ line: String) -> ShellError? {
        do { _ = try LineParser.parse(line, resolve: resolve); return nil } catch let e as ShellError { return e } catch { return nil }
    }

    // MARK: backslashes outside quotes

    func testBackslashBeforeAnOrdinaryCharacterIsKept() throws {
        XCTAssertEqual(try parse(#"send /q -H a:b\c x"#).option("--header"), #"a:b\c"#)
        XCTAssertEqual(try parse(#"subscribe C:\queue\n"#).arguments, [#"C:\queue\n"#])
        XCTAssertEqual(try parse(#"subscribe /q\"#).arguments, [#"/q\"#], "a last backslash is itself")
    }

    func testBackslashEscapesBlanksQuotesDollarAndItself() throws {
        XCTAssertEqual(try parse(#"subscribe a\ b"#).arguments, ["a b"])
        XCTAssertEqual(try parse(#"subscribe it\'s"#).arguments, ["it's"])
        XCTAssertEqual(try parse(#"subscribe \"q\""#).arguments, [#""q""#])
        XCTAssertEqual(try parse(#"subscribe \$name"#).arguments, ["$name"])
        XCTAssertEqual(try parse(#"subscribe a\\b"#).arguments, [#"a\b"#])
    }

    func testDoubleQuotesKeepUnknownEscapes() throws {
        XCTAssertEqual(try parse(#"subscribe "a\qb\tc""#).arguments, ["a\\qb\tc"])
    }

    // MARK: heredocs

    func testHeredocSubstitutesUnquotedTagOnly() throws {
        let block = ["home is $HOME", #"a\b ${name}"#]
        XCTAssertEqual(String(decoding: try parse("send /q <<END", block: block).body!, as: UTF8.self),
                       "home is /home/ada\n" + #"a\b world"#)
        for marker in ["<<'END'", #"<<"END""#] {
            XCTAssertEqual(LineParser.blockTerminator(for: "send /q \(marker)"), "END", marker)
            let body = String(decoding: try parse("send /q \(marker)", block: block + ["$nope"]).body!, as: UTF8.self)
            XCTAssertEqual(body, "home is $HOME\n" + #"a\b ${name}"# + "\n$nope", marker)
        }
        XCTAssertNil(LineParser.blockTerminator(for: "send /q '<<END'"), "a quoted marker is text")
        XCTAssertNil(LineParser.blockTerminator(for: "send /q <<'END"), "an unterminated quote is no marker")
    }

    func testUnterminatedQuotedHeredocPointsAtItsMarker() {
        var reader = LogicalLineReader(StringScriptSource(name: "t", text: "send /q <<'END'\nbody\n"), table: CommandTable.all)
        let line = reader.next()
        XCTAssertEqual(line?.refusal?.message, "unterminated heredoc (missing a line 'END')")
        XCTAssertEqual(line?.refusal?.column, 9)
    }

    // MARK: the ignore marker

    func testLeadingDashMayBeFollowedByBlanks() {
        XCTAssertTrue(LineParser.stripIgnoreMarker("-wait 1").ignoreErrors)
        XCTAssertEqual(LineParser.stripIgnoreMarker("- wait 1").line, "  wait 1", "columns stay the script's")
        XCTAssertTrue(LineParser.stripIgnoreMarker("  -\twait 1").ignoreErrors)
        XCTAssertFalse(LineParser.stripIgnoreMarker("--x").ignoreErrors)
        XCTAssertFalse(LineParser.stripIgnoreMarker("- 5").ignoreErrors)
        XCTAssertFalse(LineParser.stripIgnoreMarker("-").ignoreErrors)
    }

    // MARK: counts

    /// Every integer argument and option of the table, subcommands' included, refuses a negative count.
    func testEveryIntegerInTheTableRefusesNegativeValues() throws {
        func sample(_ a: ArgumentSpec) -> String {
            switch a.kind {
            case .integer: return "1"
            case .choice(let choices): return choices[0]
            default: return "x"
            }
        }
        var checked = 0
        for spec in CommandTable.all {
            for (i, arg) in spec.arguments.enumerated() where arg.kind == .integer {
                var words = [spec.name]
                for prior in spec.arguments[..<i] { words.append(sample(prior)) }
                words.append("-1")
                let e = error(words.joined(separator: " "))
                XCTAssertEqual(e?.message, "\(arg.name): expected an integer ≥ 0, got '-1'", words.joined(separator: " "))
                checked += 1
            }
            for o in spec.options where o.value == .integer || o.value == .count {
                let required = spec.arguments.filter { !$0.optional }.map(sample)
                var line = ([spec.name, "\(o.long)=-1"] + required).joined(separator: " ")
                if spec.optionsInRestOfLine {   // rpc: the option goes after the subcommand (RPCCommandLine reads it)
                    let sub = spec.subcommands.first { $0.optionNames.contains(o.long) }!
                    line = "\(spec.name) \(sub.name) \(o.long)=-1"
                }
                var e = error(line)
                if spec.optionsInRestOfLine, let cmd = try LineParser.parse(line, resolve: resolve) {
                    do { _ = try RPCCommandLine(cmd, resolve: resolve).arguments() } catch let r as ShellError { e = r }
                }
                XCTAssertEqual(e?.message, "\(o.long): expected an integer ≥ \(o.value == .count ? 1 : 0), got '-1'", line)
                XCTAssertEqual(e?.exitStatus, 2, line)
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 5, "wait N, repeat N, bench --count/--size/--prefetch at least")
        XCTAssertEqual(error("repeat -1 echo x")?.message, "N: expected an integer ≥ 0, got '-1'")
        XCTAssertEqual(try parse("repeat 0 echo x").arguments.first, "0")
    }

    // MARK: -H

    func testOneHeaderParser() {
        XCTAssertTrue(HeaderArgument.split("a:b:c")! == ("a", "b:c"))
        XCTAssertTrue(HeaderArgument.split("a:")! == ("a", ""))
        XCTAssertNil(HeaderArgument.split(":v"))
        XCTAssertNil(HeaderArgument.split("novalue"))
        XCTAssertEqual(error("send /q -H novalue x")?.message, "--header: expected NAME:VALUE, got 'novalue'")
        XCTAssertEqual(error("bench send /q -H novalue")?.message, "--header: expected NAME:VALUE, got 'novalue'",
                       "bench used to skip a bad header silently")
    }

    // MARK: UTF-8

    func testInvalidUTF8IsLocatedNotReplaced() {
        XCTAssertEqual(try UTF8Text.decode(Array("héllo".utf8)).get(), "héllo")
        let bytes: [UInt8] = Array("ok\nsend /q é".utf8) + [0xFF, 0x41]
        guard case .failure(let e) = UTF8Text.decode(bytes) else { return XCTFail("accepted invalid UTF-8") }
        XCTAssertEqual(e, InvalidUTF8(line: 2, column: 10, byte: 0xFF))
        guard case .failure(let t) = UTF8Text.decode([0x61, 0xE2, 0x82]) else { return XCTFail("accepted a truncated sequence") }
        XCTAssertEqual(t.column, 2)
    }

    func testScriptLineThatIsNotUTF8IsRefusedWithItsPosition() throws {
        let path = NSTemporaryDirectory() + "stompsh-utf8-\(getpid()).stompsh"
        let bytes: [UInt8] = Array("echo one\nsend /q ab".utf8) + [0xC3, 0x28] + Array("\necho three\n".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = LogicalLineReader(try FileScriptSource(path: path), table: CommandTable.all)
        XCTAssertEqual(reader.next()?.text, "echo one")
        let bad = try XCTUnwrap(reader.next())
        XCTAssertEqual(bad.refusal?.message, "invalid UTF-8 (byte 0xC3): scripts are UTF-8 text; send other bytes with send --file")
        XCTAssertEqual(bad.position(of: bad.refusal!).line, 2)
        XCTAssertEqual(bad.position(of: bad.refusal!).column, 11)
        XCTAssertEqual(reader.next()?.text, "echo three")
        XCTAssertNil(reader.next())
    }

    func testScriptThatIsADirectoryIsRefused() {
        XCTAssertThrowsError(try FileScriptSource(path: NSTemporaryDirectory())) { e in
            XCTAssertEqual((e as? ScriptFileError)?.description, "cannot read script '\(NSTemporaryDirectory())': Is a directory")
        }
    }
}

/// Terminal key bytes decoded by the stdlib, telling a character cut short by a read from a wrong one.
final class TerminalUTF8Tests: XCTestCase {
    func testCharactersCutShortAndWrongBytes() {
        XCTAssertNil(TerminalUTF8.first([UInt8]()))
        XCTAssertEqual(TerminalUTF8.first([0x61, 0x62]), .scalar("a", length: 1))
        XCTAssertEqual(TerminalUTF8.first(Array("é!".utf8)), .scalar("é", length: 2))
        XCTAssertEqual(TerminalUTF8.first(Array("😀".utf8)), .scalar("😀", length: 4))
        XCTAssertEqual(TerminalUTF8.first([0xF0, 0x9F, 0x98]), .incomplete)
        XCTAssertEqual(TerminalUTF8.first([0xC3]), .incomplete)
        XCTAssertEqual(TerminalUTF8.first([0xC3, 0x28]), .invalid(length: 1))
        XCTAssertEqual(TerminalUTF8.first([0xFF, 0x61]), .invalid(length: 1))
        XCTAssertEqual(TerminalUTF8.first([0xED, 0xA0, 0x80]), .invalid(length: 1), "a surrogate is no character")
    }
}

/// Variables whose values are not UTF-8 text are refused where they are substituted, never rewritten.
final class VariableBytesTests: XCTestCase {
    func testBinaryLastBodyAndEnvironmentAreRefusedWithTheirColumn() throws {
        let shell = Shell(output: Output(color: false))
        shell.lastMessage = StompFrame(.message, headers: ["destination": "/q"], body: [0x61, 0xFF])
        XCTAssertThrowsError(try shell.run(line: "echo got ${last.body}")) { e in
            XCTAssertEqual((e as? ShellError)?.message,
                           "${last.body} is not UTF-8 text (2 bytes): stompsh does not rewrite its bytes into a command line")
            XCTAssertEqual((e as? ShellError)?.column, 10)
        }
        setenv("STOMPSH_TEST_BINARY", "caf\u{E9}", 1)      // UTF-8: fine
        XCTAssertEqual(try shell.variables.resolve("env.STOMPSH_TEST_BINARY"), "café")
        var bad: [CChar] = [0x61, CChar(bitPattern: 0xFF), 0]
        setenv("STOMPSH_TEST_BINARY", &bad, 1)
        XCTAssertThrowsError(try shell.variables.resolve("env.STOMPSH_TEST_BINARY"))
        unsetenv("STOMPSH_TEST_BINARY")
    }
}
