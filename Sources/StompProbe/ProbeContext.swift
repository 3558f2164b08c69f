// What a running check gets: connections to the broker, private destination names, the timeout, its evidence log.

import Foundation
import StompProto

/// Credentials and CONNECT defaults for every probe connection.
public struct ProbeTarget: Sendable {
    public var login: String?
    public var passcode: String?
    /// The CONNECT `host` header (the URL's vhost, else "/").
    public var host: String
    /// The host name of the URL (what a client that reads `host` literally would send).
    public var hostName: String
    public init(login: String? = nil, passcode: String? = nil, host: String = "/", hostName: String = "localhost") {
        self.login = login; self.passcode = passcode; self.host = host; self.hostName = hostName
    }
}

/// The destinations a run used (drained at the end). Thread-safe.
final class DestinationRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var queues: [String] = []
    func add(_ q: String) { lock.lock(); if !queues.contains(q) { queues.append(q) }; lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return queues }
}

/// The result of a CONNECT attempt.
public enum ConnectAttempt {
    case connected(ProbeConnection, StompFrame)
    case refused(ProbeConnection, StompFrame)   // ERROR in answer to CONNECT
    case failed(String)                         // no socket, closed, no answer
}

/// One check's view of the run.
public final class ProbeContext: @unchecked Sendable {
    public let transport: ProbeTransport
    public let target: ProbeTarget
    public let prefix: String
    /// Seconds to wait for an answer the broker owes (RECEIPT, MESSAGE, CONNECTED).
    public let timeout: Double
    /// Seconds of silence that count as "nothing more is coming".
    public let quiet: Double
    public let options: ProbeOptions
    public let evidence = ProbeEvidence()
    /// The CONNECTED `server` header of the run's first connection.
    public let server: String?
    let registry: DestinationRegistry
    /// Set by the prober: long waits give up early when it is cancelled.
    var cancellation = ProbeCancellation()
    private let lock = NSLock()
    private var connections: [ProbeConnection] = []
    private var counter = 0

    init(transport: ProbeTransport, target: ProbeTarget, prefix: String, options: ProbeOptions, server: String?,
         registry: DestinationRegistry) {
        self.transport = transport; self.target = target; self.prefix = prefix; self.options = options
        self.timeout = options.timeout; self.quiet = options.quiet; self.server = server; self.registry = registry
    }

    public var isRabbitMQ: Bool { server?.hasPrefix("RabbitMQ") ?? false }

    /// A private queue `/queue/PREFIX.NAME` (drained after the run).
    public func queue(_ name: String) -> String {
        let q = "/queue/\(prefix).\(name)"
        registry.add(q)
        return q
    }

    /// A private topic `/topic/PREFIX.NAME`.
    public func topic(_ name: String) -> String { "/topic/\(prefix).\(name)" }

    /// Headers every SEND/SUBSCRIBE to `destination` carries: on RabbitMQ, `x-expires` so that the broker deletes the
    /// private queue itself a minute after its last use.
    public func declarationHeaders(_ destination: String) -> [(String, String)] {
        isRabbitMQ && destination.hasPrefix("/queue/") ? [("x-expires", "60000")] : []
    }

    /// A fresh id for receipts and subscriptions.
    public func unique(_ base: String) -> String {
        lock.lock(); defer { lock.unlock() }
        counter += 1
        return "\(base)-\(counter)"
    }

    private var lastOpenError: String?

    /// A new link; a refused or failed TCP/TLS connect is tried twice more (100 ms, 300 ms later) before the check
    /// gives up: a busy broker's accept queue can overflow for a moment.
    func openLink() -> ProbeLink? {
        for delay in [0.0, 0.1, 0.3] {
            if delay > 0 {
                evidence.remark("connect failed (\(lastOpenError ?? "")); again in \(Int(delay * 1000)) ms")
                Thread.sleep(forTimeInterval: delay)
            }
            do { return try transport.open(timeout: timeout) } catch { lastOpenError = "\(error)" }
        }
        return nil
    }

