// request/reply: `/temp-queue/` reply destinations (a broker extension every major broker has in some form).

import StompProto

enum ReplyChecks {
    static let spec = "extension (temp queues)"
    static var all: [ProbeCheck] {
        [
            ProbeCheck(.reply, "temp-queue-subscribe", "SUBSCRIBE to /temp-queue/NAME", spec: spec, run: subscribe),
            ProbeCheck(.reply, "without-subscribe", "the reply arrives when the requester did not subscribe", spec: spec) {
                try roundTrip($0, requesterSubscribes: false).outcome
            },
            ProbeCheck(.reply, "with-subscribe", "the reply arrives when the requester subscribed first", spec: spec) {
                try roundTrip($0, requesterSubscribes: true).outcome
            },
            ProbeCheck(.reply, "reply-to-rewritten", "what the responder sees in reply-to", spec: spec, run: rewritten),
            ProbeCheck(.reply, "closed-temp-queue", "SEND to the temp queue of a closed connection", spec: spec, run: closedTempQueue),
        ]
    }

    static func subscribe(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let dest = "/temp-queue/\(ctx.prefix).sub"
        switch ctx.exchange(c, StompFrame(.subscribe, headers: ["destination": dest, "id": "temp", "ack": "auto"])) {
        case .frame: return ProbeOutcome(.conforms, "accepted (RECEIPT)", key: "accepted")
        case .error(let f):
            let open = c.staysOpen(topic: ctx.topic("reply"), seconds: ctx.timeout)
            return ProbeOutcome(.notSupported, "ERROR: \(f.headers["message"] ?? "")\(open == true ? "; the connection stays open" : "")",
                                key: open == true ? "refused, stays open" : "refused")
        case .closed(let why): return ProbeOutcome(.notSupported, "closed: \(why)", key: "closed")
        case .timeout: throw ProbeInconclusive("no RECEIPT for the SUBSCRIBE")
        }
    }

    struct Trip { var outcome: ProbeOutcome; var replyTo: String?; var requester: ProbeConnection?; var responder: ProbeConnection? }

    /// Requester sends a request with reply-to:/temp-queue/NAME to a private queue; the responder answers to what it
    /// finds in reply-to.
    static func roundTrip(_ ctx: ProbeContext, requesterSubscribes: Bool, name: String? = nil) throws -> Trip {
        let requester = try ctx.open(), responder = try ctx.open()
        let q = ctx.queue("requests-\(requesterSubscribes ? "sub" : "nosub")\(name ?? "")")
        let temp = "/temp-queue/\(ctx.prefix).\(name ?? (requesterSubscribes ? "with" : "without"))"
        let rsid = try ctx.subscribe(responder, q)
        if requesterSubscribes {
            switch ctx.exchange(requester, StompFrame(.subscribe, headers: ["destination": temp, "id": "replies", "ack": "auto"])) {
            case .frame: break
            case .error(let f):
                return Trip(outcome: ProbeOutcome(.notSupported, "the SUBSCRIBE was refused: \(f.headers["message"] ?? "ERROR")",
                                                  key: "SUBSCRIBE refused"), replyTo: nil)
            default: throw ProbeInconclusive("no RECEIPT for the SUBSCRIBE")
            }
        }
        try ctx.send(requester, q, body: "request", headers: [("reply-to", temp)])
        guard let request = responder.messages(rsid, count: 1, seconds: ctx.timeout).messages.first else {
            throw ProbeInconclusive("the request did not arrive")
        }
        guard let replyTo = request.headers["reply-to"] else {
            return Trip(outcome: ProbeOutcome(.deviates, "the request arrived without reply-to", key: "no reply-to"), replyTo: nil)
        }
        switch ctx.exchange(responder, StompFrame(.send, headers: ["destination": replyTo], body: "reply")) {
        case .frame: break
        case .error(let f):
            return Trip(outcome: ProbeOutcome(.notSupported, "SEND to \(replyTo) refused: \(f.headers["message"] ?? "ERROR")", key: "reply refused"),
                        replyTo: replyTo)
        default: throw ProbeInconclusive("no RECEIPT for the reply")
        }
        guard let reply = requester.messages(nil, count: 1, seconds: ctx.timeout).messages.first else {
            return Trip(outcome: ProbeOutcome(.notSupported, "the reply never reached the requester", key: "reply lost"),
                        replyTo: replyTo, requester: requester, responder: responder)
        }
        let sub = reply.headers["subscription"] ?? "none"
        return Trip(outcome: ProbeOutcome(.conforms, "the reply arrived (subscription:\(sub), destination:\(reply.headers["destination"] ?? "none"))",
                                          key: "reply arrives"),
                    replyTo: replyTo, requester: requester, responder: responder)
    }

    static func rewritten(_ ctx: ProbeContext) throws -> ProbeOutcome {
        var trip = try roundTrip(ctx, requesterSubscribes: true, name: "rewrite")
        if trip.outcome.key == "SUBSCRIBE refused" { trip = try roundTrip(ctx, requesterSubscribes: false, name: "rewrite") }
        guard let r = trip.replyTo else { return trip.outcome }
        let sent = "/temp-queue/\(ctx.prefix).rewrite"
        if r == sent { return ProbeOutcome(.conforms, "reply-to arrives as sent: \(r)", key: "kept") }
        let shape = r.split(separator: "/").first.map { "/\($0)/…" } ?? r
        return ProbeOutcome(.conforms, "rewritten to \(r)", key: "rewritten to \(shape)")
    }

    static func closedTempQueue(_ ctx: ProbeContext) throws -> ProbeOutcome {
        var trip = try roundTrip(ctx, requesterSubscribes: true, name: "closed")
        if trip.outcome.key == "SUBSCRIBE refused" { trip = try roundTrip(ctx, requesterSubscribes: false, name: "closed") }
        guard let r = trip.replyTo, let requester = trip.requester, let responder = trip.responder else { return trip.outcome }
        requester.close()
        responder.listen(until: ProbeClock.after(seconds: 0.2))
        switch ctx.exchange(responder, StompFrame(.send, headers: ["destination": r], body: "too late")) {
        case .frame: return ProbeOutcome(.conforms, "RECEIPT: the message is accepted (and dropped)", key: "RECEIPT")
        case .error(let f): return ProbeOutcome(.conforms, "ERROR: \(f.headers["message"] ?? "(none)")", key: "ERROR")
        case .closed(let why): return ProbeOutcome(.conforms, "closed: \(why)", key: "closed")
        case .timeout: throw ProbeInconclusive("no answer to the SEND")
        }
    }
}
