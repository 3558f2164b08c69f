import XCTest
@testable import StompShell

final class LineParserTests: XCTestCase {
    let vars: [String: String] = ["name": "world", "last.body": "hi", "env.HOME": "/root", "rpc.result": "42"]
    var resolve: VariableResolver { { self.vars[$0] } }

    func parse(_ line: String, block: [String]? = nil) throws -> ParsedCommand {
        try XCTUnwrap(LineParser.parse(line, block: block, resolve: resolve))
    }

    func error(_ line: String, block: [String]? = nil) -> ShellError? {
        do { _ = try LineParser.parse(line, block: block, resolve: resolve); return nil } catch let e as ShellError { return e } catch {
            XCTFail("not a ShellError: \(error)"); return nil
        }
    }

    func testBlankAndComment() throws {
        XCTAssertNil(try LineParser.parse("   ", resolve: resolve))
        XCTAssertNil(try LineParser.parse("# comment", resolve: resolve))
    }

    func testLoneQuoteInRestOfLineIsText() throws {
        let p = try parse("send /queue/a -H k:v it's  $name's \"day")
        XCTAssertEqual(String(decoding: p.body!, as: UTF8.self), "it's  world's \"day")
        XCTAssertEqual(p.option("--header"), "k:v")
        XCTAssertEqual(try parse("echo don't").arguments, ["don't"])
        XCTAssertEqual(error("send /queue/a -H 'k:v")?.message, "unterminated quote")   // not in the body: still an error
        XCTAssertEqual(error("send 'unterminated")?.message, "unterminated quote")
    }

    func testSendBodyRestOfLineVerbatim() throws {
        let p = try parse("send /queue/a   hello   \"world\"  ")
        XCTAssertEqual(p.spec.name, "send")
        XCTAssertEqual(p.arguments[0], "/queue/a")
        XCTAssertEqual(String(decoding: p.body!, as: UTF8.self), "hello   \"world\"  ")
        XCTAssertEqual(p.column(ofArgument: 1), 17)
    }

    func testSendOptionsBeforeBody() throws {
        let p = try parse("send /queue/a -H a:1 --header=b:2 -Hc:3 --receipt --content-type text/plain -- -x {\"k\": 1}")
        XCTAssertEqual(p.options("--header"), ["a:1", "b:2", "c:3"])
        XCTAssertTrue(p.flag("--receipt"))
        XCTAssertEqual(p.option("--content-type"), "text/plain")
        XCTAssertEqual(String(decoding: p.body!, as: UTF8.self), "-x {\"k\": 1}")
    }

    func testOptionsAfterBodyStartAreBody() throws {
        let p = try parse("send /q hello -H a:b")
        XCTAssertEqual(String(decoding: p.body!, as: UTF8.self), "hello -H a:b")
        XCTAssertTrue(p.options("--header").isEmpty)
    }

