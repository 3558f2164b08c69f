import Foundation

/// Starts `executable` with `arguments`, its stdout and stderr collected together as they come: the running process
/// and its output so far (`LockedText.wait(for:)` waits for a line).
public func startCollectingOutput(_ executable: String, _ arguments: [String]) throws -> (Process, LockedText) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    let log = LockedText()
    pipe.fileHandleForReading.readabilityHandler = { log.append($0.availableData) }
    try p.run()
    return (p, log)
}
