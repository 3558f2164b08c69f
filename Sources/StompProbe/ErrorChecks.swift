// errors: frames a broker must or may refuse; the ERROR's headers, and whether the connection stays open after it.

import StompProto

/// How the broker answered a frame it should refuse (after the frame, with a receipt asked where possible).
enum ErrorAnswer: Equatable {
    case error(headers: [String], staysOpen: Bool?)
    case receipt
    case closedWithoutError
    case nothing
}

enum ErrorChecks {
    struct Case {
        var name: String, title: String, spec: String
        /// The specification requires an ERROR (a RECEIPT is a deviation); otherwise ignoring it is allowed.
        var mustError: Bool
        var version: StompVersion = .v1_2
        var prepare: ((ProbeContext, ProbeConnection) throws -> Void)? = nil
        /// The offending bytes and the evidence note; `receipt` names the receipt id it asks for.
        var bytes: (ProbeContext) -> (bytes: [UInt8], note: String)
    }

    static let receipt = "error-check"

    static func frame(_ command: String, _ headers: [String]) -> (bytes: [UInt8], note: String) {
        let lines = [command] + headers + ["receipt:\(receipt)"]
        return (Array((lines.joined(separator: "\n") + "\n\n\0").utf8), lines.joined(separator: " "))
    }

    static var cases: [Case] {
        [
            Case(name: "unknown-command", title: "an unknown command (FOO)", spec: "1.2 §ERROR", mustError: true,
                 bytes: { _ in frame("FOO", []) }),
            Case(name: "missing-destination", title: "SEND without destination", spec: "1.2 §SEND", mustError: true,
                 bytes: { _ in frame("SEND", []) }),
            Case(name: "malformed-header", title: "a header line without a colon", spec: "1.2 §Augmented BNF", mustError: true,
                 bytes: { ctx in frame("SEND", ["destination:\(ctx.topic("errors"))", "no-colon-here"]) }),
            Case(name: "unknown-ack-id", title: "ACK of an unknown id", spec: "1.2 §ACK", mustError: false,
                 bytes: { _ in frame("ACK", ["id:no-such-ack"]) }),
            Case(name: "unknown-transaction", title: "COMMIT of an unknown transaction", spec: "1.2 §COMMIT", mustError: false,
                 bytes: { _ in frame("COMMIT", ["transaction:no-such-tx"]) }),
            Case(name: "begin-twice", title: "BEGIN of a transaction already begun", spec: "1.2 §BEGIN", mustError: false,
                 prepare: { ctx, c in try TransactionChecks.step(ctx, c, StompFrame(.begin, headers: ["transaction": "twice"])) },
                 bytes: { _ in frame("BEGIN", ["transaction:twice"]) }),
            Case(name: "nack-1.0", title: "NACK on a 1.0 connection", spec: "1.0 (no NACK)", mustError: false, version: .v1_0,
                 bytes: { _ in frame("NACK", ["message-id:no-such-message", "subscription:none"]) }),
            Case(name: "unknown-unsubscribe", title: "UNSUBSCRIBE of an unknown id", spec: "1.2 §UNSUBSCRIBE", mustError: false,
                 bytes: { _ in frame("UNSUBSCRIBE", ["id:no-such-subscription"]) }),
        ]
    }

    static var all: [ProbeCheck] {
        cases.map { k in
            ProbeCheck(.errors, k.name, k.title, spec: k.spec) { ctx in
                let c = try ctx.open([k.version])
                if c.version != k.version { return ProbeOutcome(.couldNotTell, "the broker does not speak \(k.version.rawValue)") }
                try k.prepare?(ctx, c)
                let (bytes, note) = k.bytes(ctx)
                c.sendRaw(bytes, note: note)
                let answer: ErrorAnswer
                switch c.receipt(receipt, seconds: ctx.timeout) {
                case .error(let f):
                    let open = c.staysOpen(topic: ctx.topic("errors"), seconds: ctx.timeout)
                    answer = .error(headers: f.headers.pairs.map(\.name), staysOpen: open)
                    ctx.evidence.remark("message:\(f.headers["message"] ?? "(none)")")
                case .frame: answer = .receipt
                case .closed: answer = .closedWithoutError
                case .timeout: answer = .nothing
                }
                return judge(answer, mustError: k.mustError)
            }
        }
    }

    /// The verdict: the specification says a server that sends an ERROR closes the connection right after it.
    static func judge(_ answer: ErrorAnswer, mustError: Bool) -> ProbeOutcome {
        switch answer {
        case .error(let headers, let open):
            // The key names the headers beyond message and the body's own (receipt-id, version ...).
            let extra = headers.filter { !["message", "content-length", "content-type"].contains($0) }
            let error = (["ERROR"] + extra).joined(separator: "+")
            let listed = headers.isEmpty ? "no headers" : headers.joined(separator: ",")
            switch open {
            case true?:
                return ProbeOutcome(.deviates, "ERROR (\(listed)); the connection stays open", key: "\(error), stays open")
            case false?:
                return ProbeOutcome(.conforms, "ERROR (\(listed)), then the connection closed", key: "\(error), closed")
            case nil:
                return ProbeOutcome(.couldNotTell, "ERROR (\(listed)); afterwards neither RECEIPT nor close", key: error)
            }
        case .receipt:
            return mustError ? ProbeOutcome(.deviates, "accepted with a RECEIPT", key: "RECEIPT")
                             : ProbeOutcome(.conforms, "ignored: RECEIPT, no ERROR", key: "RECEIPT")
        case .closedWithoutError:
            return ProbeOutcome(.conforms, "closed the connection without an ERROR frame", key: "closed, no ERROR")
        case .nothing:
            return mustError ? ProbeOutcome(.deviates, "no answer at all (neither ERROR nor RECEIPT)", key: "silence")
                             : ProbeOutcome(.couldNotTell, "no answer at all", key: "silence")
        }
    }
}
