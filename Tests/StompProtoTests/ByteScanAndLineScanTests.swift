import XCTest
@testable import StompProto

/// `ByteScan` (the word-at-a-time primitives) against byte-by-byte answers, and the decoder's one-pass header
/// line scan, buffer reuse and line records on the edges those introduce.
final class ByteScanAndLineScanTests: XCTestCase {
    /// The bytes the scans look for, and some neighbours that must not be taken for them.
    private let specials: [UInt8] = [0x0A, 0x0D, 0x3A, 0x5C]
    private let neighbours: [UInt8] = [0x00, 0x01, 0x09, 0x0B, 0x0C, 0x0E, 0x39, 0x3B, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF]

    func testFirstStompSpecialFindsEverySpecialAtEveryOffsetFromEveryStart() {
        for n in 0...40 {
            for position in 0..<max(n, 1) where n > 0 {
                for special in specials {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: n)
                    bytes[position] = special
                    bytes.withUnsafeBufferPointer { p in
                        for from in 0...n {
                            let expected = from <= position ? position : n
                            XCTAssertEqual(ByteScan.firstStompSpecial(p.baseAddress!, n, from: from), expected,
                                           "n \(n) at \(position) from \(from): \(special)")
                        }
                    }
                }
            }
            for b in neighbours {   // never taken for a special
                let bytes = [UInt8](repeating: b, count: n)
                bytes.withUnsafeBufferPointer { p in
                    if let base = p.baseAddress { XCTAssertEqual(ByteScan.firstStompSpecial(base, n, from: 0), n, "\(b)") }
                }
            }
        }
    }

    func testFirstIndexAndMasksAgreeWithAByteByByteSearch() {
        var rng = SeededRNG(seed: 19)
        let alphabet = specials + neighbours + Array("az09-".utf8)
        for _ in 0..<2000 {
            let n = Int.random(in: 0...40, using: &rng)
            let bytes = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            let target = alphabet.randomElement(using: &rng)!
            let from = Int.random(in: 0...n, using: &rng)
            bytes.withUnsafeBufferPointer { p in
                guard let base = p.baseAddress else { return }
                let expected = bytes[from...].firstIndex(of: target) ?? n
                XCTAssertEqual(ByteScan.firstIndex(of: target, base, n, from: from), expected, "\(bytes) \(target) \(from)")
                let expectedSpecial = bytes[from...].firstIndex { specials.contains($0) } ?? n
                XCTAssertEqual(ByteScan.firstStompSpecial(base, n, from: from), expectedSpecial, "\(bytes) from \(from)")
                if n >= 8 {   // exactEqual flags exactly the matching bytes of a word; equal's lowest flag is exact
                    let x = ByteScan.load(base)
                    let exact = ByteScan.exactEqual(x, target)
                    for k in 0..<8 { XCTAssertEqual(exact >> UInt64(8 * k + 7) & 1 == 1, bytes[k] == target) }
                    let m = ByteScan.equal(x, target)
                    XCTAssertEqual(m == 0 ? nil : m.trailingZeroBitCount / 8, bytes[0..<8].firstIndex(of: target))
                }
            }
        }
    }

    func testCopyCopiesExactlyNBytesForEveryLength() {
        let source = (0..<64).map { UInt8($0 + 1) }
        for n in 0...40 {
            var dst = [UInt8](repeating: 0xEE, count: 48)
            source.withUnsafeBufferPointer { s in
                dst.withUnsafeMutableBufferPointer { d in ByteScan.copy(d.baseAddress! + 2, s.baseAddress!, n) }
            }
            XCTAssertEqual(Array(dst[2..<(2 + n)]), Array(source[0..<n]), "n \(n)")
            XCTAssertEqual(dst[0..<2], [0xEE, 0xEE])
            XCTAssertTrue(dst[(2 + n)...].allSatisfy { $0 == 0xEE }, "n \(n) wrote past its end")
        }
    }

    /// A header value with one special (or non-ASCII) byte at every offset, in every version, round-trips through
    /// the encoder and the decoder fed whole, byte by byte, and in odd chunks (so the scan stops at every byte).
    func testEverySpecialByteAtEveryOffsetOfAHeaderRoundTrips() throws {
        let odd = ["\n", "\r", ":", "\\", "\t", "é"]
        for version in [StompVersion.v1_1, .v1_2] {
            for length in [1, 7, 8, 9, 15, 16, 17, 30] {
                for position in 0..<length {
                    for s in odd {
                        let value = String(repeating: "v", count: position) + s + String(repeating: "v", count: length - position - 1)
                        let name = String(repeating: "n", count: position) + s + "\(length)"
                        var headers: StompHeaders = ["destination": "/queue/a", name: "plain", "message-id": "ID:1:2"]
                        if !(version == .v1_1 && s == "\r" && position == length - 1) {   // 1.1 cannot write a value's last CR
                            headers.append("k\(position)", value)
                        }
                        let frame = StompFrame(.message, headers: headers, body: "x")
                        let wire = try FrameEncoder(version: version).encode(frame)
                        for chunks in [nil, [1], [3, 5, 2]] as [[Int]?] {
                            let got = frames(try decodeAll(wire, version: version, chunks: chunks))
                            XCTAssertEqual(got, [frame], "\(version) length \(length) at \(position): \(s.utf8.first!) chunks \(String(describing: chunks))")
                        }
                    }
                }
            }
        }
    }

    func testEscapesSplitAcrossChunksAndUndefinedOnesFailAlikeInAnyChunking() throws {
        let good = [UInt8](wire: "MESSAGE\nk\\c\\\\\\n\\r:v\\\\x\\cy\n\nb\0")
        for chunks in [nil, [1], [2], [3, 1]] as [[Int]?] {
            let got = frames(try decodeAll(good, chunks: chunks))
            XCTAssertEqual(got.first?.headers.pairs.first?.name, "k:\\\n\r")
            XCTAssertEqual(got.first?.headers.pairs.first?.value, "v\\x:y")
        }
        for bad in ["MESSAGE\nkey:va\\tl\n\n\0", "MESSAGE\nk\\x:v\n\n\0", "MESSAGE\nk:v\\\n\n\0", "MESSAGE\nk:v\\\r\n\r\n\0"] {
            let wire = [UInt8](wire: bad)
            var whole: Error?
            do { _ = try decodeAll(wire) } catch { whole = error }
            XCTAssertNotNil(whole, bad)
            for chunks in [[1], [2], [3, 1]] {
                do {
                    _ = try decodeAll(wire, chunks: chunks)
                    XCTFail("\(bad): no error in chunks \(chunks)")
                } catch {
                    XCTAssertEqual(error as? FrameDecodingError, whole as? FrameDecodingError, bad)
                }
            }
        }
        // "\r" is defined in 1.2 only.
        XCTAssertThrowsError(try decodeAll([UInt8](wire: "MESSAGE\nk:a\\rb\n\n\0"), version: .v1_1))
        XCTAssertEqual(frames(try decodeAll([UInt8](wire: "MESSAGE\nk:a\\rb\n\n\0"))).first?.headers["k"], "a\rb")
    }

    func testLineRecordsBeyondTheReservedTwelveAndAfterAManyHeaderFrame() throws {
        for count in [11, 12, 13, 40, 100] {
            var headers = StompHeaders()
            for i in 0..<count { headers.append("h\(i)", "value-\(i)") }
            headers.append("h3", "repeat")
            let big = StompFrame(.message, headers: headers, body: "big")
            let small = StompFrame(.message, headers: ["a": "1", "b": "2"], body: "s")
            var wire = try FrameEncoder().encode(big)
            wire += try FrameEncoder().encode(small)
            wire += try FrameEncoder().encode(big)
            for chunks in [nil, [7]] as [[Int]?] {
                let got = frames(try decodeAll(wire, chunks: chunks))
                XCTAssertEqual(got, [big, small, big], "\(count)")
                XCTAssertEqual(got[0].headers.count, count + 1)
                XCTAssertEqual(got[0].headers["h3"], "value-3")
                XCTAssertEqual(got[0].headers.values(for: "h3"), ["value-3", "repeat"])
            }
        }
    }

    /// Frames share nothing they can see with the decoder or with each other: one kept across the next frames,
    /// appends and compactions is unchanged, and editing it changes no other frame.
    func testAFrameOutlivesTheDecodersNextFramesAndCompactions() throws {
        let a = StompFrame(.message, headers: ["destination": "/queue/a", "message-id": "ID:a:1", "content-length": "5"],
                           body: [1, 0, 2, 0, 3])
        let b = StompFrame(.message, headers: ["destination": "/queue/b", "message-id": "ID:b:2"], body: "bee")
        let aWire = try FrameEncoder().encode(a), bWire = try FrameEncoder().encode(b)
        var decoder = FrameDecoder()
        decoder.append(aWire + Array(bWire.prefix(10)))
        guard case .frame(var keptA)? = try decoder.next() else { return XCTFail("no frame a") }
        XCTAssertNil(try decoder.next())
        for _ in 0..<50 {   // many frames and compactions while A is held
            decoder.append(Array(bWire.dropFirst(10)) + Array(bWire.prefix(10)))
            guard case .frame(let got)? = try decoder.next() else { return XCTFail("no frame b") }
            XCTAssertEqual(got, b)
            XCTAssertEqual(keptA, a)
        }
        var keptB: StompFrame?
        decoder.append(Array(bWire.dropFirst(10)))
        if case .frame(let got)? = try decoder.next() { keptB = got }
        keptA.headers["destination"] = "/queue/changed"
        keptA.body[0] = 9
        XCTAssertEqual(keptB, b)
        decoder.append(aWire)
        guard case .frame(let a2)? = try decoder.next() else { return XCTFail("no second a") }
        XCTAssertEqual(a2, a)
        XCTAssertEqual(keptA.headers["destination"], "/queue/changed")
        XCTAssertEqual(keptB, b)
    }

    /// A body buffer is reused only when nothing holds it, and never one much larger than the body: a small frame
    /// decoded after a large one does not pin the large buffer.
    func testASmallBodyAfterALargeOneGetsASmallBuffer() throws {
        let large = StompFrame(.message, headers: ["content-length": "100000"], body: [UInt8](repeating: 7, count: 100_000))
        let small = StompFrame(.message, headers: ["content-length": "3"], body: [1, 2, 3])
        var decoder = FrameDecoder()
        decoder.append(try FrameEncoder().encode(large))
        if case .frame(let f)? = try decoder.next() { XCTAssertEqual(f.body.count, 100_000) }
        decoder.append(try FrameEncoder().encode(small))
        guard case .frame(let f)? = try decoder.next() else { return XCTFail("no small frame") }
        XCTAssertEqual(f, small)
        XCTAssertLessThanOrEqual(f.body.capacity, 2 * 3 + 64)
    }

    /// The decoder keeps the last frame's small buffers for the next frame, never a large one: a reader that
    /// takes a large body owns it alone (an idle connection does not pin its last big message), and writing into
    /// a small body it took changes no frame decoded later.
    func testTheDecoderKeepsNoLargeBodyAndNoFrameSeesAnotherWriteIntoItsBody() throws {
        var decoder = FrameDecoder()
        func nextBody(_ frame: StompFrame) throws -> [UInt8] {
            decoder.append(try FrameEncoder().encode(frame))
            guard case .frame(let f)? = try decoder.next() else { XCTFail("no frame"); return [] }
            return f.body
        }
        var large = try nextBody(StompFrame(.message, body: [UInt8](repeating: 7, count: 200_000)))
        let before = large.withUnsafeBufferPointer { $0.baseAddress }
        large[0] = 8   // written in place: nothing else holds the buffer
        XCTAssertEqual(large.withUnsafeBufferPointer { $0.baseAddress }, before)

        var small = try nextBody(StompFrame(.message, body: "abc"))
        small[0] = UInt8(ascii: "X")
        XCTAssertEqual(small, Array("Xbc".utf8))
        XCTAssertEqual(try nextBody(StompFrame(.message, body: "def")), Array("def".utf8))
        XCTAssertEqual(small, Array("Xbc".utf8))
    }

    func testCRLFLinesAndInnerCarriageReturns() throws {
        let wire = [UInt8](wire: "MESSAGE\r\nk:v\r\nin:a\rb\r\ncr-end:x\\r\r\nplain:y\n\r\nbody\0")
        for chunks in [nil, [1], [4]] as [[Int]?] {
            let f = frames(try decodeAll(wire, chunks: chunks))
            XCTAssertEqual(f.first?.headers.pairs.map { "\($0.name)=\($0.value)" }, ["k=v", "in=a\rb", "cr-end=x\r", "plain=y"])
            XCTAssertEqual(f.first?.bodyString, "body")
            // Written back, the inner CR is escaped and the plain lines are copied as they are.
            let again = try FrameEncoder().encode(f[0])
            XCTAssertEqual(String(decoding: again, as: UTF8.self), "MESSAGE\nk:v\nin:a\\rb\ncr-end:x\\r\nplain:y\n\nbody\0")
        }
    }

    func testContentLengthAndNulTerminatedBodiesOneAfterAnother() throws {
        let wire = [UInt8](wire: "MESSAGE\ncontent-length:3\n\na\0b\0MESSAGE\nx:1\n\nnul-ended\0\nMESSAGE\ncontent-length:0\n\n\0")
        for chunks in [nil, [1], [5, 2]] as [[Int]?] {
            let got = try decodeAll(wire, chunks: chunks)
            let f = frames(got)
            XCTAssertEqual(f.map(\.body), [[0x61, 0, 0x62], Array("nul-ended".utf8), []])
            XCTAssertEqual(got.count, 4)   // the LF after the second frame is a heart-beat
        }
    }

    /// The plain-line scan (8 bytes a step, taken whole when 8 remain) and the byte-at-a-time line scan it hands
    /// over to (all that a stream fed one byte at a time ever uses) read the same: random header lines of plain
    /// bytes, ':', escapes good and bad, CR, control bytes and UTF-8, of every length around the word size, in every
    /// version, decode to the same frames (received lines included) or fail with the same fault at the same offset,
    /// under the default limits and tight ones.
    func testThePlainLineScanAndTheByteAtATimeScanReadEveryLineAlike() throws {
        var rng = SeededRNG(seed: 2026_12_05)
        let pieces: [[UInt8]] = [Array("a".utf8), Array("bcdefgh".utf8), Array("-/.".utf8), [0x3A], [0x3A], [0x5C, 0x63],
                                 [0x5C, 0x6E], [0x5C, 0x5C], [0x5C, 0x72], [0x5C, 0x74], [0x5C], [0x0D], [0x01], [0x7F],
                                 Array("é".utf8), [0xC3], Array("content-length".utf8), Array("3".utf8)]
        let tight = StompLimits(maxCommandLength: 16, maxHeaderLineLength: 24, maxHeaderCount: 5, maxBodySize: 64)
        func line() -> [UInt8] {
            var l: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                l += Int.random(in: 0..<3, using: &rng) == 0 ? pieces.randomElement(using: &rng)! : Array("name".utf8)
            }
            if Int.random(in: 0..<4, using: &rng) != 0, !l.contains(0x3A) {
                l.insert(0x3A, at: Int.random(in: 0...l.count, using: &rng))
            }
            return l + (Int.random(in: 0..<8, using: &rng) == 0 ? [0x0D, 0x0A] : [0x0A])
        }
        func outcome(_ wire: [UInt8], _ version: StompVersion, _ limits: StompLimits, _ chunks: [Int]?)
            -> (frames: [StompFrame], received: [[UInt8]?], fault: FrameDecodingError?) {
            do {
                let got = frames(try decodeAll(wire, version: version, limits: limits, chunks: chunks))
                return (got, got.map { f in f.headers.withReceivedLines { Array($0) } }, nil)
            } catch {
                return ([], [], error as? FrameDecodingError)
            }
        }
        for round in 0..<3000 {
            var wire: [UInt8] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                wire += Array((Bool.random(using: &rng) ? "MESSAGE\n" : "CONNECTED\n").utf8)
                for _ in 0..<Int.random(in: 0...7, using: &rng) { wire += line() }
                wire += Array("\nbody\0".utf8)
            }
            let version = StompVersion.allCases.randomElement(using: &rng)!
            let limits = Bool.random(using: &rng) ? StompLimits.default : tight
            let whole = outcome(wire, version, limits, nil)
            let bytewise = outcome(wire, version, limits, [1])
            let odd = outcome(wire, version, limits, [9, 3])
            for other in [bytewise, odd] {
                XCTAssertEqual(whole.frames, other.frames, "round \(round): \(String(decoding: wire, as: UTF8.self).debugDescription)")
                XCTAssertEqual(whole.received, other.received, "round \(round): received lines")
                if let a = whole.fault, let b = other.fault, let la = a.exceededLimit, let lb = b.exceededLimit {
                    XCTAssertEqual(la.name, lb.name, "round \(round)")   // a limit's value depends on what had arrived
                    XCTAssertEqual(a.offset, b.offset, "round \(round)")
                } else {
                    XCTAssertEqual(whole.fault, other.fault, "round \(round): \(String(decoding: wire, as: UTF8.self).debugDescription)")
                }
            }
        }
    }

    /// Lines the plain-line scan stops at: a second raw ':' (STOMP 1.0 values, ActiveMQ's message-ids), a line of
    /// exactly the longest length and one byte over, the header count at and over its limit, a line with no ':'.
    func testLinesThePlainScanHandsOverOrRejects() throws {
        let oneOh = [UInt8](wire: "MESSAGE\nmessage-id:ID:host-1:2:3\ndestination:/queue/a\n\nb\0")
        for chunks in [nil, [1], [13]] as [[Int]?] {
            let f = frames(try decodeAll(oneOh, version: .v1_0, chunks: chunks))
            XCTAssertEqual(f.first?.headers["message-id"], "ID:host-1:2:3")
            XCTAssertEqual(f.first?.headers["destination"], "/queue/a")
        }
        let limits = StompLimits(maxCommandLength: 16, maxHeaderLineLength: 20, maxHeaderCount: 2, maxBodySize: 64)
        let atLimit = [UInt8](wire: "MESSAGE\nkey:" + String(repeating: "v", count: 16) + "\n\nb\0")
        XCTAssertEqual(frames(try decodeAll(atLimit, limits: limits)).first?.headers["key"], String(repeating: "v", count: 16))
        let over = [UInt8](wire: "MESSAGE\nkey:" + String(repeating: "v", count: 17) + "\n\nb\0")
        let tooMany = [UInt8](wire: "MESSAGE\na:1\nb:2\nc:3\n\nbody-after-three-lines\0")
        let noColon = [UInt8](wire: "MESSAGE\na:1\nno-colon-in-this-line\n\nb\0")
        for chunks in [nil, [1], [5]] as [[Int]?] {
            XCTAssertThrowsError(try decodeAll(over, limits: limits, chunks: chunks)) {
                XCTAssertEqual(($0 as? FrameDecodingError)?.exceededLimit?.name, "maxHeaderLineLength")
                XCTAssertEqual(($0 as? FrameDecodingError)?.offset, 8)
            }
            XCTAssertThrowsError(try decodeAll(tooMany, limits: limits, chunks: chunks)) {
                XCTAssertEqual(($0 as? FrameDecodingError)?.exceededLimit?.name, "maxHeaderCount")
                XCTAssertEqual(($0 as? FrameDecodingError)?.offset, 16)
            }
            XCTAssertThrows(FrameDecodingError.malformedHeader(line: "no-colon-in-this-line", offset: 12),
                            try decodeAll(noColon, chunks: chunks))
        }
    }
}
