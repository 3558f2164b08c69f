// What the operator commands (browse, drain, move/copy, dump/load, record) share: the broker family, a feed of
// one subscription's messages handed from the event loop to the shell thread, output files that refuse to
// overwrite, a stdout check, the progress line and the headers a broker assigns.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import StompProto
import StompConnection

/// Which broker is at the other end, from CONNECTED's `server` header: what it can browse, select and prefetch.
public enum BrokerFamily: Equatable, Sendable {
    case activeMQ5, rabbitMQ, sandbox, other(String?)

    public init(server: String?) {
        let s = server ?? ""
        if s.hasPrefix("ActiveMQ/") { self = .activeMQ5 }
        else if s.hasPrefix("RabbitMQ/") { self = .rabbitMQ }
        else if s.hasPrefix("stompsh-sandbox") { self = .sandbox }
        else { self = .other(server) }
    }

    /// ActiveMQ 5's `browser:true` subscriptions (ended by a MESSAGE with `browser:end`).
    public var canBrowse: Bool { self == .activeMQ5 }
    /// JMS selectors in a SUBSCRIBE's `selector` header (other brokers ignore the header and deliver everything).
    public var canSelect: Bool { self == .activeMQ5 }

    /// The SUBSCRIBE header that bounds unacknowledged deliveries.
    var prefetchHeader: String {
        switch self {
        case .activeMQ5: return "activemq.prefetchSize"
        default: return "prefetch-count"
        }
    }

    var name: String {
        switch self {
        case .activeMQ5: return "ActiveMQ"
        case .rabbitMQ: return "RabbitMQ"
        case .sandbox: return "the sandbox broker"
        case .other(let s): return s ?? "this broker (no server header)"
        }
    }
}

/// Headers a broker sets on a MESSAGE (or that describe one delivery): dropped when a message is sent again.
/// Everything else is an application header and is kept.
public enum BrokerHeaders {
    public static let assigned: Set<String> = [
        "message-id", "destination", "subscription", "ack", "content-length", "redelivered", "timestamp", "expires",
        "receipt", "receipt-id", "transaction", "browser", "persistent-id", "message-id-raw",
    ]

    /// The application headers of `frame` (first value of each name, in order), for sending it again. A body that
    /// was sent with `content-length`, or that has NUL or is not UTF-8, is sent with one (ActiveMQ: stays a
    /// BytesMessage, bytes exact).
    public static func application(_ frame: StompFrame) -> StompHeaders {
        var out = StompHeaders()
        var seen = Set<String>()
        for (name, value) in frame.headers.pairs where !seen.contains(name) {
            seen.insert(name)
            if assigned.contains(name) { continue }
            out.append(name, value)
        }
        if frame.headers["content-length"] != nil || frame.body.contains(0) || frame.bodyString == nil {
            out.append("content-length", String(frame.body.count))
        }
        return out
    }
}

/// The messages of one subscription, taken off the event loop by an interceptor (so they are neither printed
/// nor kept for `wait`) and handed to the shell thread in order. The broker's prefetch window bounds it.
final class MessageFeed: @unchecked Sendable {
    private let lock = NIOLock()
    private var queue: [StompFrame] = []
    private var head = 0
    private let wake: WakeUp
    private let client: StompClient
    private var token: InterceptorToken?
    let subscriptionID: String

    init(client: StompClient, subscriptionID: String, wake: WakeUp) {
        self.client = client
        self.subscriptionID = subscriptionID
        self.wake = wake
        token = client.addInterceptor { [weak self] frame in
            guard let self, frame.command == .message, frame.headers["subscription"] == self.subscriptionID else { return false }
            let wasEmpty = self.lock.withLock { () -> Bool in
                let e = self.head == self.queue.count
                self.queue.append(frame)
                return e
            }
            if wasEmpty { self.wake.signal() }
            return true
        }
    }

    /// The next message, if one arrived.
    func next() -> StompFrame? {
        lock.withLock {
            guard head < queue.count else { return nil }
            let f = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            return f
        }
    }

    var isEmpty: Bool { lock.withLock { head == queue.count } }

    /// Stops taking messages (later ones of this subscription, if any, go the ordinary way).
    func stop() {
        if let token { client.removeInterceptor(token) }
        token = nil
    }

