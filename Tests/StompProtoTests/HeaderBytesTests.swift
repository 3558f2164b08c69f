import XCTest
@testable import StompProto

/// StompHeaders keeps names and values as bytes (one buffer, offsets per line; a decoded frame's header
/// lines copied once, escaped ones unescaped in place). What that representation could break.
final class HeaderBytesTests: XCTestCase {
    private func decodeOne(_ wire: String, version: StompVersion = .v1_2) throws -> StompFrame {
        let frames = try decodeAll(Array(wire.utf8), version: version).compactMap { e -> StompFrame? in
            if case .frame(let f) = e { return f }
            return nil
        }
        XCTAssertEqual(frames.count, 1)
        return try XCTUnwrap(frames.first)
    }

    func testRepeatedHeadersInADecodedFrameFirstWinsAndAllAreKept() throws {
        let f = try decodeOne("MESSAGE\nfoo:World\nbar:1\nfoo:Hello\n\n\0")
        XCTAssertEqual(f.headers["foo"], "World")
        XCTAssertEqual(f.headers.values(for: "foo"), ["World", "Hello"])
        XCTAssertEqual(f.headers.pairs.map(\.name), ["foo", "bar", "foo"])
        XCTAssertNil(f.headers["fo"])
        XCTAssertNil(f.headers["foo "])
    }

    func testEscapesInNamesAndValuesRoundTripIn1_2() throws {
        let tricky = ["a:b", "line\nfeed", "carriage\rreturn", "back\\slash", "\\", ":", "\r\n", "end\\", "é:ü\\n"]
        var headers = StompHeaders()
        for (i, s) in tricky.enumerated() { headers.append("n\(i)\(s)", s) }
        let frame = StompFrame(.send, headers: headers, body: "x")
        let wire = try FrameEncoder(version: .v1_2).encode(frame)
        var d = FrameDecoder(version: .v1_2)
        d.append(wire)
        let decoded = try XCTUnwrap(d.next())
        XCTAssertEqual(decoded, .frame(frame))
        guard case .frame(let f) = decoded else { return XCTFail() }
        for (i, s) in tricky.enumerated() { XCTAssertEqual(f.headers["n\(i)\(s)"], s) }
        // Re-encoding the decoded frame gives the same bytes.
        XCTAssertEqual(try FrameEncoder(version: .v1_2).encode(f), wire)
    }

    func testAnEscapedLineAmongPlainOnesKeepsItsNeighboursIntact() throws {
        let f = try decodeOne("MESSAGE\nbefore:1\nmessage-id:ID\\chost\\c1\\c2\nx\\\\y:a\\nb\nafter:2\n\nbody\0")
        XCTAssertEqual(f.headers.pairs.map(\.name), ["before", "message-id", "x\\y", "after"])
        XCTAssertEqual(f.headers.pairs.map(\.value), ["1", "ID:host:1:2", "a\nb", "2"])
        XCTAssertEqual(try FrameEncoder().encode(f),
                       Array("MESSAGE\nbefore:1\nmessage-id:ID\\chost\\c1\\c2\nx\\\\y:a\\nb\nafter:2\n\nbody\0".utf8))
    }

    func testVersion1_0KeepsBackslashesAndColonsLiterally() throws {
        let f = try decodeOne("MESSAGE\nid:a\\nb:c\n\n\0", version: .v1_0)
        XCTAssertEqual(f.headers["id"], "a\\nb:c")
        XCTAssertEqual(try FrameEncoder(version: .v1_0).encode(f), Array("MESSAGE\nid:a\\nb:c\n\n\0".utf8))
        // The same frame written as 1.2 escapes what 1.0 kept literal.
        XCTAssertEqual(try FrameEncoder(version: .v1_2).encode(f), Array("MESSAGE\nid:a\\\\nb\\cc\n\n\0".utf8))
    }

    func testInvalidUTF8InANameOrValueIsRejectedAsBeforeEvenAfterEscapes() {
        for (wire, header) in [("MESSAGE\na\\c\u{FF}:v\n\n\0", nil as String?), ("MESSAGE\nk:\\c\u{FF}\n\n\0", "k"),
                               ("MESSAGE\nkey-long-enough:0123456789\u{FF}\n\n\0", "key-long-enough")] {
            var bytes = Array(wire.utf8)
            // "\u{FF}" is two UTF-8 bytes; make it one lone 0xFF byte.
            if let i = bytes.firstIndex(of: 0xC3) { bytes.replaceSubrange(i...(i + 1), with: [0xFF]) }
            var d = FrameDecoder(version: .v1_2)
            d.append(bytes)
            XCTAssertThrowsError(try d.next(), wire) { error in
                let e = error as? FrameDecodingError
                XCTAssertNotNil(e)
                XCTAssertEqual(e?.headerName, header, wire)
                XCTAssertTrue("\(error)".localizedCaseInsensitiveContains("utf"), "\(error)")
            }
        }
    }

