// `stompsh probe`: the conformance report card of one broker, or several side by side (--compare).

import ArgumentParser
import Foundation
import NIOPosix
import StompConnection
import StompProbe
import StompShell

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Measure what a STOMP broker really does: a conformance report card.",
        discussion: """
            Runs a battery of checks (groups: \(ProbeGroup.allCases.map(\.rawValue).joined(separator: ", "))) on private \
            destinations (/queue/stompsh-probe-RANDOM.*, drained afterwards) and prints, for each check, the \
            specification's reference, what the broker did and a verdict: conforms, deviates, not supported or could \
            not tell. Exit status: 0 the probe ran (whatever the verdicts), 1 with --strict when a check deviates, \
            2 usage error, 3 could not connect, 130 interrupted (the partial card is printed). See stompsh(1), PROBE.
            """,
        version: StompshVersion.string)

    @Argument(help: ArgumentHelp("Broker to probe: stomp://[LOGIN[:PASSCODE]@]HOST[:PORT][/VHOST] or stomp+ssl://... (default stomp://localhost:61613).",
                                 valueName: "url"))
    var url: String?

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Probe each URL and print the cards side by side, differences marked with *.", valueName: "url"))
    var compare: [String] = []

    @Flag(help: "Print the card(s) as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Run only these groups (comma-separated).", valueName: "group,..."))
    var only: String?

    @Option(help: ArgumentHelp("Seconds to wait for each answer the broker owes.", valueName: "seconds"))
    var timeout: Double = 2

    @Option(help: ArgumentHelp("Seconds the idle-socket check waits for the broker to drop a connection that never sends CONNECT.",
                               valueName: "seconds"))
    var idleWait: Double = 12

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Show the frames each check exchanged (trimmed).")
    var verbose = false

    @Flag(help: "Exit with status 1 when any check deviates.")
    var strict = false

    @Flag(help: "List the checks (id, what is checked, the specification's reference) and exit.")
    var listChecks = false

    @Option(help: ArgumentHelp("Also write the broker-quirks profile the card implies to FILE (one URL only).", valueName: "file"))
    var profile: String?








    @OptionGroup var broker: BrokerLoginOptions

    mutating func validate() throws {
        guard timeout.isFinite, timeout > 0, timeout <= 60 else {
            throw ValidationError("--timeout: expected seconds above 0 and at most 60, got \(timeout)")
        }
        guard idleWait.isFinite, idleWait > 0, idleWait <= 600 else {
            throw ValidationError("--idle-wait: expected seconds above 0 and at most 600, got \(idleWait)")
        }
        if let only { do { _ = try ProbeGroup.parseList(only) } catch { throw ValidationError("--only: \(error)") } }
        if !compare.isEmpty, url != nil { compare.insert(url!, at: 0); url = nil }
        if !compare.isEmpty, compare.count < 2 { throw ValidationError("--compare: give at least two URLs") }
        if profile != nil, !compare.isEmpty { throw ValidationError("--profile: probe one URL, not --compare") }
        for u in compare + (url.map { [$0] } ?? []) {
            do {
                let list = try StompURL.parseList(u)
                if list.count != 1 { throw ValidationError("probe one broker per URL, not a failover list: '\(u)'") }
            } catch let e as ValidationError { throw e } catch { throw ValidationError("bad URL: \(error)") }
        }
        if let p = profile {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue {
                throw ValidationError("--profile: '\(p)' is a directory")
            }
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        if listChecks {
            let groups = try only.map(ProbeGroup.parseList) ?? []
            let rows = ProbeChecks.all.filter { groups.isEmpty || groups.contains($0.group) }
            let width = (rows.map(\.id.count).max() ?? 0) + 2
            try write(rows.map { $0.id.padding(toLength: width, withPad: " ", startingAt: 0) + $0.title + " [" + $0.spec + "]\n" }.joined())
            return
        }
        var options = ProbeOptions()
        options.timeout = timeout
        options.idleWindow = idleWait
        options.groups = try only.map(ProbeGroup.parseList) ?? []
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let urls = compare.isEmpty ? [url ?? "stomp://localhost:61613"] : compare
        // Ctrl-C / SIGTERM: the running check ends, the rest are marked, the queues drained, the card printed (130).
        let cancellation = ProbeCancellation()
        let signals = onTerminationSignals { cancellation.cancel() }
        defer { signals.cancel() }
        var reports: [ProbeReport] = []
        for u in urls {
            let parsed = try StompURL(parsing: u)
            reports.append(probe(parsed, options: options, group: group, cancellation: cancellation))
        }
        var text: String
        if json {
            if reports.count == 1 {
                text = String(decoding: try reports[0].jsonData(), as: UTF8.self) + "\n"
            } else {
                text = String(decoding: try ProbeJSON.data(reports), as: UTF8.self) + "\n"
            }
        } else if reports.count == 1 {
            text = ProbeCardRenderer.text(reports[0], verbose: verbose)
        } else {
            text = ProbeCardRenderer.comparison(reports)
            if verbose { text += reports.map { "\n" + ProbeCardRenderer.text($0, verbose: true) }.joined() }
        }
        try write(text)
        if let p = profile, let report = reports.first, !report.unreachable {
            do { try BrokerQuirksProfile(report: report).jsonData().write(to: URL(fileURLWithPath: p)) } catch {
                FileHandle.standardError.write(Data("stompsh probe: cannot write the profile '\(p)': \(error.localizedDescription)\n".utf8))
                throw ExitCode(1)
            }
        }
        if reports.contains(where: \.unreachable) {
            for r in reports where r.unreachable {
                FileHandle.standardError.write(Data("stompsh probe: \(r.url): \(r.results.first?.observed ?? "cannot connect")\n".utf8))
            }
            throw ExitCode(3)
        }
        if cancellation.isCancelled {
            FileHandle.standardError.write(Data("stompsh probe: interrupted; the card above is partial\n".utf8))
            throw ExitCode(130)
        }
        if strict, reports.contains(where: \.hasDeviations) { throw ExitCode(1) }
    }

    func probe(_ url: StompURL, options: ProbeOptions, group: MultiThreadedEventLoopGroup, cancellation: ProbeCancellation) -> ProbeReport {
        let env = ProcessInfo.processInfo.environment
        var target = ProbeTarget(host: broker.vhost ?? url.vhost ?? "/", hostName: url.host)
        target.login = broker.login ?? url.login ?? env["STOMP_LOGIN"]
        target.passcode = broker.passcode ?? url.passcode ?? env["STOMP_PASSCODE"]
        let tls = broker.tls
        let transport = SocketTransport(url: url, tls: tls, group: group)
        return Prober(transport: transport, target: target, options: options, displayURL: url.description,
                      cancellation: cancellation).run()
    }

    /// Writes the card; a failing stdout (closed pipe, full disk) ends the command loudly with status 1.
    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let why = String(cString: strerror(errno))
                FileHandle.standardError.write(Data("stompsh probe: cannot write the report: \(why)\n".utf8))
                throw ExitCode(1)
            }
            done += n
        }
    }
}