    deinit { stop() }
}

/// The connection an operator command consumes on: its own, to the session's broker with the session's options
/// (no heart-beats, no reconnect), so that its subscription never mixes with the session's, and closing it gives
/// back whatever the broker sent ahead and was not acknowledged (RabbitMQ keeps such messages after an
/// UNSUBSCRIBE until the connection ends). Its frames are recorded (`record`) and traced like the session's.
final class OperatorConnection: @unchecked Sendable {
    let client: StompClient
    private let state = NIOLockedValueBox<(errors: [StompFrame], closed: String?)>(([], nil))

    init(_ shell: Shell, what: String) throws {
        let session = try shell.requireClient()
        var o = session.options
        o.urls = [session.url]
        o.trace = shell.recorder != nil || shell.settings.trace
        o.heartBeat = .none
        o.reconnect = .none
        let wake = shell.wake
        let inbox = shell.inbox
        let generation = shell.generation
        let box = state
        let future = StompClient.connect(o, on: shell.group) { event in
            switch event {
            case .frame(let f) where f.command == .error:
                box.withLockedValue { $0.errors.append(f) }
                wake.signal()
            case .trace:
                inbox.push(event, generation: generation)
            case .closed(let e):
                box.withLockedValue { $0.closed = e?.description ?? "closed" }
                wake.signal()
            default: break
            }
        }
        do { client = try shell.waitInterruptibly(future) } catch var e as ShellError {
            e.message = "\(what): cannot open a connection of its own: \(e.message)"
            throw e
        }
    }

    /// The first ERROR the broker sent (consumed), as one line.
    func takeError() -> String? {
        guard let f = state.withLockedValue({ $0.errors.isEmpty ? nil : $0.errors.removeFirst() }) else { return nil }
        return FrameFormatter.errorSummary(f)
    }

    /// Why the connection ended, nil while it is open.
    var closedReason: String? { state.withLockedValue { $0.closed } }

    /// Throws when the broker sent an ERROR or the connection ended.
    func check(_ what: String) throws {
        if let e = takeError() { throw ShellError("\(what): broker sent ERROR: \(e)") }
        if let r = closedReason { throw ShellError.connection("\(what): connection lost: \(r)") }
    }

    /// Refuses a target that would take messages and drop them while confirming each with a RECEIPT: a topic or
    /// an exchange (nobody subscribed or bound: gone), and on RabbitMQ an `/amq/queue/NAME` that does not exist
    /// (an unroutable publish is confirmed too; measured). The latter is checked by subscribing to it (prefetch 1,
    /// no ACK) and unsubscribing: a missing queue gets an ERROR; a message delivered meanwhile stays
    /// unacknowledged until this connection closes, then goes back to the queue.
    func checkTarget(_ shell: Shell, _ destination: String, family: BrokerFamily, command: String) throws {
        if destination.hasPrefix("/topic/") || destination.hasPrefix("/exchange/") {
            throw ShellError("\(command): \(destination) is not a queue: the broker confirms each message sent there "
                             + "and drops it when nothing is subscribed or bound; give a queue", column: nil, exitStatus: 2)
        }
        guard family == .rabbitMQ, destination.hasPrefix("/amq/queue/") else { return }
        let id = Operator.makeSubscriptionID("check")
        let feed = MessageFeed(client: client, subscriptionID: id, wake: shell.wake)
        defer { feed.stop() }
        _ = try waitFor(shell, client.subscribe(destination: destination, id: id, ack: .clientIndividual,
                                              headers: ["prefetch-count": "1"], receipt: true),
                      what: "\(command): \(destination)")
        _ = try waitFor(shell, client.unsubscribe(id: id, receipt: true), what: "\(command): \(destination)")
    }

    /// DISCONNECT (the broker takes back what was not acknowledged), its RECEIPT awaited as `--receipt-timeout` says.
    func close(_ shell: Shell) {
        let wake = shell.wake
        let box = NIOLockedValueBox<Result<Void, Error>?>(nil)
        client.disconnect().whenComplete { r in box.withLockedValue { $0 = r }; wake.signal() }
        let deadline = Date().addingTimeInterval(ConnectionTimeouts(client.options).disconnectWait)
        while box.withLockedValue({ $0 }) == nil, Date() < deadline { shell.pump(maxWait: 0.1) }
        if box.withLockedValue({ $0 }) == nil { _ = client.close() }
        shell.processEvents()
    }

