// connect: versions one at a time, heart-beat negotiation and timing, a bad login, the host header, an idle socket.

import Foundation
import StompProto

enum ConnectChecks {
    static var all: [ProbeCheck] {
        StompVersion.allCases.map(version) + [
            ProbeCheck(.connect, "heart-beat-negotiation", "heart-beat header in CONNECTED (asked 0,50)",
                       spec: "1.1 §Heart-beating", run: negotiation),
            ProbeCheck(.connect, "heart-beat-timing", "the broker's beats arrive on time (asked 0,500)",
                       spec: "1.1 §Heart-beating", background: true, timing: true, run: timing),
            ProbeCheck(.connect, "bad-login", "a wrong passcode is refused", spec: "1.2 §CONNECT or STOMP Frame", run: badLogin),
            ProbeCheck(.connect, "host-literal", "host header = the URL's host name", spec: "1.2 §CONNECT or STOMP Frame",
                       run: { try host($0, value: $0.target.hostName, what: "host:\($0.target.hostName)") }),
            ProbeCheck(.connect, "host-missing", "no host header in a 1.2 CONNECT", spec: "1.2 §CONNECT or STOMP Frame",
                       run: { try host($0, value: nil, what: "no host header") }),
            ProbeCheck(.connect, "idle-before-connect", "a socket that never sends CONNECT is dropped",
                       spec: "not specified (broker policy)", background: true, timing: true, run: idle),
        ]
    }

    static func version(_ v: StompVersion) -> ProbeCheck {
        ProbeCheck(.connect, "version-\(v.rawValue)", "STOMP \(v.rawValue) offered alone", spec: "1.2 §Protocol Negotiation") { ctx in
            // 1.0 clients send no accept-version.
            switch ctx.connect(versions: v == .v1_0 ? nil : [v], heartBeat: nil) {
            case .connected(_, let f):
                let got = f.headers["version"] ?? "none"
                let hb = f.headers["heart-beat"].map { "heart-beat:\($0)" } ?? "no heart-beat header"
                if got == v.rawValue || (v == .v1_0 && f.headers["version"] == nil) {
                    return ProbeOutcome(.conforms, "CONNECTED version:\(got), \(hb)", key: "version:\(got), \(f.headers["heart-beat"] == nil ? "no heart-beat" : "heart-beat")")
                }
                return ProbeOutcome(.deviates, "CONNECTED with version:\(got) (not offered)", key: "version:\(got)")
            case .refused(_, let f):
                return ProbeOutcome(.notSupported, "ERROR: \(f.headers["message"] ?? "")", key: "refused")
            case .failed(let why):
                throw ProbeInconclusive(why)
            }
        }
    }

    static func negotiation(_ ctx: ProbeContext) throws -> ProbeOutcome {
        guard case .connected(_, let f) = ctx.connect(versions: [.v1_1, .v1_2], heartBeat: "0,50") else {
            throw ProbeInconclusive("no 1.1/1.2 connection")
        }
        guard let value = f.headers["heart-beat"] else {
            return ProbeOutcome(.deviates, "no heart-beat header in a \(f.headers["version"] ?? "?") CONNECTED", key: "missing")
        }
        guard let hb = HeartBeat(header: value) else {
            return ProbeOutcome(.deviates, "unparsable heart-beat:\(value)", key: "bad:\(value)")
        }
        let n = NegotiatedHeartBeat.negotiate(client: HeartBeat(0, 50), server: hb)
        let beats = n.receiveInterval.map { "the broker beats every \($0) ms" } ?? "no beats from the broker"
        return ProbeOutcome(.conforms, "heart-beat:\(value): \(beats)", key: "heart-beat:\(value)")
    }