    func testSetRemoveAndAppendOnADecodedFrameThenEncode() throws {
        var f = try decodeOne("MESSAGE\ndestination:/queue/a\nmessage-id:ID\\c1\nx:1\nx:2\n\nhi\0")
        f.headers["destination"] = "/q"                     // shorter: written in place
        f.headers["message-id"] = "a much longer value: with a colon"   // longer: appended
        f.headers["x"] = nil
        f.headers.append("x", "3")
        f.headers["new"] = "n"
        XCTAssertEqual(f.headers.pairs.map(\.name), ["destination", "message-id", "x", "new"])
        XCTAssertEqual(f.headers["message-id"], "a much longer value: with a colon")
        let wire = try FrameEncoder().encode(f)
        XCTAssertEqual(wire, Array("MESSAGE\ndestination:/q\nmessage-id:a much longer value\\c with a colon\nx:3\nnew:n\n\nhi\0".utf8))
        var d = FrameDecoder()
        d.append(wire)
        XCTAssertEqual(try d.next(), .frame(f))
    }

    func testEditsInALoopKeepTheStorageBounded() {
        var h: StompHeaders = ["a": "1", "b": "2"]
        for i in 0..<10_000 {
            h["a"] = String(repeating: "v", count: 10 + i % 50)
            h.append("c", "x")
            h.removeAll("c")
        }
        XCTAssertEqual(h.pairs.map(\.name), ["a", "b"])
        XCTAssertEqual(h["b"], "2")
        XCTAssertLessThan(h.storage.count, 1_000)
    }

    func testEqualityComparesContentNotLayout() throws {
        let decoded = try decodeOne("MESSAGE\na:1\nb:x\\cy\n\n\0").headers
        var built = StompHeaders()
        built.append("a", "1")
        built.append("b", "x:y")
        XCTAssertEqual(decoded, built)
        var edited: StompHeaders = ["a": "1", "b": "something long first"]
        edited["b"] = "x:y"
        XCTAssertEqual(edited, decoded)
        edited["b"] = "x:z"
        XCTAssertNotEqual(edited, decoded)
        XCTAssertNotEqual(StompHeaders([("ab", "")]), StompHeaders([("a", "b")]))
    }

    func testEmptyNamesAndValues() throws {
        let f = try decodeOne("MESSAGE\n:empty-name\nempty-value:\n:\n\n\0")
        XCTAssertEqual(f.headers[""], "empty-name")
        XCTAssertEqual(f.headers["empty-value"], "")
        XCTAssertEqual(f.headers.count, 3)
        XCTAssertEqual(try FrameEncoder().encode(f), Array("MESSAGE\n:empty-name\nempty-value:\n:\n\n\0".utf8))
    }

    func testHugeHeaderCountsUpToTheLimitAndOneMoreFails() throws {
        let limits = StompLimits(maxCommandLength: 1024, maxHeaderLineLength: 1024, maxHeaderCount: 5000, maxBodySize: 1024)
        var wire = "MESSAGE\n"
        for i in 0..<5000 { wire += "h\(i):value-\(i)\\c\(i)\n" }
        var d = FrameDecoder(limits: limits)
        // Fed in small pieces: the head stays in the decoder's buffer until the blank line.
        let bytes = Array((wire + "\n\0").utf8)
        var event: FrameDecoderEvent?
        for start in stride(from: 0, to: bytes.count, by: 97) {
            d.append(bytes[start..<min(bytes.count, start + 97)])
            if let e = try d.next() { event = e }
        }
        guard case .frame(let f) = event else { return XCTFail("no frame") }
        XCTAssertEqual(f.headers.count, 5000)
        XCTAssertEqual(f.headers["h4999"], "value-4999:4999")
        XCTAssertEqual(f.headers["h0"], "value-0:0")

        var tooMany = FrameDecoder(limits: limits)
        tooMany.append(Array((wire + "one:more\n\n\0").utf8))
        XCTAssertThrowsError(try tooMany.next()) { error in
            XCTAssertEqual((error as? FrameDecodingError)?.exceededLimit?.name, "maxHeaderCount")
        }
    }

