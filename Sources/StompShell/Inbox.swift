// Frames and connection events cross from NIO's event loop to the shell thread here.

import Foundation
import NIOConcurrencyHelpers
import StompProto
import StompConnection

/// A received MESSAGE not yet consumed by `wait`/`expect`.
public struct ReceivedMessage {
    public var frame: StompFrame
    public var receivedAt: Date
    /// `Inbox.cost` of the frame, once `record` computed it.
    var cost = 0
    public var destination: String? { frame.headers["destination"] }
    public var subscription: String? { frame.headers["subscription"] }
}

/// Thread-safe queue (lock + wake-up pipe) filled from the event loop, drained on the shell thread; and the
/// received messages kept for wait/expect.
///
/// Memory is bounded both ways. Events not yet taken by the shell thread: at most about
/// `queueHighBytes` / `queueHighCount` (then the client stops reading from the socket until the shell
/// thread has taken them: TCP back-pressure, nothing dropped). Messages kept for wait/expect: the last
/// `maxPending` and at most `maxPendingBytes`; older ones are forgotten but still counted as arrivals, so
/// `wait N` counts every message that arrived.
public final class Inbox: @unchecked Sendable {
    private let lock = NIOLock()
    /// With each event its `cost`, computed once (the shell thread's `record` takes it over).
    private var events: [(generation: Int, event: ClientEvent, cost: Int)] = []
    private var queuedBytes = 0
    private var paused = false
    private var flowControl: (@Sendable (_ paused: Bool) -> Void)?
    public let wake: WakeUp
    /// Above this many bytes (bodies and headers) of events not yet taken, reading stops.
    public static let queueHighBytes = 8 << 20
    /// Above this many events not yet taken, reading stops.
    public static let queueHighCount = 4096
    /// At most this many unconsumed messages are kept for wait/expect (the oldest go first).
    public static let maxPending = 10_000
    /// ...and at most this many bytes of them.
    public static let maxPendingBytes = 64 << 20
    /// MESSAGE frames not yet consumed by wait/expect (shell thread only); see `record`.
    public private(set) var pending: [ReceivedMessage] = []
    private var pendingBytes = 0
    /// Messages that arrived and were not consumed but are no longer kept (over the bounds), oldest of all,
    /// counted by (subscription, destination). Shell thread only.
    private var forgotten: [ArrivalKey: Int] = [:]
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

    /// Who stops and resumes reading (the current client); nil detaches. Any thread.
    public func attachFlowControl(_ control: (@Sendable (_ paused: Bool) -> Void)?) {
        let resume = lock.withLock { () -> (@Sendable (Bool) -> Void)? in
            let old = paused ? flowControl : nil
            flowControl = control
            paused = false
            return old
        }
        resume?(false)
    }

    /// Any thread (the event loop).
    public func push(_ event: ClientEvent, generation: Int) {
        if case .trace = event, !acceptTrace { return }
        if case .transportTrace = event, !acceptTrace { return }
        let cost = Self.cost(of: event)
        let (wasEmpty, pause) = lock.withLock { () -> (Bool, (@Sendable (Bool) -> Void)?) in
            let e = events.isEmpty
            events.append((generation, event, cost))
            queuedBytes += cost
            guard !paused, let flowControl,
                  queuedBytes > Self.queueHighBytes || events.count > Self.queueHighCount else { return (e, nil) }
            paused = true
            return (e, flowControl)
        }
        pause?(true)
        if wasEmpty { wake.signal() }   // the reader drains the pipe before taking: no wake-up is lost
    }

    /// Shell thread: everything pushed so far; reading resumes if it was stopped.
    func take() -> [(generation: Int, event: ClientEvent, cost: Int)] {
        let (taken, resume) = lock.withLock { () -> ([(generation: Int, event: ClientEvent, cost: Int)], (@Sendable (Bool) -> Void)?) in
            let e = events
            events.removeAll(keepingCapacity: events.count <= 1024)
            queuedBytes = 0
            let r = paused ? flowControl : nil
            paused = false
            return (e, r)
        }
        resume?(false)
        return taken
    }

