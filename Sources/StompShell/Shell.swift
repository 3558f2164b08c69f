// The shell: one logical line at a time on the calling thread (REPL thread or batch runner).

import Foundation
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import StompProto
import StompConnection
import RPCCommands

public enum OnError: String, Sendable { case stop, `continue` }

public struct Settings {
    public var format: OutputFormat = .pretty
    public var trace = false
    public var timing = true
    public var color: Bool = Output.defaultColor()
    public var onError: OnError = .stop
    public var quiet = false
    /// Default timeout of wait/expect/expect-error, seconds.
    public var timeout: Double = 5
    public init() {}
}

/// What a `connect` asks for; a field left nil comes from the session's defaults.
public struct ConnectParameters {
    public var url: String?
    public var login: String?
    public var passcode: String?
    public var vhost: String?
    public var stompVersion: String?
    public var heartBeat: String?
    /// `--write-timeout`, seconds (0: no limit); `--receipt-timeout`, seconds. As typed: `TimeoutOption` checks them.
    public var writeTimeout: String?
    public var receiptTimeout: String?
    public init() {}

    /// These parameters, with each field left nil taken from `defaults`.
    public func filled(from defaults: ConnectParameters) -> ConnectParameters {
        var p = self
        p.url = url ?? defaults.url
        p.login = login ?? defaults.login
        p.passcode = passcode ?? defaults.passcode
        p.vhost = vhost ?? defaults.vhost
        p.stompVersion = stompVersion ?? defaults.stompVersion
        p.heartBeat = heartBeat ?? defaults.heartBeat
        p.writeTimeout = writeTimeout ?? defaults.writeTimeout
        p.receiptTimeout = receiptTimeout ?? defaults.receiptTimeout
        return p
    }
}

/// How to connect when `connect` is given no URL or options (from argv and the environment).
public struct ConnectDefaults {
    public var parameters = ConnectParameters()
    public var tls = TLSOptions()
    /// `ws://`/`wss://`: extra handshake headers, Origin, binary messages (argv: --ws-header, --origin, --ws-binary).
    public var webSocket = WebSocketOptions()
    public var reconnect: ReconnectPolicy = .default
    /// The broker's quirks (argv: --profile FILE, from a probe); nil: derived from CONNECTED's `server` header.
    public var quirks: BrokerQuirks?
    public init() {}
}

/// Variables: user variables (`set NAME VALUE`), `env.NAME`, `last.body`, `last.header.NAME`, `rpc.result`.
public final class Variables {
    public var user: [String: String] = [:]
    weak var shell: Shell?

    public subscript(name: String) -> String? {
        get { try? resolve(name) }
        set { user[name] = newValue }
    }

    /// The value of `name`, nil if unknown. Throws for a value that is not UTF-8 (a binary `${last.body}`, an
    /// environment variable): substituting it would rewrite its bytes.
    public func resolve(_ name: String) throws -> String? {
        if let v = user[name] { return v }
        if name.hasPrefix("env.") {
            guard let raw = getenv(String(name.dropFirst(4))) else { return nil }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw))
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw ShellError("${\(name)} is not UTF-8 text: stompsh does not rewrite its bytes")
            }
            return text
        }
        if name.hasPrefix("last.") {
            guard let last = shell?.lastMessage else { return nil }
            let key = String(name.dropFirst(5))
            switch key {
            case "body":
                guard let text = String(validating: last.body, as: UTF8.self) else {
                    throw ShellError("${last.body} is not UTF-8 text (\(last.body.count) bytes): stompsh does not rewrite "
                                     + "its bytes into a command line")
                }
                return text
            case "frame": return last.command.rawValue
            default:
                if key.hasPrefix("header.") { return last.headers[String(key.dropFirst(7))] }
                return last.headers[key]     // ${last.destination}, ${last.message-id}
            }
        }
        return nil
    }
}

public final class Shell: @unchecked Sendable {
    public let group: EventLoopGroup
    public let output: Output
    public let wake: WakeUp
    public let inbox: Inbox
    public let variables = Variables()
    public let completion = CompletionData()
    public var table: [CommandSpec]
    public var defaults = ConnectDefaults()
    /// True in the REPL (password prompts, caret under errors).
    public var interactive = false
    /// Lines source for blocks typed interactively (raw, heredoc); set by the REPL.
    public var settings = Settings() { didSet { applySettings() } }

