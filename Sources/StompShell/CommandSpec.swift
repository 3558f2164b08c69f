// The command model: one table describes every command; parsing, completion, hints, `help`
// and the man page drift test all read it.

/// What a command's argument or option value is, for parsing, completion and help. The line parser (and rpc's
/// `RPCCommandLine`) refuses a value outside its kind's range with a usage error (exit status 2):
/// `LineParser.validate` is the one place these ranges are checked.
public enum ValueKind: Sendable, Hashable {
    case string, integer /* a size or a limit: whole, ≥ 0 */, count /* how many: whole, ≥ 1 */,
         bodySize /* bytes of a message body: whole, 0 ... StompLimits.default.maxBodySize, the largest stompsh reads */,
         number /* a rate: finite, > 0 */, duration /* seconds, may be fractional: finite, 0 ... maximumSeconds */, url, destination,
         subscriptionID, transactionID, messageID, header /* NAME:VALUE */, path, choice([String]), rpcMethod,
         restOfLine /* verbatim */, json
}

extension ValueKind {
    /// The longest duration any option or argument takes (a year), so that every duration converts to
    /// nanoseconds (Int64) and a typo like `--idle 1e20` is refused instead of waiting forever.
    public static let maximumSeconds: Double = 31_536_000
}

public struct ArgumentSpec: Sendable {
    public var name: String
    public var kind: ValueKind
    public var optional: Bool
    public var variadic: Bool
    public var help: String
    /// restOfLine only: no variable substitution (the command substitutes later, e.g. `repeat`).
    public var verbatim: Bool

    public init(_ name: String, _ kind: ValueKind = .string, optional: Bool = false, variadic: Bool = false,
                verbatim: Bool = false, help: String = "") {
        self.name = name; self.kind = kind; self.optional = optional; self.variadic = variadic
        self.verbatim = verbatim; self.help = help
    }
}

public struct OptionSpec: Sendable {
    public var long: String            // "--timeout"
    public var short: String?          // "-H"
    public var value: ValueKind?       // nil = flag
    public var valueName: String
    public var repeatable: Bool
    public var help: String
    /// The line is never written to history when this option is used (e.g. `--passcode`).
    public var sensitive: Bool

    public init(_ long: String, short: String? = nil, value: ValueKind? = nil, valueName: String = "",
                repeatable: Bool = false, sensitive: Bool = false, help: String = "") {
        self.long = long; self.short = short; self.value = value
        if valueName.isEmpty, case .choice(let c)? = value {
            self.valueName = c.joined(separator: "|")
        } else {
            self.valueName = valueName.isEmpty ? (value == nil ? "" : "VALUE") : valueName
        }
        self.repeatable = repeatable; self.sensitive = sensitive; self.help = help
    }

    public static func flag(_ long: String, short: String? = nil, help: String = "") -> OptionSpec {
        OptionSpec(long, short: short, value: nil, help: help)
    }

    /// `-H NAME:VALUE`, repeatable (parsed by `HeaderArgument`).
    public static let header = OptionSpec("--header", short: "-H", value: .header, valueName: "NAME:VALUE",
                                          repeatable: true, help: "add a header (repeatable)")

    var synopsis: String {
        let name = short ?? long
        let text = value == nil ? name : "\(name) \(valueName)"
        return repeatable ? "[\(text)]..." : "[\(text)]"
    }
}

public struct CommandSpec: Sendable {
    public var name: String
    public var aliases: [String]
    public var arguments: [ArgumentSpec]
    public var options: [OptionSpec]
    /// Declared subcommands (named by the first argument), each with the options it takes.
    public var subcommands: [SubcommandSpec]
    /// The options are written inside the rest-of-line argument and read from it by the command's own tokenizer
    /// (rpc's JSON-aware words, `RPCCommandLine`): the line parser takes none of them; completion, hints, help,
    /// the man page drift test and the fuzzer still read them from `options` and `subcommands`.
    public var optionsInRestOfLine: Bool
    public var summary: String                               // one line
    public var help: String                                  // longer text
    public var sensitive: Bool                               // never written to history
    public var needsConnection: Bool
    /// When set and the line gives no body (no BODY, no `--file`), the following lines up to a line equal to
    /// this terminator are the body (`raw` uses ".").
    public var blockTerminator: String?
    /// Custom completion for a word: (shell, words before it, the partial word) → candidates. nil = from kinds.
    public var complete: (@Sendable (Shell, [String], String) -> [String]?)?
    /// Custom hint: (shell, words typed so far) → text to show greyed. nil = generated from the synopsis.
    public var hint: (@Sendable (Shell, [String]) -> String?)?
    public var run: @Sendable (Shell, ParsedCommand) throws -> Void

    public init(name: String, aliases: [String] = [], arguments: [ArgumentSpec] = [], options: [OptionSpec] = [],
                subcommands: [SubcommandSpec] = [], optionsInRestOfLine: Bool = false, summary: String, help: String = "", sensitive: Bool = false, needsConnection: Bool = false,
                blockTerminator: String? = nil,
                complete: (@Sendable (Shell, [String], String) -> [String]?)? = nil,
                hint: (@Sendable (Shell, [String]) -> String?)? = nil,
                run: @escaping @Sendable (Shell, ParsedCommand) throws -> Void) {
        self.name = name; self.aliases = aliases; self.arguments = arguments; self.options = options
        self.subcommands = subcommands; self.optionsInRestOfLine = optionsInRestOfLine
        self.summary = summary; self.help = help; self.sensitive = sensitive; self.needsConnection = needsConnection
        self.blockTerminator = blockTerminator; self.complete = complete; self.hint = hint; self.run = run
    }

