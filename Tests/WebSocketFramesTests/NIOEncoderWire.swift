import NIOCore
import NIOEmbedded
import NIOWebSocket

/// NIOWebSocket's own encoder, the reference the tests hold our frames against: the bytes `frame` goes out as.
func nioEncoderWire(_ frame: WebSocketFrame) throws -> [UInt8] {
    let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
    defer { _ = try? channel.finish() }
    try channel.writeOutbound(frame)
    var bytes: [UInt8] = []
    while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes += part.readBytes(length: part.readableBytes)! }
    return bytes
}
