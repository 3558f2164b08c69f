// transactions: COMMIT delivers, ABORT discards, an ACK inside a transaction, ABORT undoing an ACK.

import StompProto

enum TransactionChecks {
    static var all: [ProbeCheck] {
        [
            ProbeCheck(.transactions, "commit", "sends in a transaction are held until COMMIT", spec: "1.2 §BEGIN, §COMMIT", run: commit),
            ProbeCheck(.transactions, "abort", "ABORT discards the transaction's sends", spec: "1.2 §ABORT", run: abort),
            ProbeCheck(.transactions, "ack-in-transaction", "an ACK in a committed transaction settles the message",
                       spec: "1.2 §ACK") { try ackThen($0, "COMMIT") },
            ProbeCheck(.transactions, "abort-undoes-ack", "ABORT undoes an ACK made in the transaction",
                       spec: "1.2 §ABORT") { try ackThen($0, "ABORT") },
        ]
    }

    static func step(_ ctx: ProbeContext, _ c: ProbeConnection, _ frame: StompFrame) throws {
        switch ctx.exchange(c, frame) {
        case .frame: return
        case .error(let f): throw ProbeInconclusive("\(frame.command.rawValue) refused: \(f.headers["message"] ?? "ERROR")")
        case .closed(let why): throw ProbeInconclusive("connection ended: \(why)")
        case .timeout: throw ProbeInconclusive("no RECEIPT for \(frame.command.rawValue)")
        }
    }

    /// A SEND inside a transaction, without a receipt.
    static func send(_ ctx: ProbeContext, _ c: ProbeConnection, _ destination: String, _ body: String, transaction: String) {
        let h = StompHeaders([("destination", destination), ("transaction", transaction)] + ctx.declarationHeaders(destination))
        c.send(StompFrame(.send, headers: h, body: body))
    }

    /// A consumer subscribed to a queue of its own (`queue`), and on a second connection a producer inside the
    /// begun `transaction`: (consumer, producer, the queue, the subscription).
    static func begun(_ ctx: ProbeContext, queue name: String, transaction: String) throws
        -> (ProbeConnection, ProbeConnection, String, String) {
        let consumer = try ctx.open(), producer = try ctx.open()
        let q = ctx.queue(name)
        let sid = try ctx.subscribe(consumer, q)
        try step(ctx, producer, StompFrame(.begin, headers: ["transaction": transaction]))
        return (consumer, producer, q, sid)
    }

    static func commit(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let (consumer, producer, q, sid) = try begun(ctx, queue: "tx-commit", transaction: "tx1")
        // No receipts inside the transaction: RabbitMQ sends them only at COMMIT.
        send(ctx, producer, q, "tx-a", transaction: "tx1")
        send(ctx, producer, q, "tx-b", transaction: "tx1")
        let early = ctx.nothingArrives(consumer, sid)
        try step(ctx, producer, StompFrame(.commit, headers: ["transaction": "tx1"]))
        let after = consumer.messages(sid, count: 2 - early.count, seconds: ctx.timeout).messages
        if !early.isEmpty { return ProbeOutcome(.deviates, "\(early.count) message(s) delivered before COMMIT", key: "not held") }
        if after.count == 2 { return ProbeOutcome(.conforms, "held until COMMIT, then both delivered", key: "held, delivered") }
        return ProbeOutcome(.deviates, "after COMMIT \(after.count) of 2 delivered", key: "lost")
    }

    static func abort(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let (consumer, producer, q, sid) = try begun(ctx, queue: "tx-abort", transaction: "tx2")
        send(ctx, producer, q, "tx-aborted", transaction: "tx2")
        try step(ctx, producer, StompFrame(.abort, headers: ["transaction": "tx2"]))
        let got = ctx.nothingArrives(consumer, sid)
        if got.isEmpty { return ProbeOutcome(.conforms, "nothing delivered", key: "discarded") }
        return ProbeOutcome(.deviates, "\(got.count) message(s) delivered despite ABORT", key: "delivered")
    }

    static func ackThen(_ ctx: ProbeContext, _ end: String) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("tx-ack-\(end.lowercased())")
        try ctx.fill(c, q, ["tx-acked"])
        let sid = try ctx.subscribe(c, q, ack: "client-individual")
        guard let m = c.messages(sid, count: 1, seconds: ctx.timeout).messages.first else { throw ProbeInconclusive("no MESSAGE") }
        try step(ctx, c, StompFrame(.begin, headers: ["transaction": "tx3"]))
        try step(ctx, c, ProbeFrames.ack(.ack, m, version: c.version, transaction: "tx3"))
        try step(ctx, c, StompFrame(end == "COMMIT" ? .commit : .abort, headers: ["transaction": "tx3"]))
        let atOnce = ctx.nothingArrives(c, sid)
        c.close()
        let later = atOnce.isEmpty ? try ctx.leftovers(q) : []
        let back = !atOnce.isEmpty || !later.isEmpty
        let how = !atOnce.isEmpty ? "redelivered at once" : (later.isEmpty ? "not redelivered" : "redelivered after disconnect")
        if end == "COMMIT" {
            return back ? ProbeOutcome(.deviates, "ACK in a committed transaction, then \(how)", key: how)
                        : ProbeOutcome(.conforms, "settled: \(how) after disconnect", key: "settled")
        }
        return back ? ProbeOutcome(.conforms, "the ACK was undone: \(how)", key: how)
                    : ProbeOutcome(.deviates, "the ACK stood: \(how) after ABORT and disconnect", key: "ACK kept")
    }
}
