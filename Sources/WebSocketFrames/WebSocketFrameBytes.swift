import NIOCore
import NIOWebSocket

/// A frame as its bytes go on the wire (RFC 6455 5.2): what NIOWebSocket's `WebSocketFrameEncoder` writes, but
/// appended to one buffer (header, mask key and payload together) and masked 8 bytes at a time. The encoder
/// copies a masked payload it shares, masks it a byte at a time and writes the header as a buffer of its own;
/// a client masks every byte it sends, so that is the WebSocket link's main cost per frame.
extension WebSocketEndpoint {
    /// Appends a data message holding `payload` in one frame, masked by role (a client: a fresh random key for
    /// each frame), as `message(_:isText:)` and NIOWebSocket's encoder would write it.
    public mutating func writeMessage(_ payload: UnsafeRawBufferPointer, isText: Bool, into buffer: inout ByteBuffer) {
        let key: UInt32? = role == .client ? maskKeys.next() : nil
        Self.write(fin: true, opcode: isText ? .text : .binary, rsv: 0, key: key, payload, into: &buffer)
    }

    /// Appends a data message holding `payload` in one frame, as `writeMessage(_:isText:into:)`, text or binary
    /// as `isText` decides once the payload went through: it is told whether every byte was ASCII (seen while
    /// masking, so that a caller whose rule is "UTF-8" need not scan ASCII payloads again). Returns the choice.
    @discardableResult
    public mutating func writeMessage(_ payload: UnsafeRawBufferPointer, isText: (_ allASCII: Bool) -> Bool,
                                      into buffer: inout ByteBuffer) -> Bool {
        let key: UInt32? = role == .client ? maskKeys.next() : nil
        var text = false
        Self.write(fin: true, opcode: .binary, rsv: 0, key: key, payload, into: &buffer, decides: true) { ascii in
            text = isText(ascii)
            return text ? 0x81 : nil   // FIN + text, in place of FIN + binary
        }
        return text
    }

    /// Appends `frame` (any frame, e.g. from `startClose` or a `.ping`'s pong), masked with its own key when it
    /// has one. Extension data, when present, goes first and is masked with the same key, as the encoder does.
    public static func write(_ frame: WebSocketFrame, into buffer: inout ByteBuffer) {
        let rsv: UInt8 = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0)
        if var ext = frame.extensionData, ext.readableBytes > 0 {
            // Rare (no extension is negotiated here): join the two, then write them as one payload.
            var data = frame.data
            ext.writeBuffer(&data)
            ext.withUnsafeReadableBytes { write(fin: frame.fin, opcode: frame.opcode, rsv: rsv, key: frame.maskKey.map(word), $0, into: &buffer) }
            return
        }
        frame.data.withUnsafeReadableBytes {
            write(fin: frame.fin, opcode: frame.opcode, rsv: rsv, key: frame.maskKey.map(word), $0, into: &buffer)
        }
    }

    /// `key`'s 4 bytes in memory order (as they go on the wire).
    private static func word(_ key: WebSocketMaskingKey) -> UInt32 {
        var w: UInt32 = 0
        withUnsafeMutableBytes(of: &w) { for j in 0..<4 { $0[j] = key[j] } }
        return w
    }

    /// `key`: the mask key's bytes in memory order, nil for none. Header, key and payload are written in one
    /// write access (ByteBuffer's integer writers cost a capacity check and an access each). When `decides`,
    /// `firstByte`, told whether every payload byte is ASCII once they are written, may replace the header's first byte.
    private static func write(fin: Bool, opcode: WebSocketOpcode, rsv: UInt8, key: UInt32?,
                              _ payload: UnsafeRawBufferPointer, into buffer: inout ByteBuffer,
                              decides: Bool = false, firstByte: (_ allASCII: Bool) -> UInt8? = { _ in nil }) {
        let n = payload.count
        let lengthBytes = n <= 125 ? 0 : n <= 0xFFFF ? 2 : 8
        let headerLength = 2 + lengthBytes + (key == nil ? 0 : 4)
        let first = (fin ? 0x80 : 0) | rsv | UInt8(webSocketOpcode: opcode)
        let maskBit: UInt8 = key == nil ? 0 : 0x80
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: headerLength + n) { out in
            out[0] = first
            switch lengthBytes {
            case 0:
                out[1] = maskBit | UInt8(n)
            case 2:
                out[1] = maskBit | 126
                out.storeBytes(of: UInt16(n).bigEndian, toByteOffset: 2, as: UInt16.self)
            default:
                out[1] = maskBit | 127
                out.storeBytes(of: UInt64(n).bigEndian, toByteOffset: 2, as: UInt64.self)
            }
            let body = UnsafeMutableRawBufferPointer(rebasing: out[headerLength...])
            var highBits: UInt64 = 0
            if let key {
                out.storeBytes(of: key, toByteOffset: 2 + lengthBytes, as: UInt32.self)   // its bytes in memory order
                highBits = mask(payload, key: key, offset: 0, into: body)
            } else if n > 0 {
                body.baseAddress!.copyMemory(from: payload.baseAddress!, byteCount: n)
                if decides { highBits = UTF8ASCII.highBits(payload) }
            }
            if decides, let byte = firstByte(highBits & 0x8080_8080_8080_8080 == 0) { out[0] = byte }
            return headerLength + n
        }
    }

    /// Writes `source` XORed with `key` (byte i with `key[(i + offset) % 4]`, RFC 6455 5.3) to the start of
    /// `destination` (at least as long; it may be `source` itself, masking in place), 8 bytes at a time.
    public static func mask(_ source: UnsafeRawBufferPointer, key: WebSocketMaskingKey, offset: Int = 0,
                            into destination: UnsafeMutableRawBufferPointer) {
        mask(source, key: word(key), offset: offset, into: destination)
    }

    /// `key`: the 4 bytes in memory order. Returns the source's bytes ORed together (by byte lane), so that the
    /// caller sees whether any has its high bit set (not ASCII).
    @discardableResult
    private static func mask(_ source: UnsafeRawBufferPointer, key: UInt32, offset: Int,
                             into destination: UnsafeMutableRawBufferPointer) -> UInt64 {
        let n = source.count
        precondition(destination.count >= n, "mask: destination shorter than source")
        guard n > 0, let s = source.baseAddress, let d = destination.baseAddress else { return 0 }
        // Rotated so that byte `offset % 4` comes first in memory, then twice over 8 bytes.
        let shift = UInt32(offset & 3) * 8
        let le = key.littleEndian   // the first byte in memory is the low one
        let rotated = UInt32(littleEndian: shift == 0 ? le : le >> shift | le << (32 - shift))
        let word = UInt64(rotated) | UInt64(rotated) << 32
        var i = 0
        var seen: UInt64 = 0
        while i &+ 8 <= n {
            let v = s.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            seen |= v
            d.storeBytes(of: v ^ word, toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        var tail = word.littleEndian   // i is a multiple of 8 here: the tail starts at the word's first byte
        while i < n {
            let b = s.load(fromByteOffset: i, as: UInt8.self)
            seen |= UInt64(b)
            d.storeBytes(of: b ^ UInt8(truncatingIfNeeded: tail), toByteOffset: i, as: UInt8.self)
            tail >>= 8
            i &+= 1
        }
        return seen
    }
}

/// The bytes of a buffer ORed together by byte lane (the high bits say whether any byte is not ASCII).
enum UTF8ASCII {
    static func highBits(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var seen: UInt64 = 0
        var i = 0
        while i + 8 <= p.count {
            seen |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < p.count {
            seen |= UInt64(p[i])
            i += 1
        }
        return seen
    }
}
