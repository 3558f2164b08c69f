import NIOCore
import NIOEmbedded
import NIOWebSocket
import WebSocketFrames
import XCTest

/// The frames `WebSocketEndpoint` makes, as they go over the wire through NIOWebSocket's encoder and come back
/// through its decoder and the message aggregator, both sides configured as the client and the sandbox do.
final class WebSocketWireTests: XCTestCase {
    /// A receiving side as the client and the sandbox set it up: frame decoder (`maxFrameSize`), then
    /// `WebSocketEndpoint.messageAggregator`.
    private func receiver(maxFrameSize: Int = 1 << 20, maxMessageSize: Int = 1 << 20) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
        try channel.pipeline.syncOperations.addHandler(WebSocketEndpoint.messageAggregator(maxMessageSize: maxMessageSize))
        return channel
    }

    /// The whole frames `bytes` decode to (fragments joined).
    private func receive(_ bytes: [UInt8], on channel: EmbeddedChannel) throws -> [WebSocketFrame] {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        return frames
    }

    /// The bytes of one frame, built by hand: FIN bit, opcode, the 7-bit length (16- and 64-bit ones are not needed
    /// here), masked with `mask` when given.
    private func rawFrame(fin: Bool, opcode: UInt8, _ payload: [UInt8], mask: [UInt8]? = nil) -> [UInt8] {
        precondition(payload.count < 126)
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode, UInt8(payload.count) | (mask == nil ? 0 : 0x80)]
        if let mask { bytes += mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] } } else { bytes += payload }
        return bytes
    }

    func testLengthsUpTo125Take7BitsThenA16BitThenA64BitField() throws {
        let server = WebSocketEndpoint(role: .server)
        let cases: [(size: Int, headerLength: Int, lengthField: [UInt8])] = [
            (0, 2, [0]), (125, 2, [125]),
            (126, 4, [126, 0, 126]), (65_535, 4, [126, 0xFF, 0xFF]),
            (65_536, 10, [127, 0, 0, 0, 0, 0, 1, 0, 0]), (70_000, 10, [127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
        ]
        for (size, headerLength, lengthField) in cases {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
            let bytes = try nioEncoderWire(server.message(ByteBuffer(bytes: payload), isText: false))
            XCTAssertEqual(bytes.count, headerLength + size, "\(size)")
            XCTAssertEqual(bytes[0], 0x82, "FIN + binary")
            XCTAssertEqual(Array(bytes[1..<(1 + lengthField.count)]), lengthField, "\(size)")
            let frames = try receive(bytes, on: try receiver())
            XCTAssertEqual(frames.map { Array($0.unmaskedData.readableBytesView) }, [payload], "\(size)")
        }
    }

    func testAClientMasksEveryFrameWithItsOwnKeyAndTheServerNone() throws {
        let payload = Array("SEND\ndestination:/queue/x\n\nhello\0".utf8)
        let client = WebSocketEndpoint(role: .client)
        let first = try nioEncoderWire(client.message(ByteBuffer(bytes: payload), isText: true))
        let second = try nioEncoderWire(client.message(ByteBuffer(bytes: payload), isText: true))
        for bytes in [first, second] {
            XCTAssertEqual(bytes[0], 0x81, "FIN + text")
            XCTAssertEqual(bytes[1], 0x80 | UInt8(payload.count), "the mask bit and the length")
            XCTAssertEqual(bytes.count, 2 + 4 + payload.count)
            let key = Array(bytes[2..<6])
            XCTAssertEqual(bytes[6...].enumerated().map { $0.element ^ key[$0.offset % 4] }, payload, "masked with the key sent")
            XCTAssertEqual(try receive(bytes, on: try receiver()).map { Array($0.unmaskedData.readableBytesView) }, [payload])
        }
        XCTAssertNotEqual(Array(first[2..<6]), Array(second[2..<6]), "a fresh key for each frame")

        let server = WebSocketEndpoint(role: .server)
        let plain = try nioEncoderWire(server.message(ByteBuffer(bytes: payload), isText: true))
        XCTAssertEqual(plain, [0x81, UInt8(payload.count)] + payload, "a server does not mask")
        var pinged = WebSocketEndpoint(role: .client)
        guard case .ping(_, let pong?) = pinged.receive(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "x"))) else {
            return XCTFail("no pong")
        }
        XCTAssertNotNil(pong.maskKey, "a client's pong is masked too")
    }

    func testFragmentsAreJoinedAndAPingBetweenThemComesFirst() throws {
        let channel = try receiver()
        let mask: [UInt8] = [9, 8, 7, 6]
        var frames = try receive(rawFrame(fin: false, opcode: 0x1, Array("CONNECTED\nver".utf8), mask: mask), on: channel)
        frames += try receive(rawFrame(fin: true, opcode: 0x9, Array("are you there".utf8)), on: channel)
        frames += try receive(rawFrame(fin: false, opcode: 0x0, Array("sion:1.2\n".utf8), mask: mask), on: channel)
        frames += try receive(rawFrame(fin: true, opcode: 0x0, Array("\n\0".utf8)), on: channel)
        var endpoint = WebSocketEndpoint(role: .server)
        let meanings = frames.map { endpoint.receive($0) }
        XCTAssertEqual(meanings.count, 2)
        guard case .ping(let ping, let pong?) = meanings.first else { return XCTFail("\(meanings)") }
        XCTAssertEqual(String(buffer: ping), "are you there")
        XCTAssertEqual(pong.opcode, .pong)
        XCTAssertEqual(String(buffer: pong.unmaskedData), "are you there", "the pong carries the ping's payload")
        guard case .message(let message, isText: true) = meanings.last else { return XCTFail("\(meanings)") }
        XCTAssertEqual(String(buffer: message), "CONNECTED\nversion:1.2\n\n\0")
    }

    func testAMessageOverTheLimitIsRefusedWith1009() throws {
        // Fragments adding up to one byte more than the limit.
        let channel = try receiver(maxMessageSize: 10)
        XCTAssertEqual(try receive(rawFrame(fin: false, opcode: 0x2, Array(repeating: 1, count: 6)), on: channel), [])
        XCTAssertThrowsError(try receive(rawFrame(fin: true, opcode: 0x0, Array(repeating: 1, count: 5)), on: channel)) { error in
            XCTAssertEqual(WebSocketFault(error: error), .messageTooLarge)
            XCTAssertEqual(WebSocketFault(error: error)?.closeCode, .messageTooLarge)
        }
        // Exactly the limit passes.
        let fits = try receiver(maxMessageSize: 10)
        _ = try receive(rawFrame(fin: false, opcode: 0x2, Array(repeating: 1, count: 6)), on: fits)
        XCTAssertEqual(try receive(rawFrame(fin: true, opcode: 0x0, Array(repeating: 1, count: 4)), on: fits).first?.length, 10)
        // One frame over the decoder's limit, refused from its header alone.
        let small = try receiver(maxFrameSize: 100)
        XCTAssertThrowsError(try receive([0x82, 126, 0x01, 0x00], on: small)) { error in
            XCTAssertEqual(WebSocketFault(error: error), .frameTooLarge)
            XCTAssertEqual(WebSocketFault(error: error)?.closeCode, .messageTooLarge)
        }
    }

    func testBrokenFragmentationAndFragmentedControlFramesAreProtocolErrors() throws {
        let cases: [(String, [[UInt8]])] = [
            ("a continuation with no message begun", [rawFrame(fin: true, opcode: 0x0, [1])]),
            ("a new message before the last one ended", [rawFrame(fin: false, opcode: 0x1, [1]), rawFrame(fin: true, opcode: 0x1, [2])]),
            ("a fragmented ping", [rawFrame(fin: false, opcode: 0x9, [1])]),
        ]
        for (name, frames) in cases {
            let channel = try receiver()
            var caught: Error?
            for frame in frames {
                do { _ = try receive(frame, on: channel) } catch { caught = error }
            }
            guard let caught, let fault = WebSocketFault(error: caught) else { XCTFail("\(name): no fault"); continue }
            XCTAssertEqual(fault.closeCode, .protocolError, name)
            switch fault {
            case .badFragmentation, .malformedFrame: break
            default: XCTFail("\(name): \(fault)")
            }
        }
        XCTAssertNil(WebSocketFault(error: ChannelError.ioOnClosedChannel), "other errors are not WebSocket faults")
    }
}
