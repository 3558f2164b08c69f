// One STOMP connection as the probe drives it: frames out through FrameEncoder, bytes in through FrameDecoder, every
// wait with an explicit deadline, every frame noted (trimmed) in the check's evidence.

import StompProto

/// What a wait for a frame gave.
public enum ProbeWait: Sendable {
    case frame(StompFrame)
    /// An ERROR frame arrived (whether or not the wait asked for one).
    case error(StompFrame)
    /// The connection ended (the reason is in the evidence).
    case closed(String)
    case timeout

    var frame: StompFrame? { if case .frame(let f) = self { return f }; return nil }
}

/// A STOMP connection on a `ProbeLink`.
public final class ProbeConnection {
    let link: ProbeLink
    let evidence: ProbeEvidence
    let label: String
    var encoder = FrameEncoder(version: .v1_2)
    var decoder = FrameDecoder(version: .v1_2)
    /// Frames read while waiting for something else, oldest first.
    var stash: [StompFrame] = []
    /// Arrival times (monotonic ns) of heart-beats (a lone EOL not right after a frame).
    public private(set) var beats: [UInt64] = []
    /// When the last frame ended.
    var lastFrameAt: UInt64 = 0
    public private(set) var closedReason: String?
    public private(set) var connected: StompFrame?
    public var version: StompVersion { encoder.version }

    init(link: ProbeLink, evidence: ProbeEvidence, label: String) {
        self.link = link; self.evidence = evidence; self.label = label
    }

    public var isClosed: Bool { closedReason != nil }

    /// Sends a frame (encoded for the current version); a frame the encoder refuses is noted and not sent.
    public func send(_ frame: StompFrame) {
        do {
            let bytes = try encoder.encode(frame)
            evidence.note(label, ">>>", ProbeEvidence.summary(of: frame))
            link.write(bytes)
        } catch {
            evidence.note(label, "!!!", "not sent: \(error)")
        }
    }

    /// Sends bytes as they are (for frames the encoder would refuse: malformed headers, undefined escapes ...).
    public func sendRaw(_ bytes: [UInt8], note: String) {
        evidence.note(label, ">>>", note)
        link.write(bytes)
    }

    public func close() {
        if closedReason == nil { closedReason = "closed by the probe" }
        link.close()
    }

    /// The next frame or heart-beat from the stash or the link, until `deadline`.
    func nextEvent(deadline: UInt64) -> (FrameDecoderEvent, UInt64)? {
        while true {
            do {
                if let event = try decoder.next() {
                    let now = ProbeClock.now()
                    if case .frame(let f) = event {
                        evidence.note(label, "<<<", ProbeEvidence.summary(of: f))
                        lastFrameAt = now
                    }
                    return (event, now)
                }
            } catch {
                evidence.note(label, "!!!", "undecodable bytes from the broker: \(error)")
                closedReason = "undecodable bytes: \(error)"
                link.close()
                return nil
            }
            if closedReason != nil { return nil }
            switch link.read(deadline: deadline) {
            case .bytes(let b, let at):
                decoder.append(b)
                // A lone EOL right after a frame (ActiveMQ ends every frame with one) is not a heart-beat.
                if b.allSatisfy({ $0 == 0x0A || $0 == 0x0D }), decoder.isAtFrameBoundary || decoder.bufferedByteCount == b.count {
                    if at &- lastFrameAt > 20_000_000 { beats.append(at) }
                }
            case .closed(let reason):
                closedReason = reason
                evidence.note(label, "---", reason)
                return nil
            case .timeout:
                return nil
            }
        }
    }

    /// Waits until `deadline` for a frame that `match` accepts (frames already stashed first). Other frames are stashed;
    /// an ERROR ends the wait unless `match` accepts it.
    public func wait(until deadline: UInt64, _ match: (StompFrame) -> Bool) -> ProbeWait {
        if let i = stash.firstIndex(where: match) { return .frame(stash.remove(at: i)) }
        if let i = stash.firstIndex(where: { $0.command == .error }) { return .error(stash.remove(at: i)) }
        while true {
            guard let (event, _) = nextEvent(deadline: deadline) else {
                if let closedReason { return .closed(closedReason) }
                return .timeout
            }
            guard case .frame(let f) = event else { continue }
            if match(f) { return .frame(f) }
            if f.command == .error { return .error(f) }
            stash.append(f)
        }
    }

    public func wait(seconds: Double, _ match: (StompFrame) -> Bool) -> ProbeWait {
        wait(until: ProbeClock.after(seconds: seconds), match)
    }

    /// Waits for the RECEIPT of `id`.
    public func receipt(_ id: String, seconds: Double) -> ProbeWait {
        wait(seconds: seconds) { $0.command == .receipt && $0.headers["receipt-id"] == id }
    }

    /// Every MESSAGE of `subscription` (any if nil) until `count` arrived or `seconds` passed.
    public func messages(_ subscription: String?, count: Int, seconds: Double) -> (messages: [StompFrame], end: ProbeWait?) {
        let deadline = ProbeClock.after(seconds: seconds)
        var got: [StompFrame] = []
        while got.count < count {
            let w = wait(until: deadline) { $0.command == .message && (subscription == nil || $0.headers["subscription"] == subscription) }
            guard case .frame(let f) = w else { return (got, w) }
            got.append(f)
        }
        return (got, nil)
    }

    /// Reads heart-beats and frames until `deadline` (frames are stashed).
    public func listen(until deadline: UInt64) {
        while let (event, _) = nextEvent(deadline: deadline) {
            if case .frame(let f) = event { stash.append(f) }
        }
    }

    /// After an ERROR: is the connection still usable? Sends a SEND with a receipt to `topic` and waits: RECEIPT →
    /// open; end of stream → closed; nothing → nil (could not tell).
    public func staysOpen(topic: String, seconds: Double) -> Bool? {
        if isClosed { return false }
        let deadline = ProbeClock.after(seconds: min(seconds, 0.3))
        // Give a closing broker a moment to close before we write.
        while let (event, _) = nextEvent(deadline: deadline) {
            if case .frame(let f) = event { stash.append(f) }
        }
        if isClosed { return false }
        let r = "open-check"
        send(StompFrame(.send, headers: ["destination": topic, "receipt": r], body: "are you there"))
        switch receipt(r, seconds: seconds) {
        case .frame: return true
        case .closed: return false
        case .error: return isClosed ? false : true
        case .timeout: return isClosed ? false : nil
        }
    }

    /// Switches encoder and decoder to the negotiated version (after CONNECTED).
    func use(_ version: StompVersion) {
        encoder.version = version
        decoder.version = version
    }

    func didConnect(_ frame: StompFrame) {
        connected = frame
        lastFrameAt = ProbeClock.now()
    }
}
