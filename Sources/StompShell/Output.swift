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
    /// -q: no chatter (`result`, `info`); received frames, what commands are asked to print (`answer`) and errors stay.
    public var quiet = false
    /// Where text goes. The REPL swaps it while the prompt is shown (and hands what it caught to `writer`).
    public var sink: (String, OutputTarget) -> Void { didSet { sinkIsWriter = false } }
    /// `sink` is still the writer's: held bytes go to it as they are (no String made of them).
    private var sinkIsWriter = true
    /// The one writer of standard output and error; it records a failed write.
    public let writer: OutputWriter

    public init(color: Bool? = nil, writer: OutputWriter = .standard) {
        self.color = color ?? Output.defaultColor()
        self.writer = writer
        self.sink = { [writer] text, target in writer.write(text, to: target) }
        sinkIsWriter = true
    }

    /// Set once standard output could not be written: the session has to end (see `Shell.checkOutput`).
    public var failure: OutputFailure? { writer.failure }

    public static func defaultColor() -> Bool {
        if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { return false }
        return isatty(1) == 1
    }

    func emit(_ text: String, _ stream: OutputTarget = .stdout) {
        if holding {
            if stream == .stdout {
                held += text.utf8
                endHeldLine(endsWithNewline: text.hasSuffix("\n"))
                return
            }
            writeHeld()     // standard error stays in order with what was printed before it
        }
        sink(text.hasSuffix("\n") ? text : text + "\n", stream)
    }

    // MARK: printing a batch of frames in one write

    /// Standard output text (UTF-8) held while `batch` runs.
    private var held: [UInt8] = []
    private var holding = false

    /// After a text appended to `held`: the newline `emit` adds unless the text ends with one (a Character
    /// "\n", so not a CR LF), and the write once `heldLimit` is reached.
    private func endHeldLine(endsWithNewline: Bool) {
        if !endsWithNewline { held.append(0x0A) }
        if held.count >= Self.heldLimit { writeHeld() }
    }
    /// Held text is written once it reaches this many bytes.
    static let heldLimit = 64 << 10

    /// Runs `body` (printing the frames taken from the inbox together) with what it prints to standard output
    /// held and written at its end in one write (or every `heldLimit` bytes): no write(2) per message.
    /// Standard error is written in order: held text goes first. A failed write shows in `failure` afterwards.
    public func batch(_ body: () -> Void) {
        if holding { return body() }
        holding = true
        body()
        holding = false
        writeHeld()
    }

    private func writeHeld() {
        guard !held.isEmpty else { return }
        if sinkIsWriter {
            writer.write(bytes: held, to: .stdout)
        } else {
            sink(String(decoding: held, as: UTF8.self), .stdout)
        }
        held.removeAll(keepingCapacity: held.count <= Self.heldLimit * 2)
    }

    // MARK: colour

    enum Style: String { case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36" }

    func paint(_ s: String, _ styles: Style...) -> String { paint(s, styles: styles) }

    func paint(_ s: String, styles: [Style]) -> String {
        guard color, !styles.isEmpty else { return s }
        return "\u{1B}[" + styles.map(\.rawValue).joined(separator: ";") + "m" + s + "\u{1B}[0m"
    }

    // MARK: what commands call

    /// A command's result or confirmation (`connected to ...`, `sent ..., receipt received`): `text` in pretty
    /// mode, `json` (one line) in JSON mode. Suppressed by -q: it is stompsh's chatter.
    public func result(text: String?, json: JSONValue?) {
        if quiet { return }
        answer(text: text, json: json)
    }

    /// What a command was asked to print (`echo`, `help`, `status`, `set` showing values): like `result`, but
    /// never suppressed by -q, which quiets stompsh's chatter and never what a script asks for.
    public func answer(text: String?, json: JSONValue?) {
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
        if holding {        // straight into the held bytes: no String per message
            switch format {
            case .json:
                FrameFormatter.appendJSON(frame, to: &held)
                held.append(0x0A)
            case .pretty where !color:
                let start = held.count
                FrameFormatter.appendPlain(frame, to: &held)
                endHeldLine(endsWithNewline: Self.endsWithNewlineCharacter(held[start...]))
                return
            case .pretty:
                emit(FrameFormatter.pretty(frame, color: self))
                return
            }
            endHeldLine(endsWithNewline: true)
            return
        }
        switch format {
        case .json: emit(FrameFormatter.json(frame).compact)
        case .pretty: emit(FrameFormatter.pretty(frame, color: color ? self : nil))
        }
    }

    /// Whether UTF-8 text ends with the Character "\n" (`String.hasSuffix("\n")`): a last LF not after a CR
    /// (CR LF is one Character).
    static func endsWithNewlineCharacter(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.last == 0x0A else { return false }
        return bytes.count < 2 || bytes[bytes.endIndex - 2] != 0x0D
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
        // the first value of each name; few headers are compared in a row (no hashing per message)
        var names: [String] = []
        names.reserveCapacity(frame.headers.count)
        var seen: Set<String>?
        if frame.headers.count > 16 { seen = Set(minimumCapacity: frame.headers.count) }
        for (name, value) in frame.headers {
            if seen != nil {
                guard seen!.insert(name).inserted else { continue }
            } else {
                guard !names.contains(name) else { continue }
                names.append(name)
            }
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

    /// The bytes of `json(frame).compact`, written without building the JSONValue.
    static func appendJSON(_ frame: StompFrame, to out: inout [UInt8]) {
        if appendJSONWithoutEscapes(frame, to: &out) { return }
        reserve(frame.body.count + 512, in: &out)
        out += #"{"frame":"#.utf8
        JSONValue.appendString(frame.command.rawValue, to: &out)
        out += #","headers":{"#.utf8
        if frame.headers.count > 16 {
            // many lines: the first value of each name found by hashing the names
            var seen = Set<String>(minimumCapacity: frame.headers.count)
            var written = 0
            for (name, value) in frame.headers where seen.insert(name).inserted {
                if written > 0 { out.append(UInt8(ascii: ",")) }
                written += 1
                appendJSONString(name, to: &out)
                out.append(UInt8(ascii: ":"))
                appendJSONString(value, to: &out)
            }
        } else {
            // few lines: the first value of each name, names compared as bytes with the ones written before
            var names: [UnsafeRawBufferPointer] = []
            names.reserveCapacity(frame.headers.count)
            frame.headers.forEachLineBytes { name, value in
                guard !names.contains(where: { $0.count == name.count && $0.elementsEqual(name) }) else { return }
                if !names.isEmpty { out.append(UInt8(ascii: ",")) }
                names.append(name)
                appendJSONString(bytes: name, to: &out)
                out.append(UInt8(ascii: ":"))
                appendJSONString(bytes: value, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        if appendPlainASCIIJSONBody(frame.body, to: &out) {
            // printable ASCII without quote or backslash: the bytes as they are
            out.append(UInt8(ascii: "}"))
        } else {
            appendEscapedJSONBody(frame, to: &out)
        }
    }

    /// The body member of a frame's JSON line when it is not plain ASCII (a JSON string when it is UTF-8
    /// without NUL, else `body_base64`), and the line's closing brace.
    private static func appendEscapedJSONBody(_ frame: StompFrame, to out: inout [UInt8]) {
        if let s = frame.bodyString, !frame.body.contains(0) {
            out += #","body":"#.utf8
            JSONValue.appendString(s, to: &out)
        } else {
            out += #","body_base64":"#.utf8
            JSONValue.appendString(Data(frame.body).base64EncodedString(), to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `appendJSON` for the common frame, written through a pointer into one scratch buffer and appended with one
    /// copy (an Array append per piece costs more than the bytes): at most 16 header lines, no header byte to
    /// escape. False, and nothing appended, for any other frame (the general path then writes it).
    private static func appendJSONWithoutEscapes(_ frame: StompFrame, to out: inout [UInt8]) -> Bool {
        let headers = frame.headers
        guard headers.count <= 16 else { return false }
        let plainBody = frame.body.withUnsafeBufferPointer { !ByteScan.needsJSONEscape($0, asciiOnly: true) }
        let command = frame.command.rawValue.utf8
        // {"frame":"CMD","headers":{ "n":"v", ... } ,"body":"BODY" }
        let bound = 32 + command.count + headers.contentByteCount + 6 * headers.count + (plainBody ? frame.body.count + 12 : 0)
        let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer -> Bool in
            var w = ByteWriter(buffer.baseAddress!)
            w.ascii(#"{"frame":""#)
            w.utf8(frame.command.rawValue)
            w.ascii(#"","headers":{"#)
            // the first value of each name: a name is written unless the same bytes were written before; a byte
            // to escape ends this path (nothing appended)
            let plain = withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: 16) { names -> Bool in
                var written = 0
                var lengths: UInt64 = 0     // a bit per name length (mod 64) written: a new length is a new name
                do {
                    try headers.forEachLineBytes { name, value in
                        let bit: UInt64 = 1 << UInt64(name.count & 63)
                        if lengths & bit != 0 {
                            for i in 0..<written where names[i].count == name.count
                                && (name.count == 0 || memcmp(names[i].baseAddress!, name.baseAddress!, name.count) == 0) { return }
                        }
                        lengths |= bit
                        if needsJSONEscape(name, value) { throw NeedsEscape() }
                        if written > 0 { w.byte(UInt8(ascii: ",")) }
                        names[written] = name
                        written += 1
                        w.byte(0x22); w.bytes(name); w.ascii(#"":""#); w.bytes(value); w.byte(0x22)
                    }
                } catch {
                    return false
                }
                return true
            }
            guard plain else { return false }
            w.byte(UInt8(ascii: "}"))
            if plainBody {
                w.ascii(#","body":""#)
                frame.body.withUnsafeBytes { w.bytes($0) }
                w.ascii(#""}"#)
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<w.count]))
            return true
        }
        guard written else { return false }
        if plainBody { return true }
        appendEscapedJSONBody(frame, to: &out)
        return true
    }

    private struct NeedsEscape: Error {}

    @inline(__always)
    private static func needsJSONEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        ByteScan.needsJSONEscape(bytes.assumingMemoryBound(to: UInt8.self), asciiOnly: false)
    }

    /// Whether a header line's name or value needs a JSON escape: one scan when the value's bytes follow the name's
    /// (as StompHeaders stores a line), else two.
    @inline(__always)
    private static func needsJSONEscape(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool {
        if let n = name.baseAddress, let v = value.baseAddress, n + name.count == v {
            return needsJSONEscape(UnsafeRawBufferPointer(start: n, count: name.count + value.count))
        }
        return needsJSONEscape(name) || needsJSONEscape(value)
    }

    /// An ERROR frame in one line for an error message: its `message` header ("ERROR" without one) and the first
    /// line of its body when the message does not already say it, shown as `VisibleText` has them.
    static func errorSummary(_ f: StompFrame) -> String {
        var text = f.headers["message"] ?? "ERROR"
        if let line = f.bodyString?.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).first, !line.isEmpty,
           !text.contains(line) {
            text += " (\(line.trimmingCharacters(in: .whitespaces)))"
        }
        return VisibleText.value(text)
    }

    static func isText(_ body: [UInt8]) -> String? {
        guard let s = String(validating: body, as: UTF8.self) else { return nil }
        for b in body where b < 0x20 && b != 0x0A && b != 0x0D && b != 0x09 { return nil }
        return s
    }

    /// Header line, headers, blank line, body (JSON pretty-printed, binary as a hex dump). Header names and values
    /// are shown as `VisibleText` has them (one line each, control characters escaped).
    static func pretty(_ frame: StompFrame, color out: Output?) -> String {
        guard let out, out.color else { return plain(frame) }
        var text = head(frame, paint: { out.paint($0, styles: $1) })
        if !frame.body.isEmpty {
            text += "\n\n"
            text += prettyBody(frame.body, contentType: frame.headers["content-type"])
        }
        return text
    }

    /// The command line (with the destination, an ERROR's message, a RECEIPT's receipt-id) and the header lines,
    /// names and values through `VisibleText`; `paint` colours the pieces (nil: none).
    private static func head(_ frame: StompFrame, paint: ((String, [Output.Style]) -> String)?) -> String {
        func style(_ s: String, _ st: Output.Style...) -> String { paint?(s, st) ?? s }
        let cmdStyle: Output.Style = frame.command == .error ? .red : (frame.command == .receipt ? .green : .cyan)
        var text = style(frame.command.rawValue, .bold, cmdStyle)
        if let d = frame.headers["destination"] { text += " "; text += style(VisibleText.value(d), .bold) }
        if frame.command == .error, let m = frame.headers["message"] { text += " "; text += VisibleText.value(m) }
        if frame.command == .receipt, let r = frame.headers["receipt-id"] { text += " "; text += VisibleText.value(r) }
        for (name, value) in frame.headers {
            text += "\n"
            text += style(VisibleText.name(name), .dim) + style(":", .dim)
            text += VisibleText.value(value)
        }
        return text
    }

    /// `pretty` without colour, built as bytes (no String appends per header).
    private static func plain(_ frame: StompFrame) -> String {
        var b: [UInt8] = []
        appendPlain(frame, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// The UTF-8 of `pretty(frame, color: nil)`, appended to `b`.
    static func appendPlain(_ frame: StompFrame, to b: inout [UInt8]) {
        reserve(frame.body.count + 512, in: &b)
        if !appendPlainHead(frame, to: &b) {
            appendUTF8(head(frame, paint: nil), to: &b)     // a header byte to show escaped: the String way
        }
        if !frame.body.isEmpty {
            b.append(0x0A)
            b.append(0x0A)
            // a content-type naming json (looked for in its bytes: no String per message) sends the body the long
            // way, where prettyBody decides with the String as before
            let jsonType = frame.headers.withValueBytes(for: "content-type") { ByteScan.contains($0, "json") } ?? false
            if !jsonType, isPlainASCIIText(frame.body) {
                b += frame.body     // what prettyBody gives for it: the text as it is
            } else {
                b += prettyBody(frame.body, contentType: frame.headers["content-type"]).utf8
            }
        }
    }

    /// `head(frame, paint: nil)`'s bytes for the common frame, written through a pointer into one scratch buffer and
    /// appended with one copy: header lines of printable ASCII only (checked once written). False, and nothing
    /// appended, for any other frame.
    private static func appendPlainHead(_ frame: StompFrame, to b: inout [UInt8]) -> Bool {
        let headers = frame.headers
        let command = frame.command.rawValue.utf8
        var bound = command.count + 2 * headers.contentByteCount + 2 * headers.count + 3
        var extra: String?
        if frame.command == .error { extra = headers["message"] }
        if frame.command == .receipt { extra = headers["receipt-id"] }
        if let e = extra { bound += e.utf8.count + 1 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer -> Bool in
            var w = ByteWriter(buffer.baseAddress!)
            w.utf8(frame.command.rawValue)
            // the destination and the extra are header values: a line of theirs that needs an escape is caught
            // below with the other lines
            headers.withValueBytes(for: "destination") { w.byte(0x20); w.bytes($0) }
            if var e = extra { w.byte(0x20); e.withUTF8 { w.bytes(UnsafeRawBufferPointer($0)) } }
            let linesStart = w.count
            headers.forEachLineBytes { name, value in
                w.byte(0x0A); w.bytes(name); w.byte(0x3A); w.bytes(value)
            }
            // every header byte (the destination and extra are header values too) checked once, in one pass over
            // the lines as written: cheaper than a scan per name and value
            let lines = UnsafeRawBufferPointer(start: buffer.baseAddress! + linesStart, count: w.count - linesStart)
            if ByteScan.mayNeedVisibleEscape(lines) { return false }
            b.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<w.count]))
            return true
        }
    }

    /// A JSON string of `s`: its bytes as they are when nothing in it needs escaping (no control character, quote
    /// or backslash: most header names and values), else `JSONValue.appendString`, the one JSON string escaper.
    @inline(__always)
    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        var s = s
        let plain = s.withUTF8 { u -> Bool in
            if ByteScan.needsJSONEscape(u, asciiOnly: false) { return false }
            out.append(0x22)
            out.append(contentsOf: u)
            out.append(0x22)
            return true
        }
        if !plain { JSONValue.appendString(s, to: &out) }
    }

    /// `appendJSONString` for a header's bytes (valid UTF-8): copied as they are when nothing needs escaping.
    @inline(__always)
    static func appendJSONString(bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let u = bytes.assumingMemoryBound(to: UInt8.self)
        if ByteScan.needsJSONEscape(u, asciiOnly: false) {
            JSONValue.appendString(String(decoding: u, as: UTF8.self), to: &out)
        } else {
            out.append(0x22)
            out.append(contentsOf: u)
            out.append(0x22)
        }
    }

    /// `,"body":"BODY"` when the body is printable ASCII without quote or backslash (what the JSON line of such a
    /// body is, with no String made); false, and nothing appended, otherwise.
    static func appendPlainASCIIJSONBody(_ body: [UInt8], to out: inout [UInt8]) -> Bool {
        body.withUnsafeBufferPointer { u in
            if ByteScan.needsJSONEscape(u, asciiOnly: true) { return false }
            out += #","body":""#.utf8
            out.append(contentsOf: u)
            out.append(0x22)
            return true
        }
    }

    /// Appends a String's UTF-8 bytes with one copy (`b += s.utf8` goes through the generic sequence append).
    @inline(__always)
    static func appendUTF8(_ s: String, to b: inout [UInt8]) {
        var s = s
        s.withUTF8 { b.append(contentsOf: $0) }
    }

    /// Room for `extra` more bytes, growing geometrically: an exact `reserveCapacity` per message would copy the
    /// whole held batch again and again.
    @inline(__always)
    static func reserve(_ extra: Int, in b: inout [UInt8]) {
        if b.capacity - b.count < extra { b.reserveCapacity(max(b.capacity * 2, b.count + extra)) }
    }

    /// A body `prettyBody` prints as it is, found without making a String: printable ASCII, tab, CR and LF only,
    /// first non-blank byte not `{` or `[` (no JSON to pretty-print; with a JSON content-type the caller goes
    /// the long way).
    private static func isPlainASCIIText(_ body: [UInt8]) -> Bool {
        body.withUnsafeBufferPointer { u in
            var i = 0
            while i < u.count, u[i] == 0x20 || u[i] == 0x0A || u[i] == 0x0D || u[i] == 0x09 { i += 1 }
            if i < u.count, u[i] == UInt8(ascii: "{") || u[i] == UInt8(ascii: "[") { return false }
            if ByteScan.isPrintableASCII(u) { return true }
            for x in u where x &- 0x20 >= 0x60 {      // outside 0x20...0x7F
                if x != 0x0A && x != 0x0D && x != 0x09 { return false }
            }
            return true
        }
    }

    static func prettyBody(_ body: [UInt8], contentType: String?) -> String {
        guard let text = isText(body) else { return hexDump(body) }
        // Only JSON-looking text is parsed: find its first non-blank character without trimming a copy first.
        let first = text.unicodeScalars.first { !$0.properties.isWhitespace }
        if first != "{" && first != "[" {
            guard let contentType, contentType.contains("json") else { return text }
        }
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

    /// Trace entries for the bytes of one read or write: `12:00:01.234 >>> ` then each frame as on the wire
    /// (escapes visible, NUL as ^@). A chunk holding several frames gives one entry per frame, each on its own
    /// line with the timestamp (EOLs after a frame's NUL stay with that frame).
    static func trace(outbound: Bool, bytes: [UInt8], at date: Date) -> String {
        let arrow = outbound ? ">>>" : "<<<"
        let ts = timestamp(date)
        if bytes.allSatisfy({ $0 == 0x0A || $0 == 0x0D }) {
            return "\(ts) \(arrow) heart-beat (\(bytes.count == 1 ? "LF" : "\(bytes.count) bytes"))"
        }
        var frames: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 0 {
                var end = i + 1
                while end < bytes.endIndex, bytes[end] == 0x0A || bytes[end] == 0x0D { end += 1 }
                frames.append(bytes[start..<end])
                start = end
                i = end
            } else {
                i += 1
            }
        }
        if start < bytes.endIndex { frames.append(bytes[start...]) }
        return frames.map { traceEntry(Array($0), arrow: arrow, timestamp: ts) }.joined(separator: "\n")
    }

    /// One frame's trace entry (see `trace`).
    private static func traceEntry(_ bytes: [UInt8], arrow: String, timestamp ts: String) -> String {
        let vis = visibleBytes(bytes)
        var lines = vis.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines = maskingPasscode(lines)
        return lines.enumerated().map { i, l in i == 0 ? "\(ts) \(arrow) \(l)" : "             \(arrow) \(l)" }
            .joined(separator: "\n")
    }
}

/// Bytes written through a pointer into room the caller sized (the formatters' scratch buffers): no capacity check
/// or uniqueness check per byte, as an Array append has.
struct ByteWriter {
    private let base: UnsafeMutablePointer<UInt8>
    /// Bytes written so far.
    private(set) var count = 0

    init(_ base: UnsafeMutablePointer<UInt8>) { self.base = base }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        base[count] = b
        count += 1
    }

    /// Up to 32 bytes (most header names and values) are moved as two overlapping runs of words, reading and
    /// writing only inside the source and the destination's `r.count` bytes: no memcpy call per piece.
    @inline(__always)
    mutating func bytes(_ r: UnsafeRawBufferPointer) {
        guard let p = r.baseAddress else { return }
        let n = r.count
        let d = UnsafeMutableRawPointer(base + count)
        switch n {
        case 0:
            return
        case 1...3:
            d.storeBytes(of: p.load(as: UInt8.self), as: UInt8.self)
            d.storeBytes(of: p.load(fromByteOffset: n >> 1, as: UInt8.self), toByteOffset: n >> 1, as: UInt8.self)
            d.storeBytes(of: p.load(fromByteOffset: n - 1, as: UInt8.self), toByteOffset: n - 1, as: UInt8.self)
        case 4...7:
            let a = p.loadUnaligned(as: UInt32.self), b = p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            d.storeBytes(of: a, as: UInt32.self)
            d.storeBytes(of: b, toByteOffset: n - 4, as: UInt32.self)
        case 8...16:
            let a = p.loadUnaligned(as: UInt64.self), b = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            d.storeBytes(of: a, as: UInt64.self)
            d.storeBytes(of: b, toByteOffset: n - 8, as: UInt64.self)
        case 17...32:
            let a = p.loadUnaligned(as: UInt64.self), b = p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let c = p.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
            let e = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            d.storeBytes(of: a, as: UInt64.self)
            d.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
            d.storeBytes(of: c, toByteOffset: n - 16, as: UInt64.self)
            d.storeBytes(of: e, toByteOffset: n - 8, as: UInt64.self)
        default:
            d.copyMemory(from: p, byteCount: n)
        }
        count += n
    }

    /// A String's UTF-8 bytes in one copy (not a byte at a time through its UTF8View).
    @inline(__always)
    mutating func utf8(_ s: String) {
        var s = s
        s.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// A literal's bytes.
    @inline(__always)
    mutating func ascii(_ s: StaticString) {
        bytes(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