    /// Waits for `future` on this connection: fails at once on an ERROR (a refused destination), a lost
    /// connection or Ctrl-C. Without `timeout`: a RECEIPT's wait (`--receipt-timeout`, the client's error first).
    func waitFor<T>(_ shell: Shell, _ future: EventLoopFuture<T>, what: String, timeout: Double? = nil) throws -> T {
        let timeout = timeout ?? ConnectionTimeouts(client.options).receiptWait
        func refuseOnError() throws {
            if let e = takeError() { throw ShellError("\(what): broker refused: \(e)") }
        }
        return try shell.blockingWait(for: future, timeout: timeout, slice: 0.25,
                                      timedOut: "\(what): no answer from the broker within \(Shell.seconds(timeout)) s",
                                      check: {
                                          try refuseOnError()
                                          if let r = closedReason { throw ShellError.connection("\(what): connection lost: \(r)") }
                                      }) { r in
            try refuseOnError()
            switch r {
            case .success(let v): return v
            case .failure(let e): throw ShellError("\(what): \(Shell.describe(e))")
            }
        }
    }
}

/// Operator-command helpers on the shell thread.
enum Operator {
    static var subscriptionCounter = 0

    /// The ack mode of a subscription that takes messages one by one (drain, dump, move): client-individual;
    /// STOMP 1.0 has none, there `client`, acknowledged in the order received (its ACK also settles the earlier
    /// messages of the subscription; ActiveMQ and RabbitMQ 1.0 never settle one sent after it: measured).
    static func takingAckMode(_ client: StompClient) -> AckMode {
        client.connectedVersion == .v1_0 ? .client : .clientIndividual
    }

    /// A subscription id of our own (never one the user made).
    static func makeSubscriptionID(_ what: String) -> String {
        subscriptionCounter += 1
        return "stompsh-\(what)-\(subscriptionCounter)"
    }

    /// Waits for `future` on the session's connection like `waitInterruptibly`, but fails at once with the
    /// broker's ERROR when one arrives meanwhile (a refused destination) or when the connection ends.
    /// Without `timeout`: a RECEIPT's wait (`--receipt-timeout` of the session, the client's error first).
    static func waitFor<T>(_ shell: Shell, _ future: EventLoopFuture<T>, what: String, timeout: Double? = nil) throws -> T {
        let timeout = timeout ?? shell.client.map { ConnectionTimeouts($0.options).receiptWait } ?? 30
        let errorsBefore = shell.inbox.errors.count
        func refuseOnError() throws {
            if let e = brokerError(shell, since: errorsBefore) { throw ShellError("\(what): broker refused: \(e)") }
        }
        return try shell.blockingWait(for: future, timeout: timeout, slice: 0.5,
                                      timedOut: "\(what): no answer from the broker within \(Shell.seconds(timeout)) s",
                                      check: {
                                          try refuseOnError()
                                          if shell.client == nil {
                                              throw ShellError.connection("\(what): connection lost: \(shell.lostReason ?? "closed")")
                                          }
                                      }) { r in
            shell.processEvents()
            try refuseOnError()
            switch r {
            case .success(let v): return v
            case .failure(let e): throw ShellError("\(what): \(Shell.describe(e))", column: nil,
                                                   exitStatus: shell.client == nil ? 3 : 1)
            }
        }
    }

    /// The message of an ERROR that arrived after the first `count` (consumed: this command reports it).
    static func brokerError(_ shell: Shell, since count: Int) -> String? {
        guard shell.inbox.errors.count > count else { return nil }
        return FrameFormatter.errorSummary(shell.inbox.errors.remove(at: count))
    }

    /// A non-negative whole number option (`-n`, `--max`, `--count`), or nil when absent.
    static func count(_ p: ParsedCommand, _ long: String) throws -> Int? {
        guard let v = p.option(long) else { return nil }
        guard let n = Int(v), n >= 0 else {
            throw ShellError("\(long): expected a whole number of 0 or more, got '\(v)'", column: p.column(ofOption: long), exitStatus: 2)
        }
        return n
    }

