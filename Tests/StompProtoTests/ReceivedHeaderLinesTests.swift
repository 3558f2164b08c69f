import XCTest
@testable import StompProto

/// Headers decoded from the wire keep their lines as received (escaped): the values read back unescaped, and a
/// frame written back unchanged in the version it came in is the received bytes, copied; any edit, another
/// version or a line the encoder would write differently (CRLF, a raw CR, a second raw ':') takes the escaping
/// path, whose output is the same as for a frame built from the same names and values.
final class ReceivedHeaderLinesTests: XCTestCase {
    /// The frame `f` rebuilt from its names, values and body (no received lines): the reference encoding.
    private func rebuilt(_ f: StompFrame) -> StompFrame {
        StompFrame(f.command, headers: StompHeaders(f.headers.pairs.map { ($0.name, $0.value) }), body: f.body)
    }

    /// Encoded bytes or the error, for comparing the two paths; the encoder's array and pointer entries (the
    /// client writes SENDs through the second, into its outbound buffer) must say the same.
    private func outcome(_ encoder: FrameEncoder, _ f: StompFrame) -> String {
        let viaArray: String
        do { viaArray = String(decoding: try encoder.encode(f), as: UTF8.self).debugDescription } catch { viaArray = "error \(error)" }
        let room = UnsafeMutableRawBufferPointer.allocate(byteCount: encoder.maximumEncodedCount(f), alignment: 1)
        defer { room.deallocate() }
        let viaPointer: String
        do {
            let n = try encoder.encode(f, to: room)
            viaPointer = String(decoding: UnsafeRawBufferPointer(rebasing: room[0..<n]), as: UTF8.self).debugDescription
        } catch { viaPointer = "error \(error)" }
        return viaArray == viaPointer ? viaArray : "array and pointer entries differ: \(viaArray) / \(viaPointer)"
    }

    private func decodeOne(_ wire: String, version: StompVersion, chunks: [Int]? = nil) throws -> StompFrame {
        let f = frames(try decodeAll([UInt8](wire: wire), version: version, chunks: chunks))
        guard f.count == 1 else { throw XCTSkip("expected one frame, got \(f.count)") }
        return f[0]
    }

    func testEscapedHeadersAreKeptAsReceivedAndReadUnescaped() throws {
        let wire = "MESSAGE\nmessage-id:ID\\chost\\c1\\c2\na\\nb:c\\\\d\\re\nplain:x\nmessage-id:second\n\nbody\0"
        for chunks in [nil, [1], [3, 7]] as [[Int]?] {
            let f = try decodeOne(wire, version: .v1_2, chunks: chunks)
            XCTAssertEqual(f.headers["message-id"], "ID:host:1:2")
            XCTAssertEqual(f.headers.values(for: "message-id"), ["ID:host:1:2", "second"])
            XCTAssertEqual(f.headers.pairs.map { "\($0.name)=\($0.value)" },
                           ["message-id=ID:host:1:2", "a\nb=c\\d\re", "plain=x", "message-id=second"])
            XCTAssertEqual(f.headers.withValueBytes(for: "a\nb") { Array($0) }, Array("c\\d\re".utf8))
            var seen: [String] = []
            f.headers.forEachLineBytes { n, v in seen.append(String(decoding: n, as: UTF8.self) + "=" + String(decoding: v, as: UTF8.self)) }
            XCTAssertEqual(seen, ["message-id=ID:host:1:2", "a\nb=c\\d\re", "plain=x", "message-id=second"])
            // The lines as they came, escapes and all.
            XCTAssertEqual(f.headers.withReceivedLines { String(decoding: $0, as: UTF8.self) },
                           "message-id:ID\\chost\\c1\\c2\na\\nb:c\\\\d\\re\nplain:x\nmessage-id:second\n")
            let expected: [(String, String)] = [("message-id", "ID:host:1:2"), ("a\nb", "c\\d\re"), ("plain", "x"),
                                                ("message-id", "second")]
            XCTAssertEqual(f.headers, StompHeaders(expected))
        }
        // STOMP 1.0: nothing is unescaped, the backslashes are the value's.
        let f10 = try decodeOne("MESSAGE\nid:a\\cb\n\n\0", version: .v1_0)
        XCTAssertEqual(f10.headers["id"], "a\\cb")
        XCTAssertEqual(f10.headers.withReceivedLines { String(decoding: $0, as: UTF8.self) }, "id:a\\cb\n")
        // Built headers have no received lines.
        let built: StompHeaders = ["a": "b"]
        XCTAssertNil(built.withReceivedLines { $0.count })
    }

