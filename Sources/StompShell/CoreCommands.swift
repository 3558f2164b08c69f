// Core commands: connection, frames, subscriptions, transactions, raw, status, set, help, echo, sleep, quit.

import Foundation
import NIOCore
import StompProto
import StompConnection
import RPCCommands

public enum CoreCommands {
    public static var all: [CommandSpec] {
        [connect, disconnect, send, subscribe, unsubscribe, ack, nack, begin, commit, abort, raw, status, set,
         help, echo, sleep, quit]
    }

    // MARK: helpers

    /// The `-H NAME:VALUE` options of a command, in order (repeats kept), parsed by `HeaderArgument`.
    static func headers(_ p: ParsedCommand) throws -> StompHeaders {
        var h = StompHeaders()
        for (long, value, column) in p.optionValues where long == "--header" {
            guard let (name, v) = HeaderArgument.split(value) else {
                throw ShellError.usage("-H: expected NAME:VALUE, got '\(value)'", column: column)
            }
            h.append(name, v)
        }
        return h
    }

    /// The largest body stompsh sends: what it accepts from a broker (`StompLimits.maxBodySize`, 64 MiB).
    static let maxBodySize = StompLimits.default.maxBodySize

    /// Refuses a body over `maxBodySize` (`what`: where it comes from, e.g. the file's name) before anything is sent.
    static func checkBodySize(_ size: Int, from what: String? = nil, column: Int?) throws {
        guard size > maxBodySize else { return }
        let source = what.map { "'\($0)' is " } ?? ""
        throw ShellError("body too large: \(source)\(size) bytes; stompsh sends at most \(maxBodySize) "
                         + "(\(maxBodySize / (1024 * 1024)) MiB, its maxBodySize)", column: column)
    }

    /// The bytes of the file at `path` (a body): any readable file, FIFOs, /dev/stdin and /dev/null included.
    /// A regular file larger than `maxBodySize` is refused before reading, anything else once it grows past it.
    static func readFile(_ path: String, column: Int) throws -> [UInt8] {
        let expanded = (path as NSString).expandingTildeInPath
        func failure(_ errorNumber: Int32) -> ShellError {
            ShellError.usage("cannot read '\(path)': \(String(cString: strerror(errorNumber)))", column: column)   // like dump's, load's
        }
        let fd = open(expanded, O_RDONLY)
        guard fd >= 0 else { throw failure(errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure(errno) }
        if st.st_mode & S_IFMT == S_IFDIR { throw failure(EISDIR) }
        if st.st_mode & S_IFMT == S_IFREG { try checkBodySize(Int(st.st_size), from: path, column: column) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes += chunk[0..<n]
                try checkBodySize(bytes.count, from: path, column: column)
            } else if n == 0 {
                return bytes
            } else if errno != EINTR {
                throw failure(errno)
            } else if Interrupt.requested {
                Interrupt.clear()
                throw ShellError("interrupted", column: column)
            }
        }
    }

    static func ms(_ start: NIODeadline) -> Double { ShellClock.milliseconds(since: start) }

    static func obj(_ pairs: (String, JSONValue)...) -> JSONValue { .object(JSONObject(pairs)) }

    // MARK: connection

