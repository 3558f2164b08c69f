// A small table-driven lexer/parser for one logical line.
//
// Tokens are separated by blanks. '...' is literal; "..." allows \" \\ \$ \n \t \r escapes; outside quotes a
// backslash escapes a blank, a quote, `$` or a backslash, and is an ordinary character before anything else
// (`a:b\c` is those five characters). `$NAME`, `${NAME}`, `${env.HOME}`, `${last.body}`,
// `${last.header.NAME}`, `${rpc.result}` are substituted outside single quotes; `$$` is a literal `$`.
// `--` ends the options. A restOfLine argument takes the rest of the line verbatim (whitespace and quotes
// kept; variables substituted). A last token `<<TAG` takes the following lines (up to a line `TAG`).
// Columns are 1-based character positions in the line.

import StompProto

/// Looks variables up by name (`NAME`, `env.HOME`, `last.body`, ...); nil = unknown. Throws a ShellError for a
/// value it cannot give as text (bytes that are not UTF-8 are never rewritten); the parser adds the column.
public typealias VariableResolver = (String) throws -> String?

struct Token {
    var text: String
    var column: Int        // 1-based column of the first character
    var start: Int         // index of the first character
    var end: Int           // index after the last character
    var quoted: Bool       // any part was quoted or escaped
    var raw: String        // the token as written
}

/// Outside quotes, the characters a backslash escapes; before any other, a backslash is itself.
let backslashEscapable: Set<Character> = [" ", "\t", "'", "\"", "\\", "$"]

struct LineLexer {
    let chars: [Character]
    var pos = 0
    let resolve: VariableResolver?    // nil: leave variables as written (completion, probing)

    init(_ line: String, resolve: VariableResolver?) {
        chars = Array(line)
        self.resolve = resolve
    }

    var atEnd: Bool { pos >= chars.count }
    var restIsBlank: Bool { chars[min(pos, chars.count)...].allSatisfy { $0 == " " || $0 == "\t" } }

    mutating func skipBlanks() {
        while pos < chars.count, chars[pos] == " " || chars[pos] == "\t" { pos += 1 }
    }

    /// The next token, nil at the end of the line.
    mutating func next() throws -> Token? {
        skipBlanks()
        guard pos < chars.count else { return nil }
        let start = pos
        var text = ""
        var quoted = false
        var plain = true     // no quote, escape or variable: the token as written is its text
        while pos < chars.count {
            let c = chars[pos]
            if c == " " || c == "\t" { break }
            if c == "'" || c == "\"" || c == "\\" || c == "$" { plain = false }
            switch c {
            case "'":
                quoted = true
                let open = pos
                pos += 1
                while pos < chars.count, chars[pos] != "'" { text.append(chars[pos]); pos += 1 }
                guard pos < chars.count else { throw ShellError.usage("unterminated quote", column: open + 1) }
                pos += 1
            case "\"":
                quoted = true
                let open = pos
                pos += 1
                while pos < chars.count, chars[pos] != "\"" {
                    let d = chars[pos]
                    if d == "\\", pos + 1 < chars.count {
                        let e = chars[pos + 1]
                        switch e {
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        case "r": text.append("\r")
                        case "\"", "\\", "$": text.append(e)
                        default: text.append("\\"); text.append(e)
                        }
                        pos += 2
                    } else if d == "$" {
                        text += try variable()
                    } else {
                        text.append(d); pos += 1
                    }
                }
                guard pos < chars.count else { throw ShellError.usage("unterminated quote", column: open + 1) }
                pos += 1
            case "\\":
                if pos + 1 < chars.count, backslashEscapable.contains(chars[pos + 1]) {
                    quoted = true
                    text.append(chars[pos + 1]); pos += 2
                } else {
                    text.append("\\"); pos += 1
                }
            case "$":
                text += try variable()
            default:
                text.append(c); pos += 1
            }
        }
        return Token(text: text, column: start + 1, start: start, end: pos, quoted: quoted,
                     raw: plain ? text : String(chars[start..<pos]))
    }

    /// At a `$`: substitute the variable and advance.
    private mutating func variable() throws -> String {
        let dollar = pos
        if let r = try Self.expandVariable(chars, at: &pos, resolve: resolve) { return r }
        pos = dollar + 1
        return "$"
    }

