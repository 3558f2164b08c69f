import XCTest
@testable import StompProto

/// FrameDecoder: incremental, chunking-independent, strict about limits and errors.
final class FrameDecoderTests: XCTestCase {
    private func decodeOne(_ s: String, version: StompVersion = .v1_2) throws -> StompFrame {
        let f = frames(try decodeAll(Array(s.utf8), version: version))
        XCTAssertEqual(f.count, 1)
        return f[0]
    }

    /// Asserts decoding `s` (whole, and one byte at a time) throws `expected`.
    private func assertDecodeError(_ s: [UInt8], _ expected: FrameDecodingError, version: StompVersion = .v1_2,
                                   limits: StompLimits = .default, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrows(expected, try decodeAll(s, version: version, limits: limits), file: file, line: line)
        XCTAssertThrows(expected, try decodeAll(s, version: version, limits: limits, chunks: [1]), file: file, line: line)
        XCTAssertEqual(expected.fault, .peer, file: file, line: line)
    }

    // MARK: Incremental decoding

    func testNextReturnsNilUntilTheFrameIsComplete() throws {
        var d = FrameDecoder()
        let bytes = Array("SEND\ndestination:/q\n\nhi\0".utf8)
        for b in bytes.dropLast() {
            d.append([b])
            XCTAssertNil(try d.next())
        }
        d.append([0])
        XCTAssertEqual(try d.next(), .frame(StompFrame(.send, headers: ["destination": "/q"], body: "hi")))
        XCTAssertNil(try d.next())
        XCTAssertEqual(d.bufferedByteCount, 0)
        XCTAssertTrue(d.isAtFrameBoundary)
        XCTAssertEqual(d.streamOffset, bytes.count)
    }

    func testManyFramesInOneAppend() throws {
        let one = "MESSAGE\nsubscription:0\n\nx\0"
        let events = try decodeAll(Array(String(repeating: one, count: 50).utf8))
        XCTAssertEqual(events.count, 50)
    }

    func testUnsafeRawBufferAppendIsEquivalent() throws {
        var d = FrameDecoder()
        let bytes = Array("ACK\nid:1\n\n\0".utf8)
        bytes.withUnsafeBytes { d.append($0) }
        XCTAssertEqual(try d.next(), .frame(StompFrame(.ack, headers: ["id": "1"])))
    }

    func testBufferedByteCountCountsUnconsumedBytes() throws {
        var d = FrameDecoder()
        d.append(Array("RECEIPT\nreceipt-id:1\n\n\0RECEI".utf8))
        XCTAssertNotNil(try d.next())
        XCTAssertNil(try d.next())
        XCTAssertEqual(d.bufferedByteCount, 5)
        XCTAssertFalse(d.isAtFrameBoundary)
    }

    // MARK: Line endings and heart-beats

    func testCRLFLineEndings() throws {
        let f = try decodeOne("MESSAGE\r\ndestination:/q\r\nmessage-id:1\r\n\r\nbody\r\n\0")
        XCTAssertEqual(f, StompFrame(.message, headers: ["destination": "/q", "message-id": "1"], body: "body\r\n"))
    }

    func testEOLsBetweenFramesAreHeartbeats() throws {
        let events = try decodeAll(Array("\n\r\nRECEIPT\nreceipt-id:1\n\n\0\n\nRECEIPT\nreceipt-id:2\n\n\0\r\n".utf8), chunks: [1])
        XCTAssertEqual(events, [.heartbeat, .heartbeat, .frame(StompFrame(.receipt, headers: ["receipt-id": "1"])),
                                .heartbeat, .heartbeat, .frame(StompFrame(.receipt, headers: ["receipt-id": "2"])), .heartbeat])
    }

    func testActiveMQStyleLineFeedAfterEveryNull() throws {
        let one = "MESSAGE\nsubscription:0\nmessage-id:1\n\nhello\0\n"
        let events = try decodeAll(Array(String(repeating: one, count: 3).utf8), chunks: [7])
        XCTAssertEqual(events.filter { $0 == .heartbeat }.count, 3)
        XCTAssertEqual(frames(events).count, 3)
    }

    func testLoneCarriageReturnAtTheEndWaitsForMore() throws {
        var d = FrameDecoder()
        d.append([0x0D])
        XCTAssertNil(try d.next())
        d.append([0x0A])
        XCTAssertEqual(try d.next(), .heartbeat)
    }

    // MARK: Headers

    func testHeaderValuesAreNeverTrimmed() throws {
        let f = try decodeOne("SEND\ndestination: /q \n x : y\t\n\n\0")
        XCTAssertEqual(f.headers.pairs.map(\.name), ["destination", " x "])
        XCTAssertEqual(f.headers["destination"], " /q ")
        XCTAssertEqual(f.headers[" x "], " y\t")
    }

