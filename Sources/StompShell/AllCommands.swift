// The command table: every command of the shell, in `help` order.

extension CommandTable {
    public static var all: [CommandSpec] {
        CoreCommands.all + ScriptCommands.all + OperatorCommands.all + RPCShellCommands.all + BenchShellCommands.all
    }
}