    /// Whether reading is stopped because the shell thread is behind (for tests and `status`).
    public var readingPaused: Bool { lock.withLock { paused } }

    static func cost(of event: ClientEvent) -> Int {
        switch event {
        case .frame(let f): return f.body.count + 64 + f.headers.contentByteCount + 2 * f.headers.count
        case .trace(_, let bytes, _): return bytes.count + 64
        default: return 64
        }
    }

    // MARK: messages for wait/expect (shell thread)

    /// Keeps an arrived MESSAGE for wait/expect, within the bounds (the oldest kept ones are forgotten,
    /// but still counted).
    /// `cost`: `Inbox.cost` of its frame event when known (from `take`).
    /// The message is moved in (`consuming`): no copy of its frame's buffers' references per message.
    func record(_ message: consuming ReceivedMessage, cost: Int? = nil) {
        let c = cost ?? Self.cost(of: .frame(message.frame))
        message.cost = c
        pending.append(message)
        pendingBytes += c
        var drop = 0
        var bytes = pendingBytes
        while pending.count - drop > Self.maxPending || (bytes > Self.maxPendingBytes && pending.count - drop > 1) {
            bytes -= pending[drop].cost
            forgotten[ArrivalKey(pending[drop]), default: 0] += 1
            drop += 1
        }
        if drop > 0 {
            pending.removeFirst(drop)
            pendingBytes = bytes
        }
    }

    /// Messages arrived and not consumed by wait/expect, kept or not.
    public var unconsumedCount: Int { pending.count + forgotten.values.reduce(0, +) }

    /// For `wait`: consumes the oldest arrival matching `filter` (kept or only counted); false if none.
    func consumeArrival(on filter: String?) -> Bool {
        if let key = forgotten.keys.first(where: { $0.matches(filter) }) {
            forgotten[key]! -= 1
            if forgotten[key] == 0 { forgotten[key] = nil }
            return true
        }
        return consume(on: filter) != nil
    }

    /// For `wait`: consumes up to `limit` arrivals matching `filter`, as `consumeArrival` called that many times
    /// would, in one pass over the kept messages (not one array shift per message); returns how many.
    func consumeArrivals(upTo limit: Int, on filter: String?) -> Int {
        var got = 0
        while got < limit, let key = forgotten.keys.first(where: { $0.matches(filter) }) {
            let take = min(forgotten[key]!, limit - got)
            forgotten[key]! -= take
            if forgotten[key] == 0 { forgotten[key] = nil }
            got += take
        }
        guard got < limit, !pending.isEmpty else { return got }
        var removedBytes = 0
        if filter == nil {
            let k = min(limit - got, pending.count)
            for m in pending[..<k] { removedBytes += m.cost }
            pending.removeFirst(k)
            got += k
        } else {
            var kept: [ReceivedMessage] = []
            kept.reserveCapacity(pending.count)
            for m in pending {
                if got < limit, Self.matches(m, filter) {
                    got += 1
                    removedBytes += m.cost
                } else {
                    kept.append(m)
                }
            }
            pending = kept
        }
        pendingBytes -= removedBytes
        return got
    }

    /// For `expect`: removes and returns the first kept message matching `filter` (by subscription id or
    /// destination); matching arrivals no longer kept come first and cannot be checked, so they are skipped.
    func consume(on filter: String?) -> ReceivedMessage? {
        guard let i = pending.firstIndex(where: { Self.matches($0, filter) }) else { return nil }
        for key in forgotten.keys where key.matches(filter) { forgotten[key] = nil }
        let m = pending.remove(at: i)
        pendingBytes -= m.cost
        return m
    }

    static func matches(_ m: ReceivedMessage, _ filter: String?) -> Bool {
        guard let filter else { return true }
        return m.subscription == filter || m.destination == filter
    }
}

/// Where a message arrived: what `--on` matches.
struct ArrivalKey: Hashable {
    var subscription: String?
    var destination: String?
    init(_ m: ReceivedMessage) {
        subscription = m.subscription
        destination = m.destination
    }
    func matches(_ filter: String?) -> Bool {
        guard let filter else { return true }
        return subscription == filter || destination == filter
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
