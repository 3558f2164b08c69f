import XCTest
@testable import StompProto

/// StompInstant: monotonic nanoseconds, the only way time enters the protocol.
final class StompInstantTests: XCTestCase {
    func testArithmetic() {
        let a = StompInstant(milliseconds: 5)
        XCTAssertEqual(a.nanoseconds, 5_000_000)
        XCTAssertEqual(a.advanced(byNanoseconds: 10).nanoseconds, 5_000_010)
        XCTAssertEqual(a.advanced(byNanoseconds: 10).nanoseconds(since: a), 10)
        XCTAssertEqual(a.nanoseconds(since: a.advanced(byNanoseconds: 1)), 0)
        XCTAssertEqual(StompInstant(nanoseconds: .max).advanced(byNanoseconds: 1).nanoseconds, .max)
        XCTAssertLessThan(a, a.advanced(byNanoseconds: 1))
    }
}