    static let connect = CommandSpec(
        name: "connect",
        arguments: [ArgumentSpec("URL", .url, optional: true,
                                 help: "stomp://[LOGIN[:PASSCODE]@]HOST[:PORT][/VHOST], stomp+ssl://..., ws://[LOGIN[:PASSCODE]@]HOST[:PORT]/PATH, wss://..., failover:(URL,URL)")],
        options: [
            OptionSpec("--login", value: .string, valueName: "L", help: "login (default: the URL's, or STOMP_LOGIN)"),
            OptionSpec("--passcode", value: .string, valueName: "P", sensitive: true,
                       help: "passcode (asked without echo when a login is given without one on a terminal)"),
            OptionSpec("--vhost", value: .string, valueName: "V", help: "CONNECT host header (RabbitMQ: the virtual host)"),
            OptionSpec("--stomp-version", value: .string, valueName: "V", help: "versions to offer, e.g. 1.2 or 1.1,1.2"),
            OptionSpec("--heart-beat", value: .string, valueName: "CX,CY", help: "heart-beats in ms (0,0 disables)"),
            OptionSpec(TimeoutOption.write.rawValue, value: .string, valueName: "S",
                       help: "give up a connection whose broker takes none of our bytes for S seconds (default 10; 0: wait for ever)"),
            OptionSpec(TimeoutOption.receipt.rawValue, value: .string, valueName: "S",
                       help: "wait at most S seconds for a RECEIPT, DISCONNECT's too (default 10)"),
        ],
        summary: "connect to a broker",
        help: "Connects to the broker at URL (default: the URL given on the command line, STOMP_URL, or stomp://localhost:61613). A current connection is closed first. ws:// and wss:// are STOMP over WebSocket (RabbitMQ Web-STOMP: ws://HOST:15674/ws); their handshake headers, Origin and binary messages come from the command line (--ws-header, --origin, --ws-binary).",
        run: { shell, p in
            var r = ConnectParameters()
            r.url = p.argument(0)
            r.login = p.option("--login"); r.passcode = p.option("--passcode"); r.vhost = p.option("--vhost")
            r.stompVersion = p.option("--stomp-version"); r.heartBeat = p.option("--heart-beat")
            r.writeTimeout = p.option(TimeoutOption.write.rawValue); r.receiptTimeout = p.option(TimeoutOption.receipt.rawValue)
            // a bad option value points at its option, checked by the rule `connect` itself applies
            let checks: [(String, (String) throws -> Void)] = [
                ("--stomp-version", { _ = try Shell.stompVersions($0) }), ("--heart-beat", { _ = try Shell.heartBeat($0) }),
            ] + TimeoutOption.allCases.map { t in (t.rawValue, { _ = try t.amount($0) }) }
            for (long, check) in checks {
                guard let v = p.option(long) else { continue }
                do { try check(v) } catch var e as ShellError {
                    e.column = p.column(ofOption: long)
                    throw e
                }
            }
            do { try shell.connect(r) } catch var e as ShellError {
                // the caret goes under the URL that failed (bad, unreachable, refused), when one was typed
                if e.column == nil, r.url != nil { e.column = p.column(ofArgument: 0) }
                throw e
            }
        })

    static let disconnect = CommandSpec(
        name: "disconnect", summary: "disconnect gracefully (DISCONNECT, wait for its receipt)",
        needsConnection: true,
        run: { shell, _ in
            let url = shell.client?.url.description ?? ""
            try shell.disconnect()
            shell.output.result(text: "disconnected from \(url)", json: obj(("disconnected", .string(url))))
        })

    // MARK: frames

