import XCTest
import StompProto
@testable import RPCCommands

final class JSONValueTests: XCTestCase {
    func testParseAndSerializeRoundTrip() throws {
        let text = #"{"b":[1,-2,3.5,1e3,true,false,null],"a":{"x":"y\n\u00e9\ud83d\ude00"},"big":12345678901234567890}"#
        let v = try JSONValue.parse(text)
        XCTAssertEqual(v["b"], [1, -2, 3.5, 1000.0, true, false, nil])
        XCTAssertEqual(v["a"]?["x"], .string("y\né😀"))
        XCTAssertEqual(v["big"], .number(1.2345678901234567e19))
        // deterministic order as parsed
        XCTAssertEqual(v.compact, #"{"b":[1,-2,3.5,1000.0,true,false,null],"a":{"x":"y\né😀"},"big":1.2345678901234567e+19}"#)
        XCTAssertEqual(try JSONValue.parse(v.compact), v)
        XCTAssertEqual(try JSONValue.parse(v.pretty), v)
    }

    func testPretty() throws {
        let v = try JSONValue.parse(#"{"a":[1,{"b":[]}],"c":{}}"#)
        XCTAssertEqual(v.pretty, "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}")
        XCTAssertEqual(JSONValue.string("a\"b\\c\u{1}").compact, #""a\"b\\c\u0001""#)
    }

    func testStrictErrorsWithColumns() {
        func col(_ s: String) -> Int? { do { _ = try JSONValue.parse(s); return nil } catch let e as JSONParseError { return e.column } catch { return -1 } }
        XCTAssertEqual(col("[1,2,]"), 6)
        XCTAssertEqual(col("[1 2]"), 4)
        XCTAssertEqual(col("{\"a\":1,}"), 8)
        XCTAssertEqual(col("01"), 1)
        XCTAssertEqual(col("1."), 3)
        XCTAssertEqual(col("\"é\\x\""), 3)
        XCTAssertEqual(col("[tru]"), 2)
        XCTAssertEqual(col("{\"a\":1,\"a\":2}"), 8)
        XCTAssertEqual(col("\"abc"), 1)
        XCTAssertEqual(col("1 2"), 3)
        XCTAssertEqual(col("[\"\t\"]"), 3)
        XCTAssertEqual(col(""), 1)
        XCTAssertEqual(col("'a'"), 1)
        XCTAssertEqual(col(String(repeating: "[", count: 600)), 513)
    }
}

final class RPCLiteralTests: XCTestCase {
    func toks(_ line: String) -> [RPCArgumentToken] {
        // split on single spaces, columns 1-based
        var out: [RPCArgumentToken] = []
        var col = 1
        for part in line.split(separator: " ", omittingEmptySubsequences: false) {
            out.append(RPCArgumentToken(String(part), column: col))
            col += part.count + 1
        }
        return out
    }

    func testTypedLiterals() throws {
        let p = try RPCLiteral.params(from: toks(#"42 4.2 "text" word true false null [1,"a"] {"k":1} -3 -x"#))
        XCTAssertEqual(p.params, [42, 4.2, "text", "word", true, false, nil, [1, "a"], .object(["k": 1]), -3, "-x"])
        XCTAssertEqual(p.positionalColumns.count, 11)
    }

    func testNamedParams() throws {
        let p = try RPCLiteral.params(from: toks(#"a=1 b="x" c=[true] d=word"#))
        XCTAssertEqual(p.params, .object(["a": 1, "b": "x", "c": [true], "d": "word"]))
        XCTAssertEqual(p.namedColumns["c"], 11)
        XCTAssertEqual(try RPCLiteral.params(from: []).params, .array([]))
    }

    func testMixingIsAnError() {
        XCTAssertThrowsError(try RPCLiteral.params(from: toks("1 a=2"))) { e in
            XCTAssertEqual((e as? RPCUsageError)?.column, 3)
        }
        XCTAssertThrowsError(try RPCLiteral.params(from: toks("a=2 1"))) { e in
            XCTAssertEqual((e as? RPCUsageError)?.column, 5)
        }
    }

    func testMalformedLiteralColumns() {
        // "rpc call q m " is 13 chars; the args start at column 14
        func errCol(_ args: String) -> Int? {
            var ts = toks(args)
            for k in ts.indices { ts[k].column += 13 }
            do { _ = try RPCLiteral.params(from: ts); return nil } catch let e as RPCUsageError { return e.column } catch { return -1 }
        }
        XCTAssertEqual(errCol(#"1 [1,2"#), 14 + 2 + 4)       // end of input after [1,2
        XCTAssertEqual(errCol(#"{"k":}"#), 14 + 5)
        XCTAssertEqual(errCol(#"1 "abc"#), 16)
        XCTAssertEqual(errCol(#"12x"#), 16)
        XCTAssertEqual(errCol(#"a=[1,,2]"#), 14 + 2 + 3)
        XCTAssertEqual(errCol(#"1.5.2"#), 17)
    }

    /// The command line counts characters, JSON counts Unicode scalars: "e\u{301}" is one character, two scalars.
    func testMalformedLiteralColumnsCountCharacters() {
        func errCol(_ text: String) -> Int? {
            do { _ = try RPCLiteral.parse(text, column: 14); return nil } catch let e as RPCUsageError { return e.column } catch { return -1 }
        }
        XCTAssertEqual(errCol("[\"e\u{301}\",x]"), 14 + 5)
        XCTAssertEqual(errCol("[\"e\u{301}\""), 14 + 4)          // end of input
        XCTAssertEqual(errCol("{\"\u{1F1E9}\u{1F1EA}\":}"), 14 + 5)   // a flag: one character, two scalars
        XCTAssertThrowsError(try RPCLiteral.verbatimParams("[\"e\u{301}\",x]", column: 10)) { e in
            XCTAssertEqual((e as? RPCUsageError)?.column, 15)
        }
    }

    func testVerbatimParams() throws {
        XCTAssertEqual(try RPCLiteral.verbatimParams(#"{"a":[1]}"#, column: 10).params, .object(["a": [1]]))
        XCTAssertThrowsError(try RPCLiteral.verbatimParams("42", column: 10))
        XCTAssertThrowsError(try RPCLiteral.verbatimParams("[1,", column: 10)) { e in XCTAssertEqual((e as? RPCUsageError)?.column, 13) }
    }
}

final class JSONRPCWireTests: XCTestCase {
    func testExactRequestBytes() {
        let r = RPCRequest(method: "add", params: [1, 2], id: "abc-1")
        XCTAssertEqual(String(decoding: r.encode(), as: UTF8.self), #"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":"abc-1"}"#)
    }

    func testExactResponseBytes() {
        XCTAssertEqual(String(decoding: RPCResponse(outcome: .result(3), id: "x").encode(), as: UTF8.self),
                       #"{"jsonrpc":"2.0","result":3,"id":"x"}"#)
        let e = RPCResponse(outcome: .error(RPCErrorObject(code: -32601, message: "Method not found", data: "nope")), id: "x")
        XCTAssertEqual(String(decoding: e.encode(), as: UTF8.self),
                       #"{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":"nope"},"id":"x"}"#)
        let e2 = RPCResponse(outcome: .error(RPCErrorObject(code: 7, message: "m")), id: .null)
        XCTAssertEqual(String(decoding: e2.encode(), as: UTF8.self), #"{"jsonrpc":"2.0","error":{"code":7,"message":"m"},"id":null}"#)
    }

    func testDecodeRequestErrors() {
        func code(_ s: String) -> Int? {
            if case .failure(let e) = RPCRequest.decode(Array(s.utf8)) { return e.error.code }
            return nil
        }
        XCTAssertEqual(code("{"), -32700)
        XCTAssertEqual(code("[]"), -32600)
        XCTAssertEqual(code(#"{"jsonrpc":"1.0","method":"a","id":"1"}"#), -32600)
        XCTAssertEqual(code(#"{"jsonrpc":"2.0","method":1,"id":"1"}"#), -32600)
        XCTAssertEqual(code(#"{"jsonrpc":"2.0","method":"a","params":3,"id":"1"}"#), -32600)
        XCTAssertNil(code(#"{"jsonrpc":"2.0","method":"a","params":{"x":1},"id":"1"}"#))
        if case .failure(let e) = RPCRequest.decode(Array(#"{"jsonrpc":"2.0","method":1,"id":"q"}"#.utf8)) {
            XCTAssertEqual(e.id, "q")
        }
    }

    func testDecodeResponse() throws {
        XCTAssertEqual(try RPCResponse.decode(Array(#"{"jsonrpc":"2.0","result":{"a":1},"id":"1"}"#.utf8)).outcome, .result(.object(["a": 1])))
        XCTAssertEqual(try RPCResponse.decode(Array(#"{"jsonrpc":"2.0","error":{"code":5,"message":"m","data":[1]},"id":"1"}"#.utf8)).outcome,
                       .error(RPCErrorObject(code: 5, message: "m", data: [1])))
        XCTAssertThrowsError(try RPCResponse.decode(Array(#"{"jsonrpc":"2.0","id":"1"}"#.utf8)))
        XCTAssertThrowsError(try RPCResponse.decode(Array(#"{"result":1,"id":"1"}"#.utf8)))
    }

    /// Requests and result replies in `encode`'s compact layout are read without an object of members: they
    /// decode to what the same text spaced out (which takes the full parse) decodes to, and every fault in the
    /// compact layout is the full parse's error (kind, and the id it found).
    func testCompactLayoutDecodesAsTheFullParse() throws {
        func spaced(_ s: String) -> [UInt8] {   // whitespace after each structural ',' and ':' outside strings
            var out: [UInt8] = [0x20], inString = false, escaped = false
            for b in s.utf8 {
                out.append(b)
                if inString {
                    if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                } else if b == UInt8(ascii: "\"") { inString = true } else if b == UInt8(ascii: ",") || b == UInt8(ascii: ":") { out.append(0x20) }
            }
            out.append(0x0A)
            return out
        }
        func outcome(_ r: Result<RPCRequest, RPCRequestDecodeError>) -> String {
            switch r {
            case .success(let q): return "ok \(q.method) \(q.params.map(\.compact) ?? "-") \(q.id.map(\.compact) ?? "-")"
            case .failure(let e): return "error \(e.error.code) \(e.error.message) \(e.id.map(\.compact) ?? "-")"
            }
        }
        let requests = [
            #"{"jsonrpc":"2.0","method":"echo","params":[1,"a",{"k":[true,null]}],"id":"abc-1"}"#,
            #"{"jsonrpc":"2.0","method":"add","params":{"x":1.5e3},"id":7}"#,
            #"{"jsonrpc":"2.0","method":"a","params":[],"id":null}"#,
            #"{"jsonrpc":"2.0","method":"a","params":[],"id":2.5}"#,
            #"{"jsonrpc":"2.0","method":"a","params":[],"id":[1]}"#,
            #"{"jsonrpc":"2.0","method":"a","params":[],"id":true}"#,
            #"{"jsonrpc":"2.0","method":"a","params":3,"id":"q"}"#,
            #"{"jsonrpc":"2.0","method":"a","params":"s","id":"q"}"#,
            #"{"jsonrpc":"2.0","method":5,"params":[],"id":"q"}"#,
            #"{"jsonrpc":"1.0","method":"a","params":[],"id":"q"}"#,
            #"{"jsonrpc":2.0,"method":"a","params":[],"id":"q"}"#,
            #"{"jsonrpc":"2.0","method":"a","params":[1,],"id":"q"}"#,
            #"{"jsonrpc":"2.0","method":"a","params":{"k":1,"k":2},"id":"q"}"#,
            #"{"jsonrpc":"2.0","method":"a\u00e9\ud83d\ude00","params":[],"id":"q"}"#,
        ]
        for r in requests {
            let compact = Array(r.utf8)
            XCTAssertEqual(outcome(RPCRequest.decode(compact)), outcome(RPCRequest.decode(spaced(r))), r)
        }
        for (r, want) in [(requests[0], "ok echo [1,\"a\",{\"k\":[true,null]}] \"abc-1\""),
                          (requests[4], "error -32600 Invalid Request -"), (requests[6], "error -32600 Invalid Request \"q\""),
                          (requests[11], "error -32700 Parse error -")] {
            XCTAssertEqual(outcome(RPCRequest.decode(Array(r.utf8))), want, r)
        }
        // trailing bytes, a duplicate top-level member, invalid UTF-8: the full parse's errors
        XCTAssertEqual(outcome(RPCRequest.decode(Array((requests[0] + "x").utf8))).prefix(11), "error -3270")
        XCTAssertEqual(outcome(RPCRequest.decode(Array(#"{"jsonrpc":"2.0","method":"a","params":[],"id":"q","id":"r"}"#.utf8))).prefix(12), "error -32700")
        var bad = Array(requests[0].utf8)
        bad[bad.firstIndex(of: UInt8(ascii: "e"))!] = 0xFF
        XCTAssertEqual(outcome(RPCRequest.decode(bad)).prefix(12), "error -32700")

        let replies = [
            #"{"jsonrpc":"2.0","result":[1],"id":"abc-1"}"#, #"{"jsonrpc":"2.0","result":null,"id":null}"#,
            #"{"jsonrpc":"2.0","result":{"a":[{}]},"id":3}"#, #"{"jsonrpc":"1.0","result":1,"id":"x"}"#,
            #"{"jsonrpc":"2.0","result":[1,],"id":"x"}"#, #"{"jsonrpc":"2.0","result":1,"id":"x"}x"#,
            #"{"jsonrpc":"2.0","result":1,"id":"x","error":{"code":1,"message":"m"}}"#,
        ]
        func reply(_ b: [UInt8]) -> String {
            do { let r = try RPCResponse.decode(b); return "\(r.outcome) \(r.id.compact)" } catch {
                let text = "\(error)"   // the column moves with the spacing
                return text.range(of: " at column").map { String(text[..<$0.lowerBound]) } ?? text
            }
        }
        for r in replies { XCTAssertEqual(reply(Array(r.utf8)), reply(spaced(r)), r) }
        XCTAssertEqual(reply(Array(replies[0].utf8)), "result([1]) \"abc-1\"")
        XCTAssertThrowsError(try RPCResponse.decode(Array(replies[3].utf8)))
        XCTAssertThrowsError(try RPCResponse.decode(Array(replies[4].utf8)))
        XCTAssertThrowsError(try RPCResponse.decode(Array(replies[5].utf8)))
        XCTAssertThrowsError(try RPCResponse.decode(Array(replies[6].utf8)))

        // the caller's outcome-only read: what `decode` says, error for error, on every reply here and on ids
        // the plain-id step must not accept or must not misread
        func outcomeOnly(_ b: [UInt8]) -> String {
            do { return "\(try RPCResponse.decodeOutcome(b))" } catch { return "\(error)" }
        }
        func outcomeOfDecode(_ b: [UInt8]) -> String {
            do { return "\(try RPCResponse.decode(b).outcome)" } catch { return "\(error)" }
        }
        let ids = [#""abc-1""#, #""a.b_c:D-9""#, #""""#, #""a\u0041""#, #""a\"b""#, #""a b""#, #""ab"#, "7", "null",
                   "[1]", #""é""#, "abc", "\"ctl\u{01}\"", ""]
        var bodies = replies.map { Array($0.utf8) } + replies.map(spaced)
        for id in ids {
            bodies.append(Array(#"{"jsonrpc":"2.0","result":[1,{"k":"v"}],"id":"#.utf8) + Array(id.utf8) + [UInt8(ascii: "}")])
            bodies.append(Array(#"{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":"#.utf8) + Array(id.utf8) + [UInt8(ascii: "}")])
        }
        var badUTF8 = Array(#"{"jsonrpc":"2.0","result":1,"id":"ab"}"#.utf8)
        badUTF8[badUTF8.count - 3] = 0xFF
        bodies.append(badUTF8)
        bodies.append(Array(Array(#"{"jsonrpc":"2.0","result":1,"id":"ab"}"#.utf8).dropLast()))   // unterminated
        for b in bodies {
            XCTAssertEqual(outcomeOnly(b), outcomeOfDecode(b), String(decoding: b, as: UTF8.self))
        }
        XCTAssertEqual(outcomeOnly(Array(#"{"jsonrpc":"2.0","result":[1,{"k":"v"}],"id":"x7-2"}"#.utf8)),
                       "\(RPCOutcome.result([1, .object(["k": "v"])]))")
        XCTAssertTrue(outcomeOnly(badUTF8).contains("not valid JSON"), outcomeOnly(badUTF8))
    }

    func testCorrelationIDs() {
        var g = CorrelationIDGenerator(prefix: "abc")
        XCTAssertEqual(g.make(), "abc-1")
        XCTAssertEqual(g.make(), "abc-2")
        XCTAssertTrue(g.owns("abc-99"))
        XCTAssertFalse(g.owns("abd-1"))
        XCTAssertNotEqual(CorrelationIDGenerator().prefix, CorrelationIDGenerator().prefix)
    }

    /// A reply is matched to its call by the id's counter: exactly the ids `make` writes map to a number, so a
    /// look-alike ("abc-03", "abc-+3") is never taken for call 3.
    func testCorrelationIDNumbers() {
        var g = CorrelationIDGenerator(prefix: "abc")
        let (n1, id1) = g.makeNumbered()
        XCTAssertEqual(id1, "abc-1")
        XCTAssertEqual(g.number(of: id1), n1)
        XCTAssertEqual(g.make(), "abc-2")
        XCTAssertEqual(g.number(of: "abc-2"), 2)
        XCTAssertEqual(g.number(of: "abc-18446744073709551615"), UInt64.max)
        for bad in ["abc-", "abc-0", "abc-03", "abc-+3", "abc--3", "abc-3x", "abc-3 ", "abd-3", "abc3", "ab", "", "abc-é",
                    "abc-18446744073709551616", "abc-999999999999999999999"] {
            XCTAssertNil(g.number(of: bad), bad)
        }
        XCTAssertEqual(g.classify("abc-7").owned, true)
        XCTAssertEqual(g.classify("abc-07").owned, true, "ours by the prefix (counted late), but no call's number")
        XCTAssertNil(g.classify("abc-07").number)
        XCTAssertEqual(g.classify("abd-7").owned, false)
        for _ in 0..<1000 { _ = g.makeNumbered() }
        let (n1003, id1003) = g.makeNumbered()
        XCTAssertEqual(id1003, "abc-\(n1003)")
        XCTAssertEqual(n1003, 1003)
        var long = CorrelationIDGenerator(prefix: String(repeating: "p", count: 40))
        let (n, id) = long.makeNumbered()
        XCTAssertEqual(long.number(of: id), n, "a prefix longer than a small string")
        var bytes: [UInt8] = []
        g.appendID(UInt64.max, to: &bytes)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "abc-18446744073709551615")
        XCTAssertEqual(g.id(UInt64.max), "abc-18446744073709551615")
    }

    /// A prepared call's request bytes are, for every id, exactly the encoder's bytes of the request frame
    /// (headers escaped by the version, extra headers, any method and params); where the id cannot be cut out of
    /// the encoding (content-length always written) or the session must see the frame (a receipt), there are none
    /// and the frame is encoded per call.
    func testPreparedRequestBytesEqualTheEncodedFrame() throws {
        let ids = CorrelationIDGenerator(prefix: "k3j9x2ab")
        let template = RPCRequestTemplate(method: "na:me\n", params: ["x\u{0}y", .object(["correlation-id": 1])])
        for version in StompVersion.allCases {
            for dest in ["/queue/a", "/queue/with:colon", "/queue/back\\slash", "/queue/é-k3j9x2ab-0"] {
                let call = RPCPreparedCall(destination: dest, template: template,
                                           headers: ["x-extra": "v:1", "correlation-id": "dropped", "destination": "dropped"])
                let encoder = FrameEncoder(version: version)
                let prepared = try XCTUnwrap(call.encoded(by: encoder, ids: ids, replyTo: "/temp-queue/r:1"), "\(version) \(dest)")
                for n: UInt64 in [1, 9, 10, 99, 12_345, UInt64.max] {
                    var mine: [UInt8] = []
                    prepared.write(ids: ids, number: n, into: &mine)
                    let frame = call.frame(id: ids.id(n), replyTo: "/temp-queue/r:1")
                    XCTAssertEqual(mine, try encoder.encode(frame), "\(version) \(dest) \(n)")
                    XCTAssertEqual(frame.headers["correlation-id"], ids.id(n))
                    XCTAssertEqual(frame.headers.values(for: "destination"), [dest])
                    XCTAssertEqual(frame.headers["x-extra"], "v:1")
                    let body = try JSONValue.parse(bytes: frame.body)
                    XCTAssertEqual(body["id"], .string(ids.id(n)))
                }
            }
        }
        let always = FrameEncoder(version: .v1_2, contentLength: .always)
        XCTAssertNil(RPCPreparedCall(destination: "/queue/a", template: template).encoded(by: always, ids: ids, replyTo: "/q/r"),
                     "the content-length changes with the id's length: encoded per call")
        XCTAssertNil(RPCPreparedCall(destination: "/queue/a", template: template, headers: ["receipt": "r-1"])
            .encoded(by: FrameEncoder(version: .v1_2), ids: ids, replyTo: "/q/r"), "a receipt: the session must see the frame")
    }
}

final class OpenRPCTests: XCTestCase {
    let doc = #"""
    {"openrpc":"1.2.6","info":{"title":"t","version":"1"},"methods":[
      {"name":"add","params":[{"name":"numbers","required":false,"schema":{"type":"number"}}],"result":{"name":"sum","schema":{"type":"number"}},"x-variadic":true},
      {"name":"greet","params":[{"name":"name","required":true,"schema":{"type":"string"}},{"name":"times","schema":{"type":"integer"}}]},
      {"name":"any","params":[{"name":"x","required":true,"schema":{"$ref":"#/components/schemas/X"}}]}
    ]}
    """#

    func testParseAndSignatures() throws {
        let d = try RPCServiceDescription(openRPC: try JSONValue.parse(doc))
        XCTAssertEqual(d.methods.map(\.name), ["add", "greet", "any"])
        XCTAssertEqual(d.method(named: "add")?.signature, "add(numbers: number...) -> number")
        XCTAssertEqual(d.method(named: "greet")?.signature, "greet(name: string, [times: integer])")
        // round trip through our own document
        XCTAssertEqual(try RPCServiceDescription(openRPC: d.openRPCDocument), d)
    }

    func testChecks() throws {
        let d = try RPCServiceDescription(openRPC: try JSONValue.parse(doc))
        let greet = d.method(named: "greet")!
        let add = d.method(named: "add")!
        func check(_ m: RPCMethodDescriptor, _ args: [String]) -> RPCUsageError? {
            var col = 20
            let toks = args.map { a -> RPCArgumentToken in defer { col += a.count + 1 }; return RPCArgumentToken(a, column: col) }
            do { try m.check(try RPCLiteral.params(from: toks)); return nil } catch { return error as? RPCUsageError }
        }
        XCTAssertNil(check(greet, ["bob"]))
        XCTAssertNil(check(greet, ["bob", "3"]))
        XCTAssertNil(check(greet, ["name=bob", "times=3"]))
        XCTAssertNil(check(add, ["1", "2.5", "3"]))
        XCTAssertNil(check(add, []))
        let e1 = check(greet, ["bob", "x"])
        XCTAssertEqual(e1?.message, "parameter times of greet expects integer, given string \"x\"")
        XCTAssertEqual(e1?.column, 24)
        XCTAssertEqual(check(greet, ["1"])?.message, "parameter name of greet expects string, given integer 1")
        XCTAssertEqual(check(greet, [])?.message, "missing argument name (string) for greet(name: string, [times: integer])")
        XCTAssertTrue(check(greet, ["a", "1", "2"])?.message.hasPrefix("too many arguments") ?? false)
        XCTAssertEqual(check(greet, ["a", "1", "2"])?.column, 24)
        XCTAssertEqual(check(greet, ["name=a", "times=1.5"])?.message, "parameter times of greet expects integer, given number 1.5")
        XCTAssertEqual(check(greet, ["name=a", "times=1.5"])?.column, 27)
        XCTAssertTrue(check(greet, ["nom=a"])?.message.contains("has no parameter nom") ?? false)
        XCTAssertEqual(check(add, ["1", "true"])?.message, "parameter numbers of add expects number, given boolean true")
        XCTAssertNil(check(d.method(named: "any")!, ["[1]"]))
    }

    /// A variadic parameter takes what the fixed ones do not, by position or by name: `rpc serve`'s echo accepts
    /// an object, so its schema (one variadic `values`) does not forbid names; types are still checked.
    func testVariadicParamsByName() throws {
        let served = try RPCServiceDescription(openRPC: RPCServer.builtins.openRPCDocument)
        let echo = try XCTUnwrap(served.method(named: "echo"))
        let add = try XCTUnwrap(served.method(named: "add"))
        let fail = try XCTUnwrap(served.method(named: "fail"))
        func check(_ m: RPCMethodDescriptor, _ args: [String]) -> RPCUsageError? {
            var col = 20
            let toks = args.map { a -> RPCArgumentToken in defer { col += a.count + 1 }; return RPCArgumentToken(a, column: col) }
            do { try m.check(try RPCLiteral.params(from: toks)); return nil } catch { return error as? RPCUsageError }
        }
        XCTAssertNil(check(echo, ["name=ada", "tags=[1,2]"]))
        XCTAssertNil(check(echo, ["values=1"]))
        XCTAssertNil(check(add, ["a=1", "b=2.5"]))
        XCTAssertEqual(check(add, ["a=1", "b=x"])?.message, "parameter numbers of add expects number, given string \"x\"")
        XCTAssertEqual(check(add, ["a=1", "b=x"])?.column, 24)
        // not variadic: an unknown name is still a typo the schema forbids
        XCTAssertTrue(check(fail, ["code=1", "mesage=x"])?.message.contains("has no parameter mesage") ?? false)
    }
}

final class LatencyRecorderTests: XCTestCase {
    func testPercentilesAndRendering() {
        var r = LatencyRecorder()
        for k in 1...1000 { r.record(nanoseconds: UInt64(k) * 1000) }   // 1 µs .. 1 ms
        let s = r.summary()
        XCTAssertEqual(s.count, 1000)
        XCTAssertEqual(Double(s.p50Nanoseconds), 500_000, accuracy: 1000)
        XCTAssertEqual(Double(s.p99Nanoseconds), 990_000, accuracy: 1000)
        XCTAssertEqual(Double(s.maxNanoseconds), 1_000_000, accuracy: 1000)
        XCTAssertEqual(Double(s.minNanoseconds), 1000, accuracy: 2)
        XCTAssertTrue(s.text.hasPrefix("latency ms  min 0.001  p50 0.50"), s.text)
        let rep = BenchReport(name: "rpc", elapsedNanoseconds: 2_000_000_000, counters: [("calls", 1000), ("errors", 0)],
                              rates: [("calls/s", 500)], latency: s)
        XCTAssertEqual(rep.json["calls_per_s"], .number(500))
        XCTAssertEqual(rep.json["latency_ms"]?["count"], 1000)
        XCTAssertTrue(rep.text.contains("calls/s 500.0"), rep.text)
        XCTAssertEqual(StatsFormat.fixed(0.0005, 3), "0.001")
        XCTAssertEqual(StatsFormat.fixed(12.3456, 2), "12.35")
        var m = LatencyRecorder(); m.record(nanoseconds: 5); m.merge(r)
        XCTAssertEqual(m.count, 1001)
        XCTAssertEqual(s.meanNanoseconds, 500_500, "the exact mean of 1..1000 µs")
        XCTAssertEqual(m.summary().meanNanoseconds, (500_500 * 1000 + 5) / 1001, accuracy: 1e-6, "merge adds the sums")
        m.reset()
        m.record(nanoseconds: 7)
        XCTAssertEqual(m.summary().meanNanoseconds, 7, "reset forgets the sum")
    }

    /// The one-pass percentiles equal the histogram's own `valueAtPercentile`, value for value, on distributions
    /// that hit the edge cases: one value, all in one bucket, ties at a percentile's boundary, a wide spread over
    /// many buckets (1 ns .. 60 s), and counts where p × total / 100 is an integer.
    func testSummaryPercentilesEqualValueAtPercentile() {
        var g = SystemRandomNumberGenerator()
        var cases: [[UInt64]] = [[1], [7, 7, 7], [1_000_000], Array(1...1000), Array(1...2000).map { $0 * 997 },
                                 [5, 5, 5, 5, 5, 5, 5, 5, 5, 900_000_000]]
        for n in [1, 2, 3, 10, 99, 100, 101, 999, 1000, 1001, 20_000] {
            cases.append((0..<n).map { _ in
                // log-uniform over 1 ns .. 60 s
                UInt64(exp(Double.random(in: 0..<log(6e10), using: &g)))
            })
        }
        for values in cases {
            var r = LatencyRecorder()
            for v in values { r.record(nanoseconds: v) }
            let h = r.histogram
            let s = r.summary()
            let expected = [50.0, 90, 99, 99.9].map { h.valueAtPercentile($0) }
            XCTAssertEqual([s.p50Nanoseconds, s.p90Nanoseconds, s.p99Nanoseconds, s.p999Nanoseconds], expected,
                           "\(values.count) values")
            XCTAssertEqual(s.minNanoseconds, h.min)
            XCTAssertEqual(s.maxNanoseconds, h.max)
            let qs = [0.1, 1, 25, 33.3, 50, 66.7, 75, 90, 95, 99, 99.5, 99.9, 99.99]
            XCTAssertEqual(LatencyRecorder.percentiles(h, qs), qs.map { h.valueAtPercentile($0) }, "\(values.count) values")
        }
        XCTAssertEqual(LatencyRecorder().summary(), LatencySummary(), "an empty recorder summarises to zeros")
    }
}
