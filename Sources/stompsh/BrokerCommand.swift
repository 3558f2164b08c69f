// `stompsh broker`: the in-memory sandbox broker in the foreground, logging connections, until SIGINT/SIGTERM.

import ArgumentParser
import Dispatch
import Foundation
import NIOPosix
import StompBroker
import StompShell

struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the in-memory sandbox STOMP broker in the foreground (Ctrl-C stops it).",
        discussion: """
            A small broker for trying stompsh out and for tests: STOMP 1.0, 1.1 and 1.2; /queue/NAME, /topic/NAME and \
            /temp-queue/NAME destinations; receipts, acknowledgements, transactions and heart-beats. Any login is \
            accepted and everything is kept in memory: not a real broker. It logs each connection on stdout. \
            See stompsh(1).
            """,
        version: StompshVersion.string)

    @Option(help: ArgumentHelp("Port to listen on (0: any free port).", valueName: "port"))
    var port: Int = SandboxBroker.defaultPort

    @Option(help: ArgumentHelp("Address to listen on (loopback by default; another address lets other machines in, without any authentication).", valueName: "host"))
    var host: String = "127.0.0.1"

    @Option(name: .customLong("ws-port"), help: ArgumentHelp("Also serve STOMP over WebSocket on this port (0: any free port).", valueName: "port"))
    var wsPort: Int?

    @Option(name: .customLong("ws-path"), help: ArgumentHelp("Path of the WebSocket endpoint (default /ws).", valueName: "path"))
    var wsPath: String = "/ws"

    @Option(help: ArgumentHelp("Messages the broker may hold, e.g. 512M (the default) or 2G; SENDs past it get an ERROR.", valueName: "size"))
    var maxMemory: String?

    mutating func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: expected 0 to 65535, got \(port)") }
        if let wsPort, !(0...65535).contains(wsPort) { throw ValidationError("--ws-port: expected 0 to 65535, got \(wsPort)") }
        guard wsPath.hasPrefix("/"), !wsPath.contains("?"), !wsPath.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw ValidationError("--ws-path: expected a path such as /ws, got '\(wsPath)'")
        }
        if wsPort == nil, wsPath != "/ws" { throw ValidationError("--ws-path needs --ws-port") }
        if let maxMemory, (ByteSize.parse(maxMemory) ?? 0) <= 0 {
            throw ValidationError("--max-memory: expected a size such as 64M or 2G, got '\(maxMemory)'")
        }
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let broker: SandboxBroker
        do {
            var configuration = SandboxDefaults.configuration
            if let maxMemory { configuration.maxMemory = ByteSize.parse(maxMemory)! }
            broker = try SandboxBroker.start(host: host, port: port, configuration: configuration,
                                             on: group, log: { line in BrokerLogLine.print(line) }).wait()
        } catch {
            FileHandle.standardError.write(Data("stompsh broker: \(error)\n".utf8))
            throw ExitCode(1)
        }
        BrokerLogLine.print("in-memory sandbox broker listening on \(broker.url) — not a real broker; messages are lost on exit (Ctrl-C stops)")
        if let wsPort {
            do {
                let ws = try broker.listenWebSocket(port: wsPort, path: wsPath).wait()
                BrokerLogLine.print("STOMP over WebSocket listening on \(ws.url)")
            } catch {
                FileHandle.standardError.write(Data("stompsh broker: --ws-port: \(error)\n".utf8))
                try? broker.stop().wait()
                throw ExitCode(1)
            }
        }

        let stop = DispatchSemaphore(value: 0)
        let signals = onTerminationSignals { stop.signal() }
        stop.wait()
        try? broker.stop().wait()
        BrokerLogLine.print("stopped")
        try? group.syncShutdownGracefully()
        signals.cancel()
    }
}

/// The sandbox's settings, shared by `stompsh broker` and `stompsh --sandbox`.
enum SandboxDefaults {
    static var configuration: BrokerConfiguration {
        let token = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return BrokerConfiguration(serverName: "stompsh-sandbox/\(StompshVersion.string)", messageIDPrefix: "sandbox-\(token)")
    }
}

/// One timestamped line of the broker's log on stdout.
enum BrokerLogLine {
    private static let lock = NSLock()

    static func print(_ text: String) {
        var now = timeval()
        gettimeofday(&now, nil)
        var t = time_t(now.tv_sec)
        var parts = tm()
        localtime_r(&t, &parts)
        let stamp = String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, Int(now.tv_usec) / 1000)
        lock.lock()
        Swift.print("\(stamp) \(text)")
        lock.unlock()
    }
}
