import NIOCore
import NIOEmbedded
import NIOWebSocket
import WebSocketFrames
import XCTest

/// `WebSocketEndpoint.write`/`writeMessage` (the client link's outgoing frames, in one buffer, masked 8 bytes at a
/// time) against NIOWebSocket's own encoder and decoder.
final class WebSocketFrameBytesTests: XCTestCase {
    /// NIOWebSocket's decoder: the frames in `bytes`.
    private func nioFrames(_ bytes: [UInt8]) throws -> [WebSocketFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        defer { _ = try? channel.finish() }
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        return frames
    }

    private func ours(_ frame: WebSocketFrame) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        WebSocketEndpoint.write(frame, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    func testAFrameIsWrittenByteForByteAsNIOWebSocketsEncoderWritesIt() throws {
        let key: WebSocketMaskingKey = [0xA1, 0x02, 0xF3, 0x7C]
        for size in [0, 1, 3, 7, 8, 9, 15, 16, 17, 125, 126, 127, 1000, 65_535, 65_536, 70_001] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            for (opcode, maskKey) in [(WebSocketOpcode.text, Optional(key)), (.binary, nil), (.ping, key), (.connectionClose, nil)]
            where !(opcode.isControlOpcode && size > 125) {
                let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: maskKey, data: ByteBuffer(bytes: payload))
                XCTAssertEqual(ours(frame), try nioEncoderWire(frame), "\(size) bytes, \(opcode), key \(String(describing: maskKey))")
            }
        }
        let unfinished = WebSocketFrame(fin: false, rsv1: true, opcode: .binary, maskKey: key, data: ByteBuffer(bytes: [1, 2, 3]))
        XCTAssertEqual(ours(unfinished), try nioEncoderWire(unfinished), "FIN clear, RSV1 set")
        let withExtension = WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: ByteBuffer(bytes: [4, 5, 6, 7, 8]),
                                           extensionData: ByteBuffer(bytes: [1, 2, 3]))
        XCTAssertEqual(ours(withExtension), try nioEncoderWire(withExtension), "extension data first, one key over both")
    }

    func testMaskingWordWiseEqualsTheRFCsBytewiseXORAtEveryOffsetAndInPlace() {
        let key: WebSocketMaskingKey = [0x12, 0x34, 0x56, 0x78]
        for size in [0, 1, 5, 8, 13, 64, 100, 257] {
            let source = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            for offset in 0..<8 {
                let expected = source.enumerated().map { $0.element ^ key[($0.offset + offset) % 4] }
                var out = [UInt8](repeating: 0, count: size)
                source.withUnsafeBytes { s in out.withUnsafeMutableBytes { WebSocketEndpoint.mask(s, key: key, offset: offset, into: $0) } }
                XCTAssertEqual(out, expected, "\(size) bytes, offset \(offset)")
                var inPlace = source
                inPlace.withUnsafeMutableBytes { WebSocketEndpoint.mask(UnsafeRawBufferPointer($0), key: key, offset: offset, into: $0) }
                XCTAssertEqual(inPlace, expected, "in place, \(size) bytes, offset \(offset)")
            }
        }
    }

    func testAClientsMessagesAreMaskedEachWithAFreshKeyAndDecodeToThePayload() throws {
        var client = WebSocketEndpoint(role: .client)
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        let payloads: [[UInt8]] = (0..<200).map { i in Array("SEND\ndestination:/queue/ws\nseq:\(i)\n\n\(String(repeating: "x", count: i))\0".utf8) }
        for (i, p) in payloads.enumerated() { p.withUnsafeBytes { client.writeMessage($0, isText: i % 2 == 0, into: &buffer) } }
        let frames = try nioFrames(Array(buffer.readableBytesView))
        XCTAssertEqual(frames.count, payloads.count, "one frame per message, back to back in one buffer")
        XCTAssertEqual(frames.map { Array($0.unmaskedData.readableBytesView) }, payloads)
        XCTAssertEqual(frames.map(\.opcode), payloads.indices.map { $0 % 2 == 0 ? .text : .binary })
        XCTAssertTrue(frames.allSatisfy { $0.fin && $0.maskKey != nil }, "every client frame final and masked")
        let keys = frames.compactMap { $0.maskKey.map { Array($0) } }
        XCTAssertGreaterThan(Set(keys).count, 190, "fresh keys (200 frames, over several batches of 64)")
        XCTAssertTrue(frames.contains { Array($0.data.readableBytesView) != Array($0.unmaskedData.readableBytesView) },
                      "the payload on the wire is masked")

        var server = WebSocketEndpoint(role: .server)
        var plain = ByteBufferAllocator().buffer(capacity: 0)
        payloads[3].withUnsafeBytes { server.writeMessage($0, isText: true, into: &plain) }
        XCTAssertEqual(Array(plain.readableBytesView), [0x81, UInt8(payloads[3].count)] + payloads[3], "a server does not mask")
    }

    /// The opcode decided after the payload went through: the decision is told whether every byte was ASCII (a
    /// high byte at any offset, in the 8-byte words or the tail, is seen), for a client (masking) and a server.
    func testTheTextDecisionSeesWhetherEveryByteIsASCII() throws {
        for role in [WebSocketRole.client, .server] {
            var endpoint = WebSocketEndpoint(role: role)
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            var payloads: [[UInt8]] = [[], Array("plain ascii\0\n".utf8)]
            for n in 1..<20 { for at in 0..<n { var p = [UInt8](repeating: 0x41, count: n); p[at] = 0xC3; payloads.append(p) } }
            var told: [Bool] = []
            for (i, p) in payloads.enumerated() {
                let text = p.withUnsafeBytes { bytes in
                    endpoint.writeMessage(bytes, isText: { ascii in told.append(ascii); return i % 3 == 0 }, into: &buffer)
                }
                XCTAssertEqual(text, i % 3 == 0)
            }
            XCTAssertEqual(told, payloads.map { $0.allSatisfy { $0 < 0x80 } }, "\(role)")
            let frames = try nioFrames(Array(buffer.readableBytesView))
            XCTAssertEqual(frames.map { Array($0.unmaskedData.readableBytesView) }, payloads, "\(role)")
            XCTAssertEqual(frames.map(\.opcode), payloads.indices.map { $0 % 3 == 0 ? .text : .binary }, "\(role)")
            XCTAssertTrue(frames.allSatisfy { $0.fin && ($0.maskKey != nil) == (role == .client) }, "\(role)")
        }
    }
}
