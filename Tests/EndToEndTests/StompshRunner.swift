import Foundation
import StompBroker
import StompTestSupport
import XCTest

/// Runs the built `stompsh` binary (env STOMPSH_BIN, else next to the test bundle).
enum Stompsh {
    static var binary: String { StompshBinary.path }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs stompsh with `args`; `stdin` is piped (nil: /dev/null). HOME is a fresh directory (no rc, no history).
    static func run(_ args: [String], stdin: String? = nil, env: [String: String] = [:], timeout: Double = 60,
                    file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = tempHome
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "STOMP_URL")
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        // read both pipes concurrently
        var outData = Data(), errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            XCTFail("stompsh \(args) timed out after \(timeout) s", file: file, line: line)
            group.wait()
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    static let tempHome: String = {
        let dir = NSTemporaryDirectory() + "stompsh-e2e-home-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

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
