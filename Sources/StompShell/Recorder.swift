// --record FILE and `record start FILE`: every frame in both directions, decoded from the wire trace, as a JSON
// line with `t` (seconds since the recording began, monotonic) and `dir` ("out" sent, "in" received). Heart-beats
// are not frames and are left out. A CONNECT/STOMP passcode is masked.

import Foundation
import NIOConcurrencyHelpers
import StompProto
import StompConnection

/// Writes a recording. Fed with the clients' `.trace` events, which carry the exact wire bytes and the monotonic
/// instant they were read or written: the session's and operator commands' on the shell thread (through the
/// inbox), the connections of `bench` and `rpc serve|bench` on their event loops (`OwnConnection`), so a lock
/// keeps one frame's line whole and the counts right.
public final class FrameRecorder: @unchecked Sendable {
    private let lock = NIOLock()
    public let path: String
    private let file: LineFile
    /// The version frames are decoded with: 1.0 (no escapes) from a CONNECT until CONNECTED names one.
    private var version: StompVersion
    private let start: StompInstant
    private var pendingOut: [UInt8] = []
    private var pendingIn: [UInt8] = []
    /// Frames written so far.
    public var frames: Int { lock.withLock { _frames } }
    private var _frames = 0
    /// Trace chunks that did not decode (left out).
    public var undecodable: Int { lock.withLock { _undecodable } }
    private var _undecodable = 0
    /// Why recording stopped (a write error); nil while it works.
    public var failure: String? { lock.withLock { _failure } }
    private var _failure: String?

    /// Opens FILE (an existing regular file only with `force`) before anything is sent: a file that cannot be
    /// written is an error here. `version`: the current connection's, when recording starts mid-session.
    public init(path: String, force: Bool, version: StompVersion = .v1_0, what: String = "record") throws {
        file = try LineFile(path: path, force: force, what: what)
        self.path = path
        self.version = version
        start = .now()
    }

    /// Records the frames in `bytes`: one trace chunk (whole frames: the client traces frame by frame) of one
    /// direction. Each chunk is decoded on its own (a frame cut short waits for the next chunk), so chunks of
    /// several connections (the session's and an operator command's) may interleave, and one that does not
    /// decode loses only itself.
    public func record(outbound isOut: Bool, _ bytes: [UInt8], at instant: StompInstant) {
        lock.withLock { recordLocked(outbound: isOut, bytes, at: instant) }
    }

    private func recordLocked(outbound isOut: Bool, _ bytes: [UInt8], at instant: StompInstant) {
        guard _failure == nil, instant >= start else { return }
        let t = Double(instant.nanoseconds(since: start)) / 1e9
        var decoder = FrameDecoder(version: version)
        let input = (isOut ? pendingOut : pendingIn) + bytes
        decoder.append(input)
        var boundary = 0   // where the frame being decoded began
        while true {
            defer { boundary = decoder.streamOffset }
            let event: FrameDecoderEvent?
            do { event = try decoder.next() } catch {
                _undecodable += 1
                if isOut { pendingOut = [] } else { pendingIn = [] }
                return
            }
            guard let event else {
                // a frame cut across chunks (not what the client's trace gives): kept for the next chunk
                let rest = Array(input[min(boundary, input.count)...])
                if isOut { pendingOut = rest } else { pendingIn = rest }
                return
            }
            guard case .frame(var f) = event else { continue }
            switch f.command {
            case .connect, .stomp:
                // a new link: unescaped until CONNECTED names the version
                version = .v1_0
                if f.headers["passcode"] != nil { f.headers["passcode"] = StompURL.passcodeMask }
            case .connected:
                version = StompVersion(rawValue: f.headers["version"] ?? "1.0") ?? .v1_0
                decoder.version = version
            default: break
            }
            do {
                try file.writeLine(MessageLine(frame: f, t: t, direction: isOut ? "out" : "in").encoded)
                _frames += 1
            } catch {
                _failure = "\(error)"
                return
            }
        }
    }

    /// Flushes to the disk and closes the file; later chunks are not recorded.
    public func close() throws {
        try lock.withLock {
            if _failure == nil { _failure = "closed" }
            try file.close()
        }
    }
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
            if r.undecodable > 0 { shell.output.warning("record: \(r.undecodable) traced chunk(s) did not decode and are not in \(r.path)") }
            shell.output.result(text: "recorded \(r.frames) frame\(r.frames == 1 ? "" : "s") to \(r.path)",
                                json: CoreCommands.obj(("recorded", .integer(Int64(r.frames))), ("file", .string(r.path))))
        default:
            throw ShellError("record: expected start or stop, got '\(p.arguments[0])'", column: p.column(ofArgument: 0), exitStatus: 2)
        }
    }
}
