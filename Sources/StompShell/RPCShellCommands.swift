// `rpc call|serve|discover|methods|bench`: thin shell commands over RPCCommands (see docs/rpc.md).
import RPCCommands

public enum RPCShellCommands {
    public static let all: [CommandSpec] = [
        CommandSpec(name: "rpc", arguments: [ArgumentSpec("SUBCOMMAND", .choice(["call", "serve", "discover", "methods", "bench"])),
                                             ArgumentSpec("ARGS", .restOfLine, optional: true)],
                    summary: "typed JSON-RPC calls over STOMP (call, serve, discover, methods, bench)",
                    run: { _, _ in throw ShellError("rpc: not implemented yet") }),
    ]
}
