import Foundation
import XCTest

/// A running stompsh whose stdin the test types into line by line while it runs (batch mode on a pipe),
/// with stdout and stderr collected as they come.
final class LiveStompsh: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let lock = NSCondition()
    private var out = Data()
    private var err = Data()
    private var openStreams = 2

    /// Starts `stompsh ARGS` (HOME a fresh directory, no colours).
    init(_ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: Stompsh.binary)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = Stompsh.tempHome
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "STOMP_URL")
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        // No child started by this test process (a broker, say) may inherit these pipes.
        for fd in [input.fileHandleForReading.fileDescriptor, input.fileHandleForWriting.fileDescriptor,
                   stdout.fileHandleForReading.fileDescriptor, stdout.fileHandleForWriting.fileDescriptor,
                   stderr.fileHandleForReading.fileDescriptor, stderr.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        // A line typed after stompsh exited must fail the write, not kill the test runner.
        signal(SIGPIPE, SIG_IGN)
        process.standardInput = input
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        collect(stdout.fileHandleForReading, into: \.out)
        collect(stderr.fileHandleForReading, into: \.err)
    }

    private func collect(_ handle: FileHandle, into buffer: ReferenceWritableKeyPath<LiveStompsh, Data>) {
        Thread {
            while true {
                let chunk = handle.availableData
                self.lock.lock()
                if chunk.isEmpty { self.openStreams -= 1 } else { self[keyPath: buffer].append(chunk) }
                self.lock.broadcast()
                self.lock.unlock()
                if chunk.isEmpty { return }
            }
        }.start()
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

    /// Writes one line to stompsh's stdin, as if typed (nothing if stompsh has exited).
    func type(_ line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Waits until `condition(stdout, stderr)` holds; false after `timeout` seconds.
    func waitFor(timeout: Double, _ condition: (_ stdout: String, _ stderr: String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if condition(String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)) { return true }
            if !lock.wait(until: deadline) {
                return condition(String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
            }
        }
    }

    /// Closes stdin (end of the script) and waits for the exit status; nil (after killing it) on timeout.
    func finish(timeout: Double) -> Int32? {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return nil
        }
        _ = waitFor(timeout: 5) { _, _ in self.openStreams == 0 }
        return process.terminationStatus
    }
}
