// `subscribe DEST --count N`: its messages counted on the event loop, acknowledged from the shell thread once printed.

import NIOConcurrencyHelpers
import NIOCore
import StompProto
import StompConnection

/// One `subscribe --count N` subscription.
///
/// The event loop counts its MESSAGEs (an interceptor): the first `limit` go on to the shell; later ones
/// (dispatched before the broker saw the UNSUBSCRIBE) are held back unacknowledged, so the broker takes them back.
/// The shell thread acknowledges what it printed once the write succeeded (`printed` per message, `settle` after
/// each batch of output was written): nothing unwritten is acknowledged, and a failed write closes the connection
/// (`Shell.closeAfterOutputFailure`), so the broker gives back the rest.
///
/// ActiveMQ and the sandbox: ack mode client, one cumulative ACK per written batch; after the N-th is written,
/// its ACK, then the UNSUBSCRIBE (an UNSUBSCRIBE first would give the unacknowledged back to the queue). Held-back
/// messages can still arrive after the UNSUBSCRIBE's RECEIPT, so the interceptor stays for a while.
/// RabbitMQ keeps messages unacknowledged at UNSUBSCRIBE until the connection ends and answers a delivery that
/// races the UNSUBSCRIBE with an ERROR, so there, once the N-th was written, one task on the event loop sends BEGIN,
/// the ACKs in that transaction, the UNSUBSCRIBE, then the COMMIT (an ACK in an open transaction does not reopen the
/// prefetch window of N: nothing more is sent; measured); ACKs in a transaction count only at its COMMIT anyway, and
/// a transaction open while the shell runs commands would take in its SENDs and ACKs (they join the newest one). Its cumulative (`client`) ACK is a basic.ack "multiple" on the connection's one AMQP
/// channel: it also settles every other subscription's unacknowledged message delivered before (measured: two
/// `client` or `client-individual` subscriptions on one connection, the ACK of one's latest, and none of the other's
/// came back after a reconnect). So: ack mode client and one cumulative ACK (of the N-th) when no other
/// subscription of the session acknowledges (`cumulative`), checked again before the ACK (none of the session's
/// pending messages may be another subscription's, else the ACK is left out: what it would have settled comes back
/// when the connection ends, nothing is lost); else client-individual and one ACK per message.
final class CountedSubscription: @unchecked Sendable {
    let id: String
    let limit: Int
    /// RabbitMQ: the N acknowledged together at the end, in a transaction.
    let together: Bool
    /// Cumulative ACKs (ack mode client), else one ACK per message (client-individual).
    let cumulative: Bool
    /// The ack mode of the SUBSCRIBE.
    var ackMode: AckMode { cumulative ? .client : .clientIndividual }
    /// What an ACK names depends on it (`StompFrame.ackID(version:)`).
    private let version: StompVersion
    private weak var client: StompClient?
    static let holdBackSeconds: Int64 = 10

    // event loop (and `cancel`)
    private let lock = NIOLock()
    private var seen = 0
    private var token: InterceptorToken?

    // shell thread
    private var printedCount = 0
    /// cumulative: messages printed since the last ACK, and when that ACK went. One ACK per written batch flooded
    /// ActiveMQ (its transport reads our frames only between its own writes: with a prefetch of N it writes all the
    /// time, our ACKs filled its 128 KiB socket buffer, and the connection stalled for minutes, measured): an ACK goes
    /// once `ackEvery` messages were printed since the last, or `ackInterval` passed, for the N-th, and before a
    /// DISCONNECT.
    private var unacknowledged = 0
    private var lastAckAt = NIODeadline.now()
    /// Half the prefetch window (so the broker never waits for an ACK), at most 200: ActiveMQ 5.17 sends a `client`
    /// subscription no more than 600 unacknowledged messages whatever its `activemq.prefetchSize` (measured with
    /// 1000, 5000 and 50000).
    let ackEvery: Int
    static let ackInterval = TimeAmount.milliseconds(100)
    /// cumulative: the last message printed (since the last settle; on RabbitMQ of all), its ack id read only when
    /// it is acknowledged.
    private var lastPrinted: StompFrame?
    /// client-individual: the ids printed (since the last settle; on RabbitMQ all of them).
    private var held: [String] = []

    /// `othersAcknowledge`: another subscription of the session has ack mode client or client-individual
    /// (RabbitMQ: then no cumulative ACK, unless the version has no client-individual: STOMP 1.0, where the
    /// cumulative ACK is left out while another subscription's message awaits its ACK, see `ackCumulatively`).
    init(client: StompClient, id: String, limit: Int, prefetch: Int, family: BrokerFamily, othersAcknowledge: Bool,
         version: StompVersion) {
        self.id = id
        self.limit = limit
        self.ackEvery = max(1, min(200, prefetch / 2))
        self.together = family == .rabbitMQ
        self.cumulative = family != .rabbitMQ || !othersAcknowledge || version == .v1_0
        self.version = version
        self.client = client
        token = client.addInterceptor { [self] frame in
            guard frame.command == .message, frame.headers.value(of: "subscription", is: id) else { return false }
            return lock.withLock { () -> Int in seen += 1; return seen } > limit
        }
    }