    static let send = CommandSpec(
        name: "send",
        arguments: [ArgumentSpec("DEST", .destination, help: "destination, e.g. /queue/a"),
                    ArgumentSpec("BODY", .restOfLine, optional: true,
                                 help: "the rest of the line, verbatim; <<TAG reads the following lines up to TAG")],
        options: [.header,
                  .flag("--receipt", help: "ask for a receipt and wait for it"),
                  OptionSpec("--content-type", value: .string, valueName: "T", help: "content-type header"),
                  OptionSpec("--file", value: .path, valueName: "PATH", help: "send the file's bytes exactly")],
        summary: "send a message",
        help: "Sends a SEND frame to DEST. While a transaction is open the message joins it.",
        needsConnection: true,
        run: { shell, p in
            let client = try shell.requireClient()
            let dest = p.arguments[0]
            var h = try headers(p)
            if let ct = p.option("--content-type") { h["content-type"] = ct }
            var body = p.body ?? []
            if let path = p.option("--file") {
                if p.body != nil { throw ShellError.usage("give either BODY or --file, not both", column: p.column(ofArgument: 1)) }
                body = try readFile(path, column: p.column(ofOption: "--file"))
            }
            try checkBodySize(body.count, column: p.column(ofArgument: 1))
            let receipt = p.flag("--receipt")
            if !receipt, shell.output.quiet || shell.output.format == .pretty {
                // Nothing to print once written: no round trip per command (SendsInFlight, StompClient.send(batch:)).
                try shell.sendPipelined(client, destination: dest, headers: h, body: body, column: p.commandColumn)
                if dest != shell.lastSendDestination {
                    shell.completion.add(.destination, dest)
                    shell.lastSendDestination = dest
                }
                return
            }
            try shell.settleSends()     // SENDs still queued go first: this one is handed over below
            let start = ShellClock.now()
            // The open transaction is read on the event loop as the SEND is made: no round trip to ask first.
            try shell.waitInterruptibly(client.send(destination: dest, headers: h, body: body, receipt: receipt,
                                                    in: .newestOpen))
            shell.completion.add(.destination, dest)
            if shell.output.quiet { return }    // nothing shown: nothing formatted
            if receipt {
                let t = ms(start)
                var text = "sent to \(VisibleText.value(dest)) (\(body.count) bytes), receipt received"
                if shell.settings.timing {
                    let cs = Int((t * 100).rounded())     // " in %.2f ms" without String(format:)
                    text += " in \(cs / 100).\(cs % 100 < 10 ? "0" : "")\(cs % 100) ms"
                }
                shell.output.result(text: text, json: obj(("sent", .string(dest)), ("bytes", .integer(Int64(body.count))),
                                                          ("receipt", .bool(true)), ("ms", .number((t * 1000).rounded() / 1000))))
            } else {
                shell.output.result(text: nil, json: obj(("sent", .string(dest)), ("bytes", .integer(Int64(body.count)))))
            }
        })

    static let subscribe = CommandSpec(
        name: "subscribe", aliases: ["sub"],
        arguments: [ArgumentSpec("DEST", .destination)],
        options: [OptionSpec("--id", value: .string, valueName: "ID", help: "subscription id (default: generated)"),
                  OptionSpec("--ack", value: .choice(["auto", "client", "client-individual"]),
                             help: "acknowledgement mode (default auto)"),
                  .header,
                  OptionSpec("--count", value: .count, valueName: "N", help: "unsubscribe after N messages (ack auto)")],
        summary: "subscribe to a destination",
        help: "Subscribes and waits for the broker's receipt. Received messages are printed as they arrive.",
        needsConnection: true,
        run: { shell, p in
            if let n = try Operator.count(p, "--count") { return try DrainCommands.subscribeCounted(shell, p, count: n) }
            let client = try shell.requireClient()
            let dest = p.arguments[0]
            let ack = AckMode(rawValue: p.option("--ack") ?? "auto") ?? .auto
            let info = try shell.waitInterruptibly(client.subscribe(destination: dest, id: p.option("--id"), ack: ack,
                                                                    headers: try headers(p), receipt: true))
            shell.completion.add(.destination, dest)
            shell.output.result(text: "subscribed to \(VisibleText.value(dest)) (id \(VisibleText.value(info.id)), ack \(info.ack.rawValue))",
                                json: obj(("subscribed", .string(dest)), ("id", .string(info.id)), ("ack", .string(info.ack.rawValue))))
        })

    static let unsubscribe = CommandSpec(
        name: "unsubscribe", aliases: ["unsub"],
        arguments: [ArgumentSpec("ID|DEST", .subscriptionID)],
        summary: "end a subscription (by id or destination)",
        needsConnection: true,
        run: { shell, p in
            let client = try shell.requireClient()
            let key = p.arguments[0]
            let subscriptions = shell.subscriptions
            let matching = subscriptions.filter { $0.id == key }
            let targets = matching.isEmpty ? subscriptions.filter { $0.destination == key } : matching
            guard !targets.isEmpty else {
                let known = subscriptions.map { "\($0.id) (\($0.destination))" }.joined(separator: ", ")
                throw ShellError("no subscription '\(key)'" + (known.isEmpty ? "" : "; subscriptions: \(known)"),
                                 column: p.column(ofArgument: 0))
            }
            for t in targets {
                try shell.waitInterruptibly(client.unsubscribe(id: t.id, receipt: true))
                shell.output.result(text: "unsubscribed \(VisibleText.value(t.id)) (\(VisibleText.value(t.destination)))",
                                    json: obj(("unsubscribed", .string(t.id)), ("destination", .string(t.destination))))
            }
        })

