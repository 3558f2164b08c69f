// Generated from CommandTable.all by Tests/StompShellTests/FuzzCommandTableTests.swift; do not edit.
// Regenerate: STOMPSH_UPDATE_FUZZ_TABLE=1 swift test --filter FuzzCommandTableTests
// The command syntax (names, arguments, options) the shell-parser fuzzer parses against.

extension CommandTable {
    public static var all: [CommandSpec] { [
        CommandSpec(name: "connect", arguments: [ArgumentSpec("URL", .url, optional: true)], options: [OptionSpec("--login", value: .string, valueName: "L"), OptionSpec("--passcode", value: .string, valueName: "P", sensitive: true), OptionSpec("--vhost", value: .string, valueName: "V"), OptionSpec("--stomp-version", value: .string, valueName: "V"), OptionSpec("--heart-beat", value: .string, valueName: "CX,CY")], summary: "", run: { _, _ in }),
        CommandSpec(name: "disconnect", summary: "", run: { _, _ in }),
        CommandSpec(name: "send", arguments: [ArgumentSpec("DEST", .destination), ArgumentSpec("BODY", .restOfLine, optional: true)], options: [OptionSpec("--header", short: "-H", value: .header, valueName: "NAME:VALUE", repeatable: true), OptionSpec("--receipt"), OptionSpec("--content-type", value: .string, valueName: "T"), OptionSpec("--file", value: .path, valueName: "PATH")], summary: "", run: { _, _ in }),
        CommandSpec(name: "subscribe", aliases: ["sub"], arguments: [ArgumentSpec("DEST", .destination)], options: [OptionSpec("--id", value: .string, valueName: "ID"), OptionSpec("--ack", value: .choice(["auto", "client", "client-individual"]), valueName: "auto|client|client-individual"), OptionSpec("--header", short: "-H", value: .header, valueName: "NAME:VALUE", repeatable: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "unsubscribe", aliases: ["unsub"], arguments: [ArgumentSpec("ID|DEST", .subscriptionID)], summary: "", run: { _, _ in }),
        CommandSpec(name: "ack", arguments: [ArgumentSpec("MESSAGE|last", .messageID, optional: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "nack", arguments: [ArgumentSpec("MESSAGE|last", .messageID, optional: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "begin", arguments: [ArgumentSpec("TX", .transactionID, optional: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "commit", arguments: [ArgumentSpec("TX", .transactionID, optional: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "abort", arguments: [ArgumentSpec("TX", .transactionID, optional: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "raw", options: [OptionSpec("--file", value: .path, valueName: "PATH")], summary: "", blockTerminator: ".", run: { _, _ in }),
        CommandSpec(name: "status", summary: "", run: { _, _ in }),
        CommandSpec(name: "set", arguments: [ArgumentSpec("NAME", .string, optional: true), ArgumentSpec("VALUE", .restOfLine, optional: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "help", aliases: ["?"], arguments: [ArgumentSpec("COMMAND", .string, optional: true)], options: [OptionSpec("--names")], summary: "", run: { _, _ in }),
        CommandSpec(name: "echo", arguments: [ArgumentSpec("TEXT", .restOfLine, optional: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "sleep", arguments: [ArgumentSpec("SECONDS", .duration)], summary: "", run: { _, _ in }),
        CommandSpec(name: "quit", aliases: ["exit"], summary: "", run: { _, _ in }),
        CommandSpec(name: "wait", arguments: [ArgumentSpec("N", .integer, optional: true)], options: [OptionSpec("--timeout", value: .duration, valueName: "SECONDS"), OptionSpec("--on", value: .subscriptionID, valueName: "ID|DEST")], summary: "", run: { _, _ in }),
        CommandSpec(name: "expect", options: [OptionSpec("--on", value: .subscriptionID, valueName: "ID|DEST"), OptionSpec("--timeout", value: .duration, valueName: "SECONDS"), OptionSpec("--body", value: .string, valueName: "TEXT"), OptionSpec("--body-match", value: .string, valueName: "REGEX"), OptionSpec("--header", short: "-H", value: .header, valueName: "NAME:VALUE", repeatable: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "expect-error", options: [OptionSpec("--timeout", value: .duration, valueName: "SECONDS"), OptionSpec("--message", value: .string, valueName: "TEXT"), OptionSpec("--match", value: .string, valueName: "REGEX")], summary: "", run: { _, _ in }),
        CommandSpec(name: "repeat", arguments: [ArgumentSpec("N", .integer), ArgumentSpec("COMMAND", .restOfLine, verbatim: true)], options: [OptionSpec("--interval", value: .duration, valueName: "SECONDS")], summary: "", run: { _, _ in }),
        CommandSpec(name: "rpc", arguments: [ArgumentSpec("SUBCOMMAND", .choice(["call", "serve", "discover", "methods", "bench"])), ArgumentSpec("ARGS", .restOfLine, optional: true, verbatim: true)], summary: "", run: { _, _ in }),
        CommandSpec(name: "bench", arguments: [ArgumentSpec("SUBCOMMAND", .choice(["send", "consume", "latency"])), ArgumentSpec("DEST", .destination, optional: true)], options: [OptionSpec("--count", short: "-n", value: .integer, valueName: "N"), OptionSpec("--size", value: .integer, valueName: "BYTES"), OptionSpec("--receipts", value: .string, valueName: "none|each|window:W"), OptionSpec("--prebuilt"), OptionSpec("--connections", value: .integer, valueName: "N"), OptionSpec("--ack", value: .choice(["auto", "client-individual"]), valueName: "auto|client-individual"), OptionSpec("--prefetch", value: .integer, valueName: "N"), OptionSpec("--history", value: .duration, valueName: "SECONDS"), OptionSpec("--interval", value: .duration, valueName: "SECONDS"), OptionSpec("--mode", value: .choice(["receipt", "self"]), valueName: "receipt|self"), OptionSpec("--timeout", value: .duration, valueName: "SECONDS"), OptionSpec("--header", short: "-H", value: .header, valueName: "NAME:VALUE", repeatable: true), OptionSpec("--json")], summary: "", run: { _, _ in }),
    ] }
}
