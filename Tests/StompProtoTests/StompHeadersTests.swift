import XCTest
@testable import StompProto

/// StompHeaders: ordered, repeats kept, lookup returns the first ("Repeated Header Entries").
final class StompHeadersTests: XCTestCase {
    func testRepeatedHeadersAreKeptAndTheFirstWins() {
        let h = StompHeaders([("foo", "World"), ("foo", "Hello")])
        XCTAssertEqual(h["foo"], "World")
        XCTAssertEqual(h.values(for: "foo"), ["World", "Hello"])
        XCTAssertEqual(h.count, 2)
    }

    /// removeLines(from:) keeps the head (also after an edit moved a kept value to the end of the bytes), drops
    /// the tail, and a copy taken before is not touched.
    func testRemoveLinesKeepsTheHeadAndLeavesCopiesAlone() {
        var h = StompHeaders([("destination", "/q"), ("a", "1"), ("seq", "7"), ("receipt", "r-7")])
        h["a"] = "one"   // rewritten: its bytes now sit after the tail's
        let before = h
        h.removeLines(from: 2)
        XCTAssertEqual(h.pairs.map { "\($0.name)=\($0.value)" }, ["destination=/q", "a=one"])
        h.append("seq", decimal: 8)
        h.append("receipt", "r-8")
        XCTAssertEqual(h.pairs.map { "\($0.name)=\($0.value)" }, ["destination=/q", "a=one", "seq=8", "receipt=r-8"])
        XCTAssertEqual(before.pairs.map { "\($0.name)=\($0.value)" },
                       ["destination=/q", "a=one", "seq=7", "receipt=r-7"])
        h.removeLines(from: 0)
        XCTAssertTrue(h.isEmpty)
        h.removeLines(from: 5)   // more than there are: nothing to do
        XCTAssertTrue(h.isEmpty)
        XCTAssertEqual(try FrameEncoder().encode(StompFrame(.send, headers: before)),
                       Array("SEND\ndestination:/q\na:one\nseq:7\nreceipt:r-7\n\n\u{0}".utf8))
    }

    func testDictionaryLiteralKeepsOrderAndRepeats() {
        let h: StompHeaders = ["b": "1", "a": "2", "b": "3"]
        XCTAssertEqual(h.pairs.map(\.name), ["b", "a", "b"])
        XCTAssertEqual(h["b"], "1")
    }

    func testSubscriptSetReplacesTheFirstOrAppends() {
        var h: StompHeaders = ["a": "1", "b": "2", "a": "3"]
        h["a"] = "x"
        XCTAssertEqual(h.pairs.map(\.value), ["x", "2", "3"])
        h["c"] = "4"
        XCTAssertEqual(h.pairs.map(\.name), ["a", "b", "a", "c"])
    }

    func testSubscriptSetNilRemovesAll() {
        var h: StompHeaders = ["a": "1", "b": "2", "a": "3"]
        h["a"] = nil
        XCTAssertEqual(h.pairs.map(\.name), ["b"])
        XCTAssertFalse(h.contains("a"))
        XCTAssertNil(h["a"])
    }

    func testAppendAddsAfterExistingSoTheExistingKeepsPrecedence() {
        var h: StompHeaders = ["a": "1"]
        h.append("a", "2")
        XCTAssertEqual(h["a"], "1")
        XCTAssertEqual(h.values(for: "a"), ["1", "2"])
    }

    func testRemoveAllAndContains() {
        var h: StompHeaders = ["a": "1", "b": "2"]
        XCTAssertTrue(h.contains("b"))
        h.removeAll("b")
        XCTAssertFalse(h.contains("b"))
        XCTAssertEqual(h.count, 1)
    }

    func testNamesAreCaseSensitive() {
        let h: StompHeaders = ["Destination": "x"]
        XCTAssertNil(h["destination"])
    }

    func testEqualityIsOrderSensitive() {
        XCTAssertEqual(StompHeaders([("a", "1"), ("b", "2")]), ["a": "1", "b": "2"])
        XCTAssertNotEqual(StompHeaders([("a", "1"), ("b", "2")]), ["b": "2", "a": "1"])
    }

    func testIterationYieldsPairsInOrder() {
        let h: StompHeaders = ["a": "1", "b": "2"]
        XCTAssertEqual(h.map { "\($0.name)=\($0.value)" }, ["a=1", "b=2"])
    }
}