    func testRepeatedHeadersFirstWins() throws {
        let f = try decodeOne("MESSAGE\nfoo:World\nfoo:Hello\n\n\0")
        XCTAssertEqual(f.headers["foo"], "World")
        XCTAssertEqual(f.headers.values(for: "foo"), ["World", "Hello"])
    }

    func testOnlyTheFirstColonSplitsAndEmptyValuesAreKept() throws {
        let f = try decodeOne("SEND\nurl:http://x:80\nempty:\n:noname\n\n\0", version: .v1_0)
        XCTAssertEqual(f.headers.pairs.map(\.name), ["url", "empty", ""])
        XCTAssertEqual(f.headers["url"], "http://x:80")
        XCTAssertEqual(f.headers["empty"], "")
    }

    func testVersion1_2Unescapes() throws {
        let f = try decodeOne("MESSAGE\na\\cb:c\\\\d\\ne\\rf\n\n\0")
        XCTAssertEqual(f.headers["a:b"], "c\\d\ne\rf")
    }

    func testVersion1_0DoesNotUnescape() throws {
        let f = try decodeOne("MESSAGE\nfoo:a\\nb\\tc\\\n\n\0", version: .v1_0)
        XCTAssertEqual(f.headers["foo"], "a\\nb\\tc\\")
    }

    func testConnectAndConnectedAreNeverUnescaped() throws {
        for command in ["CONNECT", "STOMP", "CONNECTED"] {
            let f = try decodeOne("\(command)\npasscode:a\\tb\\c\n\n\0", version: .v1_2)
            XCTAssertEqual(f.headers["passcode"], "a\\tb\\c")
        }
    }

    func testMultiByteUTF8Headers() throws {
        let f = try decodeOne("SEND\nnäme:välue€😀\n\n\0")
        XCTAssertEqual(f.headers["näme"], "välue€😀")
    }

    // MARK: Body

    func testContentLengthBodyMayContainNulls() throws {
        let body: [UInt8] = [0, 1, 0, 0x0A, 0xFF, 0]
        let wire = Array("SEND\ncontent-length:6\n\n".utf8) + body + [0]
        for chunks in [[1], [2, 5], [1000]] {
            XCTAssertEqual(frames(try decodeAll(wire, chunks: chunks)), [StompFrame(.send, headers: ["content-length": "6"], body: body)])
        }
    }

    func testWithoutContentLengthTheBodyEndsAtTheFirstNull() throws {
        let events = try decodeAll(Array("SEND\n\nab\0\nSEND\n\ncd\0".utf8))
        XCTAssertEqual(frames(events).first?.body, Array("ab".utf8))
    }

    func testZeroContentLength() throws {
        XCTAssertEqual(try decodeOne("SEND\ncontent-length:0\n\n\0").body, [])
    }

    func testOnlyTheFirstContentLengthCounts() throws {
        let f = try decodeOne("SEND\ncontent-length:2\ncontent-length:junk\n\nab\0")
        XCTAssertEqual(f.body, Array("ab".utf8))
    }

