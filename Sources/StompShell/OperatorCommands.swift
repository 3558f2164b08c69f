// Operator commands' table entries: browse, drain, move, copy, dump, load, record. The work is in Consume.swift,
// Drain.swift, MoveCopy.swift, Load.swift and Recorder.swift.

import Foundation

public enum OperatorCommands {
    public static var all: [CommandSpec] { [browse, drain, move, copy, dump, load, record] }

    static let countOption = OptionSpec("--count", short: "-n", value: .integer, valueName: "N", help: "at most N messages")
    static let selectorOption = OptionSpec("--selector", value: .string, valueName: "EXPR",
                                           help: "only messages matching this JMS selector (ActiveMQ)")
    static let idleOption = OptionSpec("--idle", value: .duration, valueName: "SECONDS",
                                       help: "end after this long without a message (default 1)")
    static let forceOption = OptionSpec.flag("--force", help: "overwrite FILE if it exists")
    static let windowOption = OptionSpec("--window", value: .count, valueName: "N",
                                         help: "copies awaiting the broker's RECEIPT at once (default 100)")

    static let browse = CommandSpec(
        name: "browse",
        arguments: [ArgumentSpec("DEST", .destination, help: "the queue to look at")],
        options: [countOption, selectorOption, .flag("--json", help: "print each message as a JSON line")],
        summary: "show the messages of a queue without consuming them",
        help: "ActiveMQ: a browser:true subscription, ended by the broker's browser:end marker (not shown, not counted). "
            + "Brokers that cannot browse (RabbitMQ) are refused with the alternative: nothing is consumed.",
        needsConnection: true,
        run: { shell, p in try DrainCommands.runBrowse(shell, p) })

    static let drain = CommandSpec(
        name: "drain",
        arguments: [ArgumentSpec("DEST", .destination),
                    ArgumentSpec("FILE", .path, optional: true, help: "write the messages to FILE as JSON lines (as dump)")],
        options: [idleOption, OptionSpec("--max", value: .integer, valueName: "N", help: "at most N messages"),
                  selectorOption, forceOption],
        summary: "consume a destination until it is quiet; print how many",
        help: "Consumes until no message arrived for --idle seconds and prints (or writes to FILE) each message, "
            + "acknowledging it only after it was written (client-individual); ends with status 0. If standard output "
            + "closes (| head), it stops at once: what was not shown stays on the broker.",
        needsConnection: true,
        run: { shell, p in try CommandInterrupt.catching(shell) { try DrainCommands.runDrain(shell, p) } })

    static func moveOrCopy(_ move: Bool) -> CommandSpec {
        CommandSpec(
            name: move ? "move" : "copy",
            arguments: [ArgumentSpec("SRC", .destination, help: "where the messages are"),
                        ArgumentSpec("DST", .destination, help: "where they go")],
            options: [countOption, selectorOption, idleOption, windowOption],
            summary: move ? "move messages to another destination, losing none"
                          : "copy the messages of a queue to another destination (ActiveMQ: by browsing)",
            help: move
                ? "Each message is sent to DST with its body and application headers (broker-assigned headers dropped; "
                    + "x-stompsh-original-destination and x-stompsh-original-message-id added) and acknowledged on SRC "
                    + "only after the broker's RECEIPT for the copy. A kill at any moment loses nothing: at worst the "
                    + "messages in flight are on DST twice (Ctrl-C lets them finish first; in a script the script then ends, status 130). "
                    + "Ends after -n messages or when SRC is quiet for --idle seconds."
                : "As move, but SRC keeps its messages (ActiveMQ browser:true); brokers that cannot browse are refused.",
            needsConnection: true,
            run: { shell, p in try CommandInterrupt.catching(shell) { try MoveCopyCommands.run(shell, p, move: move) } })
    }
    static let move = moveOrCopy(true)
    static let copy = moveOrCopy(false)

    static let dump = CommandSpec(
        name: "dump",
        arguments: [ArgumentSpec("DEST", .destination), ArgumentSpec("FILE", .path, help: "JSON lines, one message each")],
        options: [countOption, .flag("--browse", help: "browse instead of consuming (ActiveMQ)"), selectorOption,
                  idleOption, forceOption],
        summary: "save the messages of a destination to a file (the --json line format)",
        help: "Each message as its --json line (body_base64 for NUL or non-UTF-8 bodies), written and synced before it "
            + "is acknowledged. 'load' sends them back, byte-exact.",
        needsConnection: true,
        run: { shell, p in try CommandInterrupt.catching(shell) { try DrainCommands.runDump(shell, p) } })

    static let load = CommandSpec(
        name: "load",
        arguments: [ArgumentSpec("FILE", .path, help: "JSON lines (dump, drain FILE, --json output, a recording)"),
                    ArgumentSpec("DEST", .destination)],
        options: [OptionSpec("--rate", value: .number, valueName: "R", help: "at most R messages a second"),
                  .flag("--skip-bad", help: "skip lines that are not JSON frames (warned) instead of stopping")],
        summary: "send the messages of a file to a destination, in order",
        help: "Sends each MESSAGE or SEND line's body and application headers to DEST, in file order, each confirmed by "
            + "a RECEIPT. A line that is not JSON stops the load there (FILE:LINE: error); nothing after it is sent.",
        needsConnection: true,
        run: { shell, p in try CommandInterrupt.catching(shell) { try LoadCommand.run(shell, p) } })

    static let record = CommandSpec(
        name: "record",
        arguments: [ArgumentSpec("start|stop", .choice(["start", "stop"])),
                    ArgumentSpec("FILE", .path, optional: true, help: "start: the file to record to")],
        options: [forceOption],
        summary: "record every frame in both directions to a file (for replay)",
        help: "Each frame as its --json line with \"t\" (seconds since the start, monotonic) and \"dir\" (out, in); "
            + "passcodes masked. 'stompsh replay FILE URL' sends the recorded client frames again.",
        run: { shell, p in try RecordCommand.run(shell, p) })
}