    func testHeaderBytesSurviveTheDecodersBufferBeingReused() throws {
        // Frames decoded from one buffer, one byte at a time, keep their own headers.
        var wire: [UInt8] = []
        for i in 0..<50 { wire += Array("MESSAGE\nmessage-id:ID\\c\(i)\nn:\(i)\n\nb\(i)\0\n".utf8) }
        let frames = try decodeAll(wire, chunks: [1, 3, 7, 64])
            .compactMap { e -> StompFrame? in if case .frame(let f) = e { return f }; return nil }
        XCTAssertEqual(frames.count, 50)
        for (i, f) in frames.enumerated() {
            XCTAssertEqual(f.headers["message-id"], "ID:\(i)")
            XCTAssertEqual(f.headers["n"], "\(i)")
        }
    }

    func testWithValueBytesGivesTheFirstValuesBytes() throws {
        let f = try decodeOne("MESSAGE\nk:a\\cb\nk:second\n\n\0")
        XCTAssertEqual(f.headers.withValueBytes(for: "k") { Array($0) }, Array("a:b".utf8))
        XCTAssertNil(f.headers.withValueBytes(for: "missing") { Array($0) })
    }

    func testSessionSendCopiesTheCallersHeadersExceptTheOnesItOwns() throws {
        var s = StompSession()
        _ = try s.connect(now: StompInstant(nanoseconds: 0))
        _ = try s.receive(.frame(StompFrame(.connected, headers: ["version": "1.2"])), now: StompInstant(nanoseconds: 0))
        _ = try s.begin(transaction: "t1")
        let frame = try s.send(destination: "/q/x",
                               headers: [("destination", "/ignored"), ("a:b", "c\nd"), ("receipt", "r0"),
                                         ("transaction", "t0"), ("z", "1")].reduce(into: StompHeaders()) { $0.append($1.0, $1.1) },
                               receipt: "r1", transaction: "t1")
        XCTAssertEqual(frame.headers.pairs.map(\.name), ["destination", "a:b", "z", "transaction", "receipt"])
        XCTAssertEqual(frame.headers.pairs.map(\.value), ["/q/x", "c\nd", "1", "t1", "r1"])
        // Without receipt/transaction arguments the caller's own lines of those names stay.
        let plain = try s.send(destination: "/q/y", headers: ["receipt": "mine", "transaction": "t1"])
        XCTAssertEqual(plain.headers.pairs.map(\.name), ["destination", "receipt", "transaction"])
    }
}

/// `HeaderEscaping.isPlain` (8 bytes at a time, the last word overlapping) agrees with a byte-by-byte check.
final class HeaderPlainScanTests: XCTestCase {
    func testIsPlainFindsEverySpecialByteAtEveryPositionOfEveryLength() {
        for n in 0...40 {
            let clean = [UInt8](repeating: UInt8(ascii: "a"), count: n)
            clean.withUnsafeBufferPointer { XCTAssertTrue(HeaderEscaping.isPlain($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, n), "\(n)") }
            for position in 0..<n {
                for special: UInt8 in [0x0A, 0x0D, 0x3A, 0x5C] {
                    var bytes = clean
                    bytes[position] = special
                    bytes.withUnsafeBufferPointer {
                        XCTAssertFalse(HeaderEscaping.isPlain($0.baseAddress!, n), "n \(n) at \(position): \(special)")
                    }
                }
                var near = clean
                near[position] = 0x3B   // next to ':' (borrow patterns must not false-alarm a clean string... nor hide one)
                near.withUnsafeBufferPointer { XCTAssertTrue(HeaderEscaping.isPlain($0.baseAddress!, n)) }
            }
        }
    }

    func testAppendedHeadersWithSpecialBytesAreEscapedByTheEncoder() throws {
        var h = StompHeaders()
        h.append("a-long-name-here", "a-long-value-with:colon-at-17")
        h.append("k", "v")
        let wire = try FrameEncoder().encode(StompFrame(.send, headers: h))
        XCTAssertEqual(wire, Array("SEND\na-long-name-here:a-long-value-with\\ccolon-at-17\nk:v\n\n\0".utf8))
    }
}

