import XCTest
@testable import StompShell
import StompProto

/// The word-at-a-time scans answer what the byte-by-byte rules answer, for every byte value at every position of
/// an 8-byte word and in the tail after the last whole word.
final class ByteScanTests: XCTestCase {
    static func naiveNeedsJSONEscape(_ b: [UInt8], asciiOnly: Bool) -> Bool {
        b.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || (asciiOnly && $0 >= 0x7F) }
    }

    static func naiveIsPrintableASCII(_ b: [UInt8]) -> Bool { b.allSatisfy { $0 >= 0x20 && $0 < 0x80 } }

    func check(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        bytes.withUnsafeBufferPointer { u in
            for asciiOnly in [false, true] {
                XCTAssertEqual(ByteScan.needsJSONEscape(u, asciiOnly: asciiOnly),
                               Self.naiveNeedsJSONEscape(bytes, asciiOnly: asciiOnly), "\(bytes) asciiOnly \(asciiOnly)",
                               file: file, line: line)
            }
            XCTAssertEqual(ByteScan.isPrintableASCII(u), Self.naiveIsPrintableASCII(bytes), "\(bytes)", file: file, line: line)
        }
    }

    func testEveryByteAtEveryPositionOfAWordAndTheTail() {
        for length in [1, 7, 8, 9, 12, 15, 16, 19, 23] {   // the tail is re-read as an overlapping word
            for position in 0..<length {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = UInt8(value)
                    check(bytes)
                }
            }
        }
    }

    func testNeighboursThatBorrowDoNotHideOrInventAByte() {
        // a byte above 0x80 or 0x00 next to each candidate: the subtraction's borrow must not change the answer
        for value in 0...255 {
            for other: UInt8 in [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0xC3, 0xFF] {
                check([other, UInt8(value), other, 0x41, 0x41, 0x41, 0x41, 0x41, other])
                check([UInt8(value), other, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41])
            }
        }
        check([])
    }

    func testContainsFindsTheNeedleAtEveryOffsetAndNothingElse() {
        for length in 0...12 {
            for at in 0...max(0, length - 4) where length >= 4 {
                var bytes = [UInt8](repeating: UInt8(ascii: "j"), count: length)
                bytes.replaceSubrange(at..<at + 4, with: Array("json".utf8))
                bytes.withUnsafeBytes { XCTAssertTrue(ByteScan.contains($0, "json"), "\(bytes)") }
            }
            let none = [UInt8](repeating: UInt8(ascii: "j"), count: length) + Array("jso".utf8)
            none.withUnsafeBytes { XCTAssertFalse(ByteScan.contains($0, "json"), "\(none)") }
        }
        Array("application/JSON".utf8).withUnsafeBytes { XCTAssertFalse(ByteScan.contains($0, "json")) }   // as String.contains
    }
}
