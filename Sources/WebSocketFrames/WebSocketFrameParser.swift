import NIOCore
import NIOWebSocket

/// A client's reader of the server's frames (RFC 6455 5.2-5.6), incremental: the bytes of each read go in, in
/// any chunking, and what they hold comes out in order. Data payloads come out as they arrive, as slices of
/// the bytes given (no frame value, no joined message: a receiver that does not care where frames and messages
/// end, such as the STOMP decoder, takes them as they are); a control frame comes out whole.
///
/// It refuses (throws a `WebSocketFault`, and from then on throws it again) what a client must not accept:
/// reserved bits set (no extension is negotiated), an opcode RFC 6455 does not define, a masked frame (a server
/// never masks), a control frame that is fragmented or longer than 125 bytes, a close whose payload is one
/// byte, a continuation with no message begun, a new message before the last one ended, a 64-bit length with
/// its most significant bit set, and a message (its fragments together) longer than `maxMessageSize`, refused
/// from the frame header that crosses the limit, a length not encoded in the fewest bytes (RFC 6455 5.2: a
/// 16-bit field holding less than 126, a 64-bit one holding less than 65,536), and a close frame whose status
/// code no one may send (RFC 6455 7.4: below 1000, 1004-1006, 1015, 1016-2999 outside the IANA registry's
/// 1012-1014, 5000 and over) or whose reason is not UTF-8 (close 1007). A text message that is not UTF-8 is
/// accepted, against RFC 6455 8.1: RabbitMQ Web-STOMP (3.10, `web_stomp.ws_frame = text`, its default) sends
/// STOMP frames with binary bodies as text messages (seen on the wire); the STOMP decoder takes the bytes.
public struct WebSocketFrameParser: Sendable {
    /// What the bytes hold.
    public enum Event: Sendable, Equatable {
        /// Bytes of a data message's payload, in order: a frame's whole payload or the part of it in this read.
        /// `isText`: the message began with a text frame. `messageEnd`: the whole message's size when these are
        /// its last bytes, nil while more are to come.
        case data(ByteBuffer, isText: Bool, messageEnd: Int?)
        /// A whole ping, pong or close frame (FIN set, at most 125 bytes).
        case control(WebSocketOpcode, ByteBuffer)
    }

    /// The largest message accepted, its fragments' payloads together.
    public let maxMessageSize: Int

    /// Bytes of the current frame's payload still to come; 0 when a header is next.
    private var remaining = 0
    private var frameIsFinal = false
    /// The current frame's opcode when it is a control frame (its payload is gathered in `control`).
    private var controlOpcode: WebSocketOpcode?
    private var control = ByteBuffer()
    /// A frame header that came over more than one read, so far.
    private var headerBytes: [UInt8] = []
    /// A data message is under way (its first frame arrived, its final one not yet).
    private var messageOpen = false
    private var messageIsText = false
    private var messageSize = 0
    private var failure: WebSocketFault?

