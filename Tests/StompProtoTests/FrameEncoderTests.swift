import XCTest
@testable import StompProto

/// FrameEncoder: the exact inverse of the decoder; escaping per version and command;
/// content-length per policy; on error nothing is written.
final class FrameEncoderTests: XCTestCase {
    private func wire(_ frame: StompFrame, _ version: StompVersion = .v1_2,
                      _ policy: ContentLengthPolicy = .whenNeeded) throws -> String {
        String(decoding: try FrameEncoder(version: version, contentLength: policy).encode(frame), as: UTF8.self)
    }

    func testLayout() throws {
        XCTAssertEqual(try wire(StompFrame(.send, headers: ["destination": "/q", "x": "y"], body: "hi")),
                       "SEND\ndestination:/q\nx:y\n\nhi\0")
        XCTAssertEqual(try wire(StompFrame(.disconnect)), "DISCONNECT\n\n\0")
    }

    func testRoundTripOfEveryCommandInEveryVersion() throws {
        for version in StompVersion.allCases {
            for command in StompCommand.allCases {
                let body: [UInt8] = command.allowsBody ? [0x68, 0, 0x69] : []
                let frame = StompFrame(command, headers: [("h", "v"), ("h", "w"), ("empty", "")].reduce(into: StompHeaders()) {
                    $0.append($1.0, $1.1)
                }, body: body)
                let bytes = try FrameEncoder(version: version).encode(frame)
                var expected = frame
                if !body.isEmpty { expected.headers.append("content-length", "3") }
                XCTAssertEqual(frames(try decodeAll(bytes, version: version)), [expected], "\(version) \(command)")
            }
        }
    }

    func testEscapesPerVersion() throws {
        let f = StompFrame(.send, headers: ["k:\\": "a\nb:c\rd"])
        XCTAssertEqual(try wire(f, .v1_2), "SEND\nk\\c\\\\:a\\nb\\cc\\rd\n\n\0")
        XCTAssertEqual(try wire(f, .v1_1), "SEND\nk\\c\\\\:a\\nb\\cc\rd\n\n\0")
        XCTAssertThrowsError(try wire(f, .v1_0))
    }

    func testConnectAndConnectedAreNeverEscaped() throws {
        for command in [StompCommand.connect, .stomp, .connected] {
            XCTAssertEqual(try wire(StompFrame(command, headers: ["passcode": "a\\b:c"]), .v1_2),
                           "\(command.rawValue)\npasscode:a\\b:c\n\n\0")
        }
    }

    func testUnencodableHeadersAreOurFaultAndNothingIsWritten() throws {
        var buffer: [UInt8] = [1, 2, 3]
        let bad = StompFrame(.send, headers: ["ok": "1", "bad": "a\nb"])
        XCTAssertThrowsError(try FrameEncoder(version: .v1_0).encode(bad, into: &buffer)) { e in
            guard let (name, value) = (e as? FrameEncodingError)?.unencodableHeader else { return XCTFail("\(e)") }
            XCTAssertEqual(name, "bad")
            XCTAssertEqual(value, "a\nb")
            XCTAssertEqual((e as? FrameEncodingError)?.fault, .local)
        }
        XCTAssertEqual(buffer, [1, 2, 3])
        XCTAssertThrowsError(try wire(StompFrame(.send, headers: ["a:b": "1"]), .v1_0))
        XCTAssertThrowsError(try wire(StompFrame(.connect, headers: ["login": "x\r"]), .v1_2))
    }

    func testEncodeIntoAppends() throws {
        var buffer: [UInt8] = Array("x".utf8)
        try FrameEncoder().encode(StompFrame(.begin, headers: ["transaction": "t"]), into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "xBEGIN\ntransaction:t\n\n\0")
    }

    func testHeartbeatIsOneLineFeed() {
        XCTAssertEqual(FrameEncoder.heartbeat, [0x0A])
    }

    // MARK: content-length

    func testWhenNeededAddsContentLengthOnlyForBodiesWithNull() throws {
        XCTAssertEqual(try wire(StompFrame(.send, body: "abc")), "SEND\n\nabc\0")
        XCTAssertEqual(try wire(StompFrame(.send, body: [0x61, 0, 0x62])), "SEND\ncontent-length:3\n\na\0b\0")
    }

    func testAlwaysAddsContentLengthToFramesThatMayHaveABody() throws {
        XCTAssertEqual(try wire(StompFrame(.send, body: "abc"), .v1_2, .always), "SEND\ncontent-length:3\n\nabc\0")
        XCTAssertEqual(try wire(StompFrame(.send), .v1_2, .always), "SEND\ncontent-length:0\n\n\0")
        XCTAssertEqual(try wire(StompFrame(.ack, headers: ["id": "1"]), .v1_2, .always), "ACK\nid:1\n\n\0")
    }

    func testNeverOmitsContentLengthAndRejectsNullInBody() throws {
        XCTAssertEqual(try wire(StompFrame(.send, body: "abc"), .v1_2, .never), "SEND\n\nabc\0")
        XCTAssertThrows(FrameEncodingError.nullInBodyWithoutContentLength,
                        try wire(StompFrame(.send, body: [0]), .v1_2, .never))
    }

    func testExplicitContentLengthIsKeptAndMustMatchTheBody() throws {
        for policy in [ContentLengthPolicy.whenNeeded, .always, .never] {
            XCTAssertEqual(try wire(StompFrame(.send, headers: ["content-length": "2"], body: [0, 0]), .v1_2, policy),
                           "SEND\ncontent-length:2\n\n\0\0\0")
            XCTAssertThrows(FrameEncodingError.contentLengthMismatch(declared: "3", actual: 2),
                            try wire(StompFrame(.send, headers: ["content-length": "3"], body: [0, 0]), .v1_2, policy))
        }
        // read as the decoder (and brokers) read it: leading zeros are the same length
        XCTAssertEqual(try wire(StompFrame(.send, headers: ["content-length": "02"], body: [1, 1])),
                       "SEND\ncontent-length:02\n\n\u{1}\u{1}\0")
        XCTAssertThrows(FrameEncodingError.contentLengthMismatch(declared: "2 ", actual: 2),
                        try wire(StompFrame(.send, headers: ["content-length": "2 "], body: [1, 1])))
    }

    /// The escaping scan reads 8 bytes at a time: a special byte (LF, CR, ':', '\\') at any position of a value
    /// of any length (within a word, at its edges, in the tail) is escaped exactly as byte by byte, and decodes back.
    func testEscapingFindsSpecialBytesAtEveryPositionOfEveryLength() throws {
        let specials: [(UInt8, String)] = [(0x0A, "\\n"), (0x0D, "\\r"), (0x3A, "\\c"), (0x5C, "\\\\")]
        for length in 1...40 {
            for position in 0..<length {
                for (byte, escape) in specials {
                    var raw = [UInt8]((0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) })
                    raw[position] = byte
                    if position + 1 < length { raw[position + 1] = 0xC3; if position + 2 < length { raw[position + 2] = 0xA9 } }
                    guard let value = String(validating: raw, as: UTF8.self) else { continue }
                    let frame = StompFrame(.send, headers: ["x-\(length)": value])
                    var escaped = raw
                    escaped.replaceSubrange(position...position, with: Array(escape.utf8))
                    let expected = "SEND\nx-\(length):" + String(decoding: escaped, as: UTF8.self) + "\n\n\0"
                    XCTAssertEqual(try wire(frame), expected, "length \(length) position \(position) byte \(byte)")
                    XCTAssertEqual(frames(try decodeAll(try FrameEncoder().encode(frame))), [frame])
                }
            }
        }
    }
}