    func testLargeBodyInSmallChunks() throws {
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 % 251 + 1) }
        let wire = Array("MESSAGE\ndestination:/q\n\n".utf8) + body + [0]
        XCTAssertEqual(frames(try decodeAll(wire, chunks: [4096, 1, 777])).first?.body, body)
    }

    // MARK: Errors (peer's fault, with offset and header)

    func testUnknownCommand() {
        assertDecodeError(Array("\nFOO\n\n\0".utf8), .unknownCommand("FOO", offset: 1))
        assertDecodeError(Array("RECEIPT\n\n\0send\n\n\0".utf8), .unknownCommand("send", offset: 10))
    }

    func testMalformedHeader() {
        assertDecodeError(Array("SEND\nnocolon\n\n\0".utf8), .malformedHeader(line: "nocolon", offset: 5))
    }

    func testUndefinedEscapeIsAnErrorIn1_1And1_2() {
        for version in [StompVersion.v1_1, .v1_2] {
            assertDecodeError(Array("SEND\nfoo:a\\tb\n\n\0".utf8),
                              .invalidEscape(sequence: "\\t", header: "foo", offset: 10), version: version)
        }
        assertDecodeError(Array("SEND\nfoo:a\\rb\n\n\0".utf8),
                          .invalidEscape(sequence: "\\r", header: "foo", offset: 10), version: .v1_1)
        assertDecodeError(Array("SEND\nf\\x:a\n\n\0".utf8),
                          .invalidEscape(sequence: "\\x", header: "f\\x", offset: 6))
    }

    func testInvalidContentLength() {
        for bad in ["-1", "1a", "", " 1", "99999999999999999999"] {
            assertDecodeError(Array("SEND\ncontent-length:\(bad)\n\n\0".utf8),
                              .invalidContentLength(value: bad, offset: 20))
        }
        XCTAssertEqual(FrameDecodingError.invalidContentLength(value: "x", offset: 0).headerName, "content-length")
    }

    func testMissingNullAfterContentLengthBody() {
        assertDecodeError(Array("SEND\ncontent-length:2\n\nabc\0".utf8), .missingNullAfterBody(offset: 25))
    }

    func testInvalidUTF8InHeaders() {
        assertDecodeError(Array("SEND\n".utf8) + [0xFF] + Array(":v\n\n\0".utf8), .invalidUTF8(header: nil, offset: 5))
        assertDecodeError(Array("SEND\nk:".utf8) + [0xC3] + Array("\n\n\0".utf8), .invalidUTF8(header: "k", offset: 7))
        // Escapes do not hide invalid UTF-8.
        assertDecodeError(Array("SEND\nk:\\n".utf8) + [0xC3] + Array("\n\n\0".utf8), .invalidUTF8(header: "k", offset: 7))
    }

    func testInvalidUTF8InTheBodyIsFine() throws {
        XCTAssertEqual(frames(try decodeAll(Array("SEND\n\n".utf8) + [0xFF, 0xFE, 0])).first?.body, [0xFF, 0xFE])
    }

    func testAfterAnErrorTheDecoderKeepsFailing() throws {
        var d = FrameDecoder()
        d.append(Array("BOGUS\n\n\0RECEIPT\n\n\0".utf8))
        XCTAssertThrowsError(try d.next())
        XCTAssertThrows(FrameDecodingError.unknownCommand("BOGUS", offset: 0), try d.next())
    }

    func testErrorDescriptionsNameTheProblem() {
        XCTAssertTrue(FrameDecodingError.limitExceeded(limit: "maxBodySize", value: 9, maximum: 8, offset: 3)
            .description.contains("maxBodySize"))
        XCTAssertTrue(FrameDecodingError.invalidEscape(sequence: "\\t", header: "foo", offset: 3).description.contains("foo"))
        XCTAssertEqual(FrameDecodingError.missingNullAfterBody(offset: 42).offset, 42)
    }

    // MARK: Limits: enforced while bytes arrive

    func testMaxCommandLengthBeforeTheLineEnds() throws {
        let limits = StompLimits(maxCommandLength: 8)
        // The command is long and has no LF yet: error as soon as it passes the limit.
        var d = FrameDecoder(limits: limits)
        d.append(Array("MESSAGEX".utf8))
        XCTAssertNil(try d.next())
        d.append(Array("XX".utf8))
        XCTAssertThrows(FrameDecodingError.limitExceeded(limit: "maxCommandLength", value: 10, maximum: 8, offset: 0), try d.next())
        // Exactly at the limit (with CRLF) is fine.
        XCTAssertEqual(frames(try decodeAll(Array("\nRECEIPT\r\n\n\0".utf8), limits: StompLimits(maxCommandLength: 7), chunks: [1])).count, 1)
    }

    func testMaxHeaderLineLength() throws {
        let limits = StompLimits(maxHeaderLineLength: 10)
        // 10 bytes is fine, with LF or CRLF.
        XCTAssertEqual(frames(try decodeAll(Array("SEND\nk:34567890\r\nk:34567890\n\n\0".utf8), limits: limits, chunks: [1])).count, 1)
        assertDecodeError(Array("SEND\nk:345678901\n\n\0".utf8),
                          .limitExceeded(limit: "maxHeaderLineLength", value: 11, maximum: 10, offset: 5), limits: limits)
        // Without a LF yet: the error comes with the 11th byte, not later.
        var d = FrameDecoder(limits: limits)
        d.append(Array("SEND\nk:34567890".utf8))
        XCTAssertNil(try d.next())
        d.append([0x0D])   // could still be a CRLF
        XCTAssertNil(try d.next())
        d.append([0x20])
        XCTAssertThrows(FrameDecodingError.limitExceeded(limit: "maxHeaderLineLength", value: 12, maximum: 10, offset: 5), try d.next())
    }

    func testMaxHeaderCount() throws {
        let limits = StompLimits(maxHeaderCount: 2)
        XCTAssertEqual(frames(try decodeAll(Array("SEND\na:1\nb:2\n\n\0".utf8), limits: limits)).count, 1)
        assertDecodeError(Array("SEND\na:1\nb:2\nc:3\n\n\0".utf8),
                          .limitExceeded(limit: "maxHeaderCount", value: 3, maximum: 2, offset: 13), limits: limits)
    }

    func testMaxBodySizeWithoutContentLength() throws {
        let limits = StompLimits(maxBodySize: 4)
        XCTAssertEqual(frames(try decodeAll(Array("SEND\n\n1234\0".utf8), limits: limits)).count, 1)
        assertDecodeError(Array("SEND\n\n12345\0".utf8),
                          .limitExceeded(limit: "maxBodySize", value: 5, maximum: 4, offset: 6), limits: limits)
        // While the body is still arriving: error with the 5th byte.
        var d = FrameDecoder(limits: limits)
        d.append(Array("SEND\n\n1234".utf8))
        XCTAssertNil(try d.next())
        d.append([0x35])
        XCTAssertThrows(FrameDecodingError.limitExceeded(limit: "maxBodySize", value: 5, maximum: 4, offset: 6), try d.next())
    }

    func testMaxBodySizeByContentLengthFailsAsSoonAsTheHeaderIsSeen() throws {
        let limits = StompLimits(maxBodySize: 4)
        var d = FrameDecoder(limits: limits)
        d.append(Array("SEND\ncontent-length:5\n".utf8))
        XCTAssertThrows(FrameDecodingError.limitExceeded(limit: "maxBodySize", value: 5, maximum: 4, offset: 20), try d.next())
        XCTAssertEqual(frames(try decodeAll(Array("SEND\ncontent-length:4\n\n\0\0\0\0\0".utf8), limits: limits)).first?.body, [0, 0, 0, 0])
    }

    /// Whatever the peer sends, the buffer never holds more than a limit (+1 byte for a CR).
    func testMemoryNeverGrowsPastTheLimit() {
        let limits = StompLimits(maxCommandLength: 100, maxHeaderLineLength: 1000, maxHeaderCount: 10, maxBodySize: 5000)
        for prefix in ["", "SEND\n", "SEND\n\n"] {
            var d = FrameDecoder(limits: limits)
            d.append(Array(prefix.utf8))
            var failed = false
            for _ in 0..<10_000 {
                d.append([0x61])
                do { _ = try d.next() } catch { failed = true; break }
                XCTAssertLessThanOrEqual(d.bufferedByteCount, 5001)
            }
            XCTAssertTrue(failed, prefix)
        }
    }

    // MARK: Properties

    /// Random frames (every command, escaped headers, binary bodies) separated by random
    /// heart-beat EOLs decode identically under random chunkings, including 1 byte at a time.
    func testRandomFramesUnderRandomChunkingsDecodeIdentically() throws {
        var rng = SeededRNG(seed: 0xC0DEC)
        for version in StompVersion.allCases {
            for _ in 0..<60 {
                var wire: [UInt8] = []
                var expected: [FrameDecoderEvent] = []
                let encoder = FrameEncoder(version: version, contentLength: .whenNeeded)
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    for _ in 0..<Int.random(in: 0...2, using: &rng) {
                        wire += Bool.random(using: &rng) ? [0x0A] : [0x0D, 0x0A]
                        expected.append(.heartbeat)
                    }
                    let frame = randomFrame(version: version, using: &rng)
                    try encoder.encode(frame, into: &wire)
                    var decoded = frame   // the encoder adds content-length when the body has NUL
                    if frame.body.contains(0) { decoded.headers.append("content-length", String(frame.body.count)) }
                    expected.append(.frame(decoded))
                }
                XCTAssertEqual(try decodeAll(wire, version: version), expected)
                XCTAssertEqual(try decodeAll(wire, version: version, chunks: [1]), expected)
                let sizes = (0..<5).map { _ in Int.random(in: 1...64, using: &rng) }
                XCTAssertEqual(try decodeAll(wire, version: version, chunks: sizes), expected)
            }
        }
    }
}

