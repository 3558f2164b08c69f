import XCTest
@testable import StompProto

/// StompCommand: client vs server commands, which may carry a body, which are never escaped.
final class StompCommandTests: XCTestCase {
    func testClientAndServerCommandsPartitionTheSet() {
        let server = StompCommand.allCases.filter(\.isServerCommand)
        XCTAssertEqual(Set(server), [.connected, .message, .receipt, .error])
        for c in StompCommand.allCases { XCTAssertNotEqual(c.isClientCommand, c.isServerCommand, "\(c)") }
        XCTAssertEqual(StompCommand.allCases.filter(\.isClientCommand).count, 11)
    }

    func testOnlySendMessageAndErrorAllowABody() {
        XCTAssertEqual(Set(StompCommand.allCases.filter(\.allowsBody)), [.send, .message, .error])
    }

    func testHandshakeFramesAreConnectStompAndConnected() {
        XCTAssertEqual(Set(StompCommand.allCases.filter(\.isConnectionHandshake)), [.connect, .stomp, .connected])
    }

    func testByteParserRecognisesEveryCommandAndNothingElse() {
        for c in StompCommand.allCases {
            let bytes = Array(c.rawValue.utf8)
            XCTAssertEqual(bytes.withUnsafeBytes { StompCommand.parse($0) }, c)
        }
        for bad in ["", "send", "SENDX", "SEN", "CONNECTE", "CONNECTEDX", "X", "ACK ", " ACK", "MESSAGE\r"] {
            XCTAssertNil(Array(bad.utf8).withUnsafeBytes { StompCommand.parse($0) }, bad)
        }
    }
}