    /// Expands the variable reference at `pos` (a `$`); nil if it is not a reference (a lone `$`).
    static func expandVariable(_ chars: [Character], at pos: inout Int, resolve: VariableResolver?) throws -> String? {
        let dollar = pos
        guard dollar + 1 < chars.count else { return nil }
        let n = chars[dollar + 1]
        var name = ""
        var end = dollar + 1
        if n == "$" { pos = dollar + 2; return "$" }
        if n == "{" {
            var i = dollar + 2
            while i < chars.count, chars[i] != "}" { name.append(chars[i]); i += 1 }
            guard i < chars.count else { throw ShellError.usage("unterminated '${'", column: dollar + 1) }
            guard !name.isEmpty else { throw ShellError.usage("empty variable name", column: dollar + 1) }
            end = i + 1
        } else if n.isLetter || n == "_" {
            var i = dollar + 1
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { name.append(chars[i]); i += 1 }
            end = i
        } else {
            return nil
        }
        pos = end
        guard let resolve else { return String(chars[dollar..<end]) }
        let value: String?
        do { value = try resolve(name) } catch var e as ShellError {
            e.column = dollar + 1
            throw e
        }
        guard let v = value else {
            let why = name.hasPrefix("last.") ? " (no message received yet, or no such header)" : ""
            throw ShellError("unknown variable '\(name)'\(why)", column: dollar + 1)
        }
        return v
    }

    /// Substitutes variables in verbatim text (rest of line, heredoc lines); `$$` is `$`.
    static func expand(_ text: String, baseColumn: Int, resolve: VariableResolver?) throws -> String {
        guard let resolve, text.utf8.contains(UInt8(ascii: "$")) else { return text }
        if let expanded = try expandASCII(text, baseColumn: baseColumn, resolve: resolve) { return expanded }
        return String(try expandTracked(text, baseColumn: baseColumn, resolve: resolve).chars)
    }

    /// `expand` for ASCII text without CR (each byte one character, so columns are byte offsets), on the bytes
    /// (no Character array); nil for any other text. Same results and errors as `expandTracked`.
    static func expandASCII(_ text: String, baseColumn: Int, resolve: VariableResolver) throws -> String? {
        var text = text
        return try text.withUTF8 { u -> String? in
            for b in u where b >= 0x80 || b == 0x0D { return nil }
            func letter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
            func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            var out = ""
            var run = 0      // start of the literal text not yet copied
            var i = 0
            while i < u.count {
                guard u[i] == UInt8(ascii: "$"), i + 1 < u.count else { i += 1; continue }
                let dollar = i
                let next = u[i + 1]
                let name: Range<Int>
                let end: Int
                if next == UInt8(ascii: "$") {
                    out += String(decoding: u[run..<dollar], as: UTF8.self) + "$"
                    i = dollar + 2
                    run = i
                    continue
                } else if next == UInt8(ascii: "{") {
                    var j = dollar + 2
                    while j < u.count, u[j] != UInt8(ascii: "}") { j += 1 }
                    guard j < u.count else { throw ShellError.usage("unterminated '${'", column: baseColumn + dollar) }
                    guard j > dollar + 2 else { throw ShellError.usage("empty variable name", column: baseColumn + dollar) }
                    name = (dollar + 2)..<j
                    end = j + 1
                } else if letter(next) || next == UInt8(ascii: "_") {
                    var j = dollar + 1
                    while j < u.count, letter(u[j]) || digit(u[j]) || u[j] == UInt8(ascii: "_") { j += 1 }
                    name = (dollar + 1)..<j
                    end = j
                } else {
                    i += 1     // a lone `$`
                    continue
                }
                let n = String(decoding: u[name], as: UTF8.self)
                let value: String?
                do { value = try resolve(n) } catch var e as ShellError {
                    e.column = baseColumn + dollar
                    throw e
                }
                guard let value else {
                    let why = n.hasPrefix("last.") ? " (no message received yet, or no such header)" : ""
                    throw ShellError("unknown variable '\(n)'\(why)", column: baseColumn + dollar)
                }
                out += String(decoding: u[run..<dollar], as: UTF8.self)
                out += value
                i = end
                run = end
            }
            out += String(decoding: u[run...], as: UTF8.self)
            return out
        }
    }

    /// `expand`, keeping where each character of the result comes from: its 1-based column in the line
    /// (`baseColumn` is the column of `text`'s first character; a variable's value gets the column of its `$`).
    static func expandTracked(_ text: String, baseColumn: Int, resolve: VariableResolver?) throws -> (chars: [Character], columns: [Int]) {
        let chars = Array(text)
        var out: [Character] = []
        var columns: [Int] = []
        out.reserveCapacity(chars.count)
        columns.reserveCapacity(chars.count)
        var pos = 0
        while pos < chars.count {
            if chars[pos] == "$", resolve != nil {
                let at = pos
                do {
                    if let r = try expandVariable(chars, at: &pos, resolve: resolve) {
                        let value = Array(r)
                        out += value
                        columns += repeatElement(baseColumn + at, count: value.count)
                        continue
                    }
                } catch var e as ShellError {
                    e.column = baseColumn + (e.column ?? 1) - 1
                    throw e
                }
                pos = at
            }
            out.append(chars[pos])
            columns.append(baseColumn + pos)
            pos += 1
        }
        return (out, columns)
    }

