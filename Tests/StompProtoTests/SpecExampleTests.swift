import XCTest
@testable import StompProto

/// Every example frame of the STOMP 1.2 specification decodes to what the spec says and
/// re-encodes to the same bytes.
final class SpecExampleTests: XCTestCase {
    /// (wire bytes, expected frame). `^@` in the spec is NUL.
    static let errorBody = """
        The message:
        -----
        MESSAGE
        destined:/queue/a
        receipt:message-12345

        Hello queue a!
        -----
        Did not contain a destination header, which is REQUIRED
        for message propagation.

        """

    static let examples: [(String, StompFrame)] = [
        // "STOMP Frames"
        ("SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\n\0",
         StompFrame(.send, headers: ["destination": "/queue/a", "content-type": "text/plain"], body: "hello queue a\n")),
        // "Connecting"
        ("CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n\0",
         StompFrame(.connect, headers: ["accept-version": "1.2", "host": "stomp.github.org"])),
        ("CONNECTED\nversion:1.2\n\n\0",
         StompFrame(.connected, headers: ["version": "1.2"])),
        // "Protocol Negotiation"
        ("CONNECT\naccept-version:1.0,1.1,2.0\nhost:stomp.github.org\n\n\0",
         StompFrame(.connect, headers: ["accept-version": "1.0,1.1,2.0", "host": "stomp.github.org"])),
        ("ERROR\nversion:1.2,2.1\ncontent-type:text/plain\n\nSupported protocol versions are 1.2 2.1\0",
         StompFrame(.error, headers: ["version": "1.2,2.1", "content-type": "text/plain"],
                    body: "Supported protocol versions are 1.2 2.1")),
        ("CONNECTED\nversion:1.1\n\n\0",
         StompFrame(.connected, headers: ["version": "1.1"])),
        // "Heart-beating"
        ("CONNECT\naccept-version:1.2\nhost:stomp.github.org\nheart-beat:1000,0\n\n\0",
         StompFrame(.connect, headers: ["accept-version": "1.2", "host": "stomp.github.org", "heart-beat": "1000,0"])),
        // "SEND"
        ("SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0",
         StompFrame(.send, headers: ["destination": "/queue/a", "content-type": "text/plain"], body: "hello queue a")),
        // "SUBSCRIBE"
        ("SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n\0",
         StompFrame(.subscribe, headers: ["id": "0", "destination": "/queue/foo", "ack": "client"])),
        // "UNSUBSCRIBE"
        ("UNSUBSCRIBE\nid:0\n\n\0", StompFrame(.unsubscribe, headers: ["id": "0"])),
        // "ACK" / "NACK"
        ("ACK\nid:12345\ntransaction:tx1\n\n\0", StompFrame(.ack, headers: ["id": "12345", "transaction": "tx1"])),
        ("NACK\nid:12345\ntransaction:tx1\n\n\0", StompFrame(.nack, headers: ["id": "12345", "transaction": "tx1"])),
        // "BEGIN" / "COMMIT" / "ABORT"
        ("BEGIN\ntransaction:tx1\n\n\0", StompFrame(.begin, headers: ["transaction": "tx1"])),
        ("COMMIT\ntransaction:tx1\n\n\0", StompFrame(.commit, headers: ["transaction": "tx1"])),
        ("ABORT\ntransaction:tx1\n\n\0", StompFrame(.abort, headers: ["transaction": "tx1"])),
        // "DISCONNECT" and its receipt
        ("DISCONNECT\nreceipt:77\n\n\0", StompFrame(.disconnect, headers: ["receipt": "77"])),
        ("RECEIPT\nreceipt-id:77\n\n\0", StompFrame(.receipt, headers: ["receipt-id": "77"])),
        // "Header receipt"
        ("SEND\ndestination:/queue/a\nreceipt:message-12345\n\nhello queue a\0",
         StompFrame(.send, headers: ["destination": "/queue/a", "receipt": "message-12345"], body: "hello queue a")),
        // "MESSAGE"
        ("MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0",
         StompFrame(.message, headers: ["subscription": "0", "message-id": "007", "destination": "/queue/a",
                                        "content-type": "text/plain"], body: "hello queue a")),
        // "RECEIPT"
        ("RECEIPT\nreceipt-id:message-12345\n\n\0", StompFrame(.receipt, headers: ["receipt-id": "message-12345"])),
        // "ERROR"
        ("ERROR\nreceipt-id:message-12345\ncontent-type:text/plain\ncontent-length:\(errorBody.utf8.count)\nmessage:malformed frame received\n\n\(errorBody)\0",
         StompFrame(.error, headers: ["receipt-id": "message-12345", "content-type": "text/plain",
                                      "content-length": "\(errorBody.utf8.count)", "message": "malformed frame received"],
                    body: errorBody)),
        // "Repeated Header Entries"
        ("MESSAGE\nfoo:World\nfoo:Hello\n\n\0", StompFrame(.message, headers: [("foo", "World"), ("foo", "Hello")].headers)),
        // "Value Encoding": a 1.2 escaped header
        ("MESSAGE\nfoo:a\\cb\\nc\\\\d\\re\n\n\0", StompFrame(.message, headers: ["foo": "a:b\nc\\d\re"])),
    ]

    func testEverySpecExampleDecodes() throws {
        for (wire, expected) in Self.examples {
            XCTAssertEqual(frames(try decodeAll(Array(wire.utf8))), [expected], wire.debugDescription)
        }
    }

    func testEverySpecExampleReEncodesToTheSameBytes() throws {
        for (wire, frame) in Self.examples {
            XCTAssertEqual(try FrameEncoder(version: .v1_2).encode(frame), Array(wire.utf8), wire.debugDescription)
        }
    }

    func testAllSpecExamplesInOneStreamOneByteAtATime() throws {
        var stream: [UInt8] = []
        for (wire, _) in Self.examples { stream += Array(wire.utf8) + [0x0A] }   // EOL after each NUL, like ActiveMQ
        let events = try decodeAll(stream, chunks: [1])
        XCTAssertEqual(frames(events), Self.examples.map(\.1))
        XCTAssertEqual(events.filter { $0 == FrameDecoderEvent.heartbeat }.count, Self.examples.count)
    }

    func testErrorFrameMessageHeaderAndBody() throws {
        let frame = Self.examples.first { $0.1.command == .error && $0.1.headers["message"] != nil }!.1
        let error = ServerError(frame: frame)
        XCTAssertEqual(error.message, "malformed frame received")
        XCTAssertEqual(error.body, Array(Self.errorBody.utf8))
    }
}

private extension Array where Element == (String, String) {
    var headers: StompHeaders { StompHeaders(self) }
}
