import XCTest
@testable import StompProto

/// UTF8Validation: the decoder's header validator agrees with the standard library.
final class UTF8ValidationTests: XCTestCase {
    private func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { UTF8Validation.isValid($0) } }

    func testKnownCases() {
        XCTAssertTrue(valid([]))
        XCTAssertTrue(valid(Array("plain ascii, longer than eight bytes".utf8)))
        XCTAssertTrue(valid(Array("é€😀中".utf8)))
        XCTAssertFalse(valid([0xC0, 0x80]), "overlong NUL")
        XCTAssertFalse(valid([0xE0, 0x80, 0x80]), "overlong")
        XCTAssertFalse(valid([0xED, 0xA0, 0x80]), "surrogate")
        XCTAssertFalse(valid([0xF4, 0x90, 0x80, 0x80]), "above U+10FFFF")
        XCTAssertFalse(valid([0xF0, 0x9F, 0x98]), "truncated")
        XCTAssertFalse(valid([0x80]), "lone continuation")
        XCTAssertFalse(valid(Array("12345678".utf8) + [0xFF]), "after the ASCII fast path")
    }

    /// Property: agrees with String(validating:) on random bytes biased towards UTF-8 lead bytes.
    func testAgreesWithTheStandardLibrary() {
        var rng = SeededRNG(seed: 0x07F8)
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x9F, 0xA0, 0x90, 0x8F]
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...12, using: &rng)).map { _ in
                Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            XCTAssertEqual(valid(bytes), String(validating: bytes, as: UTF8.self) != nil, "\(bytes)")
        }
    }
}
