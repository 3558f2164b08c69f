@testable import StompConnection
import StompProto
import XCTest

/// Where a WebSocket link cuts a buffer of several STOMP frames into messages: the quick scan finds the cuts
/// `FrameDecoder` finds, or leaves the buffer to it.
final class StompFrameBoundariesTests: XCTestCase {
    private func ends(_ s: [UInt8]) -> [Int] { s.withUnsafeBytes { StompFrameBoundaries.ends($0) } }
    private func scanned(_ s: [UInt8]) -> [Int]? { s.withUnsafeBytes { StompFrameBoundaries.scan($0) } }
    private func decoded(_ s: [UInt8]) -> [Int] { s.withUnsafeBytes { StompFrameBoundaries.decoded($0) } }

    func testEncodedBatchesAreCutAtEachFrameByTheScanAsTheDecoderCutsThem() throws {
        let encoder = FrameEncoder(version: .v1_2)
        var batch: [UInt8] = []
        var expected: [Int] = []
        for i in 0..<50 {
            var headers: StompHeaders = ["destination": "/queue/ws-\(i)", "seq": "\(i)", "ünïcode": "välue"]
            if i % 7 == 0 { headers["receipt"] = "r-\(i)" }
            let command: StompCommand = i % 3 == 0 ? .ack : .send
            let frame = StompFrame(command, headers: headers, body: command == .send ? Array(String(repeating: "b", count: i).utf8) : [])
            batch += try encoder.encode(frame)
            expected.append(batch.count)
        }
        XCTAssertEqual(scanned(batch), expected, "the scan finds every frame")
        XCTAssertEqual(decoded(batch), expected, "as the decoder does")
        XCTAssertEqual(ends(batch), expected)
        let crlf = Array("SEND\r\ndestination:/q\r\n\r\na\0ACK\r\nid:1\r\n\r\n\0".utf8)
        XCTAssertEqual(scanned(crlf), decoded(crlf), "CRLF line ends")
        XCTAssertNotNil(scanned(crlf))
    }

    func testOneFrameOrBytesWithoutANulAreOnePiece() {
        for s in ["SEND\ndestination:/q\n\nbody\0", "SEND\ndestination:/q\n\nbody\0\n\r\n", "\n", "no nul at all", ""] {
            XCTAssertEqual(ends(Array(s.utf8)), [s.utf8.count], s)
        }
    }

    func testWhatTheScanDoesNotTakeIsCutAsTheDecoderCutsIt() {
        let cases = [
            "SEND\ndestination:/q\n\na\0\nSEND\ndestination:/q\n\nb\0",          // a heart-beat EOL between frames
            "SEND\ndestination:/q\n\na\0SEND\ndestination:/q\n\nb\0\n\n",        // EOLs after the last frame
            "SEND\ncontent-length:3\n\na\0b\0SEND\n\nc\0",                       // content-length: a NUL in the body
            "SEND\ncontent-length:x\n\na\0SEND\n\nc\0",                          // a bad content-length
            "SEND\n\na\0FOO\n\nb\0SEND\n\nc\0",                                  // an unknown command
            "SEND\n\na\0SEND\nno colon\n\nb\0SEND\n\nc\0",                       // a header line without ':'
            "SEND\n\na\0send\n\nb\0",                                            // a command in lower case
            "SEND\n\na\0SEND\n\nb",                                              // the last frame cut short
            "SEND\nx:\0y\n\na\0SEND\n\nb\0",                                     // a NUL inside a header line
        ]
        for s in cases {
            let bytes = Array(s.utf8)
            XCTAssertEqual(ends(bytes), decoded(bytes), s.debugDescription)
            if let quick = scanned(bytes) { XCTAssertEqual(quick, decoded(bytes), "scan: " + s.debugDescription) }
        }
        let badUTF8: [UInt8] = Array("SEND\n\na\0SEND\nh:".utf8) + [0xC3, 0x28] + Array("\n\nb\0SEND\n\nc\0".utf8)
        XCTAssertNil(scanned(badUTF8), "a header that is not UTF-8: the decoder's case")
        XCTAssertEqual(ends(badUTF8), decoded(badUTF8))
        XCTAssertEqual(decoded(Array("SEND\n\na\0\nSEND\n\nb\0".utf8)), [8, 9, 17], "the EOL is a piece of its own")
        XCTAssertEqual(decoded(Array("SEND\n\na\0FOO\n\nb\0".utf8)), [8, 15], "from the unknown command on: one piece")
    }
}