    func testQuotes() throws {
        let p = try parse(#"subscribe '/queue/a b' --id "x\"y\\z""#)
        XCTAssertEqual(p.arguments, ["/queue/a b"])
        XCTAssertEqual(p.option("--id"), #"x"y\z"#)
    }

    func testUnterminatedQuoteColumn() {
        let e = error("subscribe '/queue/a")
        XCTAssertEqual(e?.message, "unterminated quote")
        XCTAssertEqual(e?.column, 11)
    }

    func testVariables() throws {
        let p = try parse("subscribe /queue/$name --id ${env.HOME}")
        XCTAssertEqual(p.arguments, ["/queue/world"])
        XCTAssertEqual(p.option("--id"), "/root")
        XCTAssertEqual(try parse("echo a $name ${last.body} ${rpc.result} $$ '$name'").arguments[0], "a world hi 42 $ 'world'")
        XCTAssertEqual(try parse("subscribe '$name'").arguments, ["$name"])
        XCTAssertEqual(try parse("echo cost $5").arguments, ["cost $5"])
    }

    func testUnknownVariableColumn() {
        let e = error("send /q hello $nope")
        XCTAssertEqual(e?.message, "unknown variable 'nope'")
        XCTAssertEqual(e?.column, 15)
        let e2 = error("subscribe ${missing}")
        XCTAssertEqual(e2?.column, 11)
    }

    func testUnknownCommandSuggestion() {
        let e = error("  sedn /q x")
        XCTAssertEqual(e?.column, 3)
        XCTAssertTrue(e!.message.hasPrefix("unknown command 'sedn' (did you mean 'send'?)"), e!.message)
    }

    func testMissingArgumentShowsSynopsis() {
        let e = error("subscribe")
        XCTAssertEqual(e?.message, "missing argument DEST for 'subscribe'")
        XCTAssertEqual(e?.column, 10)
        XCTAssertTrue(e?.note?.hasPrefix("usage: subscribe") == true)
    }

    func testBadOption() {
        let e = error("subscribe /q --bogus")
        XCTAssertEqual(e?.message, "unknown option '--bogus' for 'subscribe'")
        XCTAssertEqual(e?.column, 14)
        XCTAssertNotNil(e?.note)
        let e2 = error("subscribe /q --ack sometimes")
        XCTAssertEqual(e2?.column, 20)
        let e3 = error("wait x")
        XCTAssertEqual(e3?.column, 6)
        let e4 = error("subscribe /q --id")
        XCTAssertEqual(e4?.column, 18)
    }

    func testTooManyArguments() {
        let e = error("subscribe /q /r")
        XCTAssertEqual(e?.column, 14)
    }

    func testHeredoc() throws {
        XCTAssertEqual(LineParser.blockTerminator(for: "send /q <<EOF"), "EOF")
        XCTAssertNil(LineParser.blockTerminator(for: "send /q '<<EOF'"))
        XCTAssertEqual(LineParser.blockTerminator(for: "raw"), ".")
        XCTAssertNil(LineParser.blockTerminator(for: "raw --file x"))
        let p = try parse("send /q <<EOF", block: ["line 1", "  line $name", ""])
        XCTAssertEqual(String(decoding: p.body!, as: UTF8.self), "line 1\n  line world\n")
        let e = error("send /q <<EOF", block: ["ok", "bad $nope"])
        XCTAssertEqual(e?.lineOffset, 2)
        XCTAssertEqual(e?.column, 5)
    }

    func testRawBlockVerbatim() throws {
        let p = try parse("raw", block: ["SEND", "destination:/q", "", "x $y"])
        XCTAssertEqual(String(decoding: p.body!, as: UTF8.self), "SEND\ndestination:/q\n\nx $y")
    }

    func testRawFrameJoining() throws {
        XCTAssertEqual(String(decoding: try parse("raw", block: ["BOGUS", ""]).body!, as: UTF8.self), "BOGUS\n\n")
        XCTAssertEqual(String(decoding: try parse("raw", block: ["DISCONNECT", "receipt:1"]).body!, as: UTF8.self),
                       "DISCONNECT\nreceipt:1\n\n")
        XCTAssertEqual(String(decoding: try parse("raw <<EOF", block: ["SEND", "destination:/q", "", "a", "b"]).body!, as: UTF8.self),
                       "SEND\ndestination:/q\n\na\nb")
    }

    func testRepeatIsVerbatim() throws {
        let p = try parse("repeat 3 --interval 0.1 send /q n=${repeat.index}")
        XCTAssertEqual(p.arguments[0], "3")
        XCTAssertEqual(p.rawRestOfLine, "send /q n=${repeat.index}")
        XCTAssertEqual(p.option("--interval"), "0.1")
    }

    func testIgnoreMarker() {
        let r = LineParser.stripIgnoreMarker("  -send /q x")
        XCTAssertTrue(r.ignoreErrors)
        XCTAssertEqual(r.line, "   send /q x")
        XCTAssertFalse(LineParser.stripIgnoreMarker("send -x").ignoreErrors)
    }

    func testSynopsis() {
        let send = CommandTable.find("send")!
        XCTAssertEqual(send.synopsis,
                       "send DEST [-H NAME:VALUE]... [--receipt] [--content-type T] [--file PATH] [--] [BODY]")
        XCTAssertEqual(CommandTable.find("subscribe")!.synopsis,
                       "subscribe DEST [--id ID] [--ack auto|client|client-individual] [-H NAME:VALUE]... [--count N]")
    }

    func testSuggestion() {
        XCTAssertEqual(CommandTable.suggestion(for: "sedn"), "send")
        XCTAssertEqual(CommandTable.suggestion(for: "subscrib"), "subscribe")
        XCTAssertEqual(CommandTable.suggestion(for: "discnnect"), "disconnect")
        XCTAssertNil(CommandTable.suggestion(for: "zzzzzz"))
    }

    func testEveryCommandHasSummaryAndUniqueName() {
        var seen = Set<String>()
        for spec in CommandTable.all {
            XCTAssertFalse(spec.summary.isEmpty, spec.name)
            for n in [spec.name] + spec.aliases { XCTAssertTrue(seen.insert(n).inserted, "duplicate \(n)") }
        }
        for name in ["connect", "disconnect", "send", "subscribe", "unsubscribe", "ack", "nack", "begin", "commit",
                     "abort", "raw", "status", "set", "help", "echo", "sleep", "quit", "exit", "wait", "expect",
                     "expect-error", "repeat"] {
            XCTAssertNotNil(CommandTable.find(name), name)
        }
    }
}
