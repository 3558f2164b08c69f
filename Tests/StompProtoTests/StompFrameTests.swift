import XCTest
@testable import StompProto

/// StompFrame: command, headers, body bytes.
final class StompFrameTests: XCTestCase {
    func testStringBodyIsUTF8() {
        let f = StompFrame(.send, body: "héllo")
        XCTAssertEqual(f.body, Array("héllo".utf8))
        XCTAssertEqual(f.bodyString, "héllo")
    }

    func testBodyStringIsNilForInvalidUTF8() {
        XCTAssertNil(StompFrame(.send, body: [0xFF, 0xFE]).bodyString)
    }

    func testDefaultsAreNoHeadersAndNoBody() {
        let f = StompFrame(.disconnect)
        XCTAssertTrue(f.headers.isEmpty)
        XCTAssertTrue(f.body.isEmpty)
    }
}
