import Foundation
import StompBroker
import StompTestSupport
import XCTest

/// Runs the built `stompsh` binary (env STOMPSH_BIN, else next to the test bundle).
enum Stompsh {
    static var binary: String { StompshBinary.path }

    typealias Result = ProcessResult

    /// Runs stompsh with `args`; `stdin` is piped (nil: /dev/null). HOME is a fresh directory (no rc, no history).
    /// `launcher`: a command that runs stompsh (its path and arguments before stompsh's, e.g. setpriv's).
    static func run(_ args: [String], stdin: String? = nil, env: [String: String] = [:], timeout: Double = 60,
                    launcher: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = tempHome
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "STOMP_URL")
        for (k, v) in env { environment[k] = v }
        let command = launcher + [binary] + args
        // stdin is always a pipe (empty when nil), as a script's would be.
        return try runToEnd(command[0], Array(command.dropFirst()), environment: environment, stdin: stdin ?? "",
                            timeout: timeout, file: file, line: line)
    }

    static let tempHome: String = {
        let dir = NSTemporaryDirectory() + "stompsh-e2e-home-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// stompsh started in the background with `args` (stdin /dev/null, HOME as `run`'s), for tests that act on
    /// it while it runs (signals, a wait that must not end); its output collected as it comes.
    final class Background {
        let process = Process()
        let stdout = LockedText(), stderr = LockedText()
        private let out = Pipe(), err = Pipe()

        init(_ args: [String]) throws {
            process.executableURL = URL(fileURLWithPath: Stompsh.binary)
            process.arguments = args
            var env = ProcessInfo.processInfo.environment
            env["HOME"] = Stompsh.tempHome
            process.environment = env
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let (o, e) = (stdout, stderr)
            out.fileHandleForReading.readabilityHandler = { o.append($0.availableData) }
            err.fileHandleForReading.readabilityHandler = { e.append($0.availableData) }
        }

        /// Waits (at most `timeout` seconds) until either stream says "connected to"; true if one did.
        @discardableResult
        func waitUntilConnected(timeout: Double = 10) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while !(stdout.text + stderr.text).contains("connected to"), Date() < deadline { usleep(20_000) }
            return (stdout.text + stderr.text).contains("connected to")
        }

        /// Waits for the process to end (killed first if it still runs) and stops collecting.
        func finish() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            usleep(100_000)
            out.fileHandleForReading.readabilityHandler = nil
            err.fileHandleForReading.readabilityHandler = nil
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    /// Starts `rpc serve Q --count N` (not recorded unless `record`) and waits until it serves; what it prints
    /// after "serving" is left in the pipe.
    static func startRPCServer(_ url: String, _ q: String, count: Int, record: String? = nil) throws -> (Process, Pipe) {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Stompsh.binary)
        server.arguments = (record.map { ["--record", $0] } ?? []) + [url, "-c", "rpc serve \(q) --count \(count)"]
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = Stompsh.tempHome
        server.environment = env
        let out = Pipe()
        server.standardOutput = out
        server.standardError = out
        server.standardInput = FileHandle.nullDevice
        try server.run()
        var served = ""
        let deadline = Date().addingTimeInterval(30)
        while !served.contains("serving"), server.isRunning, Date() < deadline {
            usleep(50_000)
            served += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        XCTAssertTrue(served.contains("serving"), served)
        return (server, out)
    }

    /// Writes a script to a temporary file and returns its path.
    static func script(_ text: String, name: String = "script.stompsh") -> String {
        let dir = NSTemporaryDirectory() + "stompsh-e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
}

/// The brokers from `scripts/brokers env`; XCTSkip when missing unless STOMPSH_REQUIRE_BROKERS=1. The sandbox
/// broker is always there: STOMPSH_TEST_SANDBOX (scripts/test runs `stompsh broker`), else started in this process.
enum Brokers {
    static func url(_ name: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let u = env[name], !u.isEmpty { return u }
        if env["STOMPSH_REQUIRE_BROKERS"] == "1" {
            XCTFail("\(name) not set (eval \"$(scripts/brokers env)\")")
            throw XCTSkip("\(name) missing")
        }
        throw XCTSkip("\(name) not set: start brokers with scripts/brokers start; eval \"$(scripts/brokers env)\"")
    }
    static func activemq() throws -> String { try url("STOMPSH_TEST_ACTIVEMQ") }
    static func rabbitmq() throws -> String { try url("STOMPSH_TEST_RABBITMQ") }
    static var sandbox: String { SandboxFixture.url }
    static func all() -> [(name: String, url: String)] {
        var r: [(String, String)] = []
        if let u = try? activemq() { r.append(("activemq", u)) }
        if let u = try? rabbitmq() { r.append(("rabbitmq", u)) }
        r.append(("sandbox", sandbox))
        return r
    }

    static func unique(_ prefix: String = "e2e") -> String { "/queue/stompsh-\(prefix)-\(UUID().uuidString.prefix(8))" }
}
