import Foundation
import XCTest

/// A child process run to its end: its exit status and what it wrote.
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// stdout's lines.
    public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// Runs `executable` with `arguments` to its end, reading stdout and stderr apart and at once (neither pipe fills
/// and stalls it). `environment`: nil inherits this process's. `stdin`: text piped in, then closed (nil:
/// /dev/null). `stdoutPath`: a file stdout goes to instead of a pipe (e.g. /dev/full; `stdout` is then empty).
/// After `timeout` seconds the process is terminated and the test fails.
public func runToEnd(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                     stdin: String? = nil, stdoutPath: String? = nil, timeout: Double = 60,
                     file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    if let stdoutPath { p.standardOutput = FileHandle(forWritingAtPath: stdoutPath) } else { p.standardOutput = out }
    p.standardError = err
    let input = stdin.map { _ in Pipe() }
    p.standardInput = input ?? FileHandle.nullDevice
    try p.run()
    if let input {
        input.fileHandleForWriting.write(Data(stdin!.utf8))
        try input.fileHandleForWriting.close()
    }
    let outText = LockedText(), errText = LockedText()
    let group = DispatchGroup()
    if stdoutPath == nil {
        group.enter()
        DispatchQueue.global().async { outText.append(out.fileHandleForReading.readDataToEndOfFile()); group.leave() }
    }
    group.enter()
    DispatchQueue.global().async { errText.append(err.fileHandleForReading.readDataToEndOfFile()); group.leave() }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        p.terminate()
        XCTFail("\(executable) \(arguments) timed out after \(timeout) s", file: file, line: line)
        group.wait()
    }
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: outText.text, stderr: errText.text)
}
