// The rest of an `rpc` command line: JSON-aware words (quotes, brackets and braces kept, so typed literals like
// {"k":[1, 2]} reach the literal parser intact), the options the command table declares for each subcommand
// (`CommandSpec.options(forSubcommand:)`), and the call params.
// Variables are substituted here (the ARGS argument is verbatim), keeping each character's column in the line,
// so that errors inside a substituted value point at its `$`. Errors are RPCUsageErrors with 1-based columns
// in the command line. Free of I/O (the parser fuzzer builds it).

import RPCCommands

/// The words after `rpc SUBCOMMAND`, variables substituted, and where each character came from.
struct RPCCommandLine {
    struct Word {
        var text: String
        /// 1-based column in the command line.
        var column: Int
        var raw: String
        /// Index in `chars` of the character at `column` (where the literal parser counts from).
        var start: Int
    }

    let subcommand: String
    /// The options the command table declares for the subcommand.
    let options: [OptionSpec]
    /// `usage: rpc SUB ...`, printed after an option value outside its kind's range.
    let usage: String?
    /// The text after the subcommand, variables substituted.
    let chars: [Character]
    /// For each of `chars`, its 1-based column in the command line.
    let columns: [Int]
    /// The column just after the line.
    let endColumn: Int

    /// `cmd` is `rpc SUBCOMMAND [ARGS]`. Throws a ShellError for an unknown variable.
    init(_ cmd: ParsedCommand, resolve: VariableResolver?) throws {
        subcommand = cmd.arguments[0]
        options = cmd.spec.options(forSubcommand: subcommand)
        usage = cmd.spec.subcommand(named: subcommand).map { "usage: " + cmd.spec.synopsis(of: $0) }
        endColumn = cmd.endColumn
        guard cmd.arguments.count > 1 else { chars = []; columns = []; return }
        let base = cmd.column(ofArgument: 1)
        if cmd.block != nil {   // ARGS is a heredoc (substituted by the parser): errors point at its `<<TAG`
            chars = Array(cmd.arguments[1])
            columns = Array(repeating: base, count: chars.count)
        } else {
            (chars, columns) = try LineLexer.expandTracked(cmd.arguments[1], baseColumn: base, resolve: resolve)
        }
    }

    /// The column in the line of `chars[i]`; `endColumn` past the end.
    func column(at i: Int) -> Int {
        i < columns.count ? columns[max(0, i)] : endColumn
    }

    /// The words, sorted into positional arguments and options.
    func arguments() throws -> Args {
        try parse(try words())
    }

    /// Splits on blanks outside quotes and brackets. "..." is kept with its quotes (a JSON string literal);
    /// '...' is literal text (quotes dropped).
    func words() throws -> [Word] {
        var out: [Word] = []
        var i = 0
        while i < chars.count {
            while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
            guard i < chars.count else { break }
            let start = i
            var text = ""
            var depth = 0
            var textStart: Int? = nil
            while i < chars.count {
                let c = chars[i]
                if depth == 0, c == " " || c == "\t" { break }
                switch c {
                case "\"":
                    let open = i
                    text.append(c); i += 1
                    while i < chars.count, chars[i] != "\"" {
                        if chars[i] == "\\", i + 1 < chars.count { text.append(chars[i]); i += 1 }
                        text.append(chars[i]); i += 1
                    }
                    guard i < chars.count else {
                        throw RPCUsageError("unterminated string", column: column(at: open))
                    }
                    text.append("\""); i += 1
                case "'":
                    if text.isEmpty { textStart = i + 1 }
                    let open = i
                    i += 1
                    while i < chars.count, chars[i] != "'" { text.append(chars[i]); i += 1 }
                    guard i < chars.count else { throw RPCUsageError("unterminated quote", column: column(at: open)) }
                    i += 1
                case "[", "{": depth += 1; text.append(c); i += 1
                case "]", "}": depth = max(0, depth - 1); text.append(c); i += 1
                default: text.append(c); i += 1
                }
            }
            let first = textStart ?? start
            out.append(Word(text: text, column: column(at: first), raw: String(chars[start..<i]), start: first))
        }
        return out
    }

    struct Args {
        var line: RPCCommandLine
        var positional: [Word] = []
        var options: [String: [Word]] = [:]
        func option(_ name: String) -> Word? { options[name]?.last }
        func flag(_ name: String) -> Bool { options[name] != nil }
    }

    /// Sorts the words into positional arguments and options: the options the command table declares for the
    /// subcommand (`CommandSpec.options(forSubcommand:)`).
    func parse(_ words: [Word]) throws -> Args {
        let sub = subcommand
        let table = options
        var a = Args(line: self)
        var k = 0
        var ended = false
        while k < words.count {
            let w = words[k]
            k += 1
            let isNumber = Double(w.text) != nil
            if !ended, w.raw.hasPrefix("-"), w.text.count > 1, !isNumber {
                if w.text == "--" { ended = true; continue }
                var name = w.text
                var inline: Word? = nil
                if name.hasPrefix("--"), let eq = name.firstIndex(of: "=") {
                    let off = name.distance(from: name.startIndex, to: eq) + 1
                    inline = Word(text: String(name[name.index(after: eq)...]), column: column(at: w.start + off),
                                  raw: String(name[name.index(after: eq)...]), start: w.start + off)
                    name = String(name[..<eq])
                }
                guard let o = table.first(where: { $0.long == name || $0.short == name }) else {
                    throw RPCUsageError("unknown option '\(name)' for 'rpc \(sub)' (options: \(table.map { $0.short ?? $0.long }.joined(separator: " ")))", column: w.column)
                }
                if let kind = o.value {
                    var v: Word
                    if let inline { v = inline } else {
                        guard k < words.count else { throw RPCUsageError("option \(o.long) needs a value", column: w.column) }
                        v = words[k]; k += 1
                    }
                    // "..." values are JSON strings: unquote (except a JSON value, --params)
                    if kind != .json, v.text.hasPrefix("\""), case .string(let s)? = try? JSONValue.parse(v.text) {
                        v.text = s
                    }
                    // the range of its kind (counts ≥ 1, rates > 0, durations bounded): the line parser's one check
                    try LineParser.validate(v.text, kind: kind, what: o.long, column: v.column, usage: usage)
                    a.options[o.long, default: []].append(v)
                } else {
                    if inline != nil { throw RPCUsageError("option \(o.long) takes no value", column: w.column) }
                    a.options[o.long, default: []].append(Word(text: "", column: w.column, raw: "", start: w.start))
                }
            } else {
                a.positional.append(w)
            }
        }
        return a
    }

    /// The params of `rpc call|bench DEST METHOD [ARG]...`: from `--params JSON` or from the typed ARGs.
    /// The literal parser counts columns from `chars`; they are mapped to the line here.
    static func callParams(_ a: Args) throws -> RPCCallParams {
        let line = a.line
        let argWords = Array(a.positional.dropFirst(2))
        do {
            var params: RPCCallParams
            if let p = a.option("--params") {
                if let first = argWords.first { throw RPCUsageError("--params and ARGs cannot be combined", column: first.start + 1) }
                params = try RPCLiteral.verbatimParams(p.text, column: p.start + 1)
            } else {
                params = try RPCLiteral.params(from: argWords.map { RPCArgumentToken($0.text, column: $0.start + 1) })
            }
            params.positionalColumns = params.positionalColumns.map { line.column(at: $0 - 1) }
            params.namedColumns = params.namedColumns.mapValues { line.column(at: $0 - 1) }
            return params
        } catch var e as RPCUsageError {
            e.column = e.column.map { line.column(at: $0 - 1) }
            throw e
        }
    }
}
