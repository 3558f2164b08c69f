import NIOCore
import NIOWebSocket
import WebSocketFrames
import XCTest

/// The close handshake and what each kind of frame means, without a channel.
final class WebSocketEndpointTests: XCTestCase {
    private let allocator = ByteBufferAllocator()

    private func closeFrame(_ code: UInt16?, _ reason: String = "") -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .connectionClose, data: WebSocketClose(code: code, reason: reason).payload(allocator: allocator))
    }

    func testThePeersCloseIsReadAnsweredOnceAndThenNothingIsAnswered() throws {
        var endpoint = WebSocketEndpoint(role: .server)
        guard case .close(let close) = endpoint.receive(closeFrame(1011, "server restarting")) else { return XCTFail() }
        XCTAssertEqual(close, WebSocketClose(code: 1011, reason: "server restarting"))
        XCTAssertTrue(endpoint.closeReceived)
        let answer = try XCTUnwrap(endpoint.startClose(WebSocketClose(code: close.code), allocator: allocator))
        XCTAssertEqual(answer.opcode, .connectionClose)
        XCTAssertEqual(Array(answer.unmaskedData.readableBytesView), [0x03, 0xF3], "the code echoed, no reason")
        XCTAssertNil(endpoint.startClose(WebSocketClose(.normalClosure), allocator: allocator), "one close frame at most")
        guard case .repeatedClose = endpoint.receive(closeFrame(1000)) else { return XCTFail("a second close") }
        guard case .ping(_, nil) = endpoint.receive(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "p"))) else {
            return XCTFail("no pong after our close")
        }
    }

    func testOurCloseFirstThenThePeersAnswer() throws {
        var endpoint = WebSocketEndpoint(role: .client)
        XCTAssertTrue(endpoint.closeStartsHandshake(mode: .all, isActive: true))
        XCTAssertFalse(endpoint.closeStartsHandshake(mode: .output, isActive: true), "a half close is the socket's")
        XCTAssertFalse(endpoint.closeStartsHandshake(mode: .all, isActive: false), "nothing to say on a dead socket")
        let ours = try XCTUnwrap(endpoint.startClose(WebSocketClose(.normalClosure), allocator: allocator))
        XCTAssertNotNil(ours.maskKey)
        XCTAssertEqual(Array(ours.data.readableBytesView), [0x03, 0xE8], "the payload, masked by the encoder")
        XCTAssertFalse(endpoint.closeStartsHandshake(mode: .all, isActive: true), "started already")
        guard case .close(let answer) = endpoint.receive(closeFrame(1000)) else { return XCTFail() }
        XCTAssertEqual(answer.code, 1000)
        XCTAssertNil(endpoint.startClose(WebSocketClose(code: answer.code), allocator: allocator), "the answer to ours is not answered")
    }

    func testClosePayloads() {
        XCTAssertEqual(WebSocketClose(payload: ByteBuffer()), WebSocketClose(code: nil), "an empty close has no code")
        XCTAssertEqual(WebSocketClose(code: nil, reason: "ignored").payload(allocator: allocator).readableBytes, 0,
                       "no reason without a code")
        XCTAssertEqual(WebSocketClose(payload: ByteBuffer(bytes: [0x03, 0xEF, 0x68, 0x69])), WebSocketClose(code: 1007, reason: "hi"))
        XCTAssertEqual(WebSocketClose(payload: ByteBuffer(bytes: [0x03, 0xEF, 0xFF])).reason, "\u{FFFD}", "a reason that is not UTF-8")
        XCTAssertEqual(WebSocketClose(.messageTooLarge).code, 1009)
        XCTAssertEqual(WebSocketClose.name(of: 1000), "normal closure")
        XCTAssertEqual(WebSocketClose.name(of: 1011), "server error")
        XCTAssertNil(WebSocketClose.name(of: 4000), "application codes have no name")
    }

    func testDataPingPongAndUnknownOpcodes() throws {
        var endpoint = WebSocketEndpoint(role: .server)
        guard case .message(let text, isText: true) = endpoint.receive(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "a"))),
              case .message(let binary, isText: false) = endpoint.receive(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [0]))),
              case .pong(let pong) = endpoint.receive(WebSocketFrame(fin: true, opcode: .pong, data: ByteBuffer(string: "unasked")))
        else { return XCTFail() }
        XCTAssertEqual(String(buffer: text), "a")
        XCTAssertEqual(Array(binary.readableBytesView), [0])
        XCTAssertEqual(String(buffer: pong), "unasked")
        let reserved = try XCTUnwrap(WebSocketOpcode(encodedWebSocketOpcode: 0x3))
        guard case .unknownOpcode(let opcode) = endpoint.receive(WebSocketFrame(fin: true, opcode: reserved, data: ByteBuffer())) else {
            return XCTFail()
        }
        XCTAssertEqual(opcode, reserved)
        XCTAssertFalse(endpoint.closeSent, "the caller decides how to close")
        let frame = endpoint.message(ByteBuffer(string: "x"), isText: false)
        XCTAssertEqual(frame.opcode, .binary)
        XCTAssertTrue(frame.fin)
        XCTAssertNil(frame.maskKey)
    }
}