    func testADecodedFrameIsWrittenBackByteIdenticalInItsVersion() throws {
        let cases: [(StompVersion, String)] = [
            (.v1_2, "MESSAGE\nmessage-id:ID\\chost\\c1\ncontent-length:4\nk:v\nk:w\nempty:\n:noname\né:ü\n\nbo\0y\0"),
            (.v1_2, "MESSAGE\nslash:a\\\\b\\nc\\rd\n\nbody\0"),
            (.v1_1, "MESSAGE\nmessage-id:ID\\chost\\c1\nslash:a\\\\b\\nc\n\nbody\0"),
            (.v1_0, "MESSAGE\nmessage-id:ID:host:1\nslash:a\\b\\c\n\nbody\0"),
            (.v1_2, "CONNECTED\nversion:1.2\nserver:x:y\\z\n\n\0"),
            (.v1_2, "RECEIPT\n\n\0"),
            (.v1_2, "MESSAGE\ncontent-length:0\n\n\0"),
        ]
        for (version, wire) in cases {
            let f = try decodeOne(wire, version: version)
            XCTAssertNotNil(f.headers.withReceivedLines { $0.count }, wire)
            XCTAssertEqual(outcome(FrameEncoder(version: version), f), wire.debugDescription)
            // The copy is exactly what the escaping path writes for the same names and values.
            XCTAssertEqual(outcome(FrameEncoder(version: version), f), outcome(FrameEncoder(version: version), rebuilt(f)))
        }
    }

    func testADecodedFrameWrittenInAnotherVersionIsEscapedForThatVersion() throws {
        let f = try decodeOne("MESSAGE\nmessage-id:ID\\chost\\c1\nslash:a\\\\b\nnl:x\\ny\ncr:x\\ry\n\nbody\0", version: .v1_2)
        XCTAssertEqual(outcome(FrameEncoder(version: .v1_1), f),
                       "MESSAGE\nmessage-id:ID\\chost\\c1\nslash:a\\\\b\nnl:x\\ny\ncr:x\ry\n\nbody\0".debugDescription)
        // 1.0 cannot write the LF: the same error as for a built frame.
        XCTAssertEqual(outcome(FrameEncoder(version: .v1_0), f), outcome(FrameEncoder(version: .v1_0), rebuilt(f)))
        XCTAssertTrue(outcome(FrameEncoder(version: .v1_0), f).hasPrefix("error"))
        let g = try decodeOne("MESSAGE\nmessage-id:ID\\chost\\c1\nslash:a\\\\b\n\nbody\0", version: .v1_2)
        XCTAssertEqual(outcome(FrameEncoder(version: .v1_0), g), "MESSAGE\nmessage-id:ID:host:1\nslash:a\\b\n\nbody\0".debugDescription)
        // A 1.0 frame's backslashes are escaped when written in 1.2.
        let h = try decodeOne("MESSAGE\nid:a\\cb:c\n\n\0", version: .v1_0)
        XCTAssertEqual(outcome(FrameEncoder(version: .v1_2), h), "MESSAGE\nid:a\\\\cb\\cc\n\n\0".debugDescription)
        XCTAssertEqual(outcome(FrameEncoder(version: .v1_0), h), "MESSAGE\nid:a\\cb:c\n\n\0".debugDescription)
    }

    func testLinesTheEncoderWritesDifferentlyAreNotCopied() throws {
        // CRLF line ends, a raw CR inside a value, a second raw ':' (accepted, but written back escaped).
        let cases: [(StompVersion, String, String)] = [
            (.v1_2, "MESSAGE\r\nk:v\r\n\r\nb\0", "MESSAGE\nk:v\n\nb\0"),
            (.v1_2, "MESSAGE\nk:v\r\n\nb\0", "MESSAGE\nk:v\n\nb\0"),
            (.v1_2, "MESSAGE\nk:v\n\r\nb\0", "MESSAGE\nk:v\n\nb\0"),
            (.v1_2, "MESSAGE\nk:a\rb\n\nb\0", "MESSAGE\nk:a\\rb\n\nb\0"),
            (.v1_2, "MESSAGE\nk:a:b\n\nb\0", "MESSAGE\nk:a\\cb\n\nb\0"),
            (.v1_1, "MESSAGE\nk:a:b\n\nb\0", "MESSAGE\nk:a\\cb\n\nb\0"),
            (.v1_0, "MESSAGE\nk:a:b\n\nb\0", "MESSAGE\nk:a:b\n\nb\0"),
        ]
        for (version, wire, expected) in cases {
            let f = try decodeOne(wire, version: version)
            XCTAssertEqual(outcome(FrameEncoder(version: version), f), expected.debugDescription, wire.debugDescription)
            XCTAssertEqual(outcome(FrameEncoder(version: version), f), outcome(FrameEncoder(version: version), rebuilt(f)))
        }
    }