    /// A positive number option (`--rate`, `--idle`), or nil when absent.
    static func positive(_ p: ParsedCommand, _ long: String) throws -> Double? {
        guard let v = p.option(long) else { return nil }
        guard let d = Double(v), d > 0, d.isFinite else {
            throw ShellError("\(long): expected a number above 0, got '\(v)'", column: p.column(ofOption: long), exitStatus: 2)
        }
        return d
    }

    /// Standard output can no longer be written (the reader of a pipe went away, or fd 1 is closed): stop
    /// before acknowledging anything more.
    static func stdoutBroken() -> Bool {
        var pfd = pollfd(fd: 1, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, 0) >= 0 else { return false }
        return pfd.revents & Int16(POLLERR | POLLNVAL) != 0
    }
}

/// A file the operator commands write JSON lines to: created new (an existing regular file is refused unless
/// `force`), every line written at once with write(2), so a kill loses no line that was acknowledged.
final class LineFile {
    let path: String
    private var fd: Int32

    init(path: String, force: Bool, what: String) throws {
        let expanded = (path as NSString).expandingTildeInPath
        var st = stat()
        if stat(expanded, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFDIR: throw ShellError("\(what): '\(path)' is a directory", column: nil, exitStatus: 2)
            case S_IFREG:
                if !force { throw ShellError("\(what): '\(path)' exists (use --force to overwrite it)", column: nil, exitStatus: 2) }
            default: break   // a FIFO, /dev/stdout, /dev/null: write to it
            }
        }
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        if st.st_mode & S_IFMT == S_IFREG || stat(expanded, &st) != 0 { flags |= O_TRUNC }
        let fd = open(expanded, flags, 0o644)
        guard fd >= 0 else {
            throw ShellError("\(what): cannot write '\(path)': \(String(cString: strerror(errno)))", column: nil, exitStatus: 2)
        }
        self.path = path
        self.fd = fd
    }

    /// Writes `bytes` and a LF; throws on any error (ENOSPC, EPIPE...).
    func writeLine(_ bytes: [UInt8]) throws {
        var b = bytes
        b.append(0x0A)
        var off = 0
        while off < b.count {
            let n = b.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ShellError("cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }

    /// Flushes what was written to the disk (a regular file); throws if it could not be.
    func sync() throws {
        var st = stat()
        guard fd >= 0, fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return }
        if fsync(fd) != 0 { throw ShellError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }

    /// Flushes to the disk and closes; throws if the data could not be written.
    func close() throws {
        guard fd >= 0 else { return }
        let f = fd
        fd = -1
        var st = stat()
        if fstat(f, &st) == 0, st.st_mode & S_IFMT == S_IFREG, fsync(f) != 0 {
            let e = errno
            _ = Glibc.close(f)
            throw ShellError("cannot write '\(path)': \(String(cString: strerror(e)))")
        }
        if Glibc.close(f) != 0 { throw ShellError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }
}

/// The progress line of a long operator command: count, rate and elapsed time, on stderr, only on a terminal
/// and without -q; redrawn at most 5 times a second and cleared at the end.
final class ProgressLine {
    let verb: String
    let enabled: Bool
    let start = Date()
    private var last = Date.distantPast
    private var shown = false
    private let output: Output

    init(_ shell: Shell, verb: String) {
        self.verb = verb
        self.output = shell.output
        enabled = isatty(2) == 1 && !shell.output.quiet
    }

    var elapsed: Double { Date().timeIntervalSince(start) }

    func update(_ count: Int, total: Int? = nil) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.2 else { return }
        last = now
        let t = elapsed
        let rate = t > 0 ? Double(count) / t : 0
        let of = total.map { " of \($0)" } ?? ""
        output.sink("\r\u{1B}[K\(verb) \(count)\(of)  " + String(format: "%.0f msg/s  %.1f s", rate, t), .stderr)
        shown = true
    }

    func clear() {
        if shown { output.sink("\r\u{1B}[K", .stderr) }
        shown = false
    }
}