    public private(set) var client: StompClient?
    var generation = 0
    public internal(set) var lastMessage: StompFrame?
    /// Why the last connection ended for good (nil: never connected or closed by us).
    public internal(set) var lostReason: String?
    /// The broker is ActiveMQ 5, which trims destination names (`DestinationCheck`): set on each CONNECTED.
    var destinationsTrimmed = false
    /// A connection ended for good (not by us) and no `expect-error` took the ERROR it ended with:
    /// a script then exits with status 3.
    public internal(set) var lostForGood = false
    /// `expect-error` took an ERROR on the current connection: a close by the broker after it is expected.
    var expectedErrorTaken = false
    /// Names `begin` gives (t1, t2, ...): a naming policy, not session state.
    var transactionCounter = 0
    public internal(set) var messagesReceived = 0
    /// `subscribe --count` subscriptions by id: told what was printed, they acknowledge it once written.
    var countedSubscriptions: [String: CountedSubscription] = [:]
    /// The destination of the last message, added to the completion data then.
    private var lastCompletedDestination: String?
    var quitRequested = false
    /// Set when a command asks to leave (quit/exit).
    public var shouldQuit: Bool { quitRequested }
    /// Login of the current connection (for the prompt).
    var connectedLogin: String?

    public init(group: EventLoopGroup? = nil, output: Output = Output(), table: [CommandSpec] = CommandTable.all) {
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.output = output
        self.wake = WakeUp()
        self.inbox = Inbox(wake: wake)
        self.sends = SendsInFlight(wake: wake)
        self.table = table
        settings.color = output.color
        variables.shell = self
        applySettings()
    }

    func applySettings() {
        output.format = settings.format
        output.color = settings.color
        output.quiet = settings.quiet
        inbox.acceptTrace = settings.trace || recorder != nil
        client?.setTrace(settings.trace || recorder != nil)
    }

    /// `--record FILE` / `record start FILE`: every frame in both directions goes to it (from the wire trace).
    public var recorder: FrameRecorder? { didSet { applySettings() } }

    // MARK: the session's state, read from the client (the shell keeps no copy)

    /// Reads the client's session on its event loop; nil when not connected.
    public func session<T: Sendable>(_ read: @escaping @Sendable (StompSession) -> T) -> T? {
        guard let client else { return nil }
        return try? client.query(read).wait()
    }

    /// Open transactions, in begin order.
    public var openTransactions: [String] { session { $0.openTransactions } ?? [] }
    /// Active subscriptions, in subscribe order.
    public var subscriptions: [SubscriptionInfo] { session { $0.subscriptions } ?? [] }
    /// The newest open transaction: sends and acks join it.
    public var currentTransaction: String? { openTransactions.last }

    public var interrupted: Bool { Interrupt.requested }

    /// The client, or "not connected".
    public func requireClient() throws -> StompClient {
        if let client { return client }
        if let lostReason { throw ShellError.connection("not connected (connection lost: \(lostReason))") }
        throw ShellError("not connected (use 'connect [URL]')")
    }

    // MARK: prompt

    public var prompt: String {
        guard let client else { return "(not connected)> " }
        var p = ""
        if let l = connectedLogin { p += "\(l)@" }
        p += client.url.hostAndPort + " " + client.connectedInfo.version.rawValue
        if let tx = currentTransaction { p += " [tx:\(tx)]" }
        return p + "> "
    }

    // MARK: running lines

    /// Parses and runs one logical line (`block`: heredoc / raw lines). Throws ShellError.
    /// The line's SENDs are settled at its end (`settleSends`).
    public func run(line: String, block: [String]? = nil) throws {
        do {
            processEvents()
            try checkOutput()
            guard let cmd = try LineParser.parse(line, block: block, table: table, resolve: variables.resolve) else { return }
            try run(cmd)
            try settleSends()
            processEvents()
            try checkOutput()
        } catch {
            // Ctrl-C ends the line at once, even while SENDs wait for a broker that stopped reading: they stay
            // handed over (the next command waits for them again, interruptibly, at most the write stall timeout).
            if let e = error as? ShellError, e.message == "interrupted" { throw error }
            try settleSends()     // a failed SEND before the error is reported first
            throw error
        }
    }