    func testAnEditedFrameIsWrittenWithItsEdits() throws {
        let wire = "MESSAGE\nmessage-id:ID\\chost\\c1\ndestination:/queue/a\ncontent-length:3\nk:v\n\nabc\0"
        let edits: [(String, (inout StompFrame) -> Void, String)] = [
            ("set", { $0.headers["destination"] = "/queue/b:c" },
             "MESSAGE\nmessage-id:ID\\chost\\c1\ndestination:/queue/b\\cc\ncontent-length:3\nk:v\n\nabc\0"),
            ("set shorter", { $0.headers["k"] = "" },
             "MESSAGE\nmessage-id:ID\\chost\\c1\ndestination:/queue/a\ncontent-length:3\nk:\n\nabc\0"),
            ("append", { $0.headers.append("x", "1") },
             "MESSAGE\nmessage-id:ID\\chost\\c1\ndestination:/queue/a\ncontent-length:3\nk:v\nx:1\n\nabc\0"),
            ("append decimal", { $0.headers.append("n", decimal: 42) },
             "MESSAGE\nmessage-id:ID\\chost\\c1\ndestination:/queue/a\ncontent-length:3\nk:v\nn:42\n\nabc\0"),
            ("remove", { $0.headers.removeAll("message-id") },
             "MESSAGE\ndestination:/queue/a\ncontent-length:3\nk:v\n\nabc\0"),
            ("remove lines", { $0.headers.removeLines(from: 2) },
             "MESSAGE\nmessage-id:ID\\chost\\c1\ndestination:/queue/a\n\nabc\0"),
            ("command", { $0.command = .send },
             "SEND\nmessage-id:ID\\chost\\c1\ndestination:/queue/a\ncontent-length:3\nk:v\n\nabc\0"),
            ("command, another escaping", { $0.command = .connect },
             "CONNECT\nmessage-id:ID:host:1\ndestination:/queue/a\ncontent-length:3\nk:v\n\nabc\0"),
            ("whole headers", { $0.headers = ["content-length": "3"] }, "MESSAGE\ncontent-length:3\n\nabc\0"),
        ]
        for (label, edit, expected) in edits {
            var f = try decodeOne(wire, version: .v1_2)
            edit(&f)
            XCTAssertEqual(outcome(FrameEncoder(), f), expected.debugDescription, label)
            XCTAssertEqual(outcome(FrameEncoder(), f), outcome(FrameEncoder(), rebuilt(f)), label)
        }
        // No-op edits keep the copy (nothing to remove), and a copy of the headers edited leaves the original's.
        var f = try decodeOne(wire, version: .v1_2)
        f.headers.removeAll("absent")
        f.headers.removeLines(from: 10)
        XCTAssertNotNil(f.headers.withReceivedLines { $0.count })
        var copy = f.headers
        copy["k"] = "w"
        XCTAssertNil(copy.withReceivedLines { $0.count })
        XCTAssertEqual(outcome(FrameEncoder(), f), wire.debugDescription)
        // The body is no part of the header lines: a changed body is still checked against content-length.
        f.body = [1, 2]
        XCTAssertEqual(outcome(FrameEncoder(), f), outcome(FrameEncoder(), rebuilt(f)))
        XCTAssertTrue(outcome(FrameEncoder(), f).hasPrefix("error"))
        // Without content-length, a body with a NUL gets one added after the copied lines.
        var g = try decodeOne("MESSAGE\nk:v\\c\n\nab\0", version: .v1_2)
        g.body = [1, 0, 2]
        XCTAssertEqual(outcome(FrameEncoder(), g), "MESSAGE\nk:v\\c\ncontent-length:3\n\n\u{1}\0\u{2}\0".debugDescription)
        XCTAssertEqual(outcome(FrameEncoder(contentLength: .always), g), outcome(FrameEncoder(contentLength: .always), rebuilt(g)))
        XCTAssertEqual(outcome(FrameEncoder(contentLength: .never), g), outcome(FrameEncoder(contentLength: .never), rebuilt(g)))
    }

    /// A frame held while the decoder goes on (its buffer compacted and refilled) keeps its lines and writes them
    /// back unchanged; frames decoded later are not affected by it.
    func testAKeptFrameIsWrittenBackUnchangedAfterLaterFramesAndCompactions() throws {
        let aWire = [UInt8](wire: "MESSAGE\nmessage-id:ID\\ca\\c1\ndestination:/queue/a\ncontent-length:3\n\na\0b\0")
        let bWire = [UInt8](wire: "MESSAGE\nmessage-id:ID\\cb\\c2\ndestination:/queue/bb\n\nbee\0")
        var decoder = FrameDecoder()
        decoder.append(aWire + Array(bWire.prefix(11)))
        guard case .frame(let keptA)? = try decoder.next() else { return XCTFail("no frame a") }
        XCTAssertNil(try decoder.next())
        for _ in 0..<50 {
            decoder.append(Array(bWire.dropFirst(11)) + Array(bWire.prefix(11)))
            guard case .frame(let b)? = try decoder.next() else { return XCTFail("no frame b") }
            XCTAssertEqual(try FrameEncoder().encode(b), bWire)
            XCTAssertEqual(try FrameEncoder().encode(keptA), aWire)
        }
        XCTAssertEqual(keptA.headers["message-id"], "ID:a:1")
    }

