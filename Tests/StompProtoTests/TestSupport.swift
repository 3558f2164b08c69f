import XCTest
@testable import StompProto

/// Deterministic PRNG (SplitMix64) so property tests are reproducible from their seed.
struct SeededRNG: RandomNumberGenerator {
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

extension Array where Element == UInt8 {
    /// Bytes of a string literal, for writing wire examples readably ("\0" for NUL).
    init(wire s: String) { self = Array(s.utf8) }
}

/// Decodes `bytes` fed in the given chunk sizes (cycled), returning every event; rethrows errors.
func decodeAll(_ bytes: [UInt8], version: StompVersion = .v1_2, limits: StompLimits = .default,
               chunks: [Int]? = nil) throws -> [FrameDecoderEvent] {
    var decoder = FrameDecoder(version: version, limits: limits)
    var events: [FrameDecoderEvent] = []
    var i = 0
    var c = 0
    while i < bytes.count {
        let size = chunks.map { $0[c % $0.count] } ?? bytes.count
        c += 1
        let end = Swift.min(bytes.count, i + Swift.max(1, size))
        decoder.append(bytes[i..<end])
        i = end
        while let e = try decoder.next() { events.append(e) }
    }
    return events
}

/// Only the frames among `events`.
func frames(_ events: [FrameDecoderEvent]) -> [StompFrame] {
    events.compactMap { if case .frame(let f) = $0 { return f } else { return nil } }
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrows<E: Error & Equatable, T>(_ expected: E, _ body: @autoclosure () throws -> T,
                                               file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected \(expected), nothing thrown", file: file, line: line)
    } catch let e as E {
        XCTAssertEqual(e, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}