    func raw(from start: Int) -> String { String(chars[start...]) }
}

/// A heredoc marker: `<<TAG` (variables substituted in the lines) or `<<'TAG'` / `<<"TAG"` (lines literal),
/// as in sh.
struct HeredocMarker {
    var tag: String
    var literal: Bool

    /// The marker a token is, or nil.
    init?(_ token: Token) {
        guard token.raw.hasPrefix("<<") else { return nil }
        var tag = Substring(token.raw.dropFirst(2))
        literal = false
        if let q = tag.first, q == "'" || q == "\"" {
            guard tag.count > 2, tag.last == q else { return nil }
            tag = tag.dropFirst().dropLast()
            literal = true
        }
        guard !tag.isEmpty, tag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else { return nil }
        self.tag = String(tag)
    }
}

public enum LineParser {
    /// What follows a line before it can be parsed: the terminator of a heredoc or a block, or nil.
    /// Never throws: unparseable lines get their error later, from `parse`.
    public static func blockTerminator(for line: String, table: [CommandSpec] = CommandTable.all) -> String? {
        var lx = LineLexer(line, resolve: nil)
        var tokens: [Token] = []
        while let t = try? lx.next() { tokens.append(t) }
        guard let first = tokens.first else { return nil }
        if let last = tokens.last, tokens.count > 1, let marker = HeredocMarker(last) { return marker.tag }
        if let spec = CommandTable.find(first.text, in: table), let term = spec.blockTerminator {
            // raw: a block unless --file or an argument was given
            if tokens.count == 1 { return term }
        }
        return nil
    }

    /// Splits a leading `-` (ignore errors on this line, as in sftp's batch files). Returns the offset.
    public static func stripIgnoreMarker(_ line: String) -> (line: String, ignoreErrors: Bool, offset: Int) {
        var i = line.startIndex
        while i < line.endIndex, line[i] == " " || line[i] == "\t" { i = line.index(after: i) }
        guard i < line.endIndex, line[i] == "-" else { return (line, false, 0) }
        var after = line.index(after: i)
        // "-" followed by a command word, blanks between allowed (`-wait 1`, `- wait 1`; not "--x" or "-5")
        while after < line.endIndex, line[after] == " " || line[after] == "\t" { after = line.index(after: after) }
        guard after < line.endIndex, line[after].isLetter else { return (line, false, 0) }
        let offset = line.distance(from: line.startIndex, to: after)
        return (String(repeating: " ", count: offset) + line[after...], true, 0)
    }

    /// Parses one logical line. Returns nil for a blank line or a comment.
    /// `block`: the heredoc/block lines read after it (without the terminator).
    public static func parse(_ line: String, block: [String]? = nil, table: [CommandSpec] = CommandTable.all,
                             resolve: VariableResolver?) throws -> ParsedCommand? {
        var template: LineTemplate?
        return try parse(line, block: block, table: table, resolve: resolve, template: &template)
    }