    static func ackCommand(_ name: String, nack: Bool) -> CommandSpec {
        CommandSpec(
            name: name,
            arguments: [ArgumentSpec("MESSAGE|last", .messageID, optional: true, help: "message-id (default: the newest awaiting ack)")],
            summary: nack ? "reject a message (NACK)" : "acknowledge a message (ACK)",
            help: "Takes the ack id from the session: give the message-id shown with the message, or 'last'. "
                + "Joins the open transaction.",
            needsConnection: true,
            run: { shell, p in
                let client = try shell.requireClient()
                let arg = p.argument(0)
                let id = (arg == nil || arg == "last") ? nil : arg
                let f = nack ? client.nack(messageID: id, transaction: shell.currentTransaction)
                             : client.ack(messageID: id, transaction: shell.currentTransaction)
                let pa = try shell.waitInterruptibly(f)
                shell.output.result(text: "\(nack ? "nacked" : "acked") \(VisibleText.value(pa.messageID))",
                                    json: obj((nack ? "nacked" : "acked", .string(pa.messageID)),
                                              ("subscription", .string(pa.subscription))))
            })
    }
    static let ack = ackCommand("ack", nack: false)
    static let nack = ackCommand("nack", nack: true)

    // MARK: transactions

    static let begin = CommandSpec(
        name: "begin", arguments: [ArgumentSpec("TX", .transactionID, optional: true, help: "transaction id (default t1, t2, ...)")],
        summary: "begin a transaction (sends and acks join it until commit/abort)",
        needsConnection: true,
        run: { shell, p in
            let client = try shell.requireClient()
            var tx = p.argument(0)
            if tx == nil {
                let open = shell.openTransactions
                repeat { shell.transactionCounter += 1; tx = "t\(shell.transactionCounter)" } while open.contains(tx!)
            }
            try shell.waitInterruptibly(client.begin(tx!))
            shell.output.result(text: "began \(VisibleText.value(tx!))", json: obj(("began", .string(tx!))))
        })

    static func endTransaction(_ name: String, commit: Bool) -> CommandSpec {
        CommandSpec(
            name: name, arguments: [ArgumentSpec("TX", .transactionID, optional: true, help: "default: the current transaction")],
            summary: commit ? "commit a transaction" : "abort (roll back) a transaction",
            needsConnection: true,
            run: { shell, p in
                let client = try shell.requireClient()
                guard let tx = p.argument(0) ?? shell.currentTransaction else {
                    throw ShellError("no open transaction (use 'begin')")
                }
                guard shell.openTransactions.contains(tx) else {
                    throw ShellError("no open transaction '\(tx)'", column: p.column(ofArgument: 0))
                }
                try shell.waitInterruptibly(commit ? client.commit(tx) : client.abort(tx))
                shell.output.result(text: "\(commit ? "committed" : "aborted") \(VisibleText.value(tx))",
                                    json: obj((commit ? "committed" : "aborted", .string(tx))))
            })
    }
    static let commit = endTransaction("commit", commit: true)
    static let abort = endTransaction("abort", commit: false)

    // MARK: raw