    /// One iteration of `repeat`: `run(line:block:)` without settling the SENDs (the repeat's own line does),
    /// and parsed once when only its rest-of-line argument substitutes variables (`template`, kept between
    /// iterations; see LineTemplate).
    func runIteration(line: String, block: [String]?, template: inout LineTemplate?) throws {
        processEvents()
        try checkOutput()
        let parsed: ParsedCommand?
        if template != nil {
            parsed = try template!.instantiate(resolve: variables.resolve)     // (no copy of the template)
        } else {
            parsed = try LineParser.parse(line, block: block, table: table, resolve: variables.resolve, template: &template)
        }
        guard let cmd = parsed else { return }
        try run(cmd)
        processEvents()
        try checkOutput()
    }

    public func run(_ cmd: ParsedCommand) throws {
        // Only a `send` may follow SENDs still in flight (see SendsInFlight); any other command waits for them.
        if cmd.spec.name != CoreCommands.send.name || client == nil { try settleSends() }
        if cmd.spec.needsConnection, let c = client, c.state == .reconnecting,
           !Self.runsWhileReconnecting.contains(cmd.spec.name) {
            try waitWhileReconnecting()
        }
        if cmd.spec.needsConnection, client == nil {
            var e: ShellError
            do { _ = try requireClient(); return } catch let err as ShellError { e = err }
            e.column = cmd.commandColumn
            throw e
        }
        if destinationsTrimmed, client != nil { try DestinationCheck.checkForActiveMQ(cmd) }
        do {
            try cmd.spec.run(self, cmd)
        } catch var e as ShellError {
            if output.failure != nil { try checkOutput() }      // the closed connection is not the cause
            if e.column == nil { e.column = cmd.commandColumn }
            throw e
        } catch {
            if output.failure != nil { try checkOutput() }
            throw ShellError(Self.describe(error), column: cmd.commandColumn,
                             exitStatus: (error as? StompConnectionError)?.endsConnection == true && client == nil ? 3 : 1)
        }
    }

    // MARK: SENDs in flight

    /// The SENDs without a receipt handed to the client and not yet written (see SendsInFlight).
    let sends: SendsInFlight
    /// The destination a pipelined send last added to the completion words (adding it again changes nothing).
    var lastSendDestination: String?

    /// `send` without a receipt: hands the SEND to the client and returns at once; a failure is thrown by the
    /// next `settleSends`, with `column` (the send command's).
    func sendPipelined(_ client: StompClient, destination: String, headers: StompHeaders, body: [UInt8], column: Int) throws {
        if sends.hasFailure { try settleSends() }
        if sends.full {
            try sends.wait(downTo: SendsInFlight.maxInFlight / 2, bytes: SendsInFlight.maxBytesInFlight / 2,
                           check: checkWhileSettling, pump: { pump(maxWait: 0.5) })
        }
        sends.submit(client, destination: destination, headers: headers, body: body, column: column)
    }

    /// Waits until every SEND handed over is written (printing what arrives meanwhile) and throws the first
    /// that failed, as the `send` command would have thrown it. Called before any other command, before any
    /// blocking wait and at the end of each line.
    func settleSends() throws {
        guard sends.unsettled else { return }
        try sends.wait(downTo: 0, check: checkWhileSettling, pump: { pump(maxWait: 0.5) })
        guard let failure = sends.takeFailure() else { return }
        processEvents()
        var e: ShellError
        if let ce = failure.error as? StompConnectionError {
            e = ShellError(ce.description, column: nil, exitStatus: ce.endsConnection ? 3 : 1)
        } else {
            e = ShellError(Self.describe(failure.error))
        }
        if output.failure != nil { try checkOutput() }      // the closed connection is not the cause
        e.column = failure.column
        throw e
    }

    private func checkWhileSettling() throws {
        try checkOutput()
        if Interrupt.requested { Interrupt.clear(); throw ShellError("interrupted") }
    }

    /// Commands that act at once even while the client reconnects (leaving needs no connection back).
    static let runsWhileReconnecting: Set<String> = ["disconnect"]

    /// While the client reconnects (broker restarted, network dropped), waits until it is connected again or
    /// has given up, printing what arrives meanwhile: a command typed during the outage then runs on the new
    /// connection instead of failing with "not connected". Ctrl-C stops the wait.
    func waitWhileReconnecting() throws {
        guard let c = client, c.state == .reconnecting else { return }
        _ = try waitUntil(timeout: 366 * 86_400) { client.map { $0.state != .reconnecting } ?? true }
    }

