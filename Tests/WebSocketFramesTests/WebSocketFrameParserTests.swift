import NIOCore
import NIOEmbedded
import NIOWebSocket
import WebSocketFrames
import XCTest

/// `WebSocketFrameParser`, the client's reader of a server's frames, against RFC 6455 and against NIOWebSocket's
/// own decoder and aggregator as the reference: the same messages and control frames from the same bytes, in
/// any chunking (whole, byte by byte, random chunks, split at every byte boundary).
final class WebSocketFrameParserTests: XCTestCase {
    /// What a stream of frames means: whole messages and control frames in the order they complete.
    enum Item: Equatable, CustomStringConvertible {
        case message(isText: Bool, [UInt8])
        case control(WebSocketOpcode, [UInt8])

        var description: String {
            switch self {
            case .message(let text, let bytes): return "\(text ? "text" : "binary") \(bytes.count)"
            case .control(let opcode, let bytes): return "\(opcode) \(bytes.count)"
            }
        }
    }

    /// How a frame's length is written: the shortest form, or a longer one (RFC 6455 5.2 asks for the shortest;
    /// NIOWebSocket's decoder takes the others too, ours refuses them).
    enum LengthForm { case shortest, sixteen, sixtyFour }

    /// A frame's bytes, by hand: FIN, RSV bits, opcode, length in `form`, masked with `mask` when given.
    static func frame(fin: Bool = true, rsv: UInt8 = 0, opcode: UInt8, _ payload: [UInt8], form: LengthForm = .shortest,
                      mask: [UInt8]? = nil) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let n = payload.count
        switch form {
        case .shortest where n <= 125:
            bytes.append(maskBit | UInt8(n))
        case .shortest where n <= 0xFFFF, .sixteen:
            bytes += [maskBit | 126, UInt8(n >> 8), UInt8(n & 0xFF)]
        default:
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(n) >> (8 * UInt64($0))) }
        }
        if let mask { bytes += mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] } } else { bytes += payload }
        return bytes
    }

    static func bytes(_ n: Int, seed: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ ($0 >> 8)) }
    }

    // MARK: the parser, and NIOWebSocket as the reference

    /// What the bytes carry in arrival order, as the link's reader sees them (`read`): the data bytes between
    /// control frames run together, each control frame whole.
    enum Flat: Equatable { case data([UInt8]), control(WebSocketOpcode, [UInt8]) }

    /// Our parser over `chunks`: the items, and the fault it stopped at. Checked on the way: `read` (raw bytes,
    /// payloads copied out) gives the same bytes, control frames and fault as `next` (slices, events).
    static func parse(_ chunks: [[UInt8]], maxMessageSize: Int = 1 << 20) -> (items: [Item], fault: WebSocketFault?) {
        let (items, fault, flat) = parseWithNext(chunks, maxMessageSize: maxMessageSize)
        let (rawFlat, rawFault) = parseWithRead(chunks, maxMessageSize: maxMessageSize)
        XCTAssertEqual(rawFlat, flat, "read and next: the same bytes and control frames")
        XCTAssertEqual(rawFault, fault, "read and next: the same fault")
        return (items, fault)
    }

    static func append(_ bytes: some Sequence<UInt8>, to flat: inout [Flat]) {
        if case .data(let sofar)? = flat.last { flat[flat.count - 1] = .data(sofar + bytes) } else { flat.append(.data(Array(bytes))) }
    }

    static func parseWithRead(_ chunks: [[UInt8]], maxMessageSize: Int) -> ([Flat], WebSocketFault?) {
        var parser = WebSocketFrameParser(maxMessageSize: maxMessageSize)
        var flat: [Flat] = []
        for chunk in chunks {
            var at = 0
            do {
                while true {
                    let (consumed, control) = try chunk.withUnsafeBytes { bytes in
                        try parser.read(UnsafeRawBufferPointer(rebasing: bytes[at...])) { append($0, to: &flat) }
                    }
                    at += consumed
                    guard let control else { break }
                    flat.append(.control(control.opcode, Array(control.payload.readableBytesView)))
                }
            } catch {
                return (flat, error as? WebSocketFault)
            }
            XCTAssertEqual(at, chunk.count, "read takes every byte")
        }
        return (flat, nil)
    }

    static func parseWithNext(_ chunks: [[UInt8]], maxMessageSize: Int) -> (items: [Item], fault: WebSocketFault?, flat: [Flat]) {
        var parser = WebSocketFrameParser(maxMessageSize: maxMessageSize)
        var items: [Item] = []
        var flat: [Flat] = []
        var message: [UInt8] = []
        for chunk in chunks {
            var buffer = ByteBuffer(bytes: chunk)
            do {
                while let event = try parser.next(&buffer) {
                    switch event {
                    case .data(let piece, let isText, let end):
                        message += piece.readableBytesView
                        if piece.readableBytes > 0 { append(piece.readableBytesView, to: &flat) }
                        if let end {
                            XCTAssertEqual(end, message.count, "messageEnd is the message's size")
                            items.append(.message(isText: isText, message))
                            message = []
                        }
                    case .control(let opcode, let payload):
                        items.append(.control(opcode, Array(payload.readableBytesView)))
                        flat.append(.control(opcode, Array(payload.readableBytesView)))
                    }
                }
            } catch let fault as WebSocketFault {
                XCTAssertThrowsError(try parser.next(&buffer), "a parser that failed fails again")
                return (items, fault, flat)
            } catch {
                XCTFail("not a WebSocketFault: \(error)")
                return (items, nil, flat)
            }
            XCTAssertEqual(buffer.readableBytes, 0, "every byte of a read is taken")
        }
        return (items, nil, flat)
    }

    /// NIOWebSocket's decoder and aggregator (as the sandbox sets them up) over `bytes` at once.
    static func reference(_ bytes: [UInt8]) throws -> [Item] {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 24)))
        try channel.pipeline.syncOperations.addHandler(WebSocketEndpoint.messageAggregator(maxMessageSize: 1 << 24))
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        var items: [Item] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) {
            let payload = Array(frame.unmaskedData.readableBytesView)
            switch frame.opcode {
            case .text, .binary: items.append(.message(isText: frame.opcode == .text, payload))
            default: items.append(.control(frame.opcode, payload))
            }
        }
        return items
    }

    /// `bytes` cut into chunks of random sizes (1...maxChunk).
    static func randomChunks(_ bytes: [UInt8], maxChunk: Int, rng: inout some RandomNumberGenerator) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let n = min(Int.random(in: 1...maxChunk, using: &rng), bytes.count - i)
            chunks.append(Array(bytes[i..<(i + n)]))
            i += n
        }
        return chunks
    }

    /// A small corpus with 7-bit and 16-bit length fields (the 64-bit ones are in the large corpus), empty
    /// frames, fragments with pings and pongs between them, text and binary, then a close.
    static func smallCorpus() -> [UInt8] {
        var c: [UInt8] = []
        c += frame(opcode: 0x1, Array("CONNECTED\nversion:1.2\n\n\0".utf8))
        c += frame(opcode: 0x2, bytes(0, seed: 1))
        c += frame(opcode: 0x2, bytes(125, seed: 2))
        c += frame(opcode: 0x1, bytes(126, seed: 3))
        c += frame(opcode: 0x2, bytes(200, seed: 4))
        c += frame(opcode: 0x2, bytes(11, seed: 5))
        c += frame(opcode: 0x9, Array("ping".utf8))
        c += frame(fin: false, opcode: 0x1, bytes(5, seed: 6))
        c += frame(opcode: 0x9, [])
        c += frame(opcode: 0x9, bytes(2, seed: 12))
        c += frame(fin: false, opcode: 0x0, bytes(0, seed: 7))
        c += frame(opcode: 0xA, bytes(125, seed: 8))
        c += frame(fin: false, opcode: 0x0, bytes(130, seed: 9))
        c += frame(opcode: 0x0, bytes(3, seed: 10))
        c += frame(fin: false, opcode: 0x2, bytes(1, seed: 11))
        c += frame(opcode: 0x0, [])
        c += frame(opcode: 0x1, Array("\n".utf8))
        c += frame(opcode: 0x8, [0x03, 0xE8] + Array("bye".utf8))
        return c
    }

    /// A large corpus: many messages of random sizes up to 70,000 bytes (all length fields), some fragmented with
    /// control frames between fragments.
    static func largeCorpus(seed: UInt64) -> [UInt8] {
        var rng = SplitMix(seed: seed)
        var c: [UInt8] = []
        let sizes = [0, 1, 124, 125, 126, 127, 1000, 65_535, 65_536, 70_000]
        for i in 0..<40 {
            let size = i % 3 == 0 ? sizes[i / 3 % sizes.count] : Int.random(in: 0...300, using: &rng)
            let payload = bytes(size, seed: i)
            let opcode: UInt8 = Bool.random(using: &rng) ? 0x1 : 0x2
            if Int.random(in: 0..<4, using: &rng) == 0, size > 2 {
                // Three fragments, a ping and a pong between them.
                let a = Int.random(in: 0...size, using: &rng), b = Int.random(in: a...size, using: &rng)
                c += frame(fin: false, opcode: opcode, Array(payload[..<a]))
                c += frame(opcode: 0x9, bytes(Int.random(in: 0...125, using: &rng), seed: i))
                c += frame(fin: false, opcode: 0x0, Array(payload[a..<b]))
                c += frame(opcode: 0xA, bytes(3, seed: i))
                c += frame(opcode: 0x0, Array(payload[b...]))
            } else {
                c += frame(opcode: opcode, payload)
            }
        }
        c += frame(opcode: 0x8, [])
        return c
    }

    // MARK: the same as NIOWebSocket, in any chunking

    func testTheSmallCorpusSplitAtEveryByteBoundaryDecodesAsNIODoes() throws {
        let corpus = Self.smallCorpus()
        let expected = try Self.reference(corpus)
        XCTAssertEqual(expected.count, 14, "\(expected)")
        XCTAssertEqual(expected.last, .control(.connectionClose, [0x03, 0xE8] + Array("bye".utf8)))
        XCTAssertEqual(Self.parse([corpus]).items, expected, "whole")
        XCTAssertEqual(Self.parse(corpus.map { [$0] }).items, expected, "byte by byte")
        for i in 1..<corpus.count {
            let result = Self.parse([Array(corpus[..<i]), Array(corpus[i...])])
            XCTAssertNil(result.fault, "split at \(i)")
            XCTAssertEqual(result.items, expected, "split at \(i)")
        }
        // Cut in three at every pair of boundaries a few bytes apart (a header split over three reads).
        for i in 1..<(corpus.count - 3) {
            for gap in 1...3 {
                let parts = [Array(corpus[..<i]), Array(corpus[i..<(i + gap)]), Array(corpus[(i + gap)...])]
                XCTAssertEqual(Self.parse(parts).items, expected, "split at \(i) and \(i + gap)")
            }
        }
    }

    func testALargeCorpusByteByByteAndInRandomChunksDecodesAsNIODoes() throws {
        for seed in [UInt64(1), 2] {
            let corpus = Self.largeCorpus(seed: seed)
            let expected = try Self.reference(corpus)
            XCTAssertGreaterThan(expected.count, 40)
            XCTAssertTrue(expected.contains { if case .message(_, let b) = $0 { return b.count == 70_000 } else { return false } })
            XCTAssertEqual(Self.parse([corpus]).items, expected, "whole")
            if seed == 1 { XCTAssertEqual(Self.parse(corpus.map { [$0] }).items, expected, "byte by byte") }
            var rng = SplitMix(seed: seed &* 977)
            for maxChunk in [2, 7, 100, 1500, 17_000, 100_000] {
                let chunks = Self.randomChunks(corpus, maxChunk: maxChunk, rng: &rng)
                XCTAssertEqual(Self.parse(chunks).items, expected, "chunks up to \(maxChunk) bytes")
            }
        }
    }

    func testPayloadsComeOutAsSlicesAsTheyArrive() throws {
        var parser = WebSocketFrameParser(maxMessageSize: 1000)
        let payload = Self.bytes(300, seed: 3)
        let wire = Self.frame(opcode: 0x2, payload)
        var first = ByteBuffer(bytes: wire[..<104])   // the 4-byte header and 100 bytes
        XCTAssertEqual(try parser.next(&first), .data(ByteBuffer(bytes: payload[..<100]), isText: false, messageEnd: nil),
                       "the part that arrived, before the rest")
        XCTAssertNil(try parser.next(&first))
        var rest = ByteBuffer(bytes: wire[104...])
        XCTAssertEqual(try parser.next(&rest), .data(ByteBuffer(bytes: payload[100...]), isText: false, messageEnd: 300))
        XCTAssertNil(try parser.next(&rest))
    }

    // MARK: what RFC 6455 has a client refuse

    /// Each case: the frames, the fault, and the items before it. Fed whole and byte by byte: the same.
    func testFramesAClientMustRefuse() throws {
        let text = Self.frame(opcode: 0x1, Array("MESSAGE".utf8))
        var cases: [(name: String, bytes: [UInt8], fault: WebSocketFault, before: Int)] = [
            ("a masked frame", text + Self.frame(opcode: 0x1, [1, 2, 3], mask: [1, 2, 3, 4]),
             .malformedFrame("a masked frame: a server must not mask its frames"), 1),
            ("a masked empty ping", Self.frame(opcode: 0x9, [], mask: [9, 9, 9, 9]),
             .malformedFrame("a masked frame: a server must not mask its frames"), 0),
            ("a control frame of 126 bytes", Self.frame(opcode: 0x9, Self.bytes(126, seed: 1)),
             .malformedFrame("a ping frame of 126 bytes (at most 125)"), 0),
            ("a fragmented ping", Self.frame(fin: false, opcode: 0x9, [1]), .malformedFrame("a fragmented ping frame"), 0),
            ("a fragmented close", Self.frame(fin: false, opcode: 0x8, [3, 232]), .malformedFrame("a fragmented close frame"), 0),
            ("a close with one byte", Self.frame(opcode: 0x8, [3]),
             .malformedFrame("a close frame with a 1-byte payload (a status code takes 2)"), 0),
            ("a continuation with no message begun", text + Self.frame(opcode: 0x0, [1]),
             .badFragmentation("a continuation frame with no message begun"), 1),
            ("a new text message inside a fragmented one", Self.frame(fin: false, opcode: 0x2, [1]) + Self.frame(opcode: 0x9, []) + text,
             .badFragmentation("a new message before the last one ended"), 1),
            ("a new binary message inside a fragmented one", Self.frame(fin: false, opcode: 0x1, [1]) + Self.frame(opcode: 0x2, [2]),
             .badFragmentation("a new message before the last one ended"), 0),
            ("a 64-bit length with its top bit set", text + [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1],
             .malformedFrame("a 64-bit payload length with its most significant bit set"), 1),
        ]
        for bit: UInt8 in [1, 2, 4] {
            cases.append(("RSV bits \(bit)", text + Self.frame(rsv: bit, opcode: 0x1, [1]),
                          .malformedFrame("reserved bits set (RSV1-3) with no extension negotiated"), 1))
        }
        for opcode: UInt8 in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            cases.append(("opcode \(opcode)", Self.frame(opcode: opcode, [1, 2]),
                          .malformedFrame("the unknown opcode 0x\(String(opcode, radix: 16, uppercase: true))"), 0))
        }
        // RFC 6455 5.2: a length in the fewest bytes.
        for (n, form, bits) in [(0, LengthForm.sixteen, 16), (9, .sixteen, 16), (125, .sixteen, 16), (11, .sixtyFour, 64),
                                (126, .sixtyFour, 64), (65_535, .sixtyFour, 64)] {
            cases.append(("\(n) bytes in a \(bits)-bit length field", text + Self.frame(opcode: 0x2, Self.bytes(n, seed: n), form: form),
                          .malformedFrame("a payload length of \(n) in a \(bits)-bit field (not the fewest bytes)"), 1))
        }
        cases.append(("a ping's length in a 16-bit field", Self.frame(opcode: 0x9, [1, 2], form: .sixteen),
                      .malformedFrame("a payload length of 2 in a 16-bit field (not the fewest bytes)"), 0))
        // RFC 6455 7.4: status codes no endpoint may send (1005, 1006, 1015 are for reports, never the wire).
        for code: UInt16 in [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            cases.append(("a close with code \(code)", text + Self.frame(opcode: 0x8, [UInt8(code >> 8), UInt8(code & 0xFF)] + Array("x".utf8)),
                          .malformedFrame("a close frame with the status code \(code), which no endpoint may send"), 1))
        }
        // RFC 6455 7.1.6 / 8.1: the reason is UTF-8, else close 1007.
        for (name, reason) in [("0xFF", [UInt8(0xFF)]), ("a cut 'é'", Array("ok".utf8) + [0xC3]), ("an encoded surrogate", [0xED, 0xA0, 0x80]),
                               ("an overlong '/'", [0xC0, 0xAF])] {
            cases.append(("a close whose reason has \(name)", text + Self.frame(opcode: 0x8, [0x03, 0xE8] + reason),
                          .invalidUTF8("a close frame (code 1000) whose reason is not UTF-8"), 1))
        }
        for (name, bytes, fault, before) in cases {
            for (how, chunks) in [("whole", [bytes]), ("byte by byte", bytes.map { [$0] })] {
                let result = Self.parse(chunks)
                XCTAssertEqual(result.items.count, before, "\(name), \(how): \(result.items)")
                guard let got = result.fault else { XCTFail("\(name), \(how): no fault"); continue }
                XCTAssertEqual(got, fault, "\(name), \(how)")
                if case .invalidUTF8 = fault {
                    XCTAssertEqual(got.closeCode, .dataInconsistentWithMessage, "\(name): close code 1007")
                } else {
                    XCTAssertEqual(got.closeCode, .protocolError, "\(name): close code 1002")
                }
            }
        }
    }

    /// The close codes an endpoint may send are taken, with or without a UTF-8 reason; so is an empty close
    /// (no code), and a text message that is not UTF-8 (RabbitMQ Web-STOMP sends binary STOMP bodies so).
    func testCloseCodesThatMayBeSentAndNonUTF8TextAreTaken() throws {
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            for reason in [[], Array("bye".utf8), Array("über – ünd 😀".utf8)] {
                let payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
                let result = Self.parse([Self.frame(opcode: 0x8, payload)])
                XCTAssertNil(result.fault, "code \(code)")
                XCTAssertEqual(result.items, [.control(.connectionClose, payload)], "code \(code)")
            }
        }
        XCTAssertEqual(Self.parse([Self.frame(opcode: 0x8, [])]).items, [.control(.connectionClose, [])])
        let binaryAsText = Array("MESSAGE\ndestination:/q\n\n".utf8) + [0xFF, 0x00, 0xFE, 0]
        let result = Self.parse([Self.frame(opcode: 0x1, binaryAsText)])
        XCTAssertNil(result.fault)
        XCTAssertEqual(result.items, [.message(isText: true, binaryAsText)])
    }

    func testAMessageOverTheLimitIsRefusedFromTheHeaderThatCrossesIt() throws {
        // One frame: refused from its header (its payload never arrives).
        var one = Self.parse([Self.frame(opcode: 0x2, Self.bytes(11, seed: 1))], maxMessageSize: 10)
        XCTAssertEqual(one.fault, .messageTooLarge)
        XCTAssertEqual(one.fault?.closeCode, .messageTooLarge, "close code 1009")
        one = Self.parse([[0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]], maxMessageSize: 1 << 20)
        XCTAssertEqual(one.fault, .messageTooLarge, "a 4 GiB frame from its header alone")
        // Fragments adding up to one byte more; exactly the limit passes (control frames do not count).
        let six = Self.frame(fin: false, opcode: 0x2, Self.bytes(6, seed: 2)), ping = Self.frame(opcode: 0x9, Self.bytes(100, seed: 3))
        let over = Self.parse([six + ping + Self.frame(opcode: 0x0, Self.bytes(5, seed: 4))], maxMessageSize: 10)
        XCTAssertEqual(over.fault, .messageTooLarge)
        XCTAssertEqual(over.items.count, 1, "the ping before it")
        let fits = Self.parse([six + ping + Self.frame(opcode: 0x0, Self.bytes(4, seed: 4))], maxMessageSize: 10)
        XCTAssertNil(fits.fault)
        XCTAssertEqual(fits.items.last, .message(isText: false, Self.bytes(6, seed: 2) + Self.bytes(4, seed: 4)))
        // The count starts again with each message.
        let twice = Self.parse([Self.frame(opcode: 0x1, Self.bytes(10, seed: 5)) + Self.frame(opcode: 0x1, Self.bytes(10, seed: 6))],
                               maxMessageSize: 10)
        XCTAssertNil(twice.fault)
        XCTAssertEqual(twice.items.count, 2)
    }

    func testControlFramesBetweenFragmentsComeOutAtOnceAndTheMessageWhole() throws {
        let wire = Self.frame(fin: false, opcode: 0x1, Array("CONNECTED\nver".utf8))
            + Self.frame(opcode: 0x9, Array("are you there".utf8))
            + Self.frame(fin: false, opcode: 0x0, Array("sion:1.2\n".utf8))
            + Self.frame(opcode: 0x8, [0x03, 0xE9] + Array("going".utf8))
        let result = Self.parse(wire.map { [$0] })
        XCTAssertNil(result.fault)
        XCTAssertEqual(result.items, [.control(.ping, Array("are you there".utf8)), .control(.connectionClose, [0x03, 0xE9] + Array("going".utf8))],
                       "the message is not done; the ping and the close are")
        // What the client does with them: the ping gets a pong, the close its code back.
        var endpoint = WebSocketEndpoint(role: .client)
        guard case .ping(_, let pong?) = endpoint.receive(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "are you there"))) else {
            return XCTFail("no pong")
        }
        XCTAssertEqual(String(buffer: pong.data), "are you there", "(a client frame's data is the payload before masking)")
        guard case .close(let close) = endpoint.receive(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: [0x03, 0xE9]))) else {
            return XCTFail("no close")
        }
        XCTAssertEqual(close.code, 1001)
        let answer = endpoint.startClose(WebSocketClose(code: close.code), allocator: ByteBufferAllocator())
        XCTAssertEqual(answer.map { Array($0.data.readableBytesView) }, [0x03, 0xE9], "the code echoed")
    }
}

/// A small seeded generator, so that the random corpora and chunkings are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
