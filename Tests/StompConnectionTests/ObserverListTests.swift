import XCTest
@testable import StompConnection

/// The client's callback lists (interceptors, read-end and link-lost observers): called in the order added,
/// each removed by its own token only.
final class ObserverListTests: XCTestCase {
    func testCallbacksKeepTheirOrderAndGoByTheirToken() {
        var list = ObserverList<() -> String>(.readEnd)
        let a = list.add { "a" }
        let b = list.add { "b" }
        _ = list.add { "c" }
        XCTAssertEqual(list.callbacks.map { $0.call() }, ["a", "b", "c"])
        list.remove(b)
        XCTAssertEqual(list.callbacks.map { $0.call() }, ["a", "c"])
        list.remove(b)      // twice: nothing more
        XCTAssertEqual(list.callbacks.map { $0.call() }, ["a", "c"])
        let d = list.add { "d" }
        XCTAssertNotEqual(d, b, "a token is never given twice")
        list.remove(a)
        XCTAssertEqual(list.callbacks.map { $0.call() }, ["c", "d"])
    }

    /// A token of another list (the same number) removes nothing: the lists' tokens are one type.
    func testAnotherListsTokenRemovesNothing() {
        var interceptors = ObserverList<() -> Int>(.interceptor)
        var lost = ObserverList<() -> Int>(.linkLost)
        _ = interceptors.add { 1 }
        let other = lost.add { 2 }
        interceptors.remove(other)
        XCTAssertEqual(interceptors.callbacks.count, 1)
        lost.remove(other)
        XCTAssertTrue(lost.callbacks.isEmpty)
    }
}
