// From physical lines to the logical lines the shell runs: a first line `#!...` is skipped; `#` starts a
// comment line; blank lines are skipped; a trailing `\` joins the next line; `<<TAG` (and `raw`) read the
// following lines up to a line `TAG` (`.`); a leading `-` marks a line whose failure is ignored.
// No I/O of its own and no shell (the parser fuzzer builds it).

import Foundation

/// One logical line of a script, with the heredoc or block lines that belong to it.
public struct LogicalLine {
    /// Where a physical line starts in the logical line: its number, and its offset (in characters).
    struct Segment { var line: Int; var start: Int }

    /// The line to parse; a leading `-` is replaced by a blank, so columns stay those of the script.
    public var text: String
    /// The heredoc or block lines that followed it (without the terminator); nil if none.
    public var block: [String]?
    /// A leading `-`: the line's failure is reported but ignored.
    public var ignoresErrors: Bool
    /// Set when the line cannot run (a heredoc or block without its terminator, bytes that are not UTF-8):
    /// the error to report instead of running it.
    public var refusal: ShellError?
    var segments: [Segment]

    /// The physical line number of the line's last segment: the heredoc or block starts on the next.
    public var lastLine: Int { segments[segments.count - 1].line }

    /// Where an error about this line is in the script: physical line number and 1-based column there.
    /// `error.lineOffset` > 0 points into the heredoc lines that follow.
    public func position(of error: ShellError) -> (line: Int, column: Int) {
        let col = error.column ?? 1
        if error.lineOffset > 0 { return (lastLine + error.lineOffset, col) }
        let seg = segments.last { $0.start < col } ?? segments[0]
        return (seg.line, col - seg.start)
    }
}

/// Reads the logical lines of a script, one at a time (a pipe's commands run as their lines arrive).
public struct LogicalLineReader {
    let source: ScriptSource
    let table: [CommandSpec]
    /// Physical lines read so far.
    private(set) var lineNumber = 0

    public init(_ source: ScriptSource, table: [CommandSpec]) {
        self.source = source
        self.table = table
    }

    /// A physical line that is not UTF-8, kept until `next` reports it.
    private var invalid: InvalidUTF8?

    private mutating func nextPhysical() -> String? {
        guard invalid == nil else { return nil }
        do {
            guard let l = try source.nextLine() else { return nil }
            lineNumber += 1
            return l
        } catch let e as InvalidUTF8 {
            lineNumber += 1
            invalid = e
            return nil
        } catch {
            return nil
        }
    }

    /// The line that was not UTF-8, as a logical line that reports it.
    private mutating func takeInvalid() -> LogicalLine? {
        guard let e = invalid else { return nil }
        invalid = nil
        return LogicalLine(text: "", block: nil, ignoresErrors: false,
                           refusal: ShellError.usage(e.description, column: e.column),   // exit status 2
                           segments: [LogicalLine.Segment(line: lineNumber, start: 0)])
    }

    /// The next logical line, nil at the end of the script.
    public mutating func next() -> LogicalLine? {
        if let bad = takeInvalid() { return bad }
        while let first = nextPhysical() {
            if lineNumber == 1, first.hasPrefix("#!") { continue }
            // logical line with trailing-backslash continuation
            var logical = first
            var segments = [LogicalLine.Segment(line: lineNumber, start: 0)]
            while logical.hasSuffix("\\"), !logical.hasSuffix("\\\\") {
                logical.removeLast()
                guard let more = nextPhysical() else { break }
                segments.append(LogicalLine.Segment(line: lineNumber, start: logical.count))
                logical += more
            }
            let trimmed = logical.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let (line, ignore, _) = LineParser.stripIgnoreMarker(logical)
            var result = LogicalLine(text: line, block: nil, ignoresErrors: ignore, refusal: nil, segments: segments)
            // heredoc / raw block
            if let term = LineParser.blockTerminator(for: line, table: table) {
                var lines: [String] = []
                var closed = false
                while let l = nextPhysical() {
                    if l == term || l.trimmingCharacters(in: .whitespaces) == term { closed = true; break }
                    lines.append(l)
                }
                if closed {
                    result.block = lines
                } else {
                    let marker = ["<<" + term, "<<'" + term + "'", "<<\"" + term + "\""].lazy
                        .compactMap { line.range(of: $0) }.first
                    let col = (marker.map { line.distance(from: line.startIndex, to: $0.lowerBound) } ?? 0) + 1
                    let what = term == "." ? "unterminated frame (missing a line '.')" : "unterminated heredoc (missing a line '\(term)')"
                    result.refusal = ShellError.usage(what, column: col)
                }
            }
            if invalid != nil, result.refusal == nil {
                // a continuation or heredoc line was not UTF-8: the whole logical line is refused there
                return takeInvalid()
            }
            return result
        }
        return takeInvalid()
    }
}
