// A subcommand declared in the command table (`bench send`, `rpc call`, ...).

/// A subcommand of a `CommandSpec`: its name, one-line summary, its positional arguments (after the subcommand
/// word), which of the command's options it takes (their long names, in the order its synopsis shows them; the
/// options themselves are declared once, in `CommandSpec.options`) and its help text. The command's first
/// argument names it. Parsing (`CommandSpec.checkSubcommandOptions`, rpc's `RPCCommandLine`), Tab completion,
/// hints, `help COMMAND [SUBCOMMAND]`, the man page drift test and the fuzzer's table snapshot read this declaration.
public struct SubcommandSpec: Sendable {
    public var name: String
    public var summary: String
    /// The arguments after the subcommand word (for its synopsis, hints and help).
    public var arguments: [ArgumentSpec]
    public var optionNames: [String]
    public var help: String

    public init(_ name: String, summary: String, arguments: [ArgumentSpec] = [], options optionNames: [String],
                help: String = "") {
        self.name = name; self.summary = summary; self.arguments = arguments; self.optionNames = optionNames
        self.help = help
    }
}

extension CommandSpec {
    /// The declared subcommand named `word`, if any.
    public func subcommand(named word: String?) -> SubcommandSpec? {
        guard let word else { return nil }
        return subcommands.first { $0.name == word }
    }

    /// The options that apply after `subcommand`, in the order the subcommand lists them (all of the command's
    /// when `word` names no declared subcommand).
    public func options(forSubcommand word: String?) -> [OptionSpec] {
        guard let sub = subcommand(named: word) else { return options }
        return sub.optionNames.compactMap { n in options.first { $0.long == n } }
    }

    /// Generated: `rpc serve DEST [--count N] ... [--json]` (the subcommand's arguments, then its options).
    public func synopsis(of sub: SubcommandSpec) -> String {
        ([name, sub.name] + sub.arguments.map(Self.argumentSynopsis) + options(forSubcommand: sub.name).map(\.synopsis))
            .joined(separator: " ")
    }

    /// Refuses an option the command's subcommand (its first argument) does not take, pointing at it.
    func checkSubcommandOptions(_ cmd: ParsedCommand) throws {
        guard let sub = subcommand(named: cmd.arguments.first) else { return }
        for o in cmd.optionValues where !sub.optionNames.contains(o.long) {
            throw ShellError.usage("option \(o.long) does not apply to '\(name) \(sub.name)'", column: o.column)
        }
    }
}
