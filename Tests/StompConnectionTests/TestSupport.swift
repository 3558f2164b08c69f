import Foundation
import NIOCore
import NIOPosix
import StompBroker
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// One event loop group for all tests.
let testGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

/// Which broker a test talks to, for the places where brokers differ.
enum BrokerKind: String, CaseIterable {
    case activeMQ = "ActiveMQ", rabbitMQ = "RabbitMQ", sandbox = "sandbox"
}

/// A broker from the environment (`scripts/brokers env`; the sandbox: STOMPSH_TEST_SANDBOX or in-process).
struct TestBroker: CustomStringConvertible {
    var name: String
    var url: StompURL
    var kind: BrokerKind
    var description: String { name }

    var options: ConnectionOptions {
        var o = ConnectionOptions(urls: [url])
        o.login = "guest"
        o.passcode = "guest"
        o.heartBeat = .none
        o.reconnect = .none
        o.connectTimeout = .seconds(5)
        o.receiptTimeout = .seconds(5)
        return o
    }
}

enum TestEnv {
    static func value(_ name: String) -> String? {
        guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else { return nil }
        return v
    }

    static var requireBrokers: Bool { value("STOMPSH_REQUIRE_BROKERS") == "1" }

    /// The broker named by `variable`, or skip (fail when STOMPSH_REQUIRE_BROKERS=1).
    static func broker(_ variable: String, name: String, kind: BrokerKind,
                       file: StaticString = #filePath, line: UInt = #line) throws -> TestBroker {
        guard let s = value(variable) else {
            if requireBrokers {
                XCTFail("\(variable) is not set and STOMPSH_REQUIRE_BROKERS=1 (run: eval \"$(scripts/brokers env)\")",
                        file: file, line: line)
                throw XCTSkip("missing \(variable)")
            }
            throw XCTSkip("\(variable) not set: no \(name) broker (eval \"$(scripts/brokers env)\")")
        }
        let urls = try StompURL.parseList(s)
        return TestBroker(name: name, url: urls[0], kind: kind)
    }

    static func activeMQ(file: StaticString = #filePath, line: UInt = #line) throws -> TestBroker {
        try broker("STOMPSH_TEST_ACTIVEMQ", name: "ActiveMQ", kind: .activeMQ, file: file, line: line)
    }

    static func rabbitMQ(file: StaticString = #filePath, line: UInt = #line) throws -> TestBroker {
        try broker("STOMPSH_TEST_RABBITMQ", name: "RabbitMQ", kind: .rabbitMQ, file: file, line: line)
    }

    /// The sandbox broker: STOMPSH_TEST_SANDBOX (scripts/test runs `stompsh broker`), else one started in
    /// this test process. Never skipped: it needs nothing installed.
    static func sandbox(file: StaticString = #filePath, line: UInt = #line) throws -> TestBroker {
        TestBroker(name: "sandbox", url: try StompURL.parseList(SandboxFixture.url)[0], kind: .sandbox)
    }

    /// ActiveMQ, RabbitMQ and the sandbox; a missing real broker is skipped (or fails when required).
    static func brokers(file: StaticString = #filePath, line: UInt = #line) throws -> [TestBroker] {
        try brokers([.activeMQ, .rabbitMQ, .sandbox], file: file, line: line)
    }

    /// The given kinds of broker; a missing real one is skipped (or fails when required). Skips if none.
    static func brokers(_ kinds: [BrokerKind], file: StaticString = #filePath, line: UInt = #line) throws -> [TestBroker] {
        var out: [TestBroker] = []
        var skips: [String] = []
        let make: [BrokerKind: (StaticString, UInt) throws -> TestBroker] = [.activeMQ: activeMQ, .rabbitMQ: rabbitMQ, .sandbox: sandbox]
        for f in kinds.map({ make[$0]! }) {
            do { out.append(try f(file, line)) } catch let s as XCTSkip { skips.append("\(s)") }
        }
        if out.isEmpty { throw XCTSkip("no broker configured: \(skips.joined(separator: "; "))") }
        return out
    }
}

/// Collects client events (thread-safe) and lets a test wait for one.
final class EventBox: @unchecked Sendable {
    private let cond = NSCondition()
    private var events: [ClientEvent] = []
    private(set) var all: [ClientEvent] = []

    var handler: @Sendable (ClientEvent) -> Void {
        { [self] e in
            cond.lock()
            events.append(e)
            all.append(e)
            cond.broadcast()
            cond.unlock()
        }
    }

    /// Removes and returns the first event matching `match`, waiting up to `timeout` seconds.
    func wait(_ timeout: Double = 5, _ match: (ClientEvent) -> Bool) -> ClientEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while true {
            if let i = events.firstIndex(where: match) {
                return events.remove(at: i)
            }
            if !cond.wait(until: deadline) {
                if let i = events.firstIndex(where: match) { return events.remove(at: i) }
                return nil
            }
        }
    }

    /// Next MESSAGE (optionally for one destination/subscription).
    func message(_ timeout: Double = 5, subscription: String? = nil) -> StompFrame? {
        let e = wait(timeout) { e in
            guard case .frame(let f) = e, f.command == .message else { return false }
            if let subscription { return f.headers["subscription"] == subscription }
            return true
        }
        if case .frame(let f)? = e { return f }
        return nil
    }

    func messages(_ n: Int, timeout: Double = 5, subscription: String? = nil) -> [StompFrame] {
        var out: [StompFrame] = []
        let deadline = Date().addingTimeInterval(timeout)
        while out.count < n {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            guard let f = message(left, subscription: subscription) else { break }
            out.append(f)
        }
        return out
    }

    func closed(_ timeout: Double = 5) -> StompConnectionError?? {
        let e = wait(timeout) { if case .closed = $0 { return true }; return false }
        if case .closed(let err)? = e { return .some(err) }
        return nil
    }

    func count(_ match: (ClientEvent) -> Bool) -> Int {
        cond.lock()
        defer { cond.unlock() }
        return all.filter(match).count
    }
}

func connect(_ options: ConnectionOptions, _ box: EventBox) throws -> StompClient {
    try StompClient.connect(options, on: testGroup, events: box.handler).wait()
}

/// Runs `body`, expecting it to throw a StompConnectionError; returns it.
func expectConnectionError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> StompConnectionError? {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
        return nil
    } catch let e as StompConnectionError {
        return e
    } catch {
        XCTFail("expected StompConnectionError, got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
}

func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

func elapsed(since start: Date) -> Double { Date().timeIntervalSince(start) }

/// Bytes appended from any thread.
final class NIOLockedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    func append(_ b: [UInt8]) { lock.lock(); bytes += b; lock.unlock() }
    var value: [UInt8] { lock.lock(); defer { lock.unlock() }; return bytes }
}

extension FaultyPeer {
    /// Options for one client of this peer: no reconnect, no heart-beats, a 3 s connect timeout, and no
    /// credentials from the environment (the peer's faults, not the machine's settings, are under test).
    func clientOptions(host: String = "127.0.0.1") -> ConnectionOptions {
        var o = ConnectionOptions(urls: [StompURL(host: host, port: port)])
        o.reconnect = .none
        o.heartBeat = .none
        o.connectTimeout = .seconds(3)
        o.useEnvironmentCredentials = false
        return o
    }
}
