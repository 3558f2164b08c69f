// Batch mode: scripts (-f FILE, -f -), -c commands and piped stdin run through the same dispatcher.
//
// Logical lines: a first line `#!...` is skipped; `#` starts a comment line; blank lines are skipped; a trailing
// `\` joins the next line; `<<TAG` (and `raw`) read the following lines up to a line `TAG` (`.`).
// A leading `-` ignores the line's failure. Errors print `NAME:LINE:COL: error: MESSAGE` on stderr.

import Foundation
import StompProto

/// Physical lines of a script, numbered from 1.
public protocol ScriptSource: AnyObject {
    /// File name for diagnostics: the path, `<stdin>`, or `-c[N]`.
    var name: String { get }
    /// The next physical line without its line terminator, nil at the end.
    func nextLine() -> String?
}

public final class StringScriptSource: ScriptSource {
    public let name: String
    private var lines: [String]
    private var index = 0

    public init(name: String, text: String) {
        self.name = name
        var ls = text.split(separator: "\n", omittingEmptySubsequences: false).map { l -> String in
            l.hasSuffix("\r") ? String(l.dropLast()) : String(l)
        }
        if ls.last == "" { ls.removeLast() }
        lines = ls
    }

    public func nextLine() -> String? {
        guard index < lines.count else { return nil }
        defer { index += 1 }
        return lines[index]
    }
}

/// Reads lines lazily (pipes: commands run as lines arrive).
public final class FileScriptSource: ScriptSource {
    public let name: String
    private let file: UnsafeMutablePointer<FILE>
    private let owned: Bool

    public init?(path: String) {
        if path == "-" {
            name = "<stdin>"; file = stdin; owned = false
        } else {
            guard let f = fopen(path, "r") else { return nil }
            name = path; file = f; owned = true
        }
    }

    public init(stdinNamed name: String = "<stdin>") { self.name = name; file = stdin; owned = false }

    deinit { if owned { fclose(file) } }

    public func nextLine() -> String? {
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        let n = getline(&line, &cap, file)
        defer { free(line) }
        guard n >= 0, let line else { return nil }
        var bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(line).assumingMemoryBound(to: UInt8.self), count: n))
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Standard input through PlainLineReader: frames that arrive while waiting for the next line are printed.
public final class StdinScriptSource: ScriptSource {
    public let name: String
    let reader: PlainLineReader

    public init(shell: Shell, name: String = "<stdin>") {
        self.name = name
        reader = PlainLineReader(fd: 0)
        reader.wake = shell.wake
        reader.onWake = { [unowned shell] in shell.processEvents() }
    }

    public func nextLine() -> String? {
        while true {
            switch reader.readLine(prompt: "") {
            case .line(let l): return l
            case .endOfFile: return nil
            case .interrupted: continue
            }
        }
    }
}

public final class BatchRunner {
    public let shell: Shell
    /// The worst exit status so far (0, 1, 3; 2 for usage errors).
    public private(set) var status: Int32 = 0

    public init(shell: Shell) { self.shell = shell }

    struct Segment { var line: Int; var start: Int }   // physical line → offset in the logical line

    /// Runs every line of the source. Returns false if it stopped on an error (or quit).
    @discardableResult
    public func run(_ source: ScriptSource, ignoreAllErrors: Bool = false) -> Bool {
        var lineNumber = 0
        func next() -> String? {
            guard let l = source.nextLine() else { return nil }
            lineNumber += 1
            return l
        }
        while let first = next() {
            if lineNumber == 1, first.hasPrefix("#!") { continue }
            // logical line with trailing-backslash continuation
            var logical = first
            var segments = [Segment(line: lineNumber, start: 0)]
            while logical.hasSuffix("\\"), !logical.hasSuffix("\\\\") {
                logical.removeLast()
                guard let more = next() else { break }
                segments.append(Segment(line: lineNumber, start: logical.count))
                logical += more
            }
            let trimmed = logical.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let (line, ignore, _) = LineParser.stripIgnoreMarker(logical)
            // heredoc / raw block
            var block: [String]?
            let startLine = segments[0].line
            if let term = LineParser.blockTerminator(for: line, table: shell.table) {
                var lines: [String] = []
                var closed = false
                while let l = next() {
                    if l == term || l.trimmingCharacters(in: .whitespaces) == term { closed = true; break }
                    lines.append(l)
                }
                if !closed {
                    let col = (line.range(of: "<<" + term).map { line.distance(from: line.startIndex, to: $0.lowerBound) } ?? 0) + 1
                    let what = term == "." ? "unterminated frame (missing a line '.')" : "unterminated heredoc (missing a line '\(term)')"
                    if !report(ShellError(what, column: col), source: source, segments: segments, ignore: ignore) { return false }
                    continue
                }
                block = lines
            }
            do {
                try shell.run(line: line, block: block)
            } catch let e as ShellError {
                var e = e
                if e.lineOffset > 0 {   // an error inside a heredoc line
                    let seg = Segment(line: startLine + e.lineOffset, start: 0)
                    e.lineOffset = 0
                    if !report(e, source: source, segments: [seg], ignore: ignore || ignoreAllErrors) { return false }
                } else if !report(e, source: source, segments: segments, ignore: ignore || ignoreAllErrors) {
                    return false
                }
            } catch {
                if !report(ShellError("\(error)"), source: source, segments: segments, ignore: ignore) { return false }
            }
            if shell.shouldQuit { return false }
        }
        return true
    }

    /// Prints the error; returns whether to go on.
    func report(_ e: ShellError, source: ScriptSource, segments: [Segment], ignore: Bool) -> Bool {
        let col = e.column ?? 1
        let seg = segments.last { $0.start < col } ?? segments[0]
        var text = "\(source.name):\(seg.line):\(col - seg.start): error: \(e.message)"
        if let note = e.note { text += "\n" + note }
        shell.output.error(text)
        if ignore { return true }
        status = max(status, max(e.exitStatus, 1))
        return shell.settings.onError == .continue
    }

    /// After the last script: print what arrived, disconnect gracefully, fail on an unexpected broker ERROR.
    public func finish() -> Int32 {
        shell.processEvents()
        if shell.client != nil { try? shell.disconnect() }
        shell.processEvents()
        if let e = shell.inbox.errors.first, status == 0 {
            shell.output.error("error: broker sent ERROR: \(e.headers["message"] ?? "")")
            status = 3
        }
        return status
    }

    /// Marks a failure that happened outside a script (e.g. the initial connect).
    public func fail(_ status: Int32) { self.status = max(self.status, status) }
}
