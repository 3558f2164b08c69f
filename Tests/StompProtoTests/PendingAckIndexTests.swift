import XCTest
@testable import StompProto

/// The pending-ack store's id index (open addressing, linear probing, backward-shift removal) against a plain
/// list of (hash, tag) pairs, with hashes chosen to collide and to wrap around the table's end.
final class PendingAckIndexTests: XCTestCase {
    func testSlotsMatchAListModelUnderCollisionsAndWrapAround() {
        var index = PendingAckIndex()
        var model: [(hash: UInt64, tag: Int)] = []
        var rng = SystemRandomNumberGenerator()
        var nextTag = 1
        // Few distinct hashes, most of them landing at the last slots of a 16..64-slot table (runs wrap round).
        let hashes: [UInt64] = [15, 31, 63, 0xFFFF_FFFF_FFFF_FFFF, 14, 1, 0, 47, 1 << 40 | 15]
        func check() {
            for h in hashes {
                var seen: [Int] = []
                index.forEach(hash: h) { seen.append($0) }
                XCTAssertEqual(seen.sorted(), model.filter { $0.hash == h }.map(\.tag).sorted(), "hash \(h)")
            }
        }
        for round in 0..<6000 {
            let grow = round % 1000 < 600
            if model.isEmpty || (grow ? Int.random(in: 0..<3, using: &rng) != 0 : Int.random(in: 0..<3, using: &rng) == 0) {
                let h = hashes.randomElement(using: &rng)!
                index.insert(hash: h, tag: nextTag << 2 | 1)
                model.append((h, nextTag << 2 | 1))
                nextTag += 1
            } else {
                let e = model.remove(at: Int.random(in: 0..<model.count, using: &rng))
                index.remove(hash: e.hash, tag: e.tag)
                index.remove(hash: e.hash, tag: e.tag)   // a second time: nothing left to remove
            }
            if round % 7 == 0 { check() }
        }
        check()
        for e in model { index.remove(hash: e.hash, tag: e.tag) }
        model = []
        check()
    }

    func testHashAndEqualityReadTheBytesOfAString() {
        for s in ["", "a", "12345678", "123456789", "ID:host-48213-1733380000000-1:1:1:1:42", "é-ü-€-🙂"] {
            var copy = s
            let bytes = Array(copy.utf8)
            bytes.withUnsafeBytes { b in
                XCTAssertEqual(PendingAckIndex.hash(s), PendingAckIndex.hash(b), s)
                XCTAssertTrue(PendingAckIndex.equal(s, b), s)
                XCTAssertFalse(PendingAckIndex.equal(s + "x", b), s)
            }
            copy += "!"
            XCTAssertNotEqual(PendingAckIndex.hash(copy), PendingAckIndex.hash(s))
        }
        // Strings that differ in their last byte only (the partial word) compare unequal.
        Array("ID:1:1:1:1:10".utf8).withUnsafeBytes { b in XCTAssertFalse(PendingAckIndex.equal("ID:1:1:1:1:11", b)) }
    }
}
