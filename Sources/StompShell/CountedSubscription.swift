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
/// RabbitMQ keeps messages unacknowledged at UNSUBSCRIBE until the connection ends, answers a delivery that races
/// the UNSUBSCRIBE with an ERROR, and its cumulative ACK is by delivery tag, which its STOMP adapter numbers per
/// connection, not per subscription. There: client-individual with the prefetch of N (nothing more is sent before
/// an ACK); each written batch is acknowledged in one transaction, committed after the N-th was written and the
/// UNSUBSCRIBE sent (an ACK in an open transaction does not reopen the window; measured before: no ERROR, nothing
/// held).
final class CountedSubscription: @unchecked Sendable {
    let id: String
    let limit: Int
    /// RabbitMQ: the N acknowledged together at the end, in a transaction.
    let together: Bool
    /// The ack mode of the SUBSCRIBE.
    var ackMode: AckMode { together ? .clientIndividual : .client }
    private weak var client: StompClient?
    static let holdBackSeconds: Int64 = 10

    // event loop (and `cancel`)
    private let lock = NIOLock()
    private var seen = 0
    private var token: InterceptorToken?

    // shell thread
    private var printedCount = 0
    private var lastPrinted: String?
    private var held: [String] = []
    /// RabbitMQ: the transaction of the ACKs was begun (its ACKs go out with each written batch, so the broker
    /// takes them in while it delivers; none counts before the COMMIT, so the prefetch window stays shut).
    private var transactionBegun = false

    init(client: StompClient, id: String, limit: Int, family: BrokerFamily) {
        self.id = id
        self.limit = limit
        self.together = family == .rabbitMQ
        self.client = client
        token = client.addInterceptor { [self] frame in
            guard frame.command == .message, frame.headers.value(of: "subscription", is: id) else { return false }
            return lock.withLock { () -> Int in seen += 1; return seen } > limit
        }
    }

    /// Shell thread: a message of this subscription went into the output (not yet written).
    func printed(_ frame: StompFrame) {
        printedCount += 1
        guard let a = frame.headers["ack"] ?? frame.headers["message-id"] else { return }
        if together { held.append(a) } else { lastPrinted = a }
    }

    /// Shell thread, once the output holding the printed messages was written: acknowledges them (ActiveMQ, the
    /// sandbox) and, after the N-th, ends the subscription. True when it is over (the shell forgets it).
    func settle() -> Bool {
        guard let client else { return true }
        let done = printedCount >= limit
        let id = self.id
        if together {
            guard !held.isEmpty || done else { return false }
            let acks = held
            held = []
            let begin = !transactionBegun
            transactionBegun = true
            client.eventLoop.execute { [self] in
                let tx = "\(id)-acks"
                if begin { _ = client.begin(tx) }
                for a in acks { _ = client.ack(messageID: a, transaction: tx) }
                guard done else { return }
                let unsubscribed = client.unsubscribe(id: id, receipt: true)
                _ = client.commit(tx)
                releaseLater(unsubscribed, client)
            }
        } else {
            let last = lastPrinted
            lastPrinted = nil
            guard last != nil || done else { return false }
            client.eventLoop.execute { [self] in
                if let last { _ = client.ack(messageID: last) }    // client mode: every earlier one of the subscription too
                if done { releaseLater(client.unsubscribe(id: id, receipt: true), client) }
            }
        }
        return done
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
