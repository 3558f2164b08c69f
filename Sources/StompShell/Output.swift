// Everything the shell prints goes through Output: pretty or JSON lines, colour, quiet, and a sink the
// REPL replaces to print above the prompt.

import Foundation
import StompProto
import StompConnection
import RPCCommands

public enum OutputFormat: String, Sendable, CaseIterable { case pretty, json }

public enum OutputTarget { case stdout, stderr }

public final class Output {
    public var format: OutputFormat = .pretty
    /// Colour escapes in pretty output (off when NO_COLOR is set or stdout is not a terminal).
    public var color: Bool
    /// -q: only received frames and errors.
    public var quiet = false
    /// Where text goes. The REPL swaps it while the prompt is shown.
    public var sink: (String, OutputTarget) -> Void

    public init(color: Bool? = nil) {
        self.color = color ?? Output.defaultColor()
        self.sink = Output.standardSink
    }

    public static func defaultColor() -> Bool {
        if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { return false }
        return isatty(1) == 1
    }

    public static let standardSink: (String, OutputTarget) -> Void = { text, stream in
        let fd: Int32 = stream == .stdout ? 1 : 2
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
            off += n
        }
    }

    func emit(_ text: String, _ stream: OutputTarget = .stdout) {
        sink(text.hasSuffix("\n") ? text : text + "\n", stream)
    }

    // MARK: colour

    enum Style: String { case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36" }

    func paint(_ s: String, _ styles: Style...) -> String {
        guard color, !styles.isEmpty else { return s }
        return "\u{1B}[" + styles.map(\.rawValue).joined(separator: ";") + "m" + s + "\u{1B}[0m"
    }

    // MARK: what commands call

    /// A command's result: `text` in pretty mode, `json` (one line) in JSON mode. Suppressed by -q.
    public func result(text: String?, json: JSONValue?) {
        if quiet { return }
        switch format {
        case .pretty: if let text { emit(text) }
        case .json: if let json { emit(json.compact) }
        }
    }

    /// Informational text (to stdout in pretty mode, stderr in JSON mode). Suppressed by -q.
    public func info(_ text: String) {
        if quiet { return }
        emit(text, format == .json ? .stderr : .stdout)
    }

    /// A warning on stderr (never suppressed).
    public func warning(_ text: String) {
        emit(paint("warning: ", .yellow, .bold) + text, .stderr)
    }

    /// An error on stderr (never suppressed).
    public func error(_ text: String) {
        emit(text, .stderr)
    }

    /// A received frame, in the current format.
    public func frame(_ frame: StompFrame) {
        switch format {
        case .json: emit(FrameFormatter.json(frame).compact)
        case .pretty: emit(FrameFormatter.pretty(frame, color: color ? self : nil))
        }
    }

    /// Wire bytes for `set trace on`.
    /// A transport trace line (WebSocket handshake, message opcodes and sizes), beside the STOMP bytes.
    public func transportTrace(outbound: Bool, note: String, at date: Date = Date()) {
        let arrow = outbound ? ">>>" : "<<<"
        switch format {
        case .pretty:
            let lines = note.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { i, l in
                i == 0 ? "\(FrameFormatter.timestamp(date)) \(arrow) [\(l)]" : "             \(arrow) [\(l)]"
            }
            emit(paint(lines.joined(separator: "\n"), .dim))
        case .json:
            var o = JSONObject()
            o.append("trace", .string(outbound ? "out" : "in"))
            o.append("at", .string(FrameFormatter.timestamp(date)))
            o.append("transport", .string(note))
            emit(JSONValue.object(o).compact, .stderr)
        }
    }

    public func trace(outbound: Bool, bytes: [UInt8], at date: Date = Date()) {
        let text = FrameFormatter.trace(outbound: outbound, bytes: bytes, at: date)
        switch format {
        case .pretty: emit(paint(text, .dim))
        case .json:
            var o = JSONObject()
            o.append("trace", .string(outbound ? "out" : "in"))
            o.append("at", .string(FrameFormatter.timestamp(date)))
            o.append("wire", .string(FrameFormatter.maskingPasscode(FrameFormatter.visibleBytes(bytes))))
            emit(JSONValue.object(o).compact, .stderr)
        }
    }
}

public enum FrameFormatter {
    /// `{"frame":"MESSAGE","headers":{...first value...},"body":"..."}` or `"body_base64"`.
    public static func json(_ frame: StompFrame) -> JSONValue {
        var o = JSONObject()
        o.append("frame", .string(frame.command.rawValue))
        var h = JSONObject()
        var seen = Set<String>()
        for (name, value) in frame.headers.pairs where !seen.contains(name) {
            seen.insert(name)
            h.append(name, .string(value))
        }
        o.append("headers", .object(h))
        if let s = frame.bodyString, !frame.body.contains(0) {
            o.append("body", .string(s))
        } else {
            o.append("body_base64", .string(Data(frame.body).base64EncodedString()))
        }
        return .object(o)
    }

    static func isText(_ body: [UInt8]) -> String? {
        guard let s = String(validatingUTF8Bytes: body) else { return nil }
        for b in body where b < 0x20 && b != 0x0A && b != 0x0D && b != 0x09 { return nil }
        return s
    }