    static let raw = CommandSpec(
        name: "raw",
        options: [OptionSpec("--file", value: .path, valueName: "PATH", help: "send the file as one frame")],
        summary: "send a frame typed by hand (ends with a line '.')",
        help: "Type the command line, header lines, an empty line and the body; a line with a single '.' ends it "
            + "(`raw <<TAG` reads up to a line TAG instead). The bytes are sent as typed: header lines each ended by LF, "
            + "the empty line, the body lines joined by LF (no LF after the last), then a NUL. Without an empty line "
            + "one is added after the headers. "
            + "--file sends a file's bytes as one frame (NUL appended unless the file ends with one).",
        needsConnection: true, blockTerminator: ".",
        run: { shell, p in
            let client = try shell.requireClient()
            var bytes: [UInt8]
            if let path = p.option("--file") {
                bytes = try readFile(path, column: p.column(ofOption: "--file"))
                if bytes.last != 0 { bytes.append(0) }
            } else {
                bytes = p.body ?? []
                guard !bytes.isEmpty else { throw ShellError("empty frame: nothing sent") }
                bytes.append(0)
            }
            try shell.waitInterruptibly(client.sendRaw(bytes))
            shell.output.result(text: nil, json: obj(("raw", .integer(Int64(bytes.count)))))
        })

    // MARK: status

    static let status = CommandSpec(
        name: "status", summary: "show the connection, subscriptions, pending acks, transactions and counters",
        run: { shell, _ in
            guard let client = shell.client else {
                var text = "not connected"
                if let r = shell.lostReason { text += " (connection lost: \(r))" }
                shell.output.answer(text: text, json: obj(("connected", .bool(false))))
                return
            }
            let snap = try shell.waitInterruptibly(client.snapshot(), timeout: 10)
            if shell.client !== client {     // closed while we asked
                shell.output.answer(text: "not connected (\(shell.lostReason ?? "closed"))", json: obj(("connected", .bool(false))))
                return
            }
            let info = client.connectedInfo
            let options = client.options
            // header values (server, session, ids, destinations, message-ids) shown on one line, escaped
            let v = VisibleText.value
            var lines: [String] = []
            lines.append("connected to \(client.url)")
            lines.append("  version      \(info.version.rawValue)")
            lines.append("  server       \(info.server.map(v) ?? "-")")
            lines.append("  session      \(info.session.map(v) ?? "-")")
            let hb = info.heartBeat
            let brokerOffer = info.headers["heart-beat"]
            lines.append("  heart-beats  send every \(hb.sendInterval.map { "\($0) ms" } ?? "-"), expect every \(hb.receiveInterval.map { "\($0) ms" } ?? "-")"
                         + " (offered \(options.heartBeat.headerValue), broker's \(brokerOffer.map(v) ?? "-"))")
            let timeouts = ConnectionTimeouts(options)
            lines.append("  timeouts     receipt \(ConnectionTimeouts.text(timeouts.receipt)), disconnect \(ConnectionTimeouts.text(timeouts.disconnect)), "
                         + "write \(ConnectionTimeouts.text(timeouts.write)), connect \(ConnectionTimeouts.text(timeouts.connect))")
            lines.append("  subscriptions \(snap.subscriptions.count)")
            for s in snap.subscriptions { lines.append("    \(v(s.id))  \(v(s.destination))  ack:\(s.ack.rawValue)") }
            lines.append("  pending acks \(snap.pendingAcks.count)")
            for a in snap.pendingAcks { lines.append("    \(v(a.messageID))  (subscription \(v(a.subscription)))") }
            lines.append("  transactions \(snap.transactions.isEmpty ? "-" : snap.transactions.map(v).joined(separator: ", "))")
            lines.append("  messages received \(shell.messagesReceived)")
            let c = snap.counters
            lines.append("  counters     frames sent \(c.framesSent), received \(c.framesReceived) "
                         + "(messages \(c.messagesReceived), receipts \(c.receiptsReceived), errors \(c.errorsReceived))")
            lines.append("               bytes sent \(c.bytesSent), received \(c.bytesReceived); "
                         + "heart-beats sent \(c.heartbeatsSent), received \(c.heartbeatsReceived); reconnects \(c.reconnects)")
            var o = JSONObject()
            o.append("connected", .string(client.url.description))
            o.append("version", .string(info.version.rawValue))
            o.append("server", info.server.map { .string($0) } ?? .null)
            o.append("session", info.session.map { .string($0) } ?? .null)
            o.append("subscriptions", .array(snap.subscriptions.map {
                .object(JSONObject([("id", .string($0.id)), ("destination", .string($0.destination)), ("ack", .string($0.ack.rawValue))]))
            }))
            o.append("pending_acks", .array(snap.pendingAcks.map { .string($0.messageID) }))
            o.append("transactions", .array(snap.transactions.map { .string($0) }))
            o.append("messages_received", .integer(Int64(shell.messagesReceived)))
            let brokerBeats = brokerOffer.flatMap(HeartBeat.init(header:))
            o.append("heart_beats", .object(JSONObject([
                ("send_ms", hb.sendInterval.map { .integer(Int64($0)) } ?? .null),
                ("receive_ms", hb.receiveInterval.map { .integer(Int64($0)) } ?? .null),
                ("offered", .object(JSONObject([("send_ms", .integer(Int64(options.heartBeat.canSend))),
                                                ("receive_ms", .integer(Int64(options.heartBeat.wantsReceive)))]))),
                ("broker", brokerBeats.map { JSONValue.object(JSONObject([("send_ms", .integer(Int64($0.canSend))),
                                                                           ("receive_ms", .integer(Int64($0.wantsReceive)))])) } ?? .null)])))
            o.append("timeouts", .object(JSONObject([
                ("receipt_s", ConnectionTimeouts.json(timeouts.receipt)), ("disconnect_s", ConnectionTimeouts.json(timeouts.disconnect)),
                ("write_s", ConnectionTimeouts.json(timeouts.write)), ("connect_s", ConnectionTimeouts.json(timeouts.connect))])))
            o.append("counters", .object(JSONObject([
                ("frames_sent", .integer(Int64(c.framesSent))), ("frames_received", .integer(Int64(c.framesReceived))),
                ("messages_received", .integer(Int64(c.messagesReceived))),
                ("receipts_received", .integer(Int64(c.receiptsReceived))),
                ("errors_received", .integer(Int64(c.errorsReceived))),
                ("bytes_sent", .integer(Int64(c.bytesSent))), ("bytes_received", .integer(Int64(c.bytesReceived))),
                ("heart_beats_sent", .integer(Int64(c.heartbeatsSent))),
                ("heart_beats_received", .integer(Int64(c.heartbeatsReceived))),
                ("reconnects", .integer(Int64(c.reconnects)))])))
            shell.output.answer(text: lines.joined(separator: "\n"), json: .object(o))
        })

