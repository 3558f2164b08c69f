// The consuming engine of browse, drain and dump: one subscription of our own, its messages taken in order,
// written by the caller, and acknowledged only after the caller's commit (fsync of a file, a check that standard
// output still takes writes). What was not committed stays on the broker. Acknowledged one by one in the order
// received: client-individual, or in STOMP 1.0 (which has none) client, whose ACK settles that message and the
// earlier ones of the subscription (all committed), never one sent ahead (measured on ActiveMQ and RabbitMQ).

import Foundation
import StompProto
import StompConnection

/// What a consuming run is asked to do.
struct ConsumeRequest {
    var destination: String
    /// A `browser:true` subscription (ActiveMQ): nothing is consumed; ends at `browser:end`.
    var browse = false
    /// Stop after this many messages.
    var max: Int?
    /// Stop after this long without a message (seconds).
    var idle: Double = 1
    var selector: String?
    /// The progress line's verb ("drained").
    var verb: String
    /// What the command is called, for messages.
    var command: String
    /// Unacknowledged deliveries the broker may send ahead (its prefetch).
    var window = 256
}

/// Why a consuming run ended.
enum ConsumeEnd: String { case idle, max, browserEnd = "end" }

enum ConsumeEngine {
    /// Runs the request: `write` gets each message in order (throws: stop, the message is not acknowledged);
    /// `commit` runs before the messages written so far are acknowledged (throws: stop, none of them is).
    /// Returns the number of messages written and committed, and why it ended.
    static func run(_ shell: Shell, _ req: ConsumeRequest, write: (StompFrame) throws -> Void,
                    commit: () throws -> Void) throws -> (count: Int, end: ConsumeEnd) {
        let client = try shell.requireClient()
        let family = BrokerFamily(server: client.connectedInfo.server)
        if req.browse, !family.canBrowse { throw browseRefusal(family, command: req.command) }
        if req.selector != nil, !family.canSelect {
            throw ShellError("\(req.command): \(family.name) has no message selectors (the header would be ignored "
                             + "and every message taken); only ActiveMQ 5 takes --selector", column: nil, exitStatus: 2)
        }
        if req.max == 0 { return (0, .max) }
        let conn = try OperatorConnection(shell, what: req.command)
        defer { conn.close(shell) }
        let id = Operator.makeSubscriptionID(req.command)
        let feed = MessageFeed(client: conn.client, subscriptionID: id, wake: shell.wake)
        defer { feed.stop() }
        var headers = StompHeaders()
        if req.browse { headers["browser"] = "true" } else {
            headers[family.prefetchHeader] = String(min(req.window, req.max ?? req.window))
        }
        if let s = req.selector { headers["selector"] = s }
        _ = try conn.waitFor(shell, conn.client.subscribe(destination: req.destination, id: id,
                                                        ack: req.browse ? .auto : Operator.takingAckMode(conn.client),
                                                        headers: headers, receipt: true),
                           what: "\(req.command) \(req.destination)")
        let progress = ProgressLine(shell, verb: req.verb)
        defer { progress.clear() }
        var committed = 0
        var uncommitted: [StompFrame] = []
        var lastMessage = Date()
        var end: ConsumeEnd?

        func flush() throws {
            guard !uncommitted.isEmpty else { return }
            try commit()
            if !req.browse {
                // In the order received: in STOMP 1.0 (`client`) each ACK also settles the earlier ones, all
                // committed; never a later one sent ahead.
                let version = conn.client.connectedInfo.version
                for f in uncommitted {
                    _ = conn.client.ack(messageID: f.ackID(version: version))
                }
            }
            committed += uncommitted.count
            uncommitted.removeAll(keepingCapacity: true)
            progress.update(committed, total: req.max)
        }

        do {
            while end == nil {
                var took = false
                while end == nil, let f = feed.next() {
                    took = true
                    if req.browse, f.headers["browser"] == "end" { end = .browserEnd; break }
                    try write(f)
                    uncommitted.append(f)
                    if let m = req.max, committed + uncommitted.count >= m { end = .max }
                    if uncommitted.count >= req.window / 2 { try flush() }
                }
                if took { lastMessage = Date() }
                // nothing more at hand: commit what was written before waiting
                try flush()
                if end != nil { break }
                try conn.check(req.command)
                if Interrupt.requested { Interrupt.clear(); throw ShellError("interrupted") }
                let quiet = Date().timeIntervalSince(lastMessage)
                if quiet >= req.idle {
                    if req.browse { shell.output.warning("\(req.command): no browser:end from the broker within \(Shell.seconds(req.idle)) s") }
                    end = .idle
                    break
                }
                shell.pump(maxWait: min(req.idle - quiet, 0.25))
            }
            // the ACKs reach the broker before the connection closes (they precede the DISCONNECT)
        } catch var e as ShellError {
            progress.clear()
            let left = req.browse ? "" : "; the rest stays on \(req.destination)"
            e.message += " (after \(committed) message\(committed == 1 ? "" : "s")\(left))"
            throw e
        }
        return (committed, end ?? .idle)
    }

    /// One line: this broker cannot browse, and what to use instead.
    static func browseRefusal(_ family: BrokerFamily, command: String) -> ShellError {
        let alternative: String
        switch family {
        case .rabbitMQ:
            alternative = "use the management plugin (rabbitmqadmin get queue=NAME count=N ackmode=ack_requeue_true), "
                + "or 'drain' to take the messages"
        default:
            alternative = "use 'drain' or 'dump' to take the messages"
        }
        return ShellError("\(command): \(family.name) cannot browse a queue over STOMP (only ActiveMQ 5's browser:true); "
                          + alternative, column: nil, exitStatus: 2)
    }
}
