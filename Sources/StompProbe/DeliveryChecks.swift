// delivery: queue order, topic fan-out, unsubscribe, the three ack modes, NACK and what follows, redelivery after a
// disconnect.

import StompProto

enum DeliveryChecks {
    static var all: [ProbeCheck] {
        [
            ProbeCheck(.delivery, "queue-fifo", "a queue delivers in send order", spec: "1.2 §SEND (queue semantics: broker)",
                       run: fifo),
            ProbeCheck(.delivery, "topic-fanout", "a topic message reaches both subscribers", spec: "1.2 §SUBSCRIBE", run: fanout),
            ProbeCheck(.delivery, "unsubscribe", "UNSUBSCRIBE stops delivery", spec: "1.2 §UNSUBSCRIBE", run: unsubscribe),
            ProbeCheck(.delivery, "ack-auto", "ack:auto: delivered once, not again after reconnect", spec: "1.2 §SUBSCRIBE ack Header",
                       run: ackAuto),
            ProbeCheck(.delivery, "ack-client", "ack:client: an ACK is cumulative", spec: "1.2 §SUBSCRIBE ack Header") {
                try ackMode($0, "client")
            },
            ProbeCheck(.delivery, "ack-client-individual", "ack:client-individual: an ACK settles one message",
                       spec: "1.2 §SUBSCRIBE ack Header") { try ackMode($0, "client-individual") },
            ProbeCheck(.delivery, "nack", "NACK is accepted; what follows", spec: "1.2 §NACK", run: nack),
            ProbeCheck(.delivery, "redelivery-after-disconnect", "unacked messages come back after a disconnect",
                       spec: "1.2 §SUBSCRIBE ack Header", run: redelivery),
        ]
    }

    static func fifo(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("fifo")
        let sent = (1...5).map { "m\($0)" }
        try ctx.fill(c, q, sent)
        let sid = try ctx.subscribe(c, q)
        let got = ProbeFrames.bodies(c.messages(sid, count: 5, seconds: ctx.timeout).messages)
        if got == sent { return ProbeOutcome(.conforms, "5 messages in send order", key: "in order") }
        if got.count < 5 { throw ProbeInconclusive("only \(got.count) of 5 messages arrived: \(got)") }
        return ProbeOutcome(.deviates, "order received: \(got.joined(separator: " "))", key: "out of order")
    }

    static func fanout(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let a = try ctx.open(), b = try ctx.open()
        let t = ctx.topic("fanout")
        let sa = try ctx.subscribe(a, t), sb = try ctx.subscribe(b, t)
        try ctx.send(a, t, body: "fan")
        let ga = a.messages(sa, count: 1, seconds: ctx.timeout).messages.count
        let gb = b.messages(sb, count: 1, seconds: ctx.timeout).messages.count
        if ga == 1 && gb == 1 { return ProbeOutcome(.conforms, "both subscribers got the message", key: "both") }
        return ProbeOutcome(.deviates, "subscriber 1 got \(ga), subscriber 2 got \(gb)", key: "\(ga)+\(gb)")
    }

    static func unsubscribe(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("unsubscribe")
        let sid = try ctx.subscribe(c, q)
        switch ctx.exchange(c, StompFrame(.unsubscribe, headers: ["id": sid])) {
        case .frame: break
        case .error(let f): return ProbeOutcome(.deviates, "UNSUBSCRIBE refused: \(f.headers["message"] ?? "ERROR")", key: "refused")
        case .closed(let why): throw ProbeInconclusive("connection ended: \(why)")
        case .timeout: throw ProbeInconclusive("no RECEIPT for UNSUBSCRIBE")
        }
        try ctx.send(c, q, body: "after-unsubscribe")
        let late = ctx.nothingArrives(c, nil)
        if late.isEmpty { return ProbeOutcome(.conforms, "nothing delivered after UNSUBSCRIBE", key: "stopped") }
        return ProbeOutcome(.deviates, "\(late.count) message(s) delivered after UNSUBSCRIBE", key: "still delivered")
    }

    static func ackAuto(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("ack-auto")
        try ctx.fill(c, q, ["auto"])
        let sid = try ctx.subscribe(c, q)
        guard c.messages(sid, count: 1, seconds: ctx.timeout).messages.count == 1 else { throw ProbeInconclusive("no MESSAGE") }
        c.close()
        let again = try ctx.leftovers(q)
        if again.isEmpty { return ProbeOutcome(.conforms, "delivered once; nothing after reconnecting", key: "settled") }
        return ProbeOutcome(.deviates, "delivered again after reconnecting", key: "redelivered")
    }

