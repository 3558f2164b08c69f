import XCTest
@testable import StompProto

/// AckMode: the SUBSCRIBE `ack` header values.
final class AckModeTests: XCTestCase {
    func testWireValues() {
        XCTAssertEqual(AckMode.allCases.map(\.rawValue), ["auto", "client", "client-individual"])
    }
}
