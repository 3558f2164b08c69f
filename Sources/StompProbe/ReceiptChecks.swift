// receipts: every client frame that may carry a `receipt` header gets its RECEIPT, DISCONNECT included.

import StompProto

enum ReceiptChecks {
    static var all: [ProbeCheck] {
        [StompCommand.send, .subscribe, .unsubscribe, .ack, .nack, .begin, .commit, .abort, .disconnect].map { cmd in
            ProbeCheck(.receipts, cmd.rawValue.lowercased(), "\(cmd.rawValue) with a receipt header gets a RECEIPT",
                       spec: "1.2 §Header receipt") { try receipt(for: cmd, $0) }
        }
    }

    static func receipt(for command: StompCommand, _ ctx: ProbeContext) throws -> ProbeOutcome {
        let c = try ctx.open(command == .nack ? [.v1_1, .v1_2] : [.v1_0, .v1_1, .v1_2])
        if command == .nack && c.version == .v1_0 { return ProbeOutcome(.notSupported, "no 1.1/1.2: no NACK", key: "no NACK") }
        let frame: StompFrame
        switch command {
        case .send:
            frame = StompFrame(.send, headers: ["destination": ctx.topic("receipts")], body: "receipt")
        case .subscribe:
            frame = StompFrame(.subscribe, headers: ["destination": ctx.topic("receipts"), "id": "receipts", "ack": "auto"])
        case .unsubscribe:
            try ctx.subscribe(c, ctx.topic("receipts"), id: "receipts")
            frame = StompFrame(.unsubscribe, headers: ["id": "receipts"])
        case .ack, .nack:
            let q = ctx.queue("receipts-\(command.rawValue.lowercased())")
            try ctx.fill(c, q, ["to \(command.rawValue)"], headers: [("persistent", "false")])
            let sid = try ctx.subscribe(c, q, ack: "client-individual")
            guard let m = c.messages(sid, count: 1, seconds: ctx.timeout).messages.first else { throw ProbeInconclusive("no MESSAGE") }
            frame = ProbeFrames.ack(command, m, version: c.version)
        case .begin:
            frame = StompFrame(.begin, headers: ["transaction": "tx-receipts"])
        case .commit, .abort:
            switch ctx.exchange(c, StompFrame(.begin, headers: ["transaction": "tx-receipts"])) {
            case .frame: break
            default: throw ProbeInconclusive("BEGIN got no RECEIPT")
            }
            frame = StompFrame(command, headers: ["transaction": "tx-receipts"])
        default:
            frame = StompFrame(.disconnect)
        }
        return judge(ctx.exchange(c, frame), command: command, timeout: ctx.timeout)
    }

    /// The verdict on the answer to a frame that asked for a receipt.
    static func judge(_ wait: ProbeWait, command: StompCommand, timeout: Double) -> ProbeOutcome {
        switch wait {
        case .frame(let f):
            return ProbeOutcome(.conforms, "RECEIPT receipt-id:\(f.headers["receipt-id"] ?? "")", key: "RECEIPT")
        case .error(let f):
            return ProbeOutcome(.deviates, "ERROR instead: \(f.headers["message"] ?? "(no message)")", key: "ERROR")
        case .closed(let why):
            return ProbeOutcome(.deviates, "no RECEIPT; \(why)", key: "closed")
        case .timeout:
            return ProbeOutcome(.deviates, "no RECEIPT within \(timeout) s", key: "none")
        }
    }
}
