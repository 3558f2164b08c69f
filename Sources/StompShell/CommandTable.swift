// Looking commands up in a table. The table itself, `CommandTable.all`, is in AllCommands.swift, so that this
// file, CommandSpec.swift and LineParser.swift build without the command handlers (the parser fuzzer does).

public enum CommandTable {
    public static func find(_ word: String, in table: [CommandSpec] = all) -> CommandSpec? {
        table.first { $0.matches(word) }
    }

    /// The nearest command name (Levenshtein distance ≤ 2, or a unique prefix).
    public static func suggestion(for word: String, in table: [CommandSpec] = all) -> String? {
        let words = table.flatMap { [$0.name] + $0.aliases }
        let prefixed = words.filter { $0.hasPrefix(word) }
        if prefixed.count == 1 { return prefixed[0] }
        let length = word.count
        let limit = max(1, min(2, length / 2))
        var best: (String, Int)?
        // The distance is at least the difference in length: a long mistyped word costs no table of distances.
        for w in words where abs(w.count - length) <= limit {
            let d = editDistance(word, w)
            if d <= limit, best == nil || d < best!.1 { best = (w, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
