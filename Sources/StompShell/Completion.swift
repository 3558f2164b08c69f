// Tab completion and hints, from the command table and what the session has seen.

import Foundation

public enum Completer {
    /// Header names that make sense for a command's frame (for `-H` completion).
    static func headerNames(for command: String) -> [String] {
        switch command {
        case "send", "rpc":
            return ["content-type:", "content-length:", "correlation-id:", "reply-to:", "persistent:", "priority:",
                    "expires:", "receipt:", "transaction:", "JMSType:", "x-delay:"]
        case "subscribe":
            return ["selector:", "activemq.prefetchSize:", "activemq.exclusive:", "activemq.subscriptionName:",
                    "prefetch-count:", "durable:", "auto-delete:", "exclusive:", "x-queue-name:", "receipt:"]
        case "expect":
            return ["destination:", "content-type:", "correlation-id:", "reply-to:", "subscription:", "message-id:",
                    "persistent:", "priority:", "expires:", "redelivered:"]
        default:
            return ["content-type:", "receipt:"]
        }
    }

    static func values(_ kind: ValueKind, shell: Shell, command: String, partial: String) -> [String] {
        switch kind {
        case .destination:
            var d = shell.completion[.destination]
            for p in ["/queue/", "/topic/", "/temp-queue/", "/exchange/", "/amq/queue/"] where !d.contains(p) { d.append(p) }
            return d
        case .subscriptionID:
            let subscriptions = shell.subscriptions
            return subscriptions.map(\.id) + subscriptions.map(\.destination)
        case .transactionID:
            return shell.openTransactions
        case .messageID:
            return ["last"] + (shell.session { $0.pendingAcks.map(\.messageID) } ?? [])
        case .choice(let c):
            return c
        case .url:
            var u = ["stomp://localhost:61613", "stomp+ssl://", "ws://localhost:15674/ws", "wss://", "failover:("]
            if let d = shell.defaults.parameters.url { u.insert(d, at: 0) }
            return u
        case .header:
            return headerNames(for: command)
        case .path:
            return paths(partial)
        case .rpcMethod:
            return shell.completion[.rpcMethod]
        default:
            return shell.completion[kind]
        }
    }

    static func paths(_ partial: String) -> [String] {
        let expanded = (partial as NSString).expandingTildeInPath
        let dir: String, prefix: String
        if partial.hasSuffix("/") { dir = expanded; prefix = partial }
        else if let slash = partial.lastIndex(of: "/") {
            dir = (expanded as NSString).deletingLastPathComponent
            prefix = String(partial[...slash])
        } else { dir = "."; prefix = "" }
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "/" : dir) else { return [] }
        return items.sorted().map { item in
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(item), isDirectory: &isDir)
            return prefix + item + (isDir.boolValue ? "/" : "")
        }
    }

    /// What the user is typing: the command, the option awaiting a value, or the positional index.
    enum Slot { case command, option(CommandSpec), optionValue(CommandSpec, OptionSpec), argument(CommandSpec, Int), none }

    static func slot(words: [String], partial: String, table: [CommandSpec]) -> Slot {
        guard let first = words.first else { return .command }
        guard let spec = CommandTable.find(first, in: table) else { return .none }
        var positional = 0
        var optionsEnded = false
        var i = 1
        while i < words.count {
            let w = words[i]
            if !optionsEnded, w == "--" { optionsEnded = true; i += 1; continue }
            if !optionsEnded, w.hasPrefix("-"), let o = spec.option(named: w.split(separator: "=").first.map(String.init) ?? w) {
                if o.value != nil, !w.contains("=") {
                    if i + 1 == words.count { return .optionValue(spec, o) }
                    i += 1
                }
                i += 1; continue
            }
            positional += 1
            if positional <= spec.arguments.count, spec.arguments[positional - 1].kind == .restOfLine { return .none }
            i += 1
        }
        if !optionsEnded, partial.hasPrefix("-") { return .option(spec) }
        return .argument(spec, positional)
    }

    /// Candidates for the word being typed at the end of `line`.
    public static func complete(shell: Shell, line: String) -> (replaceFrom: Int, candidates: [String]) {
        let (words, partial, start) = LineParser.wordsForCompletion(line)
        var all: [String]
        if let first = words.first, let spec = CommandTable.find(first, in: shell.table), let custom = spec.complete,
           let r = custom(shell, words, partial) {
            all = r
        } else {
            switch slot(words: words, partial: partial, table: shell.table) {
            case .command:
                all = shell.table.flatMap { [$0.name] + $0.aliases.filter { $0.first?.isLetter == true } }
            case .option(let spec):
                let options = spec.options(forSubcommand: words.dropFirst().first)   // `bench send --`: send's only
                all = options.map(\.long) + options.compactMap(\.short)
            case .optionValue(let spec, let o):
                all = values(o.value ?? .string, shell: shell, command: spec.name, partial: partial)
            case .argument(let spec, let index):
                let arg = index < spec.arguments.count ? spec.arguments[index]
                    : (spec.arguments.last?.variadic == true ? spec.arguments.last : nil)
                if let arg {
                    all = values(arg.kind, shell: shell, command: spec.name, partial: partial)
                    if spec.name == "help" { all = shell.table.map(\.name) }
                } else { all = [] }
            case .none:
                all = []
            }
        }
        var seen = Set<String>()
        let candidates = all.filter { $0.hasPrefix(partial) && seen.insert($0).inserted }
        return (start, candidates)
    }

    /// The greyed hint after the typed line: the remaining arguments of the synopsis (as redis-cli does).
    public static func hint(shell: Shell, line: String) -> String? {
        let (words, partial, _) = LineParser.wordsForCompletion(line)
        let all = partial.isEmpty ? words : words + [partial]
        guard let first = all.first, let spec = CommandTable.find(first, in: shell.table) else { return nil }
        if all.count == 1, !partial.isEmpty, !(line.hasSuffix(" ")) {
            // just the command word, no blank yet
            let rest = spec.synopsis.dropFirst(spec.name.count)
            return rest.isEmpty ? nil : String(rest)
        }
        if let custom = spec.hint { return custom(shell, all) }
        guard partial.isEmpty else { return nil }
        if all.count == 1 {
            let rest = spec.synopsis.dropFirst(spec.name.count).trimmingCharacters(in: .whitespaces)
            return rest.isEmpty ? nil : rest
        }
        guard case .argument(_, let index) = slot(words: words, partial: "", table: shell.table) else { return nil }
        guard index < spec.arguments.count else { return nil }
        // `bench send `: the subcommand's arguments, then the options the table declares for it
        if index == 1, let sub = spec.subcommand(named: words.dropFirst().first) {
            return (sub.arguments.map(CommandSpec.argumentSynopsis) + spec.options(forSubcommand: sub.name).map(\.synopsis))
                .joined(separator: " ")
        }
        return spec.arguments[index...].map(CommandSpec.argumentSynopsis).joined(separator: " ")
    }
}