/// The byte-level reads and copies of hot paths (interceptors, ACKs built from a MESSAGE's ids) and `append`'s growth.
final class HeaderByteLookupTests: XCTestCase {
    private func decodeOne(_ wire: String) throws -> StompFrame {
        let frames = try decodeAll(Array(wire.utf8), version: .v1_2).compactMap { e -> StompFrame? in
            if case .frame(let f) = e { return f }
            return nil
        }
        XCTAssertEqual(frames.count, 1)
        return try XCTUnwrap(frames.first)
    }

    func testValueOfIsComparesTheFirstValuesBytes() throws {
        let f = try decodeOne("MESSAGE\nsubscription:a\\cb\nsubscription:second\nx:\n\n\0")
        XCTAssertTrue(f.headers.value(of: "subscription", is: "a:b"))
        XCTAssertFalse(f.headers.value(of: "subscription", is: "second"), "only the first value counts")
        XCTAssertFalse(f.headers.value(of: "subscription", is: "a:"), "a prefix is not the value")
        XCTAssertFalse(f.headers.value(of: "missing", is: ""), "no line is not an empty value")
        XCTAssertTrue(f.headers.value(of: "x", is: ""))
        XCTAssertTrue(f.headers.contains(static: "x"))
        XCTAssertFalse(f.headers.contains(static: "subscriptio"))
        XCTAssertEqual(f.headers.value("subscription"), "a:b")
        XCTAssertNil(f.headers.value("missing"))
    }

    func testAppendCopyingValueOfCopiesTheFirstValueUnderANewName() throws {
        let f = try decodeOne("MESSAGE\nack:i\\cd-1\nack:second\nmessage-id:m-\u{e9}\n\n\0")
        var h = StompHeaders()
        XCTAssertTrue(h.append("id", copyingValueOf: "ack", from: f.headers))
        XCTAssertTrue(h.append("message-id", copyingValueOf: "message-id", from: f.headers))
        XCTAssertFalse(h.append("subscription", copyingValueOf: "subscription", from: f.headers), "none: nothing added")
        XCTAssertEqual(h.pairs.map { "\($0.name)=\($0.value)" }, ["id=i:d-1", "message-id=m-\u{e9}"])
        // the copied escapable byte is escaped again on the way out
        XCTAssertEqual(try FrameEncoder().encode(StompFrame(.ack, headers: h)),
                       Array("ACK\nid:i\\cd-1\nmessage-id:m-\u{e9}\n\n\0".utf8))
    }

    func testAppendDecimalWritesTheDigits() throws {
        var h = StompHeaders()
        for n: UInt64 in [0, 7, 10, 1_234_567_890, UInt64.max] { h.append("n", decimal: n) }
        XCTAssertEqual(h.values(for: "n"), ["0", "7", "10", "1234567890", "18446744073709551615"])
        var f = StompFrame(.send, headers: ["a": "b"])
        f.headers.append("n", decimal: 42)
        XCTAssertEqual(try FrameEncoder().encode(f), Array("SEND\na:b\nn:42\n\n\0".utf8))
    }

    func testAppendDecimalAtEveryLengthAndChunkBoundaryEqualsStringOfTheNumber() {
        var numbers: [UInt64] = [0, 1, 9, UInt64.max, UInt64.max - 1]
        var p: UInt64 = 1
        for _ in 0..<19 {
            p *= 10
            numbers += [p - 1, p, p + 1, p + 99, p &* 2 &- 1]   // 2 x 10^19 wraps: still a number to write
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { numbers.append(UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng)) }
        var h = StompHeaders()
        for n in numbers { h.append("n", decimal: n) }
        XCTAssertEqual(h.values(for: "n"), numbers.map { String($0) })
    }

    func testAppendGrowsFromEmptyAndFromAReservedCopyWithoutTouchingTheOriginal() {
        var template = StompHeaders(minimumCapacity: 1)
        template.append("destination", "/queue/a-destination-longer-than-the-reserve")
        var lines: [StompHeaders] = []
        for i in 0..<50 {
            var h = template                       // shares the template's bytes until the first append
            for j in 0...i % 7 { h.append("h\(j)", String(repeating: "v", count: i) + ":\(j)") }
            lines.append(h)
        }
        XCTAssertEqual(template.pairs.map(\.name), ["destination"], "the template is unchanged")
        for (i, h) in lines.enumerated() {
            XCTAssertEqual(h.count, 2 + i % 7)
            XCTAssertEqual(h["destination"], "/queue/a-destination-longer-than-the-reserve")
            for j in 0...i % 7 { XCTAssertEqual(h["h\(j)"], String(repeating: "v", count: i) + ":\(j)") }
        }
    }
}
