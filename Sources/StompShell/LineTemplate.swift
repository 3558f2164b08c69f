// A parsed line whose only variables are in its rest-of-line argument: `repeat` parses its command once and
// substitutes per iteration.

/// A line parsed once, to be parsed again with other variable values without lexing it again.
///
/// Only for a line without a heredoc block whose variables all sit in its rest-of-line argument (`send Q
/// body-${repeat.index}`): variables never change how a line splits into tokens, but a token's value decides
/// whether it is an option (`-...`) and must pass its validation, so a variable anywhere else means a full parse.
/// The rest of the line is substituted exactly as `LineParser.parse` does; everything else comes from the
/// first parse.
struct LineTemplate {
    /// The first parse (its rest-of-line argument and body are replaced on each `instantiate`).
    var parsed: ParsedCommand
    /// Index of the rest-of-line argument in `parsed.arguments`.
    var restIndex: Int
    /// The rest of the line as written.
    var rawRest: String
    /// Its 1-based column in the line.
    var restColumn: Int
    /// The argument takes the rest verbatim (no substitution).
    var verbatim: Bool

    /// The line parsed with the variables' current values; throws what `LineParser.parse` throws for them.
    func instantiate(resolve: VariableResolver?) throws -> ParsedCommand {
        var p = parsed
        let value = verbatim ? rawRest : try LineLexer.expand(rawRest, baseColumn: restColumn, resolve: resolve)
        p.arguments[restIndex] = value
        p.body = Array(value.utf8)
        try p.spec.checkSubcommandOptions(p)
        return p
    }
}
