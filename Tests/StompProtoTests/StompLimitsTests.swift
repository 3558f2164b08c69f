import XCTest
@testable import StompProto

/// StompLimits: safe defaults (each limit's enforcement is tested in FrameDecoderTests).
final class StompLimitsTests: XCTestCase {
    func testDefaults() {
        let l = StompLimits.default
        XCTAssertEqual(l.maxCommandLength, 1024)
        XCTAssertEqual(l.maxHeaderLineLength, 64 * 1024)
        XCTAssertEqual(l.maxHeaderCount, 1000)
        XCTAssertEqual(l.maxBodySize, 64 * 1024 * 1024)
    }

    func testEachLimitIsConfigurable() {
        let l = StompLimits(maxCommandLength: 1, maxHeaderLineLength: 2, maxHeaderCount: 3, maxBodySize: 4)
        XCTAssertEqual([l.maxCommandLength, l.maxHeaderLineLength, l.maxHeaderCount, l.maxBodySize], [1, 2, 3, 4])
        XCTAssertNotEqual(l, .default)
    }
}
