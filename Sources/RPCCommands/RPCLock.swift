import Foundation

/// A small mutex for state touched from the shell thread and the event loop.
final class RPCLock: @unchecked Sendable {
    private let l = NSLock()
    init() {}
    @inline(__always) func withLock<T>(_ body: () throws -> T) rethrows -> T {
        l.lock(); defer { l.unlock() }
        return try body()
    }
}
