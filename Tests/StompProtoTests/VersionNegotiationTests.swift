import XCTest
@testable import StompProto

/// VersionNegotiation (spec "Protocol Negotiation").
final class VersionNegotiationTests: XCTestCase {
    func testAcceptVersionHeaderIsAscendingWithoutRepeats() {
        XCTAssertEqual(VersionNegotiation.acceptVersionHeader([.v1_2, .v1_0, .v1_1, .v1_2]), "1.0,1.1,1.2")
        XCTAssertEqual(VersionNegotiation.acceptVersionHeader([.v1_2]), "1.2")
    }

    func testMissingVersionHeaderMeans1_0() {
        XCTAssertEqual(VersionNegotiation.choose(offered: StompVersion.allCases, serverVersionHeader: nil), .v1_0)
    }

    func testTheServersChoiceMustBeOneWeOffered() {
        XCTAssertEqual(VersionNegotiation.choose(offered: [.v1_1, .v1_2], serverVersionHeader: "1.1"), .v1_1)
        XCTAssertNil(VersionNegotiation.choose(offered: [.v1_1, .v1_2], serverVersionHeader: "1.0"))
        XCTAssertNil(VersionNegotiation.choose(offered: [.v1_2], serverVersionHeader: "2.1"))
        XCTAssertEqual(VersionNegotiation.choose(offered: [.v1_1, .v1_2], serverVersionHeader: "1.2,2.1"), .v1_2)
    }

    func testServerChoosesTheHighestCommonVersion() {
        XCTAssertEqual(VersionNegotiation.serverChoice(acceptVersionHeader: "1.0,1.1,2.0"), .v1_1)
        XCTAssertEqual(VersionNegotiation.serverChoice(acceptVersionHeader: nil), .v1_0)
        XCTAssertNil(VersionNegotiation.serverChoice(acceptVersionHeader: "2.0"))
    }
}