/// A random frame that `version` can represent.
func randomFrame<R: RandomNumberGenerator>(version: StompVersion, using rng: inout R) -> StompFrame {
    let command = StompCommand.allCases.randomElement(using: &rng)!
    let mode = HeaderEscaping.mode(version: version, command: command)
    var alphabet: [Character] = ["a", "b", "-", " ", "é", "€", "😀", "\\", "\t", "/"]
    if mode != .none { alphabet += [":", "\n"] }
    if mode == .v1_2 { alphabet += ["\r"] }
    func text(_ r: ClosedRange<Int>, name: Bool) -> String {
        var s = String((0..<Int.random(in: r, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        if mode == .none && !name { s += Bool.random(using: &rng) ? ":" : "" }
        return s
    }
    var headers = StompHeaders()
    for _ in 0..<Int.random(in: 0...6, using: &rng) {
        headers.append(text(1...12, name: true), text(0...20, name: false))
    }
    headers.removeAll("content-length")
    var body: [UInt8] = []
    if command.allowsBody {
        let n = [0, 1, 10, 300, 5000].randomElement(using: &rng)!
        let withNulls = Bool.random(using: &rng)
        body = (0..<n).map { _ in withNulls ? UInt8.random(in: 0...255, using: &rng) : UInt8.random(in: 1...255, using: &rng) }
    }
    return StompFrame(command, headers: headers, body: body)
}