    /// Random header lines (escapes good and bad, raw ':' and CR, non-ASCII, CRLF ends, repeats) decoded in each
    /// version and written in each version and content-length policy: the received-lines path gives exactly what
    /// the escaping path gives for the same names and values, and a frame written in its own version decodes back
    /// to itself.
    func testRandomFramesWriteAsTheirRebuiltSelves() throws {
        var rng = SeededRNG(seed: 19_007)
        let alphabet: [String] = ["a", "b", ":", "\\", "n", "c", "r", "\r", "é", "\\c", "\\n", "\\\\", "\\r", "-"]
        var checked = 0, copied = 0
        for _ in 0..<3000 {
            var wire = "MESSAGE\n"
            let crlf = rng.next() % 8 == 0
            for _ in 0..<Int(rng.next() % 5) {
                var line = ""
                for _ in 0..<Int(rng.next() % 6) { line += alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                if !line.contains(":") { line += ":" }
                wire += line + (crlf ? "\r\n" : "\n")
            }
            let body = rng.next() % 3 == 0 ? "x\0y" : "xy"
            if body.contains("\0") && rng.next() % 2 == 0 { wire += "content-length:3\n" }
            wire += "\n" + body + "\0"
            for version in [StompVersion.v1_0, .v1_1, .v1_2] {
                let decoded = try? decodeAll([UInt8](wire: wire), version: version)
                guard let decoded, let f = frames(decoded).first, frames(decoded).count == 1 else { continue }
                if f.headers.withReceivedLines({ $0.count }) != nil { copied += 1 }
                for target in [StompVersion.v1_0, .v1_1, .v1_2] {
                    for policy in [ContentLengthPolicy.whenNeeded, .always, .never] {
                        let encoder = FrameEncoder(version: target, contentLength: policy)
                        XCTAssertEqual(outcome(encoder, f), outcome(encoder, rebuilt(f)), "\(version) → \(target): \(wire.debugDescription)")
                        checked += 1
                    }
                }
                if let again = try? FrameEncoder(version: version).encode(f) {
                    XCTAssertEqual(frames(try decodeAll(again, version: version)), [f], wire.debugDescription)
                }
            }
        }
        XCTAssertGreaterThan(checked, 5000)
        XCTAssertGreaterThan(copied, 500)
    }
    /// Long names and values dense with escapes (every kind, runs of them, at every offset of an 8-byte word, near
    /// the ends): decoded whole and byte by byte to the values written, and written back to the same bytes.
    func testLongEscapedValuesUnescapeAtAnyOffset() throws {
        var rng = SeededRNG(seed: 0x5C5C)
        let pieces: [[UInt8]] = [[0x0A], [0x3A], [0x0D], [0x5C], [0x5C, 0x5C], Array("abcdefgh".utf8), Array("x".utf8),
                                 Array("é".utf8), [0x3A, 0x3A, 0x0A]]
        for round in 0..<400 {
            var headers = StompHeaders()
            var expected: [(String, String)] = []
            for line in 0..<Int(1 + rng.next() % 4) {
                var value: [UInt8] = []
                for _ in 0..<Int(rng.next() % 24) { value += pieces[Int(rng.next() % UInt64(pieces.count))] }
                let name = "h\(line)" + (rng.next() % 4 == 0 ? ":\\" : "")
                let v = String(decoding: value, as: UTF8.self)
                headers.append(name, v)
                expected.append((name, v))
            }
            let frame = StompFrame(.message, headers: headers, body: "b")
            for version in [StompVersion.v1_2, .v1_1] {
                guard let wire = try? FrameEncoder(version: version).encode(frame) else { continue }   // 1.1: a trailing CR
                for chunks in [nil, [1], [7, 3]] as [[Int]?] {
                    let got = frames(try decodeAll(wire, version: version, chunks: chunks))
                    XCTAssertEqual(got.count, 1)
                    guard let f = got.first else { continue }
                    XCTAssertEqual(f.headers, StompHeaders(expected), "round \(round) \(version)")
                    XCTAssertEqual(try FrameEncoder(version: version).encode(f), wire, "round \(round) \(version)")
                }
            }
        }
    }
    /// The received lines cost no room: StompHeaders stays within an existential's inline buffer (3 words), so
    /// putting headers into an `any` value does not allocate a box.
    func testHeadersStayThreeWordsWide() {
        XCTAssertLessThanOrEqual(MemoryLayout<StompHeaders>.size, 3 * MemoryLayout<Int>.size)
    }
}
