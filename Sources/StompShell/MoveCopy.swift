// move and copy: each message of SRC sent again to DST with its body and application headers, the source message
// acknowledged only once the broker's RECEIPT for the copy is in (in STOMP 1.0, whose ACK is cumulative, once the
// copies of it and of every earlier message are in). A kill at any moment loses nothing: a message
// whose copy was confirmed but whose ACK did not reach the broker is delivered again and copied twice.

import Foundation
import NIOConcurrencyHelpers
import StompProto
import StompConnection
import RPCCommands

/// Sends in flight and their outcome, shared between the event loop (receipts) and the shell thread.
final class CopyTally: @unchecked Sendable {
    private let lock = NIOLock()
    private var _done = 0
    private var _inFlight = 0
    private var _failure: String?
    var done: Int { lock.withLock { _done } }
    var inFlight: Int { lock.withLock { _inFlight } }
    var failure: String? { lock.withLock { _failure } }
    func started() { lock.withLock { _inFlight += 1 } }
    func finished() { lock.withLock { _inFlight -= 1; _done += 1 } }
    func failed(_ reason: String) { lock.withLock { _inFlight -= 1; if _failure == nil { _failure = reason } } }
}

/// Source messages whose copies are in flight, for a cumulative (`client`) ACK: `confirmed` gives the ACK ids that
/// may go now, in order: those of the longest run of confirmed copies from the oldest unacknowledged one. A copy
/// that fails stops the run there (the messages after it stay unacknowledged and come back).
final class OrderedAcks: @unchecked Sendable {
    private let lock = NIOLock()
    private var ids: [Int: String?] = [:]
    private var confirmedSeqs = Set<Int>()
    private var next = 0

    func sent(_ seq: Int, ackID: String?) { lock.withLock { ids[seq] = .some(ackID) } }

    func confirmed(_ seq: Int) -> [String?] {
        lock.withLock {
            confirmedSeqs.insert(seq)
            var ready: [String?] = []
            while confirmedSeqs.remove(next) != nil {
                if let id = ids.removeValue(forKey: next) { ready.append(id) }
                next += 1
            }
            return ready
        }
    }
}

enum MoveCopyCommands {
    static let originalDestination = "x-stompsh-original-destination"
    static let originalMessageID = "x-stompsh-original-message-id"
    static let defaultWindow = 100

    /// The frame's copy for DST: application headers, plus where it came from (kept when already set).
    static func copyHeaders(_ f: StompFrame, source: String) -> StompHeaders {
        var h = BrokerHeaders.application(f)
        if h[originalDestination] == nil { h[originalDestination] = f.headers["destination"] ?? source }
        if h[originalMessageID] == nil, let id = f.headers["message-id"] { h[originalMessageID] = id }
        return h
    }

