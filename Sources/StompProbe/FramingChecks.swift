// framing: header escaping (1.1, 1.2, an undefined escape), repeated and empty header names, NUL bytes in bodies,
// content-type and custom headers, UTF-8, the largest frame accepted.

import Foundation
import StompProto

enum FramingChecks {
    static var all: [ProbeCheck] {
        [
            ProbeCheck(.framing, "escape-1.2", "header escapes \\r \\n \\c \\\\ round trip (1.2)", spec: "1.2 §Value Encoding") {
                try escapes($0, .v1_2, value: "colon:back\\slash\rcr\nlf")
            },
            ProbeCheck(.framing, "escape-1.1", "header escapes \\n \\c \\\\ round trip (1.1)", spec: "1.1 §Value Encoding") {
                try escapes($0, .v1_1, value: "colon:back\\slash\nlf")
            },
            ProbeCheck(.framing, "undefined-escape", "an undefined escape (\\t) is a fatal error", spec: "1.2 §Value Encoding",
                       run: undefinedEscape),
            ProbeCheck(.framing, "repeated-header", "a repeated header: the first one wins", spec: "1.2 §Repeated Header Entries",
                       run: repeatedHeader),
            ProbeCheck(.framing, "empty-header-name", "a header with an empty name is refused or dropped",
                       spec: "1.2 §Augmented BNF", run: emptyHeaderName),
            ProbeCheck(.framing, "nul-body", "a body with NUL bytes under content-length", spec: "1.2 §Body", run: nulBody),
            ProbeCheck(.framing, "headers-preserved", "content-type and custom headers reach the subscriber",
                       spec: "1.2 §SEND", run: headersPreserved),
            ProbeCheck(.framing, "utf8", "UTF-8 in a destination and a header value", spec: "1.2 §Value Encoding", run: utf8),
            ProbeCheck(.framing, "largest-frame", "largest SEND accepted (doubling from 64 KiB)", spec: "1.2 §Size Limits",
                       run: largestFrame),
        ]
    }

    /// Subscribes to `destination`, sends one message, returns the MESSAGE (nil: none in time).
    static func roundTrip(_ ctx: ProbeContext, _ c: ProbeConnection, _ destination: String, headers: [(String, String)],
                          body: [UInt8] = Array("probe".utf8)) throws -> StompFrame? {
        let sid = try ctx.subscribe(c, destination)
        var h = StompHeaders([("destination", destination)] + headers + ctx.declarationHeaders(destination))
        let r = ctx.unique("send")
        h.append("receipt", r)
        c.send(StompFrame(.send, headers: h, body: body))
        try ctx.expectReceipt(c, r, what: "SEND")
        return c.messages(sid, count: 1, seconds: ctx.timeout).messages.first
    }

    static func escapes(_ ctx: ProbeContext, _ v: StompVersion, value: String) throws -> ProbeOutcome {
        let c = try ctx.open([v])
        guard c.version == v else { return ProbeOutcome(.notSupported, "the broker does not speak \(v.rawValue)", key: "no \(v.rawValue)") }
        guard let m = try roundTrip(ctx, c, ctx.queue("escape-\(v.rawValue)"), headers: [("x-probe-escape", value)]) else {
            throw ProbeInconclusive("no MESSAGE within \(ctx.timeout) s")
        }
        let got = m.headers["x-probe-escape"]
        if got == value { return ProbeOutcome(.conforms, "value came back unchanged", key: "unchanged") }
        let shown = got.map { ProbeEvidence.trim($0, 60) } ?? "(header missing)"
        return ProbeOutcome(.deviates, "sent \(ProbeEvidence.trim(value, 60)), got \(shown)", key: "changed")
    }

