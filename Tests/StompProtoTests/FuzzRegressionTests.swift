// Faults the frame-decoder fuzzer (scripts/fuzz frame-decoder) found, each from its minimised input; the inputs
// are also kept as seeds in fuzz/corpus/frame-decoder/regression-*.
import XCTest
@testable import StompProto

final class FuzzRegressionTests: XCTestCase {
    /// regression-1.1-cr-ending-name: a STOMP 1.1 frame whose header name ends with CR ("\r:" — the CR is
    /// followed by ':', so no decoder takes it for an EOL). The decoder accepted it, the encoder refused to write
    /// it back ("ends with a carriage return, which STOMP 1.1 cannot escape", a rule for values only).
    func testA1_1HeaderNameEndingWithCRRoundTrips() throws {
        let wire = [UInt8](wire: "RECEIPT\n\r:\n\n\0")
        let events = try decodeAll(wire, version: .v1_1)
        let frame = StompFrame(.receipt, headers: StompHeaders([("\r", "")]))
        XCTAssertEqual(events, [.frame(frame)])
        let encoded = try FrameEncoder(version: .v1_1).encode(frame)
        XCTAssertEqual(encoded, wire)
        XCTAssertEqual(try decodeAll(encoded, version: .v1_1), [.frame(frame)])
        // a value ending with CR stays unrepresentable: the decoder would strip it with the EOL
        XCTAssertThrowsError(try FrameEncoder(version: .v1_1).encode(StompFrame(.send, headers: ["a": "b\r"])))
    }

    /// regression-content-length-leading-zero: "content-length:03" declares 3 bytes to the decoder (digits, leading
    /// zeros allowed), but the encoder compared the text with "3" and refused to write the frame back.
    func testAContentLengthWithLeadingZerosRoundTrips() throws {
        let wire = [UInt8](wire: "ACK\ncontent-length:03\n\n\u{1}\0\0\0")
        let frame = StompFrame(.ack, headers: ["content-length": "03"], body: [1, 0, 0])
        XCTAssertEqual(try decodeAll(wire), [.frame(frame)])
        XCTAssertEqual(try FrameEncoder().encode(frame), wire)
        // a value that does not declare the body's size stays an error
        for declared in ["4", "+3", " 3", "3 ", ""] {
            XCTAssertThrowsError(try FrameEncoder().encode(StompFrame(.send, headers: ["content-length": declared], body: [1, 2, 3])),
                                 declared) { e in
                XCTAssertEqual(e as? FrameEncodingError, .contentLengthMismatch(declared: declared, actual: 3))
            }
        }
    }
}