    /// Opens a connection and sends CONNECT (or STOMP); waits for CONNECTED or ERROR.
    public func connect(versions: [StompVersion]? = [.v1_0, .v1_1, .v1_2], heartBeat: String? = "0,0",
                        host: String?? = .none, login: String?? = .none, passcode: String?? = .none,
                        extra: [(String, String)] = [], label: String? = nil) -> ConnectAttempt {
        guard let link = openLink() else { return .failed(lastOpenError ?? "cannot connect") }
        lock.lock()
        let name = label ?? "c\(connections.count + 1)"
        let conn = ProbeConnection(link: link, evidence: evidence, label: name)
        connections.append(conn)
        lock.unlock()
        var h = StompHeaders()
        if let versions { h.append("accept-version", versions.map(\.rawValue).joined(separator: ",")) }
        if let hostValue = Self.choose(host, target.host) { h.append("host", hostValue) }
        if let l = Self.choose(login, target.login) { h.append("login", l) }
        if let p = Self.choose(passcode, target.passcode) { h.append("passcode", p) }
        if let heartBeat, versions != nil { h.append("heart-beat", heartBeat) }
        for (n, v) in extra { h.append(n, v) }
        conn.use(.v1_0)   // CONNECT is never escaped
        conn.send(StompFrame(.connect, headers: h))
        switch conn.wait(seconds: timeout, { $0.command == .connected }) {
        case .frame(let f):
            let v = f.headers["version"].flatMap(StompVersion.init(rawValue:)) ?? .v1_0
            conn.use(v)
            conn.didConnect(f)
            return .connected(conn, f)
        case .error(let f): return .refused(conn, f)
        case .closed(let why): return .failed("no CONNECTED: \(why)")
        case .timeout:
            conn.close()
            return .failed("no CONNECTED within \(timeout) s")
        }
    }

    /// `.none`: the default; `.some(nil)`: leave the header out; `.some(x)`: x.
    static func choose(_ given: String??, _ fallback: String?) -> String? {
        switch given {
        case .none: return fallback
        case .some(let v): return v
        }
    }

    /// A connected connection (1.2 when the broker has it), or `ProbeInconclusive`.
    public func open(_ versions: [StompVersion] = [.v1_0, .v1_1, .v1_2], heartBeat: String = "0,0") throws -> ProbeConnection {
        switch connect(versions: versions, heartBeat: heartBeat) {
        case .connected(let c, _): return c
        case .refused(_, let f): throw ProbeInconclusive("CONNECT refused: \(f.headers["message"] ?? "ERROR")")
        case .failed(let why): throw ProbeInconclusive(why)
        }
    }

    /// SUBSCRIBE with a receipt, waited for; `ProbeInconclusive` if the broker refuses or does not answer.
    @discardableResult
    public func subscribe(_ c: ProbeConnection, _ destination: String, id: String? = nil, ack: String = "auto",
                          headers: [(String, String)] = []) throws -> String {
        let sid = id ?? unique("sub")
        var h = StompHeaders([("destination", destination), ("id", sid), ("ack", ack)] + headers + declarationHeaders(destination))
        let r = unique("subscribe")
        h.append("receipt", r)
        c.send(StompFrame(.subscribe, headers: h))
        try expectReceipt(c, r, what: "SUBSCRIBE to \(destination)")
        return sid
    }

    /// SEND with a receipt, waited for.
    public func send(_ c: ProbeConnection, _ destination: String, body: String = "probe", headers: [(String, String)] = [],
                     contentLength: Bool = false) throws {
        var h = StompHeaders([("destination", destination)] + headers + declarationHeaders(destination))
        if contentLength { h.append("content-length", String(body.utf8.count)) }
        let r = unique("send")
        h.append("receipt", r)
        c.send(StompFrame(.send, headers: h, body: body))
        try expectReceipt(c, r, what: "SEND to \(destination)")
    }

    /// Any frame with a receipt: waits for the RECEIPT; ERROR, end or silence → `ProbeInconclusive`.
    public func expectReceipt(_ c: ProbeConnection, _ r: String, what: String) throws {
        switch c.receipt(r, seconds: timeout) {
        case .frame: return
        case .error(let f): throw ProbeInconclusive("\(what) refused: \(f.headers["message"] ?? "ERROR")")
        case .closed(let why): throw ProbeInconclusive("\(what): connection ended (\(why))")
        case .timeout: throw ProbeInconclusive("\(what): no RECEIPT within \(timeout) s")
        }
    }

    /// Sends a frame with a receipt header added and waits; returns the wait's result as it is.
    public func exchange(_ c: ProbeConnection, _ frame: StompFrame) -> ProbeWait {
        var f = frame
        let r = unique(frame.command.rawValue.lowercased())
        f.headers["receipt"] = r
        c.send(f)
        return c.receipt(r, seconds: timeout)
    }

    /// Closes every connection the check opened (DISCONNECT is not sent: the probe wants them gone now).
    func closeAll() {
        lock.lock(); let all = connections; connections = []; lock.unlock()
        for c in all { c.close() }
    }
}
