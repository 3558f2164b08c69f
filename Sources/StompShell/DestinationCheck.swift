// ActiveMQ 5 changes some destination names: it drops the blanks and control characters (U+0000...U+0020) at the
// ends of a destination and at the start and end of its name after the /queue/ or /topic/ prefix. Measured on
// 5.17.2 (STOMP 1.0 to 1.2, SEND and SUBSCRIBE alike): `/queue/R<NUL>`, `<NUL>/queue/R`, `/queue/<NUL>R` and
// `/queue/R <NUL> ` are all the queue `/queue/R` (its MESSAGEs say so); `/queue/R<NUL>x` stays itself (and
// `/temp-queue/ R`, `/temp-topic/<BEL>R`: the name is trimmed after `/queue/` and `/topic/` only); a name
// that is nothing after it (`/queue/ `) makes the broker close the connection. RabbitMQ and the sandbox keep
// every name as it is. stompsh refuses such a destination on ActiveMQ, naming the one the broker would use,
// instead of letting the messages land in another queue (or the connection end) unsaid.

/// The destination rule of `BrokerFamily.activeMQ5`, checked for every destination argument of a command.
enum DestinationCheck {
    /// The prefixes after which ActiveMQ trims the name too (not `/temp-queue/` and `/temp-topic/`: measured,
    /// `/temp-queue/ x` is a destination of its own, only the blanks at the very end are dropped there).
    static let prefixes = ["/queue/", "/topic/"]
    /// What a destination left with no name after its prefix is shown as empty for.
    static let emptyNames = prefixes + ["/temp-queue/", "/temp-topic/"]

    /// What ActiveMQ takes `destination` as, or nil when it takes it as it is.
    static func activeMQName(_ destination: String) -> String? {
        var d = trimmed(Substring(destination))
        if let prefix = prefixes.first(where: { d.hasPrefix($0) }) {
            d = Substring(prefix + trimmed(d.dropFirst(prefix.count)))
        }
        return d == destination ? nil : String(d)
    }

    private static func trimmed(_ s: Substring) -> Substring {
        let u = s.unicodeScalars
        guard let first = u.firstIndex(where: { $0.value > 0x20 }) else { return "" }
        let last = u.lastIndex(where: { $0.value > 0x20 })!
        return Substring(u[first...last])
    }

    /// Throws when an argument of `cmd` that names a destination (its spec's, or its subcommand's) is one that
    /// ActiveMQ would take as another (or as none); the error is at the argument.
    static func checkForActiveMQ(_ cmd: ParsedCommand) throws {
        var specs = cmd.spec.arguments
        var offset = 0
        if !cmd.spec.subcommands.isEmpty {
            guard !cmd.spec.optionsInRestOfLine, let sub = cmd.spec.subcommand(named: cmd.arguments.first) else { return }
            specs = sub.arguments
            offset = 1
        }
        for (i, spec) in specs.enumerated() where spec.kind == .destination && i + offset < cmd.arguments.count {
            let d = cmd.arguments[i + offset]
            guard let taken = activeMQName(d) else { continue }
            let name = taken.isEmpty || emptyNames.contains(taken) ? "an empty name (it then closes the connection)"
                                                                       : "'\(VisibleText.value(taken))'"
            throw ShellError("ActiveMQ takes the destination '\(VisibleText.value(d))' as \(name): it drops the blanks and "
                             + "control characters at the ends of a destination and of its name; name the destination "
                             + "without them", column: cmd.column(ofArgument: i + offset))
        }
    }
}
