import XCTest
@testable import StompProto

/// StompVersion: the three versions, ordered, with their wire names.
final class StompVersionTests: XCTestCase {
    func testRawValuesAreTheWireNames() {
        XCTAssertEqual(StompVersion.allCases.map(\.rawValue), ["1.0", "1.1", "1.2"])
        XCTAssertEqual(StompVersion(rawValue: "1.2"), .v1_2)
        XCTAssertNil(StompVersion(rawValue: "2.0"))
    }

    func testVersionsAreOrdered() {
        XCTAssertLessThan(StompVersion.v1_0, .v1_1)
        XCTAssertLessThan(StompVersion.v1_1, .v1_2)
        XCTAssertEqual([StompVersion.v1_2, .v1_0, .v1_1].sorted(), [.v1_0, .v1_1, .v1_2])
        XCTAssertEqual(StompVersion.allCases.max(), .v1_2)
    }
}
