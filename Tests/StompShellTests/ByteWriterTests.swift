import XCTest
@testable import StompShell

/// ByteWriter moves short pieces as overlapping words: every length copies exactly its bytes, in order, and writes
/// nothing past them.
final class ByteWriterTests: XCTestCase {
    func testEveryLengthCopiesExactlyItsBytes() {
        for length in 0...70 {
            for offset in 0..<3 {       // unaligned destinations
                let source = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
                var out = [UInt8](repeating: 0xEE, count: offset + length + 40)
                let written = out.withUnsafeMutableBufferPointer { buffer -> Int in
                    var w = ByteWriter(buffer.baseAddress! + offset)
                    w.byte(0xA0)
                    source.withUnsafeBytes { w.bytes($0) }
                    w.byte(0xA1)
                    return w.count
                }
                XCTAssertEqual(written, length + 2)
                XCTAssertEqual(Array(out[..<offset]), [UInt8](repeating: 0xEE, count: offset), "before, length \(length)")
                XCTAssertEqual(Array(out[offset..<offset + length + 2]), [0xA0] + source + [0xA1], "length \(length)")
                XCTAssertEqual(Array(out[(offset + length + 2)...]), [UInt8](repeating: 0xEE, count: 38), "after, length \(length)")
            }
        }
    }

    func testLiteralsAndEmptyPieces() {
        var out = [UInt8](repeating: 0, count: 64)
        let n = out.withUnsafeMutableBufferPointer { buffer -> Int in
            var w = ByteWriter(buffer.baseAddress!)
            w.ascii(#"{"frame":""#)
            w.bytes(UnsafeRawBufferPointer(start: nil, count: 0))
            w.ascii(#"":""#)
            return w.count
        }
        XCTAssertEqual(String(decoding: out[..<n], as: UTF8.self), #"{"frame":"":""#)
    }
}