    static func describe(_ error: Error) -> String {
        String(describing: error)
    }

    /// Whether a line must never be written to history.
    public func isSensitive(_ line: String) -> Bool {
        var lx = LineLexer(line, resolve: nil)
        var words: [String] = []
        while let t = try? lx.next() { words.append(t.text) }
        guard let first = words.first, let spec = CommandTable.find(first, in: table) else {
            return line.contains("passcode")
        }
        if spec.sensitive { return true }
        for w in words.dropFirst() {
            let name = w.split(separator: "=", maxSplits: 1).first.map(String.init) ?? w
            if let o = spec.option(named: name), o.sensitive { return true }
            // a URL with user:passcode@
            if w.range(of: "://[^/@ ]*:[^/@ ]*@", options: .regularExpression) != nil { return true }
        }
        return false
    }

    // MARK: events

    /// Drains the inbox: prints frames, records messages for wait/expect, follows the connection's state.
    /// Once standard output has failed, nothing more is printed or taken: the connection is closed at once
    /// (see `checkOutput`).
    public func processEvents() {
        guard output.failure == nil else { return closeAfterOutputFailure() }
        let events = inbox.take()
        if events.isEmpty {
            // ACKs held back a moment (`CountedSubscription.ackInterval`) go once the shell is idle
            if !countedSubscriptions.isEmpty { settleCountedSubscriptions() }
            return
        }
        let now = Date()    // the shell thread takes a batch at once: one clock read for its messages
        output.batch {      // what they print goes out in one write
            for (gen, event, cost) in events where gen == generation {
                handle(event, cost: cost, at: now)
                if output.failure != nil { break }
            }
        }
        if output.failure != nil { return closeAfterOutputFailure() }
        if !countedSubscriptions.isEmpty { settleCountedSubscriptions() }
    }

    /// After a batch was written: `subscribe --count` acknowledges what it printed (and ends once N were).
    private func settleCountedSubscriptions() {
        for (id, counted) in countedSubscriptions where counted.settle() { countedSubscriptions[id] = nil }
    }

    // MARK: a failing standard output

    /// Whether the output failure has been reported (thrown once by `checkOutput`).
    public internal(set) var outputFailureReported = false

    /// Throws once standard output has failed (a closed pipe, a full disk, a closed descriptor): the
    /// connection is closed at once, without DISCONNECT, so the broker stops delivering and takes back what
    /// was not acknowledged, instead of stompsh consuming messages that can be printed nowhere. The error
    /// ends the session whatever `on-error` says (BatchRunner, REPL); its exit status is 1.
    public func checkOutput() throws {
        // A recording's write error found on an event loop (a bench's or rpc serve's connection records there).
        if recordingFailure == nil, let r = recorder, let f = r.failure { recorder = nil; recordingFailure = f }
        if let f = recordingFailure, !recordingFailureReported {
            recordingFailureReported = true
            throw ShellError("recording stopped: \(f)")
        }
        guard let failure = output.failure else { return }
        closeAfterOutputFailure()
        outputFailureReported = true
        throw ShellError("\(failure): stopped" + (closedAfterOutputFailure ? "; connection closed, nothing more is consumed" : ""))
    }

    /// Why the recording (`--record`, `record start`) stopped: its file could not be written. Thrown once by
    /// `checkOutput` (status 1); a script ends there whatever `on-error` says (BatchRunner), as for stdout.
    public internal(set) var recordingFailure: String?
    /// Whether `checkOutput` has thrown `recordingFailure`.
    public internal(set) var recordingFailureReported = false

    /// Whether `closeAfterOutputFailure` closed a connection.
    var closedAfterOutputFailure = false

    /// Closes the socket at once (no DISCONNECT, no waiting for receipts) after standard output failed.
    func closeAfterOutputFailure() {
        guard let c = client else { return }
        closedAfterOutputFailure = true
        client = nil
        inbox.attachFlowControl(nil)
        generation += 1
        _ = try? c.close().wait()
    }

    /// The `subscribe --count` subscription a MESSAGE belongs to: its `subscription` header compared as bytes with
    /// the few counted ones (no String made per message).
    private func countedSubscription(of f: StompFrame) -> CountedSubscription? {
        if countedSubscriptions.count > 4 { return f.headers.value("subscription").flatMap { countedSubscriptions[$0] } }
        for (id, counted) in countedSubscriptions where f.headers.value(of: "subscription", is: id) { return counted }
        return nil
    }