    static func timing(_ ctx: ProbeContext) throws -> ProbeOutcome {
        let asked = 500
        guard case .connected(let c, let f) = ctx.connect(versions: [.v1_1, .v1_2], heartBeat: "0,\(asked)") else {
            throw ProbeInconclusive("no 1.1/1.2 connection")
        }
        let connectedAt = c.lastFrameAt
        guard let hb = f.headers["heart-beat"].flatMap(HeartBeat.init(header:)),
              let interval = NegotiatedHeartBeat.negotiate(client: HeartBeat(0, asked), server: hb).receiveInterval else {
            return ProbeOutcome(.notSupported, "the broker offers no beats (heart-beat:\(f.headers["heart-beat"] ?? "none"))", key: "no beats")
        }
        let listen = max(ctx.options.heartBeatListen, Double(interval) * 5 / 1000)
        c.listen(until: connectedAt + UInt64(listen * 1e9))
        let ms = c.beats.map { Double($0 &- connectedAt) / 1e6 }
        guard let firstBeat = ms.first else {
            return ProbeOutcome(.deviates, "negotiated \(interval) ms, no beat in \(String(format: "%.1f", listen)) s", key: "no beat")
        }
        let gaps = zip(ms.dropFirst(), ms).map { $0 - $1 }.sorted()
        let median = gaps.isEmpty ? firstBeat : gaps[gaps.count / 2]
        let worst = max(firstBeat, gaps.last ?? 0)
        let i = Double(interval)
        let pace = median < 0.75 * i ? "early" : (median > 1.25 * i ? "late" : "on time")
        let first = firstBeat > 1.5 * i ? "first beat late" : "first beat on time"
        let observed = String(format: "negotiated %d ms; first beat after %.0f ms, then every %.0f ms (median of %d), longest gap %.0f ms",
                              interval, firstBeat, median, gaps.count, worst)
        // The sender MUST send something at least every negotiated interval; 100 ms of slack for the machine.
        let verdict: ProbeVerdict = worst <= i + 100 ? .conforms : .deviates
        return ProbeOutcome(verdict, observed, key: "\(first), beats \(pace)")
    }

    static func badLogin(_ ctx: ProbeContext) throws -> ProbeOutcome {
        switch ctx.connect(login: .some("stompsh-probe-nobody"), passcode: .some("not-the-passcode")) {
        case .connected:
            return ProbeOutcome(.notSupported, "CONNECTED: any login is accepted (no authentication)", key: "accepted")
        case .refused(let c, let f):
            let open = c.staysOpen(topic: ctx.topic("bad-login"), seconds: ctx.quiet)
            let state = open == true ? "the connection stays open" : (open == false ? "then closed" : "")
            return ProbeOutcome(open == true ? .deviates : .conforms,
                                "ERROR message:\(f.headers["message"] ?? "(none)"); \(state)",
                                key: open == true ? "ERROR, stays open" : "ERROR, closed")
        case .failed(let why):
            return ProbeOutcome(.conforms, "refused without an ERROR frame: \(why)", key: "closed without ERROR")
        }
    }

    static func host(_ ctx: ProbeContext, value: String?, what: String) throws -> ProbeOutcome {
        switch ctx.connect(versions: [.v1_2], host: .some(value)) {
        case .connected:
            return ProbeOutcome(.conforms, "\(what): CONNECTED", key: "accepted")
        case .refused(_, let f):
            // A broker with virtual hosts MAY reject an unknown one; a missing host header is a client error in 1.2.
            return ProbeOutcome(.conforms, "\(what): ERROR message:\(f.headers["message"] ?? "(none)")", key: "refused")
        case .failed(let why):
            throw ProbeInconclusive(why)
        }
    }

    static func idle(_ ctx: ProbeContext) throws -> ProbeOutcome {
        guard let link = ctx.openLink() else { throw ProbeInconclusive("cannot connect") }
        defer { link.close() }
        let start = ProbeClock.now()
        let deadline = ProbeClock.after(seconds: ctx.options.idleWindow)
        while true {
            if ctx.cancellation.isCancelled { throw ProbeInconclusive("interrupted") }
            switch link.read(deadline: min(deadline, ProbeClock.after(seconds: 0.2))) {
            case .bytes: continue
            case .timeout where ProbeClock.now() < deadline: continue
            case .closed:
                let s = ProbeClock.seconds(since: start)
                ctx.evidence.remark(String(format: "closed by the broker after %.1f s", s))
                return ProbeOutcome(.conforms, String(format: "closed after %.1f s without CONNECT", s), key: "closed")
            case .timeout:
                let s = ctx.options.idleWindow
                ctx.evidence.remark(String(format: "still open after %.0f s", s))
                return ProbeOutcome(.couldNotTell, String(format: "still open after %.0f s (the probe waits no longer: --idle-wait)", s), key: "open")
            }
        }
    }
}
