// A subcommand declared in the command table (`bench send`, `bench consume`, ...).

/// A subcommand of a `CommandSpec`: its name, one-line summary and which of the command's options it takes (their
/// long names; the options themselves are declared once, in `CommandSpec.options`). The command's first argument
/// names it. Parsing (`CommandSpec.checkSubcommandOptions`), Tab completion, `help` and the man page drift test read
/// this declaration.
public struct SubcommandSpec: Sendable {
    public var name: String
    public var summary: String
    public var optionNames: [String]

    public init(_ name: String, summary: String, options optionNames: [String]) {
        self.name = name; self.summary = summary; self.optionNames = optionNames
    }
}

extension CommandSpec {
    /// The declared subcommand named `word`, if any.
    public func subcommand(named word: String?) -> SubcommandSpec? {
        guard let word else { return nil }
        return subcommands.first { $0.name == word }
    }

    /// The options that apply after `subcommand` (all of them when it names no declared subcommand).
    public func options(forSubcommand word: String?) -> [OptionSpec] {
        guard let sub = subcommand(named: word) else { return options }
        return options.filter { sub.optionNames.contains($0.long) }
    }

    /// Refuses an option the command's subcommand (its first argument) does not take, pointing at it.
    func checkSubcommandOptions(_ cmd: ParsedCommand) throws {
        guard let sub = subcommand(named: cmd.arguments.first) else { return }
        for o in cmd.optionValues where !sub.optionNames.contains(o.long) {
            throw ShellError("option \(o.long) does not apply to '\(name) \(sub.name)'", column: o.column)
        }
    }
}