    /// `parse`, also giving the line's template when only its rest-of-line argument substitutes variables
    /// (see LineTemplate): then the same line parses again by substituting that argument alone.
    static func parse(_ line: String, block: [String]?, table: [CommandSpec], resolve userResolve: VariableResolver?,
                      template: inout LineTemplate?) throws -> ParsedCommand? {
        template = nil
        var resolved = 0     // variables looked up so far
        let resolve: VariableResolver? = userResolve.map { r in { name in resolved += 1; return try r(name) } }
        var lx = LineLexer(line, resolve: resolve)
        lx.skipBlanks()
        if lx.atEnd || lx.chars[lx.pos] == "#" { return nil }
        guard let word = try lx.next() else { return nil }
        guard let spec = CommandTable.find(word.text, in: table) else {
            var msg = "unknown command '\(word.text)'"
            if let s = CommandTable.suggestion(for: word.text, in: table) { msg += " (did you mean '\(s)'?)" } else {
                msg += "; type 'help' for the list"
            }
            throw ShellError.usage(msg, column: word.column)
        }
        var parsed = ParsedCommand(spec: spec, line: line, commandColumn: word.column,
                                   endColumn: lx.chars.count + 1)
        // the synopsis printed after an error: the subcommand's once it is known (`bench send ...`)
        var usage: String {
            "usage: " + (spec.subcommand(named: parsed.arguments.first).map { spec.synopsis(of: $0) } ?? spec.synopsis)
        }
        func fail(_ message: String, _ column: Int) -> ShellError {
            ShellError.usage(message, column: column, note: usage)
        }
        parsed.block = block
        var optionsEnded = false
        var blockUsed = false
        let blockText = block.map { $0.joined(separator: "\n") }

        func blockValue(_ tok: Token) throws -> String? {
            guard let marker = HeredocMarker(tok), let blockText, lx.chars[tok.end...].allSatisfy({ $0 == " " || $0 == "\t" }) else { return nil }
            blockUsed = true
            return marker.literal ? blockText : try expandBlock(blockText, resolve: resolve)
        }

        while true {
            lx.skipBlanks()
            if lx.atEnd { break }
            let start = lx.pos
            let resolvedBefore = resolved
            let argIndex = parsed.arguments.count
            let nextArg: ArgumentSpec? = argIndex < spec.arguments.count ? spec.arguments[argIndex]
                : (spec.arguments.last?.variadic == true ? spec.arguments.last : nil)
            // peek the token
            var peek = lx
            let tok: Token
            do { tok = try peek.next()! } catch let e as ShellError {
                // BODY / TEXT is the rest of the line verbatim: a lone quote in it (`send /q it's`) is text
                guard nextArg?.kind == .restOfLine else { throw e }
                var end = lx
                while !end.atEnd, end.chars[end.pos] != " " && end.chars[end.pos] != "\t" { end.pos += 1 }
                let raw = String(lx.chars[start..<end.pos])
                tok = Token(text: raw, column: start + 1, start: start, end: end.pos, quoted: true, raw: raw)
                peek = end
            }
            // A command without options (echo, set, sleep, ...) takes words starting with '-' as text.
            // rpc's options are in its rest of line (`optionsInRestOfLine`): its tokenizer reads them.
            let looksLikeOption = !optionsEnded && !spec.options.isEmpty && !spec.optionsInRestOfLine && !tok.quoted && tok.text.hasPrefix("-")
                && tok.text.count > 1
                && !(Double(tok.text) != nil && spec.option(named: tok.text) == nil)
            if looksLikeOption {
                lx = peek
                if tok.text == "--" { optionsEnded = true; continue }
                var name = tok.text
                var inline: String?
                if name.hasPrefix("--"), let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...]); name = String(name[..<eq])
                }
                var opt = spec.option(named: name)
                if opt == nil, !name.hasPrefix("--"), name.count > 2 {     // -Hname:value
                    let short = String(name.prefix(2))
                    if let o = spec.option(named: short), o.value != nil { opt = o; inline = String(name.dropFirst(2)); name = short }
                }
                guard let opt else {
                    throw fail("unknown option '\(name)' for '\(spec.name)'", tok.column)
                }
                var value = ""
                var valueColumn = tok.column
                if let kind = opt.value {
                    if let inline { value = inline } else {
                        guard let v = try lx.next() else {
                            throw fail("option \(opt.long) needs a value (\(opt.valueName))", lx.chars.count + 1)
                        }
                        value = try blockValue(v) ?? v.text
                        valueColumn = v.column
                    }
                    try validate(value, kind: kind, what: opt.long, column: valueColumn, usage: usage)
                } else if inline != nil {
                    throw fail("option \(opt.long) takes no value", tok.column)
                }
                if !opt.repeatable, parsed.optionValues.contains(where: { $0.long == opt.long }) {
                    throw fail("option \(opt.long) given twice", tok.column)
                }
                parsed.optionValues.append((opt.long, value, tok.column))
                continue
            }
            if spec.blockTerminator != nil, HeredocMarker(tok) != nil, let block, peek.restIsBlank {
                // `raw <<EOF`: the heredoc is the frame, verbatim
                lx = peek
                blockUsed = true
                parsed.body = rawFrame(block)
                continue
            }
            guard let arg = nextArg else {
                throw fail("unexpected argument '\(tok.text)' for '\(spec.name)'", tok.column)
            }
            if arg.kind == .restOfLine {
                let raw = lx.raw(from: start)
                parsed.rawRestOfLine = raw
                let value: String
                if peek.restIsBlank, let b = try blockValue(tok) {
                    value = b
                } else if arg.verbatim {
                    value = raw
                } else {
                    value = try LineLexer.expand(raw, baseColumn: start + 1, resolve: resolve)
                }
                parsed.arguments.append(value)
                parsed.argumentColumns.append(start + 1)
                parsed.body = Array(value.utf8)
                lx.pos = lx.chars.count
                if block == nil, resolvedBefore == 0 {
                    template = LineTemplate(parsed: parsed, restIndex: argIndex, rawRest: raw, restColumn: start + 1,
                                            verbatim: arg.verbatim)
                }
                break
            }
            lx = peek
            let value = try blockValue(tok) ?? tok.text
            try validate(value, kind: arg.kind, what: arg.name, column: tok.column, usage: usage)
            parsed.arguments.append(value)
            parsed.argumentColumns.append(tok.column)
        }
        if let block, !blockUsed {
            if spec.blockTerminator != nil {
                parsed.body = rawFrame(block)     // verbatim (raw)
            } else {
                throw ShellError.usage("'\(spec.name)' takes no heredoc here", column: parsed.endColumn)
            }
        }
        let required = spec.arguments.filter { !$0.optional }.count
        if parsed.arguments.count < required {
            let missing = spec.arguments[parsed.arguments.count]
            throw fail("missing argument \(missing.name) for '\(spec.name)'", parsed.endColumn)
        }
        try spec.checkSubcommandOptions(parsed)   // `bench send --ack`: the table says which options SUB takes
        template?.parsed = parsed
        return parsed
    }

    /// A frame typed line by line: the header lines up to the first empty line, each ended by LF, the empty
    /// line, then the body lines joined by LF. Without an empty line, one is added after the headers.
    static func rawFrame(_ lines: [String]) -> [UInt8] {
        guard let blank = lines.firstIndex(of: "") else {
            return Array((lines.joined(separator: "\n") + "\n\n").utf8)
        }
        let head = lines[..<blank].joined(separator: "\n")
        let body = lines[(blank + 1)...].joined(separator: "\n")
        return Array((head + "\n\n" + body).utf8)
    }

    static func expandBlock(_ text: String, resolve: VariableResolver?) throws -> String {
        var out: [String] = []
        for (i, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do { out.append(try LineLexer.expand(String(l), baseColumn: 1, resolve: resolve)) } catch var e as ShellError {
                e.lineOffset = i + 1
                throw e
            }
        }
        return out.joined(separator: "\n")
    }

    /// The one check of a value against its kind's range (`ValueKind`): a usage error (exit status 2) pointing
    /// at the value. The line parser calls it for every argument and option; `RPCCommandLine` for rpc's options.
    /// `usage` (the synopsis shown after the error) is only built when there is an error.
    static func validate(_ value: String, kind: ValueKind, what: String, column: Int, usage: @autoclosure () -> String?) throws {
        func bad(_ expected: String) -> ShellError {
            ShellError.usage("\(what): expected \(expected), got '\(value)'", column: column, note: usage())
        }
        switch kind {
        case .integer:
            guard let n = Int(value), n >= 0 else { throw bad("an integer ≥ 0") }
        case .count:
            guard let n = Int(value), n >= 1 else { throw bad("an integer ≥ 1") }
        case .bodySize:
            let most = StompLimits.default.maxBodySize
            guard let n = Int(value), n >= 0, n <= most else {
                throw bad("an integer from 0 to \(most) (the largest body stompsh reads)")
            }
        case .number:
            guard let d = Double(value), d > 0, d.isFinite else { throw bad("a number above 0") }
        case .duration:
            guard let d = Double(value), d >= 0, d.isFinite else { throw bad("a number of seconds") }
            guard d <= ValueKind.maximumSeconds else {
                throw bad("a number of seconds up to \(Int(ValueKind.maximumSeconds)) (a year)")
            }
        case .choice(let choices):
            if !choices.contains(value) { throw bad(choices.joined(separator: "|")) }
        case .header:
            guard HeaderArgument.split(value) != nil else { throw bad("NAME:VALUE") }
        default:
            break
        }
    }

    /// Words of a partial line for completion: (complete words, the partial word, its start column).
    static func wordsForCompletion(_ line: String) -> (words: [String], partial: String, partialStart: Int) {
        var lx = LineLexer(line, resolve: nil)
        var words: [Token] = []
        while true {
            let saved = lx
            guard let t = try? lx.next() else {
                // unterminated quote: the partial word starts at it
                var s = saved; s.skipBlanks()
                return (words.map(\.text), String(s.chars[s.pos...]).replacingOccurrences(of: "\"", with: ""), s.pos)
            }
            words.append(t)
            if lx.atEnd { break }
        }
        let endsWithBlank = line.last == " " || line.last == "\t"
        if endsWithBlank || words.isEmpty { return (words.map(\.text), "", Array(line).count) }
        let last = words.removeLast()
        return (words.map(\.text), last.text, last.start)
    }
}