    public init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// The next event from `buffer`'s readable bytes (read from it), or nil when they are used up (the rest of a
    /// header split across reads is kept here). Call it until it gives nil, then again with the next read.
    public mutating func next(_ buffer: inout ByteBuffer) throws -> Event? {
        let start = buffer.readerIndex
        let step = try buffer.withUnsafeReadableBytes { try self.step($0) }
        switch step {
        case .used(let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            return nil
        case .data(let offset, let count, let consumed, let isText, let messageEnd):
            let piece = buffer.getSlice(at: start + offset, length: count)!
            buffer.moveReaderIndex(forwardBy: consumed)
            return .data(piece, isText: isText, messageEnd: messageEnd)
        case .control(let opcode, let payload, let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            return .control(opcode, payload)
        }
    }

    /// The same over raw bytes, for a reader that copies the payloads: the data bytes in `bytes` go to `data` in
    /// order (in pieces: a frame's payload, or the part of it there is), until a control frame is whole (returned
    /// with the count of bytes read, up to its end) or the bytes are used up (`control` nil, `consumed` all).
    public mutating func read(_ bytes: UnsafeRawBufferPointer, data: (UnsafeRawBufferPointer) -> Void) throws
        -> (consumed: Int, control: (opcode: WebSocketOpcode, payload: ByteBuffer)?) {
        var at = 0
        while true {
            switch try step(UnsafeRawBufferPointer(rebasing: bytes[at...])) {
            case .used(let consumed):
                return (at + consumed, nil)
            case .data(let offset, let count, let consumed, _, _):
                if count > 0 { data(UnsafeRawBufferPointer(rebasing: bytes[(at + offset)..<(at + offset + count)])) }
                at += consumed
            case .control(let opcode, let payload, let consumed):
                return (at + consumed, (opcode, payload))
            }
        }
    }

    /// What one step over `p` found: offsets and counts from its start.
    private enum Step {
        /// All of `p` up to `consumed` was read (a header kept, a control payload gathered): more bytes needed.
        case used(consumed: Int)
        case data(offset: Int, count: Int, consumed: Int, isText: Bool, messageEnd: Int?)
        case control(WebSocketOpcode, ByteBuffer, consumed: Int)
    }

    /// Reads from the start of `p` up to the next event.
    private mutating func step(_ p: UnsafeRawBufferPointer) throws -> Step {
        if let failure { throw failure }
        var at = 0
        while true {
            if remaining > 0 {
                let take = min(remaining, p.count - at)
                guard take > 0 else { return .used(consumed: at) }
                remaining -= take
                if let opcode = controlOpcode {
                    control.writeBytes(UnsafeRawBufferPointer(rebasing: p[at..<(at + take)]))
                    guard remaining == 0 else { return .used(consumed: at + take) }
                    return .control(opcode, try finishControl(), consumed: at + take)
                }
                return dataStep(offset: at, count: take)
            }
            guard let (header, length) = readHeader(p, from: at) else { return .used(consumed: p.count) }
            at += length
            do { try begin(header) } catch let fault as WebSocketFault {
                failure = fault
                throw fault
            }
            if remaining == 0 {
                // An empty frame: a control frame is whole now; an empty data frame matters only when it ends
                // its message.
                if let opcode = controlOpcode { return .control(opcode, try finishControl(), consumed: at) }
                if frameIsFinal { return dataStep(offset: at, count: 0) }
            }
        }
    }

    private mutating func dataStep(offset: Int, count: Int) -> Step {
        let isText = messageIsText
        guard remaining == 0 && frameIsFinal else {
            return .data(offset: offset, count: count, consumed: offset + count, isText: isText, messageEnd: nil)
        }
        let size = messageSize
        messageOpen = false
        messageSize = 0
        return .data(offset: offset, count: count, consumed: offset + count, isText: isText, messageEnd: size)
    }

    /// The gathered control payload, and the parser ready for the next header; a close's code and reason
    /// checked (a refusal is kept as the parser's failure).
    private mutating func finishControl() throws -> ByteBuffer {
        let payload = control
        control = ByteBuffer()
        if controlOpcode == .connectionClose {
            do { try Self.checkClose(payload) } catch let fault as WebSocketFault {
                failure = fault
                throw fault
            }
        }
        controlOpcode = nil
        return payload
    }

    /// RFC 6455 7.4: the status codes a close frame may carry, and its reason UTF-8.
    static func checkClose(_ payload: ByteBuffer) throws {
        guard let code = payload.getInteger(at: payload.readerIndex, as: UInt16.self) else { return }   // empty: no code
        guard Self.mayBeSent(code) else {
            throw WebSocketFault.malformedFrame("a close frame with the status code \(code), which no endpoint may send")
        }
        let reasonValid = payload.withUnsafeReadableBytes { bytes in
            String(validating: bytes.dropFirst(2), as: UTF8.self) != nil
        }
        guard reasonValid else {
            throw WebSocketFault.invalidUTF8("a close frame (code \(code)) whose reason is not UTF-8")
        }
    }

    /// Whether a close frame may carry `code`: the codes RFC 6455 7.4.1 defines for the wire (1000-1003,
    /// 1007-1011), those the IANA registry added since (1012-1014), and the ranges for libraries and
    /// applications (3000-4999). Not: below 1000, 1004 (reserved), 1005/1006/1015 (never on the wire), the rest
    /// of 1000-2999 (unassigned), 5000 and over.
    static func mayBeSent(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// A frame header's fields.
    private struct Header {
        var first: UInt8       // FIN, RSV1-3, opcode
        var second: UInt8      // MASK, 7-bit length
        var length: UInt64     // the payload length, 16- or 64-bit ones read
    }

    /// The header's length from its second byte: 2, then 2 or 8 more for the longer lengths, 4 more for a
    /// mask key (refused, but read whole so that every chunking refuses it at the same point).
    private static func headerLength(second: UInt8) -> Int {
        let lengthBytes: Int
        switch second & 0x7F {
        case 126: lengthBytes = 2
        case 127: lengthBytes = 8
        default: lengthBytes = 0
        }
        return 2 + lengthBytes + (second & 0x80 != 0 ? 4 : 0)
    }

    /// The next header from `p` at `at`, with how many bytes of `p` it took (together with what an earlier read
    /// left in `headerBytes`), or nil when it is not all there yet (what there is kept in `headerBytes`).
    private mutating func readHeader(_ p: UnsafeRawBufferPointer, from at: Int) -> (Header, Int)? {
        let available = p.count - at
        if headerBytes.isEmpty && available >= 2 {
            let second = p[at + 1]
            let needed = Self.headerLength(second: second)
            if available >= needed {
                var length = UInt64(second & 0x7F)
                if length == 126 {
                    length = UInt64(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: at + 2, as: UInt16.self)))
                } else if length == 127 {
                    length = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: at + 2, as: UInt64.self))
                }
                return (Header(first: p[at], second: second, length: length), needed)
            }
        }
        // Split over reads: gathered byte by byte (at most 14 bytes, once per read at most).
        var i = at
        while headerBytes.count < (headerBytes.count < 2 ? 2 : Self.headerLength(second: headerBytes[1])) {
            guard i < p.count else { return nil }
            headerBytes.append(p[i])
            i += 1
        }
        let bytes = headerBytes
        headerBytes.removeAll(keepingCapacity: true)
        let code = bytes[1] & 0x7F
        var length = UInt64(code)
        if code >= 126 {
            length = 0
            for b in bytes[2..<(code == 126 ? 4 : 10)] { length = length << 8 | UInt64(b) }
        }
        return (Header(first: bytes[0], second: bytes[1], length: length), i - at)
    }

    /// Checks a frame header against RFC 6455 and the message limit, and starts its payload.
    private mutating func begin(_ header: Header) throws {
        let isFinal = header.first & 0x80 != 0
        let opcode = header.first & 0x0F
        if header.first & 0x70 != 0 {
            throw WebSocketFault.malformedFrame("reserved bits set (RSV1-3) with no extension negotiated")
        }
        if header.second & 0x80 != 0 {
            throw WebSocketFault.malformedFrame("a masked frame: a server must not mask its frames")
        }
        if header.length > UInt64(Int.max) {
            throw WebSocketFault.malformedFrame("a 64-bit payload length with its most significant bit set")
        }
        switch header.second & 0x7F {
        case 126 where header.length < 126, 127 where header.length <= 0xFFFF:
            let bits = header.second & 0x7F == 126 ? 16 : 64
            throw WebSocketFault.malformedFrame("a payload length of \(header.length) in a \(bits)-bit field (not the fewest bytes)")
        default:
            break
        }
        let length = Int(header.length)
        switch opcode {
        case 0x8, 0x9, 0xA:
            let name = opcode == 0x8 ? "close" : opcode == 0x9 ? "ping" : "pong"
            guard isFinal else { throw WebSocketFault.malformedFrame("a fragmented \(name) frame") }
            guard length <= 125 else { throw WebSocketFault.malformedFrame("a \(name) frame of \(length) bytes (at most 125)") }
            if opcode == 0x8 && length == 1 {
                throw WebSocketFault.malformedFrame("a close frame with a 1-byte payload (a status code takes 2)")
            }
            controlOpcode = WebSocketOpcode(encodedWebSocketOpcode: opcode)
        case 0x0, 0x1, 0x2:
            if opcode == 0x0 {
                guard messageOpen else { throw WebSocketFault.badFragmentation("a continuation frame with no message begun") }
            } else {
                guard !messageOpen else { throw WebSocketFault.badFragmentation("a new message before the last one ended") }
                messageOpen = true
                messageIsText = opcode == 0x1
                messageSize = 0
            }
            guard length <= maxMessageSize - messageSize else { throw WebSocketFault.messageTooLarge }
            messageSize += length
        default:
            throw WebSocketFault.malformedFrame("the unknown opcode 0x\(String(opcode, radix: 16, uppercase: true))")
        }
        frameIsFinal = isFinal
        remaining = length
    }
}