    /// Generated: `send DEST [-H NAME:VALUE]... [--receipt] [--] [BODY]` (arguments, options, rest of line).
    public var synopsis: String {
        var parts = [name]
        let rest = arguments.filter { $0.kind == .restOfLine }
        for a in arguments where a.kind != .restOfLine { parts.append(Self.argumentSynopsis(a)) }
        let lineOptions = optionsInRestOfLine ? [] : options    // rpc's are inside its ARGS (see `synopsis(of:)`)
        for o in lineOptions { parts.append(o.synopsis) }
        if !rest.isEmpty && !lineOptions.isEmpty { parts.append("[--]") }
        for a in rest { parts.append(Self.argumentSynopsis(a)) }
        return parts.joined(separator: " ")
    }

    static func argumentSynopsis(_ a: ArgumentSpec) -> String {
        var t = a.name
        if a.variadic { t += "..." }
        return a.optional ? "[\(t)]" : t
    }

    public func matches(_ word: String) -> Bool { word == name || aliases.contains(word) }

    func option(named word: String) -> OptionSpec? {
        options.first { $0.long == word || $0.short == word }
    }
}

/// A command line parsed against its spec.
public struct ParsedCommand {
    public var spec: CommandSpec
    /// Positional arguments after variable substitution (a restOfLine argument is the last one).
    public var arguments: [String]
    /// Option values by long name, in order of appearance; flags have "" values.
    public var optionValues: [(long: String, value: String, column: Int)]
    /// Heredoc / block body or rest-of-line body.
    public var body: [UInt8]?
    /// The rest-of-line argument before substitution (for commands that re-parse it, e.g. `repeat`).
    public var rawRestOfLine: String?
    /// The whole logical line.
    public var line: String
    /// The heredoc/block lines that came with the line (for commands that re-run it, e.g. `repeat`).
    public var block: [String]?
    /// 1-based column of each positional argument (and of the command word at index -1 via `commandColumn`).
    public var argumentColumns: [Int]
    public var commandColumn: Int
    public var endColumn: Int

    public init(spec: CommandSpec, arguments: [String] = [], optionValues: [(long: String, value: String, column: Int)] = [],
                body: [UInt8]? = nil, rawRestOfLine: String? = nil, line: String = "", argumentColumns: [Int] = [],
                commandColumn: Int = 1, endColumn: Int = 1) {
        self.spec = spec; self.arguments = arguments; self.optionValues = optionValues; self.body = body
        self.rawRestOfLine = rawRestOfLine; self.line = line; self.argumentColumns = argumentColumns
        self.commandColumn = commandColumn; self.endColumn = endColumn
    }

    /// The last value given for the option (`--timeout` or its short name), nil if absent.
    public func option(_ long: String) -> String? { optionValues.last { $0.long == long }?.value }
    public func options(_ long: String) -> [String] { optionValues.filter { $0.long == long }.map(\.value) }
    public func flag(_ long: String) -> Bool { optionValues.contains { $0.long == long } }
    public func column(ofOption long: String) -> Int { optionValues.last { $0.long == long }?.column ?? commandColumn }
    public func column(ofArgument index: Int) -> Int {
        index >= 0 && index < argumentColumns.count ? argumentColumns[index] : (index < 0 ? commandColumn : endColumn)
    }
    public func argument(_ index: Int) -> String? { index < arguments.count ? arguments[index] : nil }

    /// Option value as a number of seconds (the parser checked its range); usage error pointing at the option on
    /// bad input.
    public func seconds(_ long: String, default d: Double) throws -> Double {
        guard let v = option(long) else { return d }
        guard let s = Double(v), s >= 0, s <= ValueKind.maximumSeconds else {
            throw ShellError.usage("\(long): expected a number of seconds, got '\(v)'", column: column(ofOption: long))
        }
        return s
    }
}

/// A command failure or a parse error. The batch runner prefixes `FILE:LINE:COL: error:`.
public struct ShellError: Error, CustomStringConvertible {
    public var message: String
    public var column: Int?
    /// Lines after the first line of the logical line (heredoc lines), 0 = the command line itself.
    public var lineOffset: Int = 0
    /// Exit status a script ends with: 1 command/assertion failure, 2 usage, 3 connection failure.
    public var exitStatus: Int32 = 1
    /// Printed after the message (e.g. the command's synopsis).
    public var note: String?

    public init(_ message: String, column: Int? = nil) { self.message = message; self.column = column }
    public init(_ message: String, column: Int? = nil, exitStatus: Int32, note: String? = nil) {
        self.message = message; self.column = column; self.exitStatus = exitStatus; self.note = note
    }
    public var description: String { message }

    /// A usage error: a wrong command, option or argument (exit status 2 in a script, as the man page's EXIT
    /// STATUS says). `note` is printed after it (the synopsis).
    public static func usage(_ message: String, column: Int?, note: String? = nil) -> ShellError {
        ShellError(message, column: column, exitStatus: 2, note: note)
    }

    static func connection(_ message: String, column: Int? = nil) -> ShellError {
        ShellError(message, column: column, exitStatus: 3)
    }
}

/// The one parser of `-H NAME:VALUE` arguments: the line parser validates `.header` values with it and every
/// command (send, subscribe, expect, bench, rpc) builds its headers with it. The name is what precedes the first
/// `:` and must not be empty; the value is the rest, possibly empty or holding more colons.
public enum HeaderArgument {
    public static func split(_ text: String) -> (name: String, value: String)? {
        guard let c = text.firstIndex(of: ":"), c != text.startIndex else { return nil }
        return (String(text[..<c]), String(text[text.index(after: c)...]))
    }
}