    // MARK: set

    static let set = CommandSpec(
        name: "set",
        arguments: [ArgumentSpec("NAME", .string, optional: true, help: "a setting or a variable"),
                    ArgumentSpec("VALUE", .restOfLine, optional: true, help: "the rest of the line (one quoted word: without its quotes)")],
        summary: "show or change settings and variables",
        help: "Settings: " + SettingsTable.all.map { "\($0.name) (\($0.values.isEmpty ? "SECONDS" : $0.values.joined(separator: "|"))): \($0.help)" }
            .joined(separator: "; ") + ". Any other NAME sets a variable, used as $NAME or ${NAME}.",
        complete: { shell, words, _ in
            if words.count == 1 { return SettingsTable.all.map(\.name) + shell.variables.user.keys.sorted() }
            if words.count == 2 { return SettingsTable.find(words[1])?.values }
            return nil
        },
        run: { shell, p in
            guard let name = p.argument(0) else {
                var lines = SettingsTable.all.map { "\($0.name) \($0.get(shell.settings))" }
                var o = JSONObject()
                for s in SettingsTable.all { o.append(s.name, .string(s.get(shell.settings))) }
                var vars = JSONObject()
                for (k, v) in shell.variables.user.sorted(by: { $0.key < $1.key }) {
                    lines.append("$\(k) = \(v)")
                    vars.append(k, .string(v))
                }
                o.append("variables", .object(vars))
                shell.output.answer(text: lines.joined(separator: "\n"), json: .object(o))
                return
            }
            guard var value = p.argument(1) else {
                if let entry = SettingsTable.find(name) {
                    let v = entry.get(shell.settings)
                    shell.output.answer(text: "\(entry.name) \(v)", json: obj((entry.name, .string(v))))
                } else if let v = shell.variables.user[name] {
                    shell.output.answer(text: v, json: obj((name, .string(v))))
                } else {
                    throw ShellError("no setting or variable '\(name)'", column: p.column(ofArgument: 0))
                }
                return
            }
            let col = p.column(ofArgument: 1)
            if let unquoted = try unquotedWord(p.rawRestOfLine, shell: shell) { value = unquoted }
            if let entry = SettingsTable.find(name) {
                var settings = shell.settings
                do { try entry.set(&settings, value) } catch let e as SettingValueError { throw ShellError(e.message, column: col) }
                shell.settings = settings
                return
            }
            guard let f = name.first, f.isLetter || f == "_",
                  name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }) else {
                throw ShellError.usage("bad variable name '\(name)'", column: p.column(ofArgument: 0))
            }
            shell.variables.user[name] = value
        })

    /// `set NAME "a value"`: a VALUE that is one quoted word is taken without its quotes (as a shell would);
    /// anything else is the rest of the line verbatim. nil: not a single quoted word.
    static func unquotedWord(_ raw: String?, shell: Shell) throws -> String? {
        guard let raw else { return nil }
        let t = raw.trimmingCharacters(in: .whitespaces)
        guard let q = t.first, q == "\"" || q == "'", t.count >= 2, t.last == q else { return nil }
        var lx = LineLexer(t, resolve: shell.variables.resolve)
        guard let tok = try? lx.next(), lx.atEnd || lx.restIsBlank, tok.start == 0, tok.end == t.count else { return nil }
        return tok.text
    }

    // MARK: help, echo, sleep, quit

    static let help = CommandSpec(
        name: "help", aliases: ["?"],
        arguments: [ArgumentSpec("COMMAND", .string, optional: true),
                    ArgumentSpec("SUBCOMMAND", .string, optional: true, help: "one of the command's subcommands (rpc call, bench send, ...)")],
        options: [.flag("--names", help: "list command names only, one per line")],
        summary: "list commands, or describe one",
        complete: { shell, words, _ in
            if words.count == 1 { return shell.table.map(\.name) }
            if words.count == 2 { return CommandTable.find(words[1], in: shell.table)?.subcommands.map(\.name) ?? [] }
            return []
        },
        run: { shell, p in
            if p.flag("--names") {
                let names = shell.table.map(\.name)
                shell.output.answer(text: names.joined(separator: "\n"), json: .array(names.map { .string($0) }))
                return
            }
            if let name = p.argument(0) {
                guard let spec = CommandTable.find(name, in: shell.table) else {
                    var msg = "unknown command '\(name)'"
                    if let s = CommandTable.suggestion(for: name, in: shell.table) { msg += " (did you mean '\(s)'?)" }
                    throw ShellError(msg, column: p.column(ofArgument: 0))
                }
                if let subName = p.argument(1) {
                    guard let sub = spec.subcommand(named: subName) else {
                        let known = spec.subcommands.map(\.name)
                        throw ShellError.usage("'\(spec.name)' has no subcommand '\(subName)'"
                                         + (known.isEmpty ? "" : " (\(known.joined(separator: ", ")))"), column: p.column(ofArgument: 1))
                    }
                    shell.output.answer(text: Help.describe(spec, sub), json: Help.json(spec, sub))
                    return
                }
                shell.output.answer(text: Help.describe(spec), json: Help.json(spec))
                return
            }
            shell.output.answer(text: Help.overview(shell.table), json: .array(shell.table.map { Help.json($0) }))
        })

    static let echo = CommandSpec(
        name: "echo", arguments: [ArgumentSpec("TEXT", .restOfLine, optional: true)],
        summary: "print text (variables substituted)",
        run: { shell, p in
            let text = p.argument(0) ?? ""
            shell.output.answer(text: text, json: obj(("echo", .string(text))))
        })

    static let sleep = CommandSpec(
        name: "sleep", arguments: [ArgumentSpec("SECONDS", .duration)],
        summary: "wait, printing frames that arrive (Ctrl-C interrupts)",
        run: { shell, p in try shell.sleepInterruptibly(Double(p.arguments[0]) ?? 0) })

    static let quit = CommandSpec(
        name: "quit", aliases: ["exit"], summary: "disconnect and leave (Ctrl-D too)",
        run: { shell, _ in shell.requestQuit() })
}

