import XCTest
@testable import StompProto

final class SmokeTests: XCTestCase {
    func testRoundTrip() throws {
        let f = StompFrame(.send, headers: ["destination": "/q/a:b\n"], body: "hi")
        let bytes = try FrameEncoder().encode(f)
        XCTAssertEqual(frames(try decodeAll(bytes, chunks: [1])), [f])
    }
}
