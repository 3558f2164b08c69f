// extras: broker extensions clients lean on: browsing, selectors, priority, expiry, persistence, prefetch, the
// headers a MESSAGE carries.

import Foundation
import StompProto

enum ExtrasChecks {
    static let spec = "extension"
    static var all: [ProbeCheck] {
        [
            ProbeCheck(.extras, "browser", "browser:true reads without consuming", spec: spec, run: browser),
            ProbeCheck(.extras, "selector", "selector header filters messages", spec: spec, run: selector),
            ProbeCheck(.extras, "priority", "a higher priority overtakes", spec: spec, run: priority),
            ProbeCheck(.extras, "expires", "an expired message is not delivered", spec: spec, run: expires),
            ProbeCheck(.extras, "persistent", "persistent:true accepted", spec: spec, run: persistent),
            ProbeCheck(.extras, "prefetch", "a prefetch of 1 limits unacked deliveries", spec: spec, run: prefetch),
            ProbeCheck(.extras, "message-headers", "headers a MESSAGE carries", spec: "1.2 §MESSAGE", run: messageHeaders),
        ]
    }

    static func browser(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("browser")
        try ctx.fill(c, q, ["browsed"])
        let sid = try ctx.subscribe(c, q, headers: [("browser", "true")])
        let seen = c.messages(sid, count: 1, seconds: ctx.timeout).messages.count
        c.close()
        let left = try ctx.leftovers(q).count
        if seen == 1 && left == 1 { return ProbeOutcome(.conforms, "browsed, and still on the queue", key: "browses") }
        if seen == 1 { return ProbeOutcome(.notSupported, "browser:true ignored: the message was consumed", key: "consumed") }
        return ProbeOutcome(.notSupported, "nothing delivered to the browser", key: "nothing")
    }

    static func selector(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("selector")
        let sid: String
        do { sid = try ctx.subscribe(c, q, headers: [("selector", "color = 'red'")]) } catch let e as ProbeInconclusive {
            return ProbeOutcome(.notSupported, "\(e)", key: "refused")
        }
        try ctx.send(c, q, body: "blue", headers: [("color", "blue")])
        try ctx.send(c, q, body: "red", headers: [("color", "red")])
        let got = ProbeFrames.bodies(c.messages(sid, count: 2, seconds: ctx.quiet * 2).messages)
        if got == ["red"] { return ProbeOutcome(.conforms, "only the matching message delivered", key: "filters") }
        if got.count == 2 { return ProbeOutcome(.notSupported, "selector ignored: both delivered", key: "ignored") }
        return ProbeOutcome(.couldNotTell, "delivered: \(got)", key: nil)
    }

    static func priority(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("priority")
        try ctx.send(c, q, body: "low", headers: [("priority", "1")])
        try ctx.send(c, q, body: "high", headers: [("priority", "9")])
        let sid = try ctx.subscribe(c, q)
        let got = c.messages(sid, count: 2, seconds: ctx.timeout).messages
        let shown = got.map { "\($0.bodyString ?? "?")(priority:\($0.headers["priority"] ?? "-"))" }.joined(separator: " ")
        if ProbeFrames.bodies(got) == ["high", "low"] { return ProbeOutcome(.conforms, "high first: \(shown)", key: "high first") }
        if ProbeFrames.bodies(got) == ["low", "high"] { return ProbeOutcome(.notSupported, "send order kept: \(shown)", key: "send order") }
        throw ProbeInconclusive("delivered: \(shown)")
    }

    static func expires(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("expires")
        let past = Int64((Date().timeIntervalSince1970 - 60) * 1000)
        try ctx.send(c, q, body: "stale", headers: [("expires", String(past))])
        try ctx.send(c, q, body: "fresh")
        let sid = try ctx.subscribe(c, q)
        let got = ProbeFrames.bodies(c.messages(sid, count: 2, seconds: ctx.quiet * 2).messages)
        if got == ["fresh"] { return ProbeOutcome(.conforms, "the expired message was dropped", key: "dropped") }
        if got.contains("stale") { return ProbeOutcome(.notSupported, "the expired message was delivered", key: "delivered") }
        throw ProbeInconclusive("delivered: \(got)")
    }

    static func persistent(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("persistent")
        do { try ctx.send(c, q, body: "kept", headers: [("persistent", "true")]) } catch let e as ProbeInconclusive {
            return ProbeOutcome(.notSupported, "\(e)", key: "refused")
        }
        let sid = try ctx.subscribe(c, q)
        guard let m = c.messages(sid, count: 1, seconds: ctx.timeout).messages.first else { throw ProbeInconclusive("no MESSAGE") }
        let echoed = m.headers["persistent"].map { "persistent:\($0)" } ?? "no persistent header"
        return ProbeOutcome(.conforms, "accepted; the MESSAGE has \(echoed)", key: echoed)
    }

    static func prefetch(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("prefetch")
        try ctx.fill(c, q, ["p1", "p2", "p3"])
        let sid = try ctx.subscribe(c, q, ack: "client-individual", headers: [("activemq.prefetchSize", "1"), ("prefetch-count", "1")])
        let got = c.messages(sid, count: 3, seconds: ctx.quiet * 2).messages
        if got.count == 1 { return ProbeOutcome(.conforms, "1 of 3 delivered before an ACK", key: "limits to 1") }
        if got.count == 3 { return ProbeOutcome(.notSupported, "all 3 delivered without an ACK", key: "no limit") }
        throw ProbeInconclusive("\(got.count) of 3 delivered")
    }

    static func messageHeaders(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("message-headers")
        try ctx.send(c, q, body: "plain")
        let sid = try ctx.subscribe(c, q, ack: "client-individual")
        guard let m = c.messages(sid, count: 1, seconds: ctx.timeout).messages.first else { throw ProbeInconclusive("no MESSAGE") }
        ProbeFrames.settle(ctx, c, m)
        let required = c.version == .v1_2 ? ["destination", "message-id", "subscription", "ack"] : ["destination", "message-id", "subscription"]
        let missing = required.filter { !m.headers.contains($0) }
        let optional = ["content-length", "content-type", "expires", "priority", "timestamp", "persistent", "redelivered"]
            .filter { m.headers.contains($0) }
        let list = optional.isEmpty ? "none" : optional.joined(separator: ",")
        if !missing.isEmpty {
            return ProbeOutcome(.deviates, "missing \(missing.joined(separator: ",")); also has \(list)", key: "missing \(missing.joined(separator: ","))")
        }
        return ProbeOutcome(.conforms, "has the required headers; also \(list)", key: "also \(list)")
    }
}
