// stompsh: the STOMP shell. argv → StompShell (REPL or batch).

import ArgumentParser
import Foundation
import NIOPosix
import StompBroker
import StompShell
import StompConnection
import StompProbe

struct Stompsh: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stompsh",
        abstract: "An interactive and scriptable STOMP shell.",
        usage: """
            stompsh [<options>] [<url>]
            stompsh broker [--port <port>] [--host <host>]
            stompsh probe [<options>] [<url>]
            stompsh replay [<options>] <file> [<url>]
            """,
        discussion: """
            Without -f or -c and with a terminal on stdin, stompsh is interactive (type 'help'). With -f FILE (- is \
            stdin), -c COMMAND or piped stdin it runs the commands and exits: 0 all succeeded, 1 a command or \
            assertion failed, 2 usage error, 3 could not connect or the connection was lost for good. Errors are \
            reported as FILE:LINE:COL: error: MESSAGE (-c commands as -c[INDEX]:LINE:COL). --sandbox starts an \
            in-memory broker in the process and connects to it; 'stompsh broker [--port P] [--host H]' runs only that \
            broker. See stompsh(1).
            """,
        version: StompshVersion.string,
        subcommands: [BrokerCommand.self, ProbeCommand.self, ReplayCommand.self])

    @Argument(help: ArgumentHelp("Broker to connect to first: stomp://[LOGIN[:PASSCODE]@]HOST[:PORT][/VHOST], stomp+ssl://..., ws://[LOGIN[:PASSCODE]@]HOST[:PORT]/PATH, wss://..., failover:(URL,URL).", valueName: "url"))
    var url: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("Run the commands in FILE (- for stdin), then exit.", valueName: "file"))
    var file: String?

    @Option(name: [.customShort("c"), .customLong("command")], parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Run COMMAND (repeatable, in order, before -f), then exit.", valueName: "command"))
    var commands: [String] = []

    @OptionGroup var broker: BrokerLoginOptions




    @Option(help: ArgumentHelp("STOMP versions to offer, e.g. 1.2 or 1.1,1.2.", valueName: "version"))
    var stompVersion: String?

    @Option(help: ArgumentHelp("Heart-beats in milliseconds: CX,CY (0,0 disables).", valueName: "cx,cy"))
    var heartBeat: String?

    @Option(name: .customLong("write-timeout"), parsing: .unconditional, help: ArgumentHelp("Give up a connection whose broker takes none of our bytes for SECONDS (stuck, or flow control holding this producer): exit 3. Default 10; 0 waits for ever.", valueName: "seconds"))
    var writeTimeout: String?

    @Option(name: .customLong("receipt-timeout"), parsing: .unconditional, help: ArgumentHelp("Wait at most SECONDS for a RECEIPT (send --receipt, subscribe, ..., DISCONNECT). Default 10.", valueName: "seconds"))
    var receiptTimeout: String?





    @Option(name: .customLong("ws-header"), help: ArgumentHelp("Extra WebSocket handshake header 'NAME: VALUE' (ws://, wss://; repeatable). The value is shown as **** everywhere.", valueName: "header"))
    var wsHeaders: [String] = []

    @Option(help: ArgumentHelp("Origin header of the WebSocket handshake (ws://, wss://).", valueName: "origin"))
    var origin: String?

    @Flag(name: .customLong("ws-binary"), help: "Send every STOMP frame as a binary WebSocket message (default: text when the frame is UTF-8 without NUL).")
    var wsBinary = false

    @Flag(name: .customLong("sandbox-ws"), help: "With --sandbox: connect to it over WebSocket (ws://127.0.0.1:PORT/ws) instead of TCP.")
    var sandboxWS = false

    @Flag(help: "Start an in-memory sandbox broker on 127.0.0.1 (port 61613 if free) and connect to it.")
    var sandbox = false

    @Flag(help: "Do not reconnect when the connection is lost.")
    var noReconnect = false

    @Flag(help: "JSON lines on stdout: received frames and command results; diagnostics on stderr.")
    var json = false

    @Flag(name: [.customShort("q"), .customLong("quiet")],
          help: "Quiet stompsh's chatter (connected to ..., receipts); frames, errors and what commands print (echo) stay.")
    var quiet = false

    @Flag(help: "Show every frame in and out as it is on the wire.")
    var trace = false

    @Flag(name: .customLong("rc"), inversion: .prefixedNo,
          help: "Run ~/.stompshrc first (default: only for interactive sessions).")
    var rc: Bool?

    @Option(help: ArgumentHelp("Record every frame in both directions to FILE (JSON lines with t and dir) for 'stompsh replay'.", valueName: "file"))
    var record: String?

    @Option(help: ArgumentHelp("Broker quirks from 'stompsh probe --profile FILE' (or a 'probe --json' card), for a broker stompsh does not recognise by its server header.", valueName: "file"))
    var profile: String?

    @Flag(help: "Overwrite the --record file if it exists.")
    var forceRecord = false

    @Flag(help: .hidden)
    var listCommands = false

    mutating func validate() throws {
        if let hb = heartBeat {
            let parts = hb.split(separator: ",")
            guard parts.count == 2, parts.allSatisfy({ Int($0) != nil && Int($0)! >= 0 }) else {
                throw ValidationError("--heart-beat: expected CX,CY in milliseconds, got '\(hb)'")
            }
        }
        for (option, text) in [(TimeoutOption.write, writeTimeout), (.receipt, receiptTimeout)] {
            guard let text else { continue }
            do { _ = try option.amount(text) } catch let e as ShellError { throw ValidationError(e.message) }
        }
        if let v = stompVersion {
            for p in v.split(separator: ",") where !["1.0", "1.1", "1.2"].contains(String(p)) {
                throw ValidationError("--stomp-version: expected 1.0, 1.1 or 1.2, got '\(p)'")
            }
        }
        for h in wsHeaders {
            do { _ = try WebSocketHeader(parsing: h) } catch { throw ValidationError("\(error)") }
        }
        if let o = origin, o.isEmpty || o.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw ValidationError("--origin: expected an origin such as https://app.example, got '\(o)'")
        }
        if sandboxWS, !sandbox { throw ValidationError("--sandbox-ws needs --sandbox") }
        if sandbox, url != nil {
            throw ValidationError("--sandbox starts its own broker: give no URL")
        }
        if let u = url {
            do { _ = try StompURL.parseList(u) } catch { throw ValidationError("bad URL: \(error)") }
        }
    }

    func run() throws {
        if listCommands {
            OutputWriter.standard.write(CommandTable.all.map { $0.name + "\n" }.joined(), to: .stdout)
            if let failure = OutputWriter.standard.failure {
                FileHandle.standardError.write(Data("stompsh: \(failure)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        setlocale(LC_CTYPE, "")
        // A profile that cannot be used is a usage error, in one line, before anything connects.
        var quirks: BrokerQuirks?
        if let path = profile {
            do { quirks = BrokerQuirks(profile: try BrokerQuirksProfile.load(path: path)) } catch {
                FileHandle.standardError.write(Data("stompsh: --profile: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        // The script is opened first: one that cannot be read (a directory, no permission) is a usage error
        // before anything connects.
        var script: ScriptSource?
        if let f = file, f != "-" {
            do { script = try FileScriptSource(path: f) } catch {
                FileHandle.standardError.write(Data("stompsh: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let batch = file != nil || !commands.isEmpty || isatty(0) == 0
        let output = Output()
        let shell = Shell(output: output)
        var settings = shell.settings
        if json { settings.format = .json }
        settings.quiet = quiet
        settings.trace = trace
        if !batch || isatty(1) == 0 { settings.color = Output.defaultColor() }
        shell.settings = settings
        var d = ConnectDefaults()
        d.parameters.url = url
        d.parameters.login = broker.login
        if broker.passcodeEnv != nil { d.parameters.passcode = broker.passcode }
        d.parameters.vhost = broker.vhost
        d.parameters.stompVersion = stompVersion
        d.parameters.heartBeat = heartBeat
        d.parameters.writeTimeout = writeTimeout
        d.parameters.receiptTimeout = receiptTimeout
        d.tls = broker.tls
        d.webSocket = WebSocketOptions(headers: wsHeaders.compactMap { try? WebSocketHeader(parsing: $0) },
                                       origin: origin, forceBinary: wsBinary)
        if noReconnect { d.reconnect = .none }
        d.quirks = quirks
        shell.defaults = d
        if let path = record {
            do { shell.recorder = try FrameRecorder(path: path, force: forceRecord, what: "--record") } catch let e as ShellError {
                output.error("stompsh: \(e.message)")
                throw ExitCode(2)
            }
        }

        let runner = BatchRunner(shell: shell)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let rcPath = RCFile.path(home: home)
        let runRC = rc ?? !batch
        if runRC, let refusal = RCFile.refusal(path: rcPath, shell: shell) {
            output.error("stompsh: \(refusal)")
            if batch { throw ExitCode(2) }
        } else if runRC, FileManager.default.fileExists(atPath: rcPath), let src = try? FileScriptSource(path: rcPath) {
            let saved = shell.settings.onError
            shell.settings.onError = .continue
            runner.run(src, ignoreAllErrors: !batch)
            shell.settings.onError = saved
        }

        if sandbox {
            let broker: SandboxBroker
            do {
                broker = try SandboxBroker.startPreferring(configuration: SandboxDefaults.configuration,
                                                           on: MultiThreadedEventLoopGroup(numberOfThreads: 1)).wait()
            } catch {
                output.error("stompsh: cannot start the sandbox broker: \(error)")
                throw ExitCode(3)
            }
            let ws: SandboxWebSocketListener
            do {
                ws = try broker.listenWebSocket(port: 0).wait()
            } catch {
                output.error("stompsh: cannot start the sandbox broker's WebSocket endpoint: \(error)")
                throw ExitCode(3)
            }
            output.info("in-memory sandbox broker on 127.0.0.1:\(broker.port) (WebSocket: \(ws.url)) — not a real broker; messages are lost on exit")
            d.parameters.url = sandboxWS ? ws.url : broker.url
            shell.defaults = d
        }

        if url != nil || sandbox {
            do {
                try shell.connect(ConnectParameters())
            } catch let e as ShellError {
                output.error("stompsh: \(e.message)")
                if batch { throw ExitCode(e.exitStatus) }
            }
        }

        if !batch {
            shell.interactive = true
            let status = REPL(shell: shell).run()
            throw ExitCode(status)
        }

        var go = true
        for (i, c) in commands.enumerated() where go {
            go = runner.run(StringScriptSource(name: "-c[\(i + 1)]", text: c))
        }
        if go {
            if let script {
                runner.run(script)
            } else if file == "-" {
                runner.run(StdinScriptSource(shell: shell))
            } else if commands.isEmpty {
                runner.run(StdinScriptSource(shell: shell))
            }
        }
        let status = runner.finish()
        if let r = shell.recorder { try? r.close() }
        throw ExitCode(status)
    }
}

/// `stompsh broker|probe|replay ...` parsed on its own: each `Command` is the root's subcommand (so `--help` and the
/// completion scripts know it), but the root's optional URL argument would take the word before ArgumentParser looks
/// for a subcommand. Its options are `Command`'s, declared there only (validated by the option group).
struct SubcommandEntry<Command: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "stompsh " + (Command.configuration.commandName ?? ""),
            abstract: Command.configuration.abstract,
            discussion: Command.configuration.discussion,
            version: StompshVersion.string)
    }

    @OptionGroup var command: Command

    mutating func run() throws { try command.run() }
}

/// The subcommands dispatched by their first word (see `SubcommandEntry`).
let subcommandEntries: [String: ([String]) -> Never] = [
    "broker": { runCommand(SubcommandEntry<BrokerCommand>.self, $0) },
    "probe": { runCommand(SubcommandEntry<ProbeCommand>.self, $0) },
    "replay": { runCommand(SubcommandEntry<ReplayCommand>.self, $0) },
]

/// Parses `arguments` as `Command` and runs it. Usage errors exit with status 2 (argument-parser's default is 64).
func runCommand<Command: ParsableCommand>(_: Command.Type, _ arguments: [String]?) -> Never {
    do {
        var command = try Command.parseAsRoot(arguments)
        // `stompsh URL broker`: the root took URL, then found a subcommand
        if command is BrokerCommand || command is ProbeCommand || command is ReplayCommand {
            let name = type(of: command).configuration.commandName ?? ""
            FileHandle.standardError.write(Data("stompsh: '\(name)' must be the first argument: stompsh \(name) ...\n".utf8))
            exit(2)
        }
        try command.run()
        exit(0)
    } catch {
        let code = Command.exitCode(for: error)
        if code == .success {
            Command.exit(withError: error)
        } else if error is ExitCode {
            exit(code.rawValue)
        } else if code == .validationFailure {
            FileHandle.standardError.write(Data((Command.fullMessage(for: error) + "\n").utf8))
            exit(2)
        } else {
            FileHandle.standardError.write(Data(("stompsh: " + Command.fullMessage(for: error) + "\n").utf8))
            exit(code.rawValue == 0 ? 0 : 1)
        }
    }
}

// Before anything opens a file or a socket: a closed standard descriptor (`>&-`) must not be reused, and a
// closed pipe must give EPIPE (reported, exit 1) rather than a silent death by SIGPIPE.
OutputWriter.reserveStandardDescriptors()
signal(SIGPIPE, SIG_IGN)

// Arguments that are not valid UTF-8 are refused rather than decoded with U+FFFD in place of their bytes.
if let refusal = ArgumentBytes.refusal(CommandLine.unsafeArgv, count: Int(CommandLine.argc)) {
    FileHandle.standardError.write(Data((refusal + "\n").utf8))
    exit(2)
}

// `stompsh broker|probe|replay ...` are subcommands (such a first word is never a URL; write stomp://broker to reach
// a host of that name); anything else is the shell.
let argv = Array(CommandLine.arguments.dropFirst())
if let first = argv.first, let entry = subcommandEntries[first] {
    entry(Array(argv.dropFirst()))
} else if argv.first == "help", let second = argv.dropFirst().first, let entry = subcommandEntries[second] {   // `stompsh --help` suggests it
    entry(["--help"])
} else {
    runCommand(Stompsh.self, nil)
}