public enum Help {
    /// `help`: one line per command.
    public static func overview(_ table: [CommandSpec]) -> String {
        let width = min(44, table.map { $0.synopsis.count }.max() ?? 20)
        var lines = ["Commands (help COMMAND for details):"]
        for spec in table {
            let syn = spec.synopsis
            let pad = syn.count < width ? String(repeating: " ", count: width - syn.count) : ""
            var line = "  \(syn)\(pad)  \(spec.summary)"
            if syn.count >= width { line = "  \(syn)\n  \(String(repeating: " ", count: width))  \(spec.summary)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// `help COMMAND`: the usage line, summary, each subcommand's synopsis and help, the help text, the
    /// arguments and options.
    public static func describe(_ spec: CommandSpec) -> String {
        var lines = ["usage: \(spec.synopsis)", "", spec.summary]
        if !spec.aliases.isEmpty { lines.append("aliases: \(spec.aliases.joined(separator: ", "))") }
        if !spec.subcommands.isEmpty {
            lines.append("")
            for sub in spec.subcommands {
                lines.append(spec.synopsis(of: sub))
                let text = sub.help.isEmpty ? sub.summary : sub.help
                lines += text.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
            }
        }
        if !spec.help.isEmpty { lines += ["", spec.help] }
        lines += describe(arguments: spec.arguments, options: spec.options)
        return lines.joined(separator: "\n")
    }

    /// `help COMMAND SUBCOMMAND`: the subcommand's usage line, summary, help, arguments and its own options.
    public static func describe(_ spec: CommandSpec, _ sub: SubcommandSpec) -> String {
        var lines = ["usage: \(spec.synopsis(of: sub))", "", sub.summary]
        if !sub.help.isEmpty { lines += ["", sub.help] }
        lines += describe(arguments: sub.arguments, options: spec.options(forSubcommand: sub.name))
        return lines.joined(separator: "\n")
    }

    static func describe(arguments: [ArgumentSpec], options: [OptionSpec]) -> [String] {
        var lines: [String] = []
        let args = arguments.filter { !$0.help.isEmpty }
        if !args.isEmpty {
            lines.append("")
            for a in args { lines.append("  \(column(a.name, 16)) \(a.help)") }
        }
        if !options.isEmpty {
            lines.append("")
            for o in options {
                var n = o.short.map { "\($0), \(o.long)" } ?? o.long
                if o.value != nil { n += " \(o.valueName)" }
                lines.append("  \(column(n, 24)) \(o.help)")
            }
        }
        return lines
    }

    /// `text` padded to `width` (never cut: `--ack auto|client-individual` stays whole).
    static func column(_ text: String, _ width: Int) -> String {
        text.count < width ? text.padding(toLength: width, withPad: " ", startingAt: 0) : text
    }

    public static func json(_ spec: CommandSpec, _ sub: SubcommandSpec) -> JSONValue {
        .object(JSONObject([("command", .string("\(spec.name) \(sub.name)")), ("synopsis", .string(spec.synopsis(of: sub))),
                            ("summary", .string(sub.summary))]))
    }

    public static func json(_ spec: CommandSpec) -> JSONValue {
        .object(JSONObject([("command", .string(spec.name)), ("synopsis", .string(spec.synopsis)),
                            ("summary", .string(spec.summary))]))
    }
}