    /// Shell thread: a message of this subscription went into the output (not yet written).
    func printed(_ frame: StompFrame) {
        printedCount += 1
        if cumulative {
            lastPrinted = frame
            unacknowledged += 1
        } else if let a = ackID(frame) {
            held.append(a)
        }
    }

    /// What an ACK of the message names (1.2: its `ack` header; 1.0/1.1: its message-id).
    private func ackID(_ frame: StompFrame) -> String? { frame.ackID(version: version) }

    /// Shell thread, once the output holding the printed messages was written (and when the shell is idle, and
    /// before a DISCONNECT with `force`): acknowledges them (ActiveMQ, the sandbox: when `ackEvery` or
    /// `ackInterval` is reached, or `force`) and, after the N-th, ends the subscription. True when it is over (the
    /// shell forgets it).
    func settle(force: Bool = false) -> Bool {
        guard let client else { return true }
        let done = printedCount >= limit
        let id = self.id
        if together {
            // RabbitMQ: everything at once after the N-th was written, in one task on the event loop, so no command
            // of the shell's (a SEND, an ACK: they join the newest open transaction) can fall into the transaction
            // (before a DISCONNECT, `force`: what was printed so far, the same way)
            guard done || (force && (lastPrinted != nil || !held.isEmpty)) else { return false }
            let last = lastPrinted.flatMap(ackID)
            let acks = held
            lastPrinted = nil
            held = []
            client.eventLoop.execute { [self] in
                let tx = "\(id)-acks"
                _ = client.begin(tx)
                if let last { ackCumulatively(last, transaction: tx, client) }
                for a in acks { _ = client.ack(messageID: a, transaction: tx) }
                let unsubscribed = client.unsubscribe(id: id, receipt: true)
                _ = client.commit(tx)
                releaseLater(unsubscribed, client)
            }
        } else {
            guard lastPrinted != nil || done else { return false }
            // (not RabbitMQ: always ack mode client, `cumulative`)
            if !done, !force, unacknowledged < ackEvery, NIODeadline.now() - lastAckAt < Self.ackInterval {
                return false
            }
            let last = lastPrinted.flatMap(ackID)
            lastPrinted = nil
            unacknowledged = 0
            lastAckAt = .now()
            client.eventLoop.execute { [self] in
                if let last { _ = client.ack(messageID: last) }    // client mode: every earlier one of the subscription too
                if done { releaseLater(client.unsubscribe(id: id, receipt: true), client) }
            }
        }
        return done
    }

    /// Shell thread, before a DISCONNECT: whether `closeForDisconnect` ran; from then on its messages are not printed.
    private(set) var closed = false

    /// Shell thread, before a DISCONNECT: acknowledges what was printed (ahead of the DISCONNECT on the event loop)
    /// and closes the subscription to the shell: a message still arriving while the DISCONNECT is answered is not
    /// printed, so the broker gives back only what nobody saw (printed then, it came back: shown twice).
    func closeForDisconnect() {
        _ = settle(force: true)
        closed = true
    }

    /// Event loop, RabbitMQ: the cumulative ACK of this subscription's last message, unless a message of another
    /// subscription awaits its ACK (it would settle that one too): then it is left out, and what it would have
    /// settled comes back when the connection ends (a duplicate, never a loss).
    private func ackCumulatively(_ ackID: String, transaction: String, _ client: StompClient) {
        // Asked of the session's own books by subscription, not by counting: after a reconnect the count of what
        // this subscription saw includes the old connection's messages, and would let another's slip under it.
        let id = self.id
        client.query { session in !session.pendingAcks.contains { $0.subscription != id } }
            .whenSuccess { onlyOurs in    // inline: we are on the event loop
                guard onlyOurs else { return }
                _ = client.ack(messageID: ackID, transaction: transaction)
            }
    }

    /// The subscription could not be made: the interceptor goes now.
    func cancel() {
        if let t = takeToken() { client?.removeInterceptor(t) }
    }

    private func takeToken() -> InterceptorToken? {
        lock.withLock { () -> InterceptorToken? in let t = token; token = nil; return t }
    }

    /// The interceptor keeps holding back late deliveries for `holdBackSeconds` after the UNSUBSCRIBE's receipt.
    private func releaseLater(_ unsubscribed: EventLoopFuture<Void>, _ client: StompClient) {
        unsubscribed.whenComplete { [self] _ in
            client.eventLoop.scheduleTask(in: .seconds(Self.holdBackSeconds)) { [self] in
                if let t = takeToken() { client.removeInterceptor(t) }
            }
        }
    }
}
