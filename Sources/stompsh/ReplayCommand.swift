// `stompsh replay FILE [URL]`: sends the client frames of a recording (--record / `record start`) again, with
// their recorded spacing, to any broker. The engine is StompShell's Replay.

import ArgumentParser
import Foundation
import NIOPosix
import StompConnection
import StompProto
import StompShell

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send the client frames of a recording again, with their recorded spacing.",
        discussion: """
            FILE is a recording (stompsh --record FILE, or 'record start FILE'). Its sent frames (by default SEND, \
            SUBSCRIBE, UNSUBSCRIBE, BEGIN, COMMIT, ABORT) go to URL (default STOMP_URL, else stomp://localhost:61613) \
            on a connection of the replay's own, at the recorded moments (--speed scales them) or as fast as \
            --max-rate allows. A line that is not a JSON frame stops the replay there (FILE:LINE: error) unless \
            --skip-bad. A summary ends it. See stompsh(1).
            """,
        version: StompshVersion.string)

    @Argument(help: ArgumentHelp("The recording.", valueName: "file"))
    var file: String

    @Argument(help: ArgumentHelp("Broker to replay to.", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("Replay X times as fast as recorded (default 1).", valueName: "x"))
    var speed: Double?

    @Option(help: ArgumentHelp("Ignore the recorded spacing; at most N frames a second.", valueName: "n"))
    var maxRate: Double?

    @Option(help: ArgumentHelp("Frames to send, e.g. send,subscribe (default send,subscribe,unsubscribe,begin,commit,abort; also ack, nack).", valueName: "list"))
    var only: String?

    @Flag(help: "Skip lines that are not JSON frames (warned) instead of stopping.")
    var skipBad = false

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @OptionGroup var broker: BrokerLoginOptions






    mutating func validate() throws {
        if speed != nil, maxRate != nil { throw ValidationError("give --speed or --max-rate, not both") }
        if let s = speed, !(s > 0 && s.isFinite) { throw ValidationError("--speed: expected a number above 0, got \(s)") }
        if let r = maxRate, !(r > 0 && r.isFinite) { throw ValidationError("--max-rate: expected a number above 0, got \(r)") }
    }

    func run() throws {
        var options = ReplayOptions(path: file)
        options.speed = speed ?? 1
        options.maxRate = maxRate
        options.skipBad = skipBad
        func fail(_ message: String, _ status: Int32) -> ExitCode {
            FileHandle.standardError.write(Data("stompsh replay: \(message)\n".utf8))
            return ExitCode(status)
        }
        if let only {
            do { options.only = try Replay.parseOnly(only) } catch let e as ReplayError { throw fail(e.message, e.status) }
        }
        let text = url ?? ProcessInfo.processInfo.environment["STOMP_URL"] ?? "stomp://localhost:61613"
        var connection: ConnectionOptions
        do { connection = ConnectionOptions(urls: try StompURL.parseList(text)) } catch { throw fail("bad URL: \(error)", 2) }
        connection.login = broker.login
        if broker.passcodeEnv != nil { connection.passcode = broker.passcode }
        connection.vhost = broker.vhost
        connection.tls = broker.tls
        connection.reconnect = .none
        if broker.insecure { FileHandle.standardError.write(Data((TLSOptions.insecureWarning + "\n").utf8)) }
        let summary: ReplaySummary
        do {
            summary = try Replay.run(options, connection: connection, group: MultiThreadedEventLoopGroup.singleton,
                                     warn: { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
        } catch let e as ReplayError {
            throw fail(e.message, e.status)
        }
        print(json ? summary.json.compact : summary.text)
    }
}
