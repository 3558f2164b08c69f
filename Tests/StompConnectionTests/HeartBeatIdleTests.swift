import Foundation
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif
import StompConnection
import StompProto
import XCTest

/// Idle connections on the real brokers with heart-beats, with the machine's other core busy: the
/// silence rule must never race the brokers' own beats (ActiveMQ's first beat comes at 2× the interval).
final class HeartBeatIdleTests: XCTestCase {
    /// heart-beat 1000,1000 and 25 s idle (25 intervals) on ActiveMQ and RabbitMQ at once, a CPU hog running:
    /// no connection lost. With the old rule (silent after exactly 2 × r) ActiveMQ's first beat, 2.004 s after
    /// CONNECTED, was called silence.
    func testIdleWithOneSecondHeartBeatsUnderLoadStaysConnected() throws {
        try idle(seconds: 25, heartBeat: HeartBeat(1000, 1000))
    }

    /// ActiveMQ's beats held back by 300 ms (a broker on a loaded machine): its first beat, due at 2 × 1 s after
    /// CONNECTED, comes at 2.3 s; the old rule (silent after exactly 2 × r) lost every such connection.
    func testActiveMQsLateFirstBeatIsNotSilence() throws {
        let broker = try TestEnv.activeMQ()
        let proxy = try LateBeatProxy(to: broker.url, beatDelay: 0.3)
        defer { proxy.stop() }
        var o = broker.options
        o.urls = [StompURL(host: "127.0.0.1", port: proxy.port)]
        o.heartBeat = HeartBeat(1000, 1000)
        let box = EventBox()
        let client = try connect(o, box)
        XCTAssertEqual(client.connectedInfo.heartBeat.receiveInterval, 1000)
        Thread.sleep(forTimeInterval: 6)
        XCTAssertEqual(box.count { if case .closed = $0 { return true }; return false }, 0, "\(box.all)")
        XCTAssertEqual(client.state, .connected)
        XCTAssertGreaterThanOrEqual(try client.snapshot().wait().counters.heartbeatsReceived, 3)
        try client.send(destination: "/queue/" + uniqueName("conn-late"), body: "alive", receipt: true).wait()
        try client.disconnect().wait()
    }

    /// The default heart-beats (10 s) and two idle minutes on both brokers, CPU hog running. Slow: only with
    /// STOMPSH_TEST_SLOW=1.
    func testIdleMinutesWithDefaultHeartBeatsUnderLoadStaysConnected() throws {
        guard TestEnv.value("STOMPSH_TEST_SLOW") == "1" else { throw XCTSkip("slow: set STOMPSH_TEST_SLOW=1") }
        try idle(seconds: 125, heartBeat: ConnectionOptions().heartBeat)
    }

    /// `connections` per broker (each one's first beat is a race with the old rule), a CPU hog per core.
    private func idle(seconds: Double, heartBeat: HeartBeat, connections: Int = 8) throws {
        let brokers = try TestEnv.brokers([.activeMQ, .rabbitMQ])
        let hogs = try (0..<2).map { _ in try CPUHog() }
        defer { hogs.forEach { $0.stop() } }
        var clients: [(TestBroker, StompClient, EventBox)] = []
        for broker in brokers {
            for _ in 0..<connections {
                var o = broker.options
                o.heartBeat = heartBeat
                let box = EventBox()
                let client = try connect(o, box)
                XCTAssertNotNil(client.connectedInfo.heartBeat.receiveInterval, "\(broker) sends heart-beats")
                clients.append((broker, client, box))
            }
        }
        Thread.sleep(forTimeInterval: seconds)
        for (broker, client, box) in clients {
            let lost = box.count { if case .connectionLost = $0 { return true }; if case .closed = $0 { return true }; return false }
            XCTAssertEqual(lost, 0, "\(broker): \(box.all)")
            XCTAssertEqual(client.state, .connected, "\(broker)")
            let snap = try client.snapshot().wait()
            XCTAssertEqual(snap.counters.reconnects, 0, "\(broker)")
            XCTAssertGreaterThan(snap.counters.heartbeatsReceived, 0, "\(broker)")
            try client.send(destination: "/queue/" + uniqueName("conn-hb"), body: "alive", receipt: true).wait()
            try client.disconnect().wait()
        }
    }
}

/// A busy loop in a child process (`sh`), so that the brokers and this process compete for the cores.
final class CPUHog {
    private let process = Process()

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        try process.run()
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A TCP proxy on 127.0.0.1 in front of a real broker that holds back the broker's heart-beats (reads that are
/// only EOLs) by `beatDelay`, as a broker on a loaded machine sends them late; everything else passes at once,
/// in order. Plain sockets and one thread per direction.
final class LateBeatProxy: @unchecked Sendable {
    private let listener: Int32
    let port: Int
    private let target: StompURL
    private let beatDelay: Double

    init(to target: StompURL, beatDelay: Double) throws {
        self.target = target
        self.beatDelay = beatDelay
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) == 0 && listen(listener, 16) == 0 }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        guard ok else { throw XCTSkip("proxy: cannot listen") }
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let broker = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr(target.host)
            addr.sin_port = UInt16(target.port).bigEndian
            let connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(broker, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else { close(client); close(broker); continue }
            Thread.detachNewThread { Self.copy(from: client, to: broker, beatDelay: 0) }
            let delay = beatDelay
            Thread.detachNewThread { Self.copy(from: broker, to: client, beatDelay: delay) }
        }
    }

    private static func copy(from: Int32, to: Int32, beatDelay: Double) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { break }
            if beatDelay > 0, buffer[0..<n].allSatisfy({ $0 == 0x0A || $0 == 0x0D }) {
                Thread.sleep(forTimeInterval: beatDelay)
            }
            var off = 0
            while off < n {
                let w = buffer[off..<n].withUnsafeBytes { write(to, $0.baseAddress, n - off) }
                if w <= 0 { break }
                off += w
            }
        }
        shutdown(to, Int32(SHUT_RDWR))
        close(from)
    }
}
