// --record FILE and `record start FILE`: every frame in both directions, decoded from the wire trace, as a JSON
// line with `t` (seconds since the recording began, monotonic) and `dir` ("out" sent, "in" received). Heart-beats
// are not frames and are left out. A CONNECT/STOMP passcode is masked.

import Foundation
import StompProto
import StompConnection

/// Writes a recording. Fed on the shell thread with the client's `.trace` events, which carry the exact wire bytes
/// and the monotonic instant they were read or written.
public final class FrameRecorder {
    public let path: String
    private let file: LineFile
    private var outbound: FrameDecoder
    private var inbound: FrameDecoder
    private let start: StompInstant
    /// Frames written so far.
    public private(set) var frames = 0
    /// Why recording stopped (a write error); nil while it works.
    public private(set) var failure: String?

    /// Opens FILE (an existing regular file only with `force`) before anything is sent: a file that cannot be
    /// written is an error here. `version`: the current connection's, when recording starts mid-session.
    public init(path: String, force: Bool, version: StompVersion = .v1_0, what: String = "record") throws {
        file = try LineFile(path: path, force: force, what: what)
        self.path = path
        outbound = FrameDecoder(version: version)
        inbound = FrameDecoder(version: version)
        start = .now()
    }

    /// Records the frames in `bytes` (one direction's wire bytes, any chunking).
    public func record(outbound isOut: Bool, _ bytes: [UInt8], at instant: StompInstant) {
        guard failure == nil, instant >= start else { return }
        let t = Double(instant.nanoseconds(since: start)) / 1e9
        var frames: [StompFrame] = []
        if isOut { collect(&outbound, bytes, into: &frames) } else { collect(&inbound, bytes, into: &frames) }
        for var f in frames {
            switch f.command {
            case .connect, .stomp:
                // a new link: both streams start afresh, unescaped until CONNECTED names the version
                outbound = FrameDecoder(version: .v1_0)
                inbound = FrameDecoder(version: .v1_0)
                if f.headers["passcode"] != nil { f.headers["passcode"] = StompURL.passcodeMask }
            case .connected:
                let v = StompVersion(rawValue: f.headers["version"] ?? "1.0") ?? .v1_0
                outbound.version = v
                inbound.version = v
            default: break
            }
            do {
                try file.writeLine(MessageLine(frame: f, t: t, direction: isOut ? "out" : "in").encoded)
                self.frames += 1
            } catch {
                failure = "\(error)"
                return
            }
        }
    }

    private func collect(_ decoder: inout FrameDecoder, _ bytes: [UInt8], into frames: inout [StompFrame]) {
        decoder.append(bytes)
        while true {
            do {
                guard let event = try decoder.next() else { return }
                if case .frame(let f) = event { frames.append(f) }
            } catch {
                // what the client itself refused; start again at the next chunk
                decoder = FrameDecoder(version: decoder.version)
                return
            }
        }
    }

    /// Flushes to the disk and closes the file.
    public func close() throws { try file.close() }
}

enum RecordCommand {
    static func run(_ shell: Shell, _ p: ParsedCommand) throws {
        switch p.arguments[0] {
        case "start":
            guard let path = p.argument(1) else {
                throw ShellError("record start: give the FILE to record to", column: p.column(ofArgument: 1), exitStatus: 2)
            }
            if let r = shell.recorder {
                throw ShellError("record: already recording to \(r.path) ('record stop' first)", column: p.column(ofArgument: 0))
            }
            let version = shell.client?.connectedInfo.version ?? .v1_0
            shell.recorder = try FrameRecorder(path: path, force: p.flag("--force"), version: version)
            shell.output.result(text: "recording every frame to \(path)",
                                json: CoreCommands.obj(("recording", .string(path))))
        case "stop":
            if p.argument(1) != nil {
                throw ShellError("record stop takes no FILE", column: p.column(ofArgument: 1), exitStatus: 2)
            }
            guard let r = shell.recorder else { throw ShellError("record: not recording") }
            shell.processEvents()
            shell.recorder = nil
            try r.close()
            shell.output.result(text: "recorded \(r.frames) frame\(r.frames == 1 ? "" : "s") to \(r.path)",
                                json: CoreCommands.obj(("recorded", .integer(Int64(r.frames))), ("file", .string(r.path))))
        default:
            throw ShellError("record: expected start or stop, got '\(p.arguments[0])'", column: p.column(ofArgument: 0), exitStatus: 2)
        }
    }
}