    /// Subscribes to a queue of its own (`name`), sends it a SEND (body "probe", `receipt:NAME`) carrying the header
    /// `line` exactly as written, no escaping, and waits for the answer to the receipt: the subscription and the answer.
    static func sendWithRawHeaderLine(_ ctx: ProbeContext, _ c: ProbeConnection, _ line: String, name: String) throws -> (String, ProbeWait) {
        let q = ctx.queue(name)
        let sid = try ctx.subscribe(c, q)
        let extra = ctx.declarationHeaders(q).map { "\($0.0):\($0.1)\n" }.joined()
        let raw = "SEND\ndestination:\(q)\n\(extra)\(line)\nreceipt:\(name)\n\nprobe\0"
        c.sendRaw(Array(raw.utf8), note: "SEND destination:\(q) \(line) receipt:\(name)")
        return (sid, c.receipt(name, seconds: ctx.timeout))
    }

    static func undefinedEscape(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open([.v1_2])
        guard c.version == .v1_2 else { return ProbeOutcome(.notSupported, "the broker does not speak 1.2", key: "no 1.2") }
        let (sid, answer) = try sendWithRawHeaderLine(ctx, c, "x-probe-escape:tab\\there", name: "undefined-escape")
        switch answer {
        case .error(let f):
            return ProbeOutcome(.conforms, "ERROR message:\(f.headers["message"] ?? "(none)")", key: "ERROR")
        case .closed(let why):
            return ProbeOutcome(.conforms, "closed without a RECEIPT: \(why)", key: "closed")
        case .timeout:
            throw ProbeInconclusive("neither RECEIPT nor ERROR within \(ctx.timeout) s")
        case .frame:
            let m = c.messages(sid, count: 1, seconds: ctx.timeout).messages.first
            let got = m?.headers["x-probe-escape"].map { ProbeEvidence.trim($0, 40) } ?? "(no message)"
            return ProbeOutcome(.deviates, "accepted (RECEIPT); delivered as x-probe-escape:\(got)", key: "accepted")
        }
    }

    static func repeatedHeader(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        guard let m = try roundTrip(ctx, c, ctx.queue("repeated"), headers: [("x-probe-rep", "first"), ("x-probe-rep", "second")]) else {
            throw ProbeInconclusive("no MESSAGE within \(ctx.timeout) s")
        }
        let values = m.headers.values(for: "x-probe-rep")
        let shown = values.map { "x-probe-rep:\($0)" }.joined(separator: " ")
        switch values {
        case ["first"]: return ProbeOutcome(.conforms, "delivered \(shown): the first kept", key: "first kept")
        case ["first", "second"]: return ProbeOutcome(.conforms, "delivered both, in order (\(shown)): a reader takes the first", key: "both forwarded")
        case ["second"]: return ProbeOutcome(.deviates, "delivered \(shown): the last wins", key: "last kept")
        case []: return ProbeOutcome(.deviates, "the header is gone", key: "dropped")
        default: return ProbeOutcome(.deviates, "delivered \(shown)", key: "reordered")
        }
    }

    static func emptyHeaderName(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let (sid, answer) = try sendWithRawHeaderLine(ctx, c, ":orphan-value", name: "empty-name")
        switch answer {
        case .error(let f): return ProbeOutcome(.conforms, "ERROR message:\(f.headers["message"] ?? "(none)")", key: "ERROR")
        case .closed(let why): return ProbeOutcome(.conforms, "closed: \(why)", key: "closed")
        case .timeout: throw ProbeInconclusive("neither RECEIPT nor ERROR within \(ctx.timeout) s")
        case .frame:
            guard let m = c.messages(sid, count: 1, seconds: ctx.timeout).messages.first else {
                return ProbeOutcome(.conforms, "RECEIPT, and the message was not delivered", key: "message dropped")
            }
            if m.headers.contains("") {
                return ProbeOutcome(.deviates, "accepted and forwarded the empty-named header", key: "forwarded")
            }
            return ProbeOutcome(.conforms, "accepted; the empty-named header was dropped", key: "header dropped")
        }
    }

