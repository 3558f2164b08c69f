import XCTest
@testable import StompProto

/// HeaderEscaping (spec "Value Encoding"): 1.0 none; 1.1 `\n` `\c` `\\`; 1.2 adds `\r`;
/// CONNECT and CONNECTED frames never escaped; undefined escapes are errors.
final class HeaderEscapingTests: XCTestCase {
    func testVersion1_2EscapesBackslashLineFeedColonAndCarriageReturn() throws {
        XCTAssertEqual(try HeaderEscaping.escape("a\\b\nc:d\re", version: .v1_2, command: .send), "a\\\\b\\nc\\cd\\re")
        XCTAssertEqual(try HeaderEscaping.unescape("a\\\\b\\nc\\cd\\re", version: .v1_2, command: .message), "a\\b\nc:d\re")
    }

    func testVersion1_1EscapesAllButCarriageReturn() throws {
        XCTAssertEqual(try HeaderEscaping.escape("a\\b\nc:d\re", version: .v1_1, command: .send), "a\\\\b\\nc\\cd\re")
        XCTAssertThrows(FrameDecodingError.invalidEscape(sequence: "\\r", header: "h", offset: 1),
                        try HeaderEscaping.unescape("a\\r", version: .v1_1, command: .message, header: "h"))
    }

    func testVersion1_0HasNoEscaping() throws {
        XCTAssertEqual(try HeaderEscaping.escape("a\\b:c", version: .v1_0, command: .send), "a\\b:c")
        XCTAssertEqual(try HeaderEscaping.unescape("a\\nb\\t", version: .v1_0, command: .message), "a\\nb\\t")
    }

    func testConnectStompAndConnectedAreNeverEscaped() throws {
        for command in [StompCommand.connect, .stomp, .connected] {
            for version in StompVersion.allCases {
                XCTAssertEqual(try HeaderEscaping.escape("pass\\w:rd", version: version, command: command), "pass\\w:rd")
                XCTAssertEqual(try HeaderEscaping.unescape("pass\\w\\c", version: version, command: command), "pass\\w\\c")
            }
        }
    }

    func testUndefinedEscapeIsAnErrorIn1_1And1_2() {
        for version in [StompVersion.v1_1, .v1_2] {
            XCTAssertThrows(FrameDecodingError.invalidEscape(sequence: "\\t", header: "x", offset: 12),
                            try HeaderEscaping.unescape("ab\\t", version: version, command: .send, header: "x", offset: 10))
        }
    }

    func testTrailingBackslashIsAnError() {
        XCTAssertThrows(FrameDecodingError.invalidEscape(sequence: "\\", header: "", offset: 2),
                        try HeaderEscaping.unescape("ab\\", version: .v1_2, command: .send))
    }

    func testUndefinedEscapeOfAMultiByteCharacterIsReportedWhole() {
        XCTAssertThrows(FrameDecodingError.invalidEscape(sequence: "\\é", header: "", offset: 0),
                        try HeaderEscaping.unescape("\\é", version: .v1_2, command: .send))
    }

    func testLineFeedCannotBeWrittenUnescaped() {
        XCTAssertThrowsError(try HeaderEscaping.escape("a\nb", version: .v1_0, command: .send)) { e in
            XCTAssertEqual((e as? FrameEncodingError)?.fault, .local)
        }
        XCTAssertThrowsError(try HeaderEscaping.escape("a\nb", version: .v1_2, command: .connect))
    }

    func testTrailingCarriageReturnCannotBeWrittenWhereItCannotBeEscaped() {
        XCTAssertThrowsError(try HeaderEscaping.escape("a\r", version: .v1_0, command: .send))
        XCTAssertThrowsError(try HeaderEscaping.escape("a\r", version: .v1_1, command: .send))
        XCTAssertEqual(try HeaderEscaping.escape("a\r", version: .v1_2, command: .send), "a\\r")
        XCTAssertEqual(try HeaderEscaping.escape("a\rb", version: .v1_1, command: .send), "a\rb")
    }

    /// Property: unescape(escape(s)) == s for arbitrary strings, in every escaping mode.
    func testEscapeRoundTripsArbitraryStrings() throws {
        var rng = SeededRNG(seed: 0x5EED_0001)
        let alphabet: [Character] = [":", "\n", "\r", "\\", "a", "Z", " ", "c", "n", "r", "é", "€", "😀", "中", "\t", "\0"]
        for _ in 0..<2000 {
            let length = Int.random(in: 0...24, using: &rng)
            let s = String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            for version in [StompVersion.v1_1, .v1_2] {
                guard let escaped = try? HeaderEscaping.escape(s, version: version, command: .send) else {
                    XCTAssertEqual(version, .v1_1)   // only a trailing CR in 1.1 is unrepresentable
                    XCTAssertTrue(s.utf8.last == 0x0D, s.debugDescription)
                    continue
                }
                XCTAssertFalse(escaped.utf8.contains(0x0A), "escaped form never contains LF")
                XCTAssertFalse(escaped.utf8.contains(0x3A), "escaped form never contains ':'")
                if version == .v1_2 { XCTAssertFalse(escaped.utf8.contains(0x0D)) }
                XCTAssertEqual(try HeaderEscaping.unescape(escaped, version: version, command: .send), s)
            }
        }
    }
}