    static func ackMode(_ ctx: ProbeContext, _ mode: String) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("ack-\(mode)")
        try ctx.fill(c, q, ["one", "two", "three"])
        let sid = try ctx.subscribe(c, q, ack: mode)
        let got = c.messages(sid, count: 3, seconds: ctx.timeout).messages
        guard got.count == 3 else { throw ProbeInconclusive("\(got.count) of 3 messages arrived") }
        switch ctx.exchange(c, ProbeFrames.ack(.ack, got[1], version: c.version)) {
        case .frame: break
        case .error(let f): return ProbeOutcome(.deviates, "ACK of the second refused: \(f.headers["message"] ?? "ERROR")", key: "ACK refused")
        case .closed(let why): throw ProbeInconclusive("connection ended: \(why)")
        case .timeout: throw ProbeInconclusive("no RECEIPT for ACK")
        }
        c.close()
        let left = ProbeFrames.bodies(try ctx.leftovers(q))
        let shown = left.isEmpty ? "nothing" : left.joined(separator: " ")
        let expected = mode == "client" ? ["three"] : ["one", "three"]
        let what = "ACK of the second of 3, disconnect: redelivered \(shown)"
        if left == expected { return ProbeOutcome(.conforms, what, key: "left \(shown)") }
        return ProbeOutcome(.deviates, what + " (expected \(expected.joined(separator: " ")))", key: "left \(shown)")
    }

    static func nack(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open([.v1_1, .v1_2])
        guard c.version != .v1_0 else { return ProbeOutcome(.notSupported, "no 1.1/1.2: no NACK", key: "no NACK") }
        let q = ctx.queue("nack")
        try ctx.fill(c, q, ["nacked"], headers: [("persistent", "false")])
        let sid = try ctx.subscribe(c, q, ack: "client-individual")
        guard let m = c.messages(sid, count: 1, seconds: ctx.timeout).messages.first else { throw ProbeInconclusive("no MESSAGE") }
        switch ctx.exchange(c, ProbeFrames.ack(.nack, m, version: c.version)) {
        case .frame: break
        case .error(let f): return ProbeOutcome(.deviates, "NACK refused: \(f.headers["message"] ?? "ERROR")", key: "refused")
        case .closed(let why): throw ProbeInconclusive("connection ended: \(why)")
        case .timeout: throw ProbeInconclusive("no RECEIPT for NACK")
        }
        if let again = c.messages(sid, count: 1, seconds: min(ctx.timeout, 1)).messages.first {
            let flag = again.headers["redelivered"].map { "redelivered:\($0)" } ?? "no redelivered header"
            ProbeFrames.settle(ctx, c, again)
            return ProbeOutcome(.conforms, "RECEIPT; redelivered at once (\(flag))", key: "redelivered, \(flag)")
        }
        c.close()
        let left = try ctx.leftovers(q)
        if !left.isEmpty { return ProbeOutcome(.conforms, "RECEIPT; kept on the queue, delivered to the next subscriber", key: "kept") }
        return ProbeOutcome(.conforms, "RECEIPT; gone from the queue (discarded or dead-lettered)", key: "removed")
    }

    static func redelivery(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("redelivery")
        try ctx.fill(c, q, ["unacked"])
        let sid = try ctx.subscribe(c, q, ack: "client")
        guard c.messages(sid, count: 1, seconds: ctx.timeout).messages.count == 1 else { throw ProbeInconclusive("no MESSAGE") }
        c.close()
        let left = try ctx.leftovers(q)
        guard let m = left.first else { return ProbeOutcome(.deviates, "the unacked message is gone", key: "lost") }
        let flag = m.headers["redelivered"].map { "redelivered:\($0)" } ?? "no redelivered header"
        return ProbeOutcome(.conforms, "redelivered to the next subscriber (\(flag))", key: "redelivered, \(flag)")
    }
}

extension ProbeFrames {
    /// ACKs `message` (best effort) so that it does not come back.
    static func settle(_ ctx: ProbeContext, _ c: ProbeConnection, _ message: StompFrame) {
        _ = ctx.exchange(c, ack(.ack, message, version: c.version))
    }
}