    static func nulBody(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let body: [UInt8] = [0x61, 0x00, 0x62, 0x00, 0x00, 0x63]
        guard let m = try roundTrip(ctx, c, ctx.queue("nul-body"), headers: [("content-length", String(body.count))], body: body) else {
            throw ProbeInconclusive("no MESSAGE within \(ctx.timeout) s")
        }
        if m.body == body { return ProbeOutcome(.conforms, "6-byte body with 3 NULs came back intact", key: "intact") }
        return ProbeOutcome(.deviates, "sent 6 bytes with 3 NULs, got \(m.body.count) bytes", key: "changed")
    }

    static func headersPreserved(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let sent = [("content-type", "application/x-probe;charset=utf-8"), ("x-probe-custom", "custom value")]
        guard let m = try roundTrip(ctx, c, ctx.queue("headers"), headers: sent) else {
            throw ProbeInconclusive("no MESSAGE within \(ctx.timeout) s")
        }
        let lost = sent.filter { m.headers[$0.0] != $0.1 }.map { "\($0.0) (got \(m.headers[$0.0] ?? "nothing"))" }
        if lost.isEmpty { return ProbeOutcome(.conforms, "content-type and x-probe-custom arrived unchanged", key: "preserved") }
        return ProbeOutcome(.deviates, "changed: \(lost.joined(separator: ", "))", key: "changed")
    }

    static func utf8(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open()
        let q = ctx.queue("ünï☃")
        let value = "héllo ☃ 日本"
        guard let m = try roundTrip(ctx, c, q, headers: [("x-probe-utf8", value)]) else {
            throw ProbeInconclusive("no MESSAGE within \(ctx.timeout) s")
        }
        var problems: [String] = []
        if m.headers["x-probe-utf8"] != value { problems.append("header value became \(m.headers["x-probe-utf8"] ?? "nothing")") }
        if m.headers["destination"] != q { problems.append("destination became \(m.headers["destination"] ?? "nothing")") }
        if problems.isEmpty { return ProbeOutcome(.conforms, "destination and header value arrived unchanged", key: "unchanged") }
        return ProbeOutcome(.deviates, problems.joined(separator: "; "), key: "changed")
    }

    static func largestFrame(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let budgetEnd = ProbeClock.after(seconds: ctx.options.largestFrameBudget)
        let c = try ctx.open()
        let topic = ctx.topic("largest-frame")
        var size = 64 << 10
        var largest = 0
        var stop = "the probe's limit (the broker may take more)"
        while size <= ctx.options.largestFrameLimit {
            if ProbeClock.now() >= budgetEnd { stop = "time budget spent"; break }
            let r = ctx.unique("large")
            // Built by hand: the encoder's escaping pass over megabytes of body would only cost time.
            var bytes = Array("SEND\ndestination:\(topic)\nreceipt:\(r)\ncontent-length:\(size)\n\n".utf8)
            bytes += [UInt8](repeating: 0x78, count: size) + [0]
            c.sendRaw(bytes, note: "SEND destination:\(topic) receipt:\(r) content-length:\(size) (\(size)-byte body)")
            let wait = max(ctx.timeout, Double(size) / 20e6)
            let left = Double(budgetEnd &- min(budgetEnd, ProbeClock.now())) / 1e9
            switch c.receipt(r, seconds: min(wait, max(left, 0.1))) {
            case .frame:
                largest = size
                size *= 2
                continue
            case .error(let f): stop = "\(size / 1024) KiB: ERROR message:\(f.headers["message"] ?? "(none)")"
            case .closed(let why): stop = "\(size / 1024) KiB: \(why)"
            case .timeout: stop = "\(size / 1024) KiB: no RECEIPT in time"
            }
            break
        }
        c.close()
        if largest == 0 { return ProbeOutcome(.couldNotTell, "not even 64 KiB accepted (\(stop))", key: "under 64 KiB") }
        _ = try ctx.open()   // the broker still answers after the big frames (else: could not tell)
        let accepted = largest >= 1 << 20 ? "\(largest >> 20) MiB" : "\(largest >> 10) KiB"
        return ProbeOutcome(.conforms, "accepted \(accepted); stopped at \(stop)", key: "largest \(accepted)")
    }
}
