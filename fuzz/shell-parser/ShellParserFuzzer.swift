// libFuzzer entry point for the shell's command language (built by scripts/fuzz, not by SwiftPM): the input is a
// script, as given with -c. It goes through what the batch runner does before running a command: logical lines
// (LogicalLineReader: continuations, comments, heredocs), LineParser.parse against the command table (with
// variables substituted), and for `rpc` lines the JSON-aware words, options and typed literals (RPCCommandLine,
// RPCLiteral, JSONValue). Each physical line also goes through the completion tokenizer. Checked for every input:
// - no crash, and only the shell's typed errors (ShellError, RPCUsageError) are thrown;
// - a logical line holds no line break;
// - every error's column is within its line (1 ... length + 1, in characters), and its script position
//   (LogicalLine.position) is a physical line of the script with the column within that line (for an error in
//   a heredoc line, that very line);
// - completion's partial word starts within the line.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RPCCommands

/// A property that does not hold: printed, then the process aborts so libFuzzer saves the input.
func violated(_ what: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fputs("invariant violated (\(file):\(line)): \(what)\n", stderr)
    abort()
}

/// Keeps the physical lines the reader was given, to check error positions against them.
final class RecordingSource: ScriptSource {
    let base: StringScriptSource
    private(set) var lines: [String] = []
    var name: String { base.name }
    init(_ text: String) { base = StringScriptSource(name: "fuzz", text: text) }
    func nextLine() -> String? {
        guard let l = base.nextLine() else { return nil }
        lines.append(l)
        return l
    }
}

/// Variables as a session might have them: short and long values, and unknown names (an error).
func resolveVariable(_ name: String) -> String? {
    switch name {
    case "x": return "1"
    case "dest": return "/queue/orders"
    case "last.body": return #"{"id":17,"qty":[1,2.5,"x y"]}"#
    case "last.header.trace-id": return "42"
    case "env.HOME": return "/home/fuzz"
    default: return nil
    }
}

let table = CommandTable.all

func checkColumn(_ column: Int?, in text: String, _ what: @autoclosure () -> String) {
    guard let column else { return }
    let n = text.count
    guard column >= 1 && column <= n + 1 else {
        violated("column \(column) outside 1...\(n + 1) of \(text.debugDescription): \(what())")
    }
}

/// A ShellError about `line`: its column is within the line (or within the heredoc line it points at), and its
/// position in the script is within a physical line.
func checkShellError(_ e: ShellError, _ line: LogicalLine, _ source: RecordingSource) {
    if e.lineOffset > 0 {
        guard let block = line.block, e.lineOffset <= block.count else {
            violated("error \(e.message.debugDescription) points \(e.lineOffset) lines past \(line.text.debugDescription), block \(String(describing: line.block))")
        }
        checkColumn(e.column, in: block[e.lineOffset - 1], e.message)
    } else {
        checkColumn(e.column, in: line.text, e.message)
    }
    let (number, column) = line.position(of: e)
    guard number >= 1 && number <= source.lines.count else {
        violated("error \(e.message.debugDescription) placed on line \(number) of \(source.lines.count)")
    }
    let physical = source.lines[number - 1]
    if e.lineOffset > 0, let block = line.block, physical != block[e.lineOffset - 1] {
        violated("error \(e.message.debugDescription) about heredoc line \(block[e.lineOffset - 1].debugDescription) placed on line \(number), \(physical.debugDescription)")
    }
    guard column >= 1 && column <= physical.count + 1 else {
        violated("error \(e.message.debugDescription) placed at \(number):\(column), line \(physical.debugDescription) (logical \(line.text.debugDescription))")
    }
}

/// `rpc ...`: the words, the options and, for call and bench, the typed params.
func checkRPC(_ cmd: ParsedCommand, _ line: LogicalLine) {
    do {
        let args = try RPCCommandLine(cmd, resolve: resolveVariable).arguments()
        if ["call", "bench"].contains(cmd.arguments[0]), args.positional.count >= 2 {
            let params = try RPCCommandLine.callParams(args)
            for c in params.positionalColumns + params.namedColumns.values { checkColumn(c, in: line.text, "param column") }
        }
    } catch let e as RPCUsageError {
        checkColumn(e.column, in: line.text, e.message)
    } catch let e as ShellError {
        checkColumn(e.column, in: line.text, e.message)
    } catch {
        violated("rpc arguments threw \(type(of: error)): \(error)")
    }
}

func checkLine(_ line: LogicalLine, _ source: RecordingSource) {
    guard !line.text.unicodeScalars.contains(where: { $0 == "\n" }) else {
        violated("logical line holds a line break: \(line.text.debugDescription)")
    }
    if let e = line.refusal {
        checkShellError(e, line, source)
        return
    }
    do {
        guard let cmd = try LineParser.parse(line.text, block: line.block, table: table, resolve: resolveVariable) else { return }
        if cmd.spec.name == "rpc" { checkRPC(cmd, line) }
    } catch let e as ShellError {
        checkShellError(e, line, source)
    } catch {
        violated("parse threw \(type(of: error)): \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShellParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let source = RecordingSource(text)
    var reader = LogicalLineReader(source, table: table)
    while let line = reader.next() { checkLine(line, source) }
    for physical in source.lines {
        let (_, _, start) = LineParser.wordsForCompletion(physical)
        guard start >= 0 && start <= physical.count else {
            violated("completion's partial word starts at \(start) in \(physical.debugDescription)")
        }
    }
    return 0
}
