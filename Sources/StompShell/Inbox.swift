// Frames and connection events cross from NIO's event loop to the shell thread here.

import Foundation
import NIOConcurrencyHelpers
import StompProto
import StompConnection

/// A received MESSAGE not yet consumed by `wait`/`expect`.
public struct ReceivedMessage {
    public var frame: StompFrame
    public var receivedAt: Date
    public var destination: String? { frame.headers["destination"] }
    public var subscription: String? { frame.headers["subscription"] }
}

/// Thread-safe queue (lock + wake-up pipe) filled from the event loop, drained on the shell thread.
public final class Inbox: @unchecked Sendable {
    private let lock = NIOLock()
    private var events: [(generation: Int, event: ClientEvent)] = []
    public let wake: WakeUp
    /// At most this many unconsumed messages are kept for wait/expect (the oldest go first).
    public static let maxPending = 10_000
    /// MESSAGE frames not yet consumed by wait/expect (shell thread only).
    public var pending: [ReceivedMessage] = []
    /// ERROR frames not yet consumed by expect-error (shell thread only).
    public var errors: [StompFrame] = []

    public init(wake: WakeUp) { self.wake = wake }

    private let traceLock = NIOLock()
    private var _acceptTrace = false
    /// Trace events are dropped unless this is on (`set trace on`).
    public var acceptTrace: Bool {
        get { traceLock.withLock { _acceptTrace } }
        set { traceLock.withLock { _acceptTrace = newValue } }
    }

    /// Any thread.
    public func push(_ event: ClientEvent, generation: Int) {
        if case .trace = event, !acceptTrace { return }
        if case .transportTrace = event, !acceptTrace { return }
        let wasEmpty = lock.withLock { () -> Bool in
            let e = events.isEmpty
            events.append((generation, event))
            return e
        }
        if wasEmpty { wake.signal() }   // the reader drains the pipe before taking: no wake-up is lost
    }

    /// Shell thread.
    func take() -> [(generation: Int, event: ClientEvent)] {
        lock.withLock {
            let e = events
            events.removeAll(keepingCapacity: true)
            return e
        }
    }

    /// Removes and returns the first pending message matching `filter` (by subscription id or destination).
    func consume(on filter: String?) -> ReceivedMessage? {
        guard let i = pending.firstIndex(where: { Self.matches($0, filter) }) else { return nil }
        return pending.remove(at: i)
    }

    static func matches(_ m: ReceivedMessage, _ filter: String?) -> Bool {
        guard let filter else { return true }
        return m.subscription == filter || m.destination == filter
    }
}

/// Thread-safe completion data (destinations seen, RPC methods, ...).
public final class CompletionData: @unchecked Sendable {
    private let lock = NIOLock()
    private var words: [ValueKind: [String]] = [:]

    public init() {}

    public func add(_ kind: ValueKind, _ word: String) {
        guard !word.isEmpty else { return }
        lock.withLock {
            var list = words[kind, default: []]
            if !list.contains(word) { list.append(word); words[kind] = list }
        }
    }

    public func remove(_ kind: ValueKind, _ word: String) {
        lock.withLock { words[kind]?.removeAll { $0 == word } }
    }

    public func set(_ kind: ValueKind, _ list: [String]) { lock.withLock { words[kind] = list } }

    public subscript(kind: ValueKind) -> [String] { lock.withLock { words[kind] ?? [] } }
}