    /// `cost`: the event's `Inbox.cost`, when the inbox computed it; `at`: when the shell thread took it.
    func handle(_ event: ClientEvent, cost: Int? = nil, at now: Date = Date()) {
        switch event {
        case .frame(let f):
            switch f.command {
            case .message:
                // a `subscribe --count` closed before the DISCONNECT: not shown (nor acknowledged: it goes back)
                if !countedSubscriptions.isEmpty, countedSubscription(of: f)?.closed == true { return }
                lastMessage = f
                // A queue browser's end marker (ActiveMQ `browser:end`) is no message: wait/expect never see it.
                // (the name looked for as a static string first: a String name of up to 15 bytes is copied per call)
                if !(f.headers.contains(static: "browser") && f.headers.value(of: "browser", is: "end")) {
                    messagesReceived += 1
                    inbox.record(ReceivedMessage(frame: f, receivedAt: now), cost: cost)
                }
                // completion: a destination once per run of messages from it (not a lock and a search per message,
                // nor a String: the bytes are compared with the last one)
                if !(lastCompletedDestination.map { f.headers.value(of: "destination", is: $0) } ?? false),
                   let d = f.headers.value("destination") {
                    completion.add(.destination, d)
                    lastCompletedDestination = d
                }
                if let r = f.headers.value("reply-to") { completion.add(.destination, r) }
            case .error:
                inbox.errors.append(f)
            default: break
            }
            output.frame(f)
            if f.command == .message, !countedSubscriptions.isEmpty { countedSubscription(of: f)?.printed(f) }
        case .trace(let dir, let bytes, let at):
            if let r = recorder {
                r.record(outbound: dir == .outbound, bytes, at: at)
                if let f = r.failure { recorder = nil; recordingFailure = f }
            }
            if settings.trace { output.trace(outbound: dir == .outbound, bytes: bytes) }
        case .transportTrace(let dir, let note, _):
            if settings.trace { output.transportTrace(outbound: dir == .outbound, note: note) }
        case .connectionLost(let reason):
            output.warning("connection lost: \(reason)")
        case .reconnecting(let attempt, let url, let delay):
            output.info("reconnecting to \(url) (attempt \(attempt), in \(Double(delay.nanoseconds) / 1e9) s)")
        case .reconnected(let info, let resubscribed, let lost):
            destinationsTrimmed = BrokerFamily(server: info.server) == .activeMQ5     // failover may change brokers
            output.info("reconnected (STOMP \(info.version.rawValue))"
                        + (resubscribed.isEmpty ? "" : "; resubscribed: \(resubscribed.map { VisibleText.value($0.id) }.joined(separator: ", "))"))
            if !lost.transactions.isEmpty {
                output.warning("transactions lost: \(lost.transactions.map(VisibleText.value).joined(separator: ", "))")
            }
            if !lost.unacknowledged.isEmpty {
                output.warning("\(lost.unacknowledged.count) unacknowledged message(s) will be redelivered")
            }
        case .closed(let error):
            client = nil
            inbox.attachFlowControl(nil)
            if let error {
                lostReason = error.description
                if case .brokerError = error, expectedErrorTaken {
                    // The broker closed after the ERROR a script expected: the end it asked for.
                    lostReason = "broker sent ERROR (expected)"
                    output.info("connection closed by the broker after its ERROR")
                } else {
                    lostForGood = true
                    output.error("error: connection lost for good: \(error.description)")
                }
            }
            connectedLogin = nil
        }
    }

    // MARK: waiting