    static func run(_ shell: Shell, _ p: ParsedCommand, move: Bool) throws {
        let name = move ? "move" : "copy"
        let src = p.arguments[0], dst = p.arguments[1]
        if src == dst {
            throw ShellError("\(name): SRC and DST are the same destination (\(src))", column: p.column(ofArgument: 1), exitStatus: 2)
        }
        let limit = try Operator.count(p, "--count")
        let idle = try Operator.positive(p, "--idle") ?? 1
        let window = try Operator.count(p, "--window") ?? defaultWindow
        guard window > 0 else { throw ShellError("--window must be at least 1", column: p.column(ofOption: "--window"), exitStatus: 2) }
        let selector = p.option("--selector")
        let family = BrokerFamily(server: try shell.requireClient().connectedInfo.server)
        if !move, !family.canBrowse {
            throw ShellError("copy: \(family.name) cannot browse a queue over STOMP, so a copy would have to take the "
                             + "messages; use 'move' (and 'copy' back), or a broker-side shovel", column: nil, exitStatus: 2)
        }
        if selector != nil, !family.canSelect {
            throw ShellError("\(name): \(family.name) has no message selectors (the header would be ignored and every "
                             + "message taken); only ActiveMQ 5 takes --selector", column: nil, exitStatus: 2)
        }
        if limit == 0 {
            shell.output.answer(text: "\(move ? "moved" : "copied") 0 messages", json: CoreCommands.obj((move ? "moved" : "copied", .integer(0))))
            return
        }

        let conn = try OperatorConnection(shell, what: name)
        defer { conn.close(shell) }
        let client = conn.client
        try conn.checkTarget(shell, dst, family: family, command: name)
        let id = Operator.makeSubscriptionID(name)
        let feed = MessageFeed(client: client, subscriptionID: id, wake: shell.wake)
        defer { feed.stop() }
        var headers = StompHeaders()
        if move { headers[family.prefetchHeader] = String(min(window, limit ?? window)) } else { headers["browser"] = "true" }
        if let selector { headers["selector"] = selector }
        let ackMode: AckMode = move ? Operator.takingAckMode(client) : .auto
        _ = try conn.waitFor(shell, client.subscribe(destination: src, id: id, ack: ackMode,
                                                   headers: headers, receipt: true), what: "\(name) \(src)")
        let tally = CopyTally()
        let version = client.connectedInfo.version
        // STOMP 1.0 (`client`): an ACK settles the earlier messages too, so a source message is acknowledged only
        // once its copy and every earlier one are confirmed, in order.
        let inOrder = ackMode == .client ? OrderedAcks() : nil
        let wake = shell.wake
        let progress = ProgressLine(shell, verb: move ? "moved" : "copied")
        var sent = 0
        var last = Date()
        var sourceDone = false
        var failure: ShellError?

        while true {
            // take messages while the window has room
            while !sourceDone, failure == nil, tally.inFlight < window, limit.map({ sent < $0 }) ?? true, let f = feed.next() {
                last = Date()
                if !move, f.headers["browser"] == "end" { sourceDone = true; break }
                let ackID = f.ackID(version: version)
                let body = f.body
                if body.count > CoreCommands.maxBodySize { failure = ShellError("\(name): a message of \(body.count) bytes is too large to send"); break }
                tally.started()
                let seq = sent
                sent += 1
                inOrder?.sent(seq, ackID: ackID)
                let future = client.send(destination: dst, headers: copyHeaders(f, source: src), body: body, receipt: true)
                future.whenComplete { result in
                    switch result {
                    case .success:
                        if let inOrder {
                            for id in inOrder.confirmed(seq) { _ = client.ack(messageID: id) }
                        } else if move {
                            _ = client.ack(messageID: ackID)
                        }
                        tally.finished()
                    case .failure(let e):
                        tally.failed(Shell.describe(e))
                    }
                    wake.signal()
                }
            }
            progress.update(tally.done, total: limit)
            if failure == nil, let reason = tally.failure { failure = ShellError("\(name): sending to \(dst) failed: \(reason)") }
            if failure == nil { do { try conn.check(name) } catch let e as ShellError { failure = e } }
            if failure == nil, Interrupt.requested { Interrupt.clear(); failure = ShellError("interrupted") }
            if let l = limit, sent >= l { sourceDone = true }
            if failure == nil, !sourceDone, tally.inFlight == 0, feed.isEmpty, Date().timeIntervalSince(last) >= idle {
                sourceDone = true
            }
            if (sourceDone || failure != nil) && tally.inFlight == 0 { break }
            if failure != nil, conn.closedReason != nil { break }
            shell.pump(maxWait: 0.1)
        }
        progress.clear()
        let done = tally.done
        if var failure {
            failure.message += " (\(done) \(move ? "moved" : "copied"); a message whose copy was confirmed but not yet "
                + "acknowledged may be on \(dst) twice after it is moved again)"
            throw failure
        }
        let seconds = progress.elapsed
        let verb = move ? "moved" : "copied"
        var text = "\(verb) \(done) \(DrainCommands.plural(done)) from \(VisibleText.value(src)) to \(VisibleText.value(dst))"
        if shell.settings.timing { text += String(format: " in %.2f s", seconds) }
        shell.output.answer(text: text, json: CoreCommands.obj((verb, .integer(Int64(done))), ("from", .string(src)),
                                                              ("to", .string(dst)),
                                                              ("seconds", .number((seconds * 1000).rounded() / 1000))))
    }
}