    /// Header line, headers, blank line, body (JSON pretty-printed, binary as a hex dump).
    static func pretty(_ frame: StompFrame, color out: Output?) -> String {
        func paint(_ s: String, _ st: Output.Style...) -> String {
            guard let out, out.color else { return s }
            return "\u{1B}[" + st.map(\.rawValue).joined(separator: ";") + "m" + s + "\u{1B}[0m"
        }
        let cmdStyle: Output.Style = frame.command == .error ? .red : (frame.command == .receipt ? .green : .cyan)
        var lines: [String] = []
        var first = paint(frame.command.rawValue, .bold, cmdStyle)
        if let d = frame.headers["destination"] { first += " " + paint(d, .bold) }
        if frame.command == .error, let m = frame.headers["message"] { first += " " + m }
        if frame.command == .receipt, let r = frame.headers["receipt-id"] { first += " " + r }
        lines.append(first)
        for (name, value) in frame.headers.pairs {
            lines.append(paint(name, .dim) + paint(":", .dim) + value)
        }
        if !frame.body.isEmpty {
            lines.append("")
            lines.append(prettyBody(frame.body, contentType: frame.headers["content-type"]))
        }
        return lines.joined(separator: "\n")
    }

    static func prettyBody(_ body: [UInt8], contentType: String?) -> String {
        guard let text = isText(body) else { return hexDump(body) }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") || (contentType ?? "").contains("json"),
           let v = try? JSONValue.parse(trimmed) {
            return v.pretty
        }
        return text
    }

    /// `00000000  68 65 6c 6c 6f 00 ...  |hello.|`
    public static func hexDump(_ bytes: [UInt8]) -> String {
        var lines: [String] = []
        var off = 0
        while off < bytes.count {
            let chunk = bytes[off..<min(off + 16, bytes.count)]
            var hex = ""
            for (i, b) in chunk.enumerated() {
                hex += String(format: "%02x ", b)
                if i == 7 { hex += " " }
            }
            hex = hex.padding(toLength: 49, withPad: " ", startingAt: 0)
            let ascii = String(chunk.map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "." })
            lines.append(String(format: "%08x  ", off) + hex + " |" + ascii + "|")
            off += 16
        }
        return lines.joined(separator: "\n")
    }

    static func timestamp(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var secs = time_t(t)
        var tmv = tm()
        localtime_r(&secs, &tmv)
        let ms = Int((t - Double(Int(t))) * 1000)
        return String(format: "%02d:%02d:%02d.%03d", tmv.tm_hour, tmv.tm_min, tmv.tm_sec, ms)
    }

    /// Bytes with NUL as ^@, other controls as ^X, CR as \r, LF kept.
    static func visibleBytes(_ bytes: [UInt8]) -> String {
        var s = ""
        var utf8: [UInt8] = []
        func flush() { if !utf8.isEmpty { s += String(decoding: utf8, as: UTF8.self); utf8.removeAll() } }
        for b in bytes {
            switch b {
            case 0x0A: flush(); s += "\n"
            case 0x0D: flush(); s += "\\r"
            case 0x00..<0x20, 0x7F: flush(); s += "^" + String(UnicodeScalar(b ^ 0x40))
            default: utf8.append(b)
            }
        }
        flush()
        return s
    }

    /// What a masked passcode shows as, wherever stompsh prints one (traces, URLs, errors).
    public static let passcodeMask = StompURL.passcodeMask

    /// The wire text of a frame (see `visibleBytes`) with a CONNECT/STOMP passcode masked.
    static func maskingPasscode(_ text: String) -> String {
        maskingPasscode(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
            .joined(separator: "\n")
    }

    /// The passcode header of a CONNECT or STOMP frame, masked: traces get pasted into tickets.
    static func maskingPasscode(_ lines: [String]) -> [String] {
        guard let command = lines.first?.trimmingCharacters(in: .init(charactersIn: "\r")),
              command == "CONNECT" || command == "STOMP" else { return lines }
        var out = lines
        for i in out.indices.dropFirst() {
            if out[i].isEmpty || out[i] == "\r" { break }
            if out[i].hasPrefix("passcode:") { out[i] = "passcode:" + passcodeMask }
        }
        return out
    }

    /// One trace entry: `12:00:01.234 >>> ` then the frame as on the wire (escapes visible, NUL as ^@).
    static func trace(outbound: Bool, bytes: [UInt8], at date: Date) -> String {
        let arrow = outbound ? ">>>" : "<<<"
        let ts = timestamp(date)
        if bytes.allSatisfy({ $0 == 0x0A || $0 == 0x0D }) {
            return "\(ts) \(arrow) heart-beat (\(bytes.count == 1 ? "LF" : "\(bytes.count) bytes"))"
        }
        let vis = visibleBytes(bytes)
        var lines = vis.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines = maskingPasscode(lines)
        return lines.enumerated().map { i, l in i == 0 ? "\(ts) \(arrow) \(l)" : "             \(arrow) \(l)" }
            .joined(separator: "\n")
    }
}

extension String {
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var it = bytes.makeIterator()
        var dec = UTF8()
        var s = ""
        loop: while true {
            switch dec.decode(&it) {
            case .scalarValue(let u): s.unicodeScalars.append(u)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = s
    }
}