    /// Waits for the wake-up pipe (frames, completed futures, Ctrl-C) at most `seconds`, then drains events.
    public func pump(maxWait seconds: Double) {
        var pfd = pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(0, min(seconds, 3600)) * 1000)
        _ = poll(&pfd, 1, ms)
        wake.drain()
        processEvents()
    }

    /// Blocks until the future completes, Ctrl-C, or the timeout; prints frames meanwhile.
    public func waitInterruptibly<T>(_ future: EventLoopFuture<T>, timeout: Double? = nil) throws -> T {
        try blockingWait(for: future, timeout: timeout, slice: 0.5,
                         timedOut: "timed out after \(Self.seconds(timeout ?? 0)) s",
                         check: { try checkOutput() }) { r in
            processEvents()
            switch r {
            case .success(let v): return v
            case .failure(let e):
                if let ce = e as? StompConnectionError {
                    throw ShellError(ce.description, column: nil, exitStatus: ce.endsConnection ? 3 : 1)
                }
                throw ShellError(Self.describe(e))
            }
        }
    }

    /// Sleeps interruptibly, printing frames meanwhile.
    public func sleepInterruptibly(_ seconds: Double) throws {
        try settleSends()
        let deadline = ShellClock.deadline(in: seconds)
        while true {
            try checkOutput()
            if Interrupt.requested { Interrupt.clear(); throw ShellError("interrupted") }
            let left = ShellClock.secondsLeft(until: deadline)
            if left <= 0 { return }
            pump(maxWait: min(left, 0.5))
        }
    }

    /// Waits until `condition` holds (checked after every batch of events), Ctrl-C, or the deadline.
    /// Returns false on timeout. With `failingOnLoss` (the command's name), a connection lost for good
    /// while the condition does not hold ends the wait at once (exit status 3): nothing more can arrive.
    func waitUntil(timeout: Double, failingOnLoss command: String? = nil, _ condition: () -> Bool) throws -> Bool {
        try settleSends()
        processEvents()
        let connectedAtStart = client != nil
        let deadline = ShellClock.deadline(in: timeout)
        while !condition() {
            try checkOutput()
            if Interrupt.requested { Interrupt.clear(); throw ShellError("interrupted") }
            if let command, client == nil, connectedAtStart || lostReason != nil {
                throw ShellError.connection("\(command): connection lost: \(lostReason ?? "closed")")
            }
            let left = ShellClock.secondsLeft(until: deadline)
            if left <= 0 { return false }
            pump(maxWait: min(left, 0.5))
        }
        return true
    }

    static func seconds(_ d: Double) -> String {
        d == d.rounded() ? String(Int(d)) : String(format: "%g", d)
    }

    // MARK: connecting

    /// Connects (closing any current connection first). Errors are ShellErrors with exit status 3 (2 for bad input).
    public func connect(_ request: ConnectParameters) throws {
        let req = request.filled(from: defaults.parameters)
        let urlText = req.url ?? ProcessInfo.processInfo.environment["STOMP_URL"] ?? "stomp://localhost:61613"
        let urls: [StompURL]
        do { urls = try StompURL.parseList(urlText) } catch {
            throw ShellError("bad URL: \(Self.describe(error))", column: nil, exitStatus: 2)
        }
        var options = ConnectionOptions(urls: urls)
        options.login = req.login
        options.passcode = req.passcode
        options.vhost = req.vhost
        if let v = req.stompVersion { options.versions = try Self.stompVersions(v) }
        if let hb = req.heartBeat { options.heartBeat = try Self.heartBeat(hb) }
        try TimeoutOption.write.apply(req.writeTimeout, to: &options)
        try TimeoutOption.receipt.apply(req.receiptTimeout, to: &options)
        // DISCONNECT's RECEIPT is a RECEIPT like any other (it confirms the sends without one): same timeout
        options.disconnectTimeout = options.receiptTimeout
        options.tls = defaults.tls
        options.webSocket = defaults.webSocket
        options.reconnect = defaults.reconnect
        options.quirks = defaults.quirks
        options.trace = settings.trace || recorder != nil   // `set trace` toggles it on the client (applySettings)
        // a login without a passcode on a terminal: ask
        let login = options.login ?? urls.first?.login
        let hasPasscode = options.passcode != nil || urls.first?.passcode != nil
            || ProcessInfo.processInfo.environment["STOMP_PASSCODE"] != nil
        if login != nil, !hasPasscode, interactive, isatty(0) == 1 {
            options.passcode = Password.read(prompt: "passcode for \(login!)@\(urls.first?.hostAndPort ?? ""): ")
        }
        if client != nil {
            do { try disconnect() } catch let e as ShellError { output.warning(e.message) } catch {}
        }
        if defaults.tls.insecure, urls.contains(where: \.tls) { output.error(TLSOptions.insecureWarning) }
        generation += 1
        let gen = generation
        let inbox = self.inbox
        // Back-pressure: the inbox stops the client reading while this thread is behind. Attached on the
        // event loop as soon as the client exists, before it reads anything after CONNECTED.
        let future = StompClient.connect(options, on: group) { event in inbox.push(event, generation: gen) }
            .map { client in
                inbox.attachFlowControl { paused in client.setReadingPaused(paused) }
                return client
            }
        // A refused login reaches the inbox as the broker's own ERROR frame (the client emits it
        // before failing the connect), so `expect-error` can assert it.
        do {
            let c = try waitInterruptibly(future)
            client = c
        } catch var e as ShellError {
            // The connect's own failure is a connection failure (3); an interrupt or a standard output that
            // failed meanwhile (the --trace of CONNECT, checkOutput) is not: 1.
            e.exitStatus = e.message == "interrupted" || output.failure != nil || recordingFailure != nil ? 1 : 3
            throw e
        }
        lostReason = nil
        expectedErrorTaken = false
        connectedLogin = login ?? ProcessInfo.processInfo.environment["STOMP_LOGIN"]
        let info = client!.connectedInfo
        destinationsTrimmed = BrokerFamily(server: info.server) == .activeMQ5
        var text = "connected to \(client!.url) (STOMP \(info.version.rawValue)"
        if let s = info.server { text += ", \(VisibleText.value(s))" }
        text += ")"
        var o = JSONObject()
        o.append("connected", .string(client!.url.description))
        o.append("version", .string(info.version.rawValue))
        if let s = info.server { o.append("server", .string(s)) }
        if let s = info.session { o.append("session", .string(s)) }
        output.result(text: text, json: .object(o))
    }

    /// `--stomp-version 1.1,1.2`; a usage error (status 2) otherwise.
    static func stompVersions(_ text: String) throws -> [StompVersion] {
        try text.split(separator: ",").map { part in
            guard let v = StompVersion(rawValue: String(part).trimmingCharacters(in: .whitespaces)) else {
                throw ShellError("bad STOMP version '\(part)' (1.0, 1.1 or 1.2)", column: nil, exitStatus: 2)
            }
            return v
        }
    }

    /// `--heart-beat CX,CY`; a usage error (status 2) otherwise.
    static func heartBeat(_ text: String) throws -> HeartBeat {
        guard let h = HeartBeat(header: text) else {
            throw ShellError("bad heart-beat '\(text)' (CX,CY in milliseconds)", column: nil, exitStatus: 2)
        }
        return h
    }

    /// DISCONNECT, its RECEIPT awaited as `--receipt-timeout` says; with `grace` (a run Ctrl-C ended: the user
    /// asked to stop) at most that long, then the socket is closed.
    public func disconnect(grace: Double? = nil) throws {
        // `subscribe --count`: what already arrived is printed, and what was printed is acknowledged, before the
        // DISCONNECT; what arrives after is not printed (the broker gives it back)
        if client != nil, !countedSubscriptions.isEmpty {
            processEvents()
            try checkOutput()
            for counted in countedSubscriptions.values { counted.closeForDisconnect() }
        }
        guard let c = client else { return }
        defer {
            client = nil
            inbox.attachFlowControl(nil)
            generation += 1
            countedSubscriptions = [:]    // closed: a later connection's subscription of the same id is not one of them
        }
        let wait = min(ConnectionTimeouts(c.options).disconnectWait, grace ?? .infinity)
        do { try waitInterruptibly(c.disconnect(), timeout: wait) } catch {
            output.warning("disconnect: \(Self.describe(error))")
            if grace != nil { _ = c.close() }
        }
        processEvents()
        // Sends without receipts are known to have arrived only from the DISCONNECT's answer. A broker that
        // closed or reset the connection instead failed; one that was only slow to answer (a flood ahead of its
        // RECEIPT, say) is worth a word.
        let snapshot = try? c.snapshot().wait()
        if let why = snapshot?.disconnectUnconfirmed {
            throw ShellError("disconnect: the broker did not confirm the DISCONNECT (\(why)): "
                             + "frames sent without a receipt may not have arrived")
        }
        if snapshot?.disconnectTimedOut == true {
            output.warning("disconnect: no RECEIPT for the DISCONNECT within \(Self.seconds(Double(c.options.disconnectTimeout.nanoseconds) / 1e9)) s, "
                           + "closed anyway: frames sent without a receipt may not have arrived")
        }
    }

    /// Leaves at the next line (quit, exit).
    public func requestQuit() { quitRequested = true }
}

