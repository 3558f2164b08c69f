// The one file format of dump, load, drain FILE, record and replay: the `--json` line of a frame
// (`{"frame":"MESSAGE","headers":{...},"body":"..."}`, `body_base64` for a body with NUL or not UTF-8), and in a
// recording `t` (seconds since the recording began, monotonic) and `dir` ("out" sent, "in" received) first.

import Foundation
import StompProto
import RPCCommands

/// One frame as a JSON line.
public struct MessageLine: Equatable {
    public var frame: StompFrame
    /// Seconds since the recording began (records only).
    public var t: Double?
    /// "out" (sent by the client) or "in" (received), records only.
    public var direction: String?

    public init(frame: StompFrame, t: Double? = nil, direction: String? = nil) {
        self.frame = frame; self.t = t; self.direction = direction
    }

    /// The line's bytes (no LF): the `--json` form of the frame, with `t` and `dir` first when set.
    public var encoded: [UInt8] {
        guard t != nil || direction != nil else { return FrameFormatter.json(frame).compactBytes }
        var o = JSONObject()
        if let t { o.append("t", .number((t * 1_000_000).rounded() / 1_000_000)) }
        if let direction { o.append("dir", .string(direction)) }
        for (k, v) in FrameFormatter.json(frame).objectValue ?? JSONObject() { o.append(k, v) }
        return JSONValue.object(o).compactBytes
    }

    /// Why a line is not a frame (the caller adds FILE:LINE).
    public struct ParseError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses one line. nil: a JSON object that is no frame (a command's result line in `--json` output).
    public static func parse(_ line: [UInt8]) throws -> MessageLine? {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes: line) } catch {
            let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 }
            if trimmed.first == UInt8(ascii: "{") { throw ParseError(message: "truncated or malformed JSON: \(error)") }
            throw ParseError(message: "not a JSON line: \(error)")
        }
        guard let o = value.objectValue else { throw ParseError(message: "expected a JSON object, got \(value.typeName)") }
        guard let commandValue = o["frame"] else { return nil }
        guard let name = commandValue.stringValue, let command = StompCommand(rawValue: name) else {
            throw ParseError(message: "unknown frame \(commandValue.compact)")
        }
        var headers = StompHeaders()
        if let h = o["headers"] {
            guard let ho = h.objectValue else { throw ParseError(message: "\"headers\" must be an object") }
            for (k, v) in ho {
                guard let s = v.stringValue else { throw ParseError(message: "header \(k) must be a string, got \(v.typeName)") }
                headers.append(k, s)
            }
        }
        var body: [UInt8] = []
        if let b = o["body"] {
            guard let s = b.stringValue else { throw ParseError(message: "\"body\" must be a string") }
            body = Array(s.utf8)
        } else if let b = o["body_base64"] {
            guard let s = b.stringValue, let d = Data(base64Encoded: s) else {
                throw ParseError(message: "\"body_base64\" is not base64")
            }
            body = [UInt8](d)
        }
        var t: Double?
        if let tv = o["t"] {
            guard let d = tv.doubleValue, d >= 0, d.isFinite else { throw ParseError(message: "\"t\" must be a number of seconds") }
            t = d
        }
        var dir: String?
        if let dv = o["dir"] {
            guard let s = dv.stringValue, s == "in" || s == "out" else { throw ParseError(message: "\"dir\" must be \"in\" or \"out\"") }
            dir = s
        }
        return MessageLine(frame: StompFrame(command, headers: headers, body: body), t: t, direction: dir)
    }
}

/// Reads a file line by line (LF-separated; a final line without LF counts), in 64 KiB chunks.
final class LineReader {
    let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private(set) var lineNumber = 0
    /// Lines are refused above this size (a bounded buffer for a file with no LF).
    static let maxLine = 200 * 1024 * 1024

    init(path: String, what: String) throws {
        let expanded = (path as NSString).expandingTildeInPath
        var st = stat()
        if stat(expanded, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            throw ShellError("\(what): '\(path)' is a directory", column: nil, exitStatus: 2)
        }
        let fd = open(expanded, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ShellError("\(what): cannot read '\(path)': \(String(cString: strerror(errno)))", column: nil, exitStatus: 2)
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// The next line without its LF (a CR before it is kept), nil at the end.
    func next() throws -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                lineNumber += 1
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                lineNumber += 1
                return line
            }
            if start > 0 { buffer.removeFirst(start); start = 0 }
            if buffer.count > Self.maxLine {
                throw ShellError("\(path):\(lineNumber + 1): error: line longer than \(Self.maxLine) bytes")
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ShellError("cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }

    /// Whether the line just returned was the last and had no LF (a file cut short).
    var lastLineUnterminated: Bool { eof && start == buffer.count && !buffer.isEmpty && buffer.last != 0x0A }
}
