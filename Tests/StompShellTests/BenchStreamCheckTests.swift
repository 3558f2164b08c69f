import XCTest
import StompBench

/// What `bench consume` concludes from the sequence numbers it sees (pure, no broker).
final class BenchStreamCheckTests: XCTestCase {
    func check(_ seqs: [(String, Int)]) -> BenchStreamCheck {
        var c = BenchStreamCheck()
        for (s, n) in seqs { c.note(stream: s, sequence: n) }
        return c
    }

    func testInOrderIsClean() {
        let c = check((1...1000).map { ("a", $0) })
        XCTAssertEqual([c.lost, c.duplicates, c.outOfOrder, c.unsequenced, c.sequenced], [0, 0, 0, 0, 1000])
    }

    func testGapsDuplicatesAndReordering() {
        // 3 and 7 never come, 5 twice, 2 after 4
        let c = check([("a", 1), ("a", 4), ("a", 2), ("a", 5), ("a", 5), ("a", 6), ("a", 8)])
        XCTAssertEqual(c.lost, 2)
        XCTAssertEqual(c.duplicates, 1)
        XCTAssertEqual(c.outOfOrder, 1)
    }

    func testRangeStartsWhereTheRunStarts() {
        // a run that consumes the second half of a stream loses nothing it could not have seen
        let c = check((501...1000).map { ("a", $0) })
        XCTAssertEqual(c.lost, 0)
        // a lower number than the first seen grows the range downwards
        var d = c
        d.note(stream: "a", sequence: 3)
        XCTAssertEqual(d.lost, 497)
        XCTAssertEqual(d.outOfOrder, 1)
    }

    func testStreamsAreSeparateAndUnsequencedCounted() {
        var c = check([("a", 1), ("b", 1), ("a", 2), ("b", 2)])
        c.note(stream: nil, sequence: nil)
        XCTAssertEqual([c.lost, c.duplicates, c.outOfOrder, c.unsequenced, c.streamCount], [0, 0, 0, 1, 2])
    }

    /// Numbers from a sender that is not a bench (or a hostile one) cannot make the check grow without bound.
    func testFarApartNumbersAndManyStreamsStayBounded() {
        var c = check([("a", 1), ("a", Int.max), ("a", Int.min), ("a", 1 << 40), ("a", 2)])
        XCTAssertEqual(c.sequenced, 2)
        XCTAssertEqual(c.unsequenced, 3)
        XCTAssertEqual(c.lost, 0)
        for k in 0..<5000 { c.note(stream: "s\(k)", sequence: 1) }
        XCTAssertEqual(c.streamCount, 4096)
        XCTAssertEqual(c.unsequenced, 3 + 5001 - 4096)
    }

    func testMergeOfConsumers() {
        // two consumers share a queue: together they saw 1...10 once, except 4 seen by both and 9 by neither
        let x = check([1, 2, 3, 4, 5].map { ("a", $0) })
        let y = check([4, 6, 7, 8, 10].map { ("a", $0) })
        let m = BenchStreamCheck.merged([x, y])
        XCTAssertEqual(m.duplicates, 1)
        XCTAssertEqual(m.lost, 1)
        XCTAssertEqual(m.outOfOrder, 0)
        XCTAssertEqual(m.sequenced, 9)
    }

    func testShares() {
        XCTAssertEqual(benchShares(10, 3), [4, 3, 3])
        XCTAssertEqual(benchShares(10, 1), [10])
        XCTAssertEqual(benchShares(2, 4), [1, 1, 0, 0])
    }

    func testMessageHeaders() {
        let h = BenchMessage.headers(destination: "/queue/q", base: ["x": "1"], stream: "r-1", sequence: 7, sentAt: 42,
                                     receipt: "rc")
        XCTAssertEqual(h.pairs.map(\.name), ["destination", "x", BenchMessage.streamHeader, BenchMessage.sequenceHeader,
                                             BenchMessage.sentHeader, "receipt"])
        XCTAssertEqual(h[BenchMessage.sequenceHeader], "7")
        XCTAssertEqual(h[BenchMessage.sentHeader], "42")
    }

    /// The numbers of the bench headers are written and read without the generic integer code: the same text
    /// as `String(_:)`, and only plain decimal digits read back (a sign, a space, an empty value or more than 19
    /// digits is not a bench's number).
    func testDecimalNumbersOfTheBenchHeaders() {
        for v: UInt64 in [0, 1, 9, 10, 99, 100, 12_345, 1_700_000_000_000_000_000, UInt64.max] {
            XCTAssertEqual(BenchMessage.decimalString(v), String(v))
        }
        XCTAssertEqual(BenchMessage.decimal("0"), 0)
        XCTAssertEqual(BenchMessage.decimal("007"), 7)
        XCTAssertEqual(BenchMessage.decimal("1700000000000000000"), 1_700_000_000_000_000_000)
        for bad in ["", "-1", "+1", " 1", "1 ", "1a", "12345678901234567890", "１"] {
            XCTAssertNil(BenchMessage.decimal(bad), bad)
        }
        XCTAssertEqual(BenchMessage.decimal("bench-12-345", skipping: 9), 345)
        XCTAssertNil(BenchMessage.decimal("bench-12-", skipping: 9))
        XCTAssertNil(BenchMessage.decimal("b", skipping: 5))
    }
}
